#include <gtest/gtest.h>

#include "image/decode.h"
#include "image/png_write.h"
#include "test_util.h"

namespace vista::image {
namespace {

ImageU8 pattern(int64_t h, int64_t w, int64_t c) {
  ImageU8 image = make_image(h, w, c);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 37 + i / 7);
  return image;
}

TEST(PngWrite, RoundTripsThroughTheDecoderForEveryChannelCount) {
  TempDir dir;
  for (int64_t c = 1; c <= 4; ++c) {
    SCOPED_TRACE(c);
    const auto image = pattern(9, 13, c);
    const std::string path = dir.file("out" + std::to_string(c) + ".png");
    write_png(path, image);
    const auto rgb = read_image_file(path);
    ASSERT_EQ(rgb.height, 9);
    ASSERT_EQ(rgb.width, 13);
    for (int64_t i = 0; i < 9 * 13; ++i) {
      const uint8_t* src = image.pixels.data() + i * c;
      const uint8_t* out = rgb.pixels.data() + i * 3;
      if (c <= 2) {  // gray (+ alpha): replicated, alpha dropped
        ASSERT_EQ(out[0], src[0]);
        ASSERT_EQ(out[2], src[0]);
      } else {       // RGB (A): alpha dropped
        ASSERT_EQ(out[0], src[0]);
        ASSERT_EQ(out[1], src[1]);
        ASSERT_EQ(out[2], src[2]);
      }
    }
  }
}

TEST(PngWrite, Errors) {
  TempDir dir;
  const std::string path = dir.file("no_such_folder/out.png");
  expect_error_containing([&] { write_png(path, pattern(2, 2, 3)); }, {path, "cannot open"});
  expect_error_containing([&] { encode_png(pattern(2, 2, 5), "five.png"); }, {"five.png", "5 channels"});
  ImageU8 broken = pattern(2, 2, 3);
  broken.pixels.pop_back();
  expect_error_containing([&] { encode_png(broken, "broken.png"); }, {"broken.png", "invalid image"});
}

}  // namespace
}  // namespace vista::image
