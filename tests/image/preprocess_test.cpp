// Preprocessing against PIL / transformers references: images_v1 resized outputs (manifest
// rules), oracle_v1 clip_preprocess (square, resized, pixel_values), extra PIL resize and
// expand2square references (exact), and the HF size / crop arithmetic.
#include <gtest/gtest.h>

#include <cmath>

#include "image/center_crop.h"
#include "image/decode.h"
#include "image/fixture_reader.h"
#include "image/normalize.h"
#include "image/pad_square.h"
#include "image/processor.h"
#include "image/processor_config.h"
#include "image/resize.h"
#include "test_util.h"

namespace vista::image {
namespace {

using testing::diff;
using testing::images_v1;
using testing::RawSafetensors;
using testing::read_json;

std::string oracle(const std::string& relative) {
  return std::string(VISTA_TESTDATA_DIR) + "/oracle_v1/clip_preprocess/" + relative;
}

TEST(PreprocessImagesV1, ResizedOutputsWithinTheManifestRules) {
  const RawSafetensors tensors(images_v1("tensors.safetensors"));
  const auto manifest = read_json(images_v1("manifest.json"));
  int checked = 0;
  for (const auto& c : manifest["cases"]) {
    const std::string file = c["file"];
    const bool jpeg = file.substr(file.size() - 4) == ".jpg";
    const auto decoded = read_image_file(images_v1(file));
    for (const auto& p : c["pipelines"]) {
      SCOPED_TRACE(file + " " + p["name"].get<std::string>());
      const auto config = parse_processor_config(p["processor"], file + " processor");
      ImageU8 input = decoded;
      if (p["pad_to_square"].get<bool>()) {
        const auto bg = p["background"].get<std::vector<int>>();
        const Rgb background{uint8_t(bg[0]), uint8_t(bg[1]), uint8_t(bg[2])};
        EXPECT_EQ(background, background_from_mean(config.image_mean));
        input = expand_to_square(decoded, background);
      }
      const auto expected = tensors.image(p["resized"]);
      const auto actual = resize_and_crop(input, config);
      ASSERT_EQ(image_shape(actual), image_shape(expected));
      const auto d = diff(expected, actual);
      // PNG sources: max <= 1. JPEG sources: max <= 3, mean <= 0.5.
      EXPECT_LE(d.max_abs, jpeg ? 3 : 1);
      if (jpeg) {
        EXPECT_LE(d.mean_abs, 0.5);
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 33);
}

TEST(PreprocessImagesV1, ExpandToSquareOfTheExpectedDecodedImage) {
  // Case 6 (palette_color.png, 10x10): the crop is the whole image, the square is exact.
  const RawSafetensors tensors(images_v1("tensors.safetensors"));
  const auto decoded = tensors.image("decoded_crop.6");
  ASSERT_EQ(decoded.height, 10);
  const auto square = expand_to_square(decoded, {122, 116, 104});
  EXPECT_EQ(diff(tensors.image("clip_pad.square.6"), square).max_abs, 0);
}

TEST(PreprocessOracle, ClipPreprocessCase) {
  const RawSafetensors tensors(oracle("tensors.safetensors"));
  const auto manifest = read_json(oracle("manifest.json"));
  const auto config = load_processor_config(oracle("preprocessor_config.json"));
  const auto background = background_from_mean(config.image_mean);
  const auto bg = manifest["background_color"].get<std::vector<int>>();
  EXPECT_EQ(background, (Rgb{uint8_t(bg[0]), uint8_t(bg[1]), uint8_t(bg[2])}));
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    const auto input = tensors.image("input.image" + std::to_string(i));
    const auto square = expand_to_square(input, background);
    EXPECT_EQ(diff(tensors.image("inter.square" + std::to_string(i)), square).max_abs, 0);
    const auto resized = resize_and_crop(square, config);
    EXPECT_EQ(diff(tensors.image("inter.resized" + std::to_string(i)), resized).max_abs, 0);
    // pixel_values from the expected resized image: the manifest's atol / rtol.
    const std::string name = "out.pixel_values" + std::to_string(i);
    const auto expected = tensors.floats(name);
    const double atol = manifest["tensors"][name]["atol"], rtol = manifest["tensors"][name]["rtol"];
    const auto pixels = rescale_normalize(tensors.image("inter.resized" + std::to_string(i)), normalize_options(config));
    ASSERT_EQ(pixels.values.size(), expected.size());
    EXPECT_EQ(pixels.channels, 3);
    double worst = 0;
    for (size_t k = 0; k < expected.size(); ++k) {
      const double err = std::abs(double(pixels.values[k]) - double(expected[k]));
      EXPECT_LE(err, atol + rtol * std::abs(double(expected[k]))) << "element " << k;
      worst = std::max(worst, err);
    }
    EXPECT_LE(worst, 1e-6);  // rescale + normalize alone match to float32 rounding
    // The whole pipeline in one call gives the same values.
    const auto full = preprocess_for_llava(input, config, AspectMode::kPad);
    EXPECT_EQ(full.values, pixels.values);
  }
}

TEST(ResizeExtra, MatchesPilBicubicExactly) {
  const RawSafetensors tensors(images_v1("extra/references.safetensors"));
  const auto refs = read_json(images_v1("extra/references.json"));
  ASSERT_GE(refs["resize"].size(), 12u);
  for (const auto& r : refs["resize"]) {
    const auto input = tensors.image(r["input"]);
    const int64_t oh = r["out_hw"][0], ow = r["out_hw"][1];
    SCOPED_TRACE(image_shape(input) + " -> " + std::to_string(oh) + "x" + std::to_string(ow));
    const auto expected = tensors.image(r["expected"]);
    const auto actual = resize_bicubic(input, oh, ow);
    ASSERT_EQ(image_shape(actual), image_shape(expected));
    EXPECT_EQ(diff(expected, actual).max_abs, 0);
  }
}

TEST(PadSquareExtra, MatchesLlavaExpand2Square) {
  const RawSafetensors tensors(images_v1("extra/references.safetensors"));
  const auto refs = read_json(images_v1("extra/references.json"));
  for (const auto& s : refs["square"]) {
    const auto input = tensors.image(s["input"]);
    SCOPED_TRACE(image_shape(input));
    const auto bg = s["background"].get<std::vector<int>>();
    const auto actual = expand_to_square(input, {uint8_t(bg[0]), uint8_t(bg[1]), uint8_t(bg[2])});
    const auto expected = tensors.image(s["expected"]);
    ASSERT_EQ(image_shape(actual), image_shape(expected));
    EXPECT_EQ(diff(expected, actual).max_abs, 0);
  }
}

TEST(PadSquare, BackgroundTruncatesMeanTimes255) {
  // tuple(int(x * 255) for x in OPENAI_CLIP_MEAN) = (122, 116, 104); SigLIP's 0.5 -> 127.
  EXPECT_EQ(background_from_mean({0.48145466, 0.4578275, 0.40821073}), (Rgb{122, 116, 104}));
  EXPECT_EQ(background_from_mean({0.5, 0.5, 0.5}), (Rgb{127, 127, 127}));
  expect_error_containing([] { background_from_mean({1.5, 0.5, 0.5}); }, {"image_mean[0]"});
}

TEST(ResizeOutputSize, ShortestEdgeTruncatesTheLongSide) {
  // int(336 * 451 / 300) = int(505.12) = 505; int(112 * 600 / 400) = 168; int(224 * 427 / 640) ...
  EXPECT_EQ(shortest_edge_output_size(300, 451, 336), (std::array<int64_t, 2>{336, 505}));
  EXPECT_EQ(shortest_edge_output_size(400, 600, 112), (std::array<int64_t, 2>{112, 168}));
  EXPECT_EQ(shortest_edge_output_size(640, 427, 224), (std::array<int64_t, 2>{335, 224}));  // 335.76 -> 335
  EXPECT_EQ(shortest_edge_output_size(512, 512, 336), (std::array<int64_t, 2>{336, 336}));
  EXPECT_EQ(shortest_edge_output_size(30, 45, 32), (std::array<int64_t, 2>{32, 48}));
}

TEST(CenterCrop, FloorOffsetsAndZeroPaddingAsTransformers) {
  ImageU8 image = make_image(5, 6, 3);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i);
  // top = (5 - 2) // 2 = 1, left = (6 - 3) // 2 = 1.
  const auto c = center_crop(image, 2, 3);
  ASSERT_EQ(image_shape(c), "[2, 3, 3]");
  EXPECT_EQ(c.row(0)[0], image.row(1)[3]);
  EXPECT_EQ(c.row(1)[8], image.row(2)[3 * 3 + 2]);
  // Crop 8x4 of a 5x6 image: rows padded to 8 with ceil(3 / 2) = 2 zero rows on top, then
  // top = (5 - 8) // 2 + 2 = 0; columns cropped from left = (6 - 4) // 2 = 1.
  const auto p = center_crop(image, 8, 4);
  ASSERT_EQ(image_shape(p), "[8, 4, 3]");
  for (int64_t y = 0; y < 8; ++y) {
    for (int64_t x = 0; x < 4; ++x) {
      for (int ch = 0; ch < 3; ++ch) {
        const bool inside = y >= 2 && y < 7;
        const uint8_t want = inside ? image.row(y - 2)[(x + 1) * 3 + ch] : 0;
        EXPECT_EQ(p.row(y)[x * 3 + ch], want) << y << "," << x;
      }
    }
  }
}

TEST(Normalize, RescaleInFloat64ThenNormalizeInFloat32) {
  ImageU8 image = make_image(1, 2, 3);
  image.pixels = {0, 128, 255, 1, 2, 3};
  NormalizeOptions o;
  o.mean = {0.48145466, 0.4578275, 0.40821073};
  o.std = {0.26862954, 0.26130258, 0.27577711};
  const auto out = rescale_normalize(image, o);
  ASSERT_EQ(out.values.size(), 6u);
  // CHW order; each value = (float(v * (1/255)) - float(mean)) / float(std) in float32.
  const auto expect = [&](int v, int c) {
    const float x = static_cast<float>(v * 0.00392156862745098);
    return (x - static_cast<float>(o.mean[c])) / static_cast<float>(o.std[c]);
  };
  EXPECT_EQ(out.values[0], expect(0, 0));
  EXPECT_EQ(out.values[1], expect(1, 0));
  EXPECT_EQ(out.values[2], expect(128, 1));
  EXPECT_EQ(out.values[5], expect(3, 2));
}

TEST(Resize, SameSizeIsACopyAndBadSizesAreErrors) {
  ImageU8 image = make_image(4, 5, 3, 7);
  EXPECT_EQ(resize_bicubic(image, 4, 5).pixels, image.pixels);
  expect_error_containing([&] { resize_bicubic(image, 0, 5); }, {"invalid output size"});
  expect_error_containing([&] { resize_bicubic(ImageU8{}, 3, 3); }, {"invalid input image"});
}

}  // namespace
}  // namespace vista::image
