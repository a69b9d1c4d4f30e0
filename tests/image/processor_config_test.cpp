#include <gtest/gtest.h>

#include "image/fixture_reader.h"
#include "image/processor_config.h"
#include "test_util.h"

namespace vista::image {
namespace {

TEST(ProcessorConfig, OracleClipConfig) {
  const std::string path = std::string(VISTA_TESTDATA_DIR) + "/oracle_v1/clip_preprocess/preprocessor_config.json";
  const auto cfg = load_processor_config(path);
  EXPECT_EQ(cfg.kind, ProcessorKind::kClip);
  EXPECT_TRUE(cfg.resize_shortest_edge);
  EXPECT_EQ(cfg.shortest_edge, 32);
  EXPECT_TRUE(cfg.do_center_crop);
  EXPECT_EQ(cfg.crop_height, 32);
  EXPECT_EQ(cfg.crop_width, 32);
  EXPECT_DOUBLE_EQ(cfg.rescale_factor, 0.00392156862745098);
  EXPECT_DOUBLE_EQ(cfg.image_mean[0], 0.48145466);
  EXPECT_DOUBLE_EQ(cfg.image_std[2], 0.27577711);
}

TEST(ProcessorConfig, ImagesV1ProcessorDicts) {
  const auto manifest = testing::read_json(testing::images_v1("manifest.json"));
  const auto& pipelines = manifest["cases"][0]["pipelines"];
  const auto clip = parse_processor_config(pipelines[0]["processor"], "clip");
  EXPECT_EQ(clip.shortest_edge, 336);
  EXPECT_EQ(clip.crop_height, 336);
  const auto siglip = parse_processor_config(pipelines[2]["processor"], "siglip");
  EXPECT_EQ(siglip.kind, ProcessorKind::kSiglip);
  EXPECT_FALSE(siglip.resize_shortest_edge);
  EXPECT_FALSE(siglip.do_center_crop);
  EXPECT_EQ(siglip.resize_height, 384);
  EXPECT_EQ(siglip.resize_width, 384);
  EXPECT_DOUBLE_EQ(siglip.image_mean[1], 0.5);
}

TEST(ProcessorConfig, DefaultsAndLegacyForms) {
  const auto siglip = parse_processor_config({{"image_processor_type", "SiglipImageProcessor"}}, "s");
  EXPECT_EQ(siglip.resize_height, 224);
  EXPECT_DOUBLE_EQ(siglip.image_std[0], 0.5);
  const auto legacy = parse_processor_config({{"size", 224}, {"crop_size", 224}, {"image_mean", 0.5}}, "legacy");
  EXPECT_TRUE(legacy.resize_shortest_edge);
  EXPECT_EQ(legacy.shortest_edge, 224);
  EXPECT_EQ(legacy.crop_width, 224);
  EXPECT_DOUBLE_EQ(legacy.image_mean[2], 0.5);
}

TEST(ProcessorConfig, ErrorsNameFileAndField) {
  expect_error_containing([] { parse_processor_config({{"image_processor_type", "ViTImageProcessor"}}, "cfg.json"); },
                          {"cfg.json", "image_processor_type", "ViTImageProcessor"});
  expect_error_containing([] { parse_processor_config({{"resample", 2}}, "cfg.json"); }, {"cfg.json", "resample", "BICUBIC"});
  expect_error_containing([] { parse_processor_config({{"size", {{"shortest_edge", -3}}}}, "cfg.json"); },
                          {"cfg.json", "size.shortest_edge"});
  expect_error_containing([] { parse_processor_config({{"size", {{"width", 3}}}}, "cfg.json"); }, {"cfg.json", "'size'"});
  expect_error_containing([] { parse_processor_config({{"crop_size", "big"}}, "cfg.json"); }, {"cfg.json", "crop_size"});
  expect_error_containing([] { parse_processor_config({{"image_mean", {0.1, 0.2}}}, "cfg.json"); }, {"cfg.json", "image_mean"});
  expect_error_containing([] { parse_processor_config({{"image_std", {0.1, 0.0, 0.2}}}, "cfg.json"); },
                          {"cfg.json", "image_std[1]"});
  expect_error_containing([] { parse_processor_config({{"do_resize", "yes"}}, "cfg.json"); }, {"cfg.json", "do_resize"});
  expect_error_containing([] { parse_processor_config(nlohmann::json::array(), "cfg.json"); }, {"cfg.json", "object"});
  expect_error_containing(
      [] { parse_processor_config({{"image_processor_type", "SiglipImageProcessor"}, {"size", {{"shortest_edge", 3}}}}, "s.json"); },
      {"s.json", "height and width"});
  TempDir dir;
  write_file(dir.file("bad.json"), "{ not json");
  expect_error_containing([&] { load_processor_config(dir.file("bad.json")); }, {dir.file("bad.json"), "invalid JSON"});
  expect_error_containing([&] { load_processor_config(dir.file("missing.json")); }, {dir.file("missing.json")});
}

}  // namespace
}  // namespace vista::image
