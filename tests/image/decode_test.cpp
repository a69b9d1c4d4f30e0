// Decoding against PIL: the images_v1 fixture files (rules of its manifest "compare" section)
// and the extra PIL references in testdata/images_v1/extra (exact).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "image/decode.h"
#include "image/fixture_reader.h"
#include "test_util.h"
#include "util/error.h"

namespace vista::image {
namespace {

using testing::crop;
using testing::diff;
using testing::images_v1;
using testing::RawSafetensors;
using testing::read_json;

const RawSafetensors& fixture_tensors() {
  static const RawSafetensors tensors(images_v1("tensors.safetensors"));
  return tensors;
}
const RawSafetensors& extra_tensors() {
  static const RawSafetensors tensors(images_v1("extra/references.safetensors"));
  return tensors;
}

bool is_jpeg(const std::string& file) { return file.size() > 4 && file.substr(file.size() - 4) == ".jpg"; }

TEST(DecodeImagesV1, EveryCaseWithinTheManifestRules) {
  const auto manifest = read_json(images_v1("manifest.json"));
  ASSERT_EQ(manifest["cases"].size(), 11u);
  for (const auto& c : manifest["cases"]) {
    const std::string file = c["file"];
    SCOPED_TRACE(file);
    const auto image = read_image_file(images_v1(file));
    ASSERT_EQ(image.channels, 3);
    ASSERT_EQ(image.height, c["decoded_size_hw"][0].get<int64_t>());
    ASSERT_EQ(image.width, c["decoded_size_hw"][1].get<int64_t>());
    const auto expected = fixture_tensors().image(c["decoded_crop"]);
    const auto d = diff(expected, crop(image, c["decoded_crop_origin_yx"][0], c["decoded_crop_origin_yx"][1],
                                       expected.height, expected.width));
    // PNG: exact. JPEG: max |diff| <= 2 and mean |diff| <= 0.5.
    EXPECT_LE(d.max_abs, is_jpeg(file) ? 2 : 0);
    EXPECT_LE(d.mean_abs, is_jpeg(file) ? 0.5 : 0.0);
    // decoded_mean: float64 mean cast to float32; |mean(a) - mean(b)| <= mean |a - b|.
    const auto expected_mean = fixture_tensors().floats(c["decoded_mean"]);
    for (int ch = 0; ch < 3; ++ch) {
      double sum = 0;
      for (int64_t i = 0; i < image.height * image.width; ++i) sum += image.pixels[3 * i + ch];
      const float mean = static_cast<float>(sum / static_cast<double>(image.height * image.width));
      if (is_jpeg(file)) {
        EXPECT_NEAR(mean, expected_mean[ch], 0.5);
      } else {
        EXPECT_EQ(mean, expected_mean[ch]);
      }
    }
  }
}

TEST(DecodeImagesV1, ExifOrientationIsNotApplied) {
  // rocket_exif_rot6.jpg carries orientation 6; PIL's Image.open does not rotate it.
  const auto image = read_image_file(images_v1("images/rocket_exif_rot6.jpg"));
  EXPECT_EQ(image.height, 427);
  EXPECT_EQ(image.width, 640);
}

TEST(DecodeImagesV1, TruncatedJpegIsAnErrorNamingTheFile) {
  const std::string path = images_v1("images/bad_truncated.jpg");
  expect_error_containing([&] { read_image_file(path); }, {path, "truncated JPEG", "Premature end of JPEG file"});
}

TEST(DecodeExtra, EveryPilReferenceExactly) {
  const auto refs = read_json(images_v1("extra/references.json"));
  ASSERT_GE(refs["decoded"].size(), 28u);
  for (const auto& e : refs["decoded"]) {
    const std::string file = e["file"];
    SCOPED_TRACE(file + " (" + e["note"].get<std::string>() + ")");
    ImageU8 image;
    ASSERT_NO_THROW(image = read_image_file(images_v1("extra/" + file)));
    const auto expected = extra_tensors().image(e["expected"]);
    ASSERT_EQ(image_shape(image), image_shape(expected));
    const auto d = diff(expected, image);
    EXPECT_EQ(d.max_abs, 0) << "mean |diff| " << d.mean_abs;
  }
}

TEST(DecodeExtra, BadFilesAreErrorsNamingTheFile) {
  const auto refs = read_json(images_v1("extra/references.json"));
  ASSERT_GE(refs["bad"].size(), 8u);
  for (const auto& b : refs["bad"]) {
    const std::string path = images_v1("extra/" + b["file"].get<std::string>());
    SCOPED_TRACE(path);
    expect_error_containing([&] { read_image_file(path); }, {path});
  }
}

TEST(DecodeExtra, ErrorsSayWhatIsWrong) {
  const auto extra = [](const std::string& f) { return images_v1("extra/" + f); };
  expect_error_containing([&] { read_image_file(extra("truncated.png")); }, {extra("truncated.png"), "truncated PNG"});
  expect_error_containing([&] { read_image_file(extra("bad_ihdr_crc.png")); }, {extra("bad_ihdr_crc.png"), "PNG", "CRC"});
  expect_error_containing([&] { read_image_file(extra("corrupt_idat.png")); }, {extra("corrupt_idat.png"), "corrupt"});
  expect_error_containing([&] { read_image_file(extra("truncated_scan.jpg")); },
                          {extra("truncated_scan.jpg"), "truncated JPEG"});
  expect_error_containing([&] { read_image_file(extra("truncated_progressive.jpg")); },
                          {extra("truncated_progressive.jpg"), "truncated JPEG"});
  expect_error_containing([&] { read_image_file(extra("not_an_image.txt")); },
                          {extra("not_an_image.txt"), "not a PNG or JPEG image", "74686973"});
  expect_error_containing([&] { read_image_file(extra("empty.png")); }, {extra("empty.png"), "empty"});
  expect_error_containing([&] { read_image_file(extra("only_signature.png")); },
                          {extra("only_signature.png"), "truncated PNG"});
}

TEST(Decode, MissingFileAndDirectory) {
  const std::string missing = images_v1("images/no_such_file.png");
  expect_error_containing([&] { read_image_file(missing); }, {missing, "cannot open", "No such file"});
  const std::string folder = images_v1("images");
  expect_error_containing([&] { read_image_file(folder); }, {folder});
}

TEST(Decode, OtherFormatsAreNamed) {
  const std::vector<uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0};
  expect_error_containing([&] { decode_image(gif, "mem.gif"); }, {"mem.gif", "GIF images are not supported"});
  const std::vector<uint8_t> webp = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'};
  expect_error_containing([&] { decode_image(webp, "x.webp"); }, {"x.webp", "WebP"});
}

TEST(Decode, SniffsByContentNotName) {
  const auto png = read_file_bytes(images_v1("images/camera.png"));
  const auto jpg = read_file_bytes(images_v1("images/rocket.jpg"));
  EXPECT_EQ(sniff_format(png.data(), png.size()), ImageFormat::kPng);
  EXPECT_EQ(sniff_format(jpg.data(), jpg.size()), ImageFormat::kJpeg);
  EXPECT_EQ(sniff_format(png.data(), 4), ImageFormat::kUnknown);
  // A JPEG under a .png name decodes as JPEG.
  TempDir dir;
  write_file(dir.file("actually_jpeg.png"), std::string(jpg.begin(), jpg.end()));
  const auto a = read_image_file(dir.file("actually_jpeg.png"));
  const auto b = read_image_file(images_v1("images/rocket.jpg"));
  EXPECT_EQ(a.pixels, b.pixels);
}

TEST(Decode, TruncationAtEveryLengthIsAnErrorNeverAPartialImage) {
  // Every cut must throw; none may return pixels. Cuts are taken at ~100 lengths and at each of
  // the last 64. JPEG: even a missing EOI is an error, as PIL raises "image file is truncated".
  // PNG: PIL still decodes a file missing its last 20 bytes (IEND, the last CRC, the zlib
  // checksum: every pixel is there) and fails from 24 on; cuts of 24 bytes and more must fail.
  for (const char* file : {"images/horse.png", "images/chelsea_progressive.jpg", "images/rocket.jpg"}) {
    const auto bytes = read_file_bytes(images_v1(file));
    const bool png = std::string(file).find(".png") != std::string::npos;
    const size_t longest_failing_cut = bytes.size() - (png ? 24 : 1);
    std::vector<size_t> lengths;
    for (size_t n = 0; n <= longest_failing_cut; n += std::max<size_t>(1, bytes.size() / 97)) lengths.push_back(n);
    for (size_t n = longest_failing_cut - 63; n <= longest_failing_cut; ++n) lengths.push_back(n);
    for (const size_t n : lengths) {
      SCOPED_TRACE(std::string(file) + " cut to " + std::to_string(n) + " of " + std::to_string(bytes.size()));
      const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_THROW(decode_image(cut, "cut"), vista::Error);
    }
  }
}

}  // namespace
}  // namespace vista::image
