#include "image/pad_square.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "util/error.h"

namespace vista::image {

Rgb background_from_mean(const std::array<double, 3>& image_mean) {
  Rgb rgb{};
  for (int c = 0; c < 3; ++c) {
    const double v = image_mean[c] * 255;
    if (!(v >= 0.0 && v < 256.0)) fail("expand_to_square: image_mean[{}] = {} gives no 8-bit colour", c, image_mean[c]);
    rgb[c] = static_cast<uint8_t>(std::trunc(v));
  }
  return rgb;
}

ImageU8 expand_to_square(const ImageU8& image, const Rgb& background) {
  require_rgb(image, "expand_to_square");
  if (image.width == image.height) return image;
  const int64_t side = std::max(image.width, image.height);
  ImageU8 out = make_image(side, side, 3);
  uint8_t* first = out.row(0);
  for (int64_t x = 0; x < side; ++x) std::memcpy(first + 3 * x, background.data(), 3);
  for (int64_t y = 1; y < side; ++y) std::memcpy(out.row(y), first, static_cast<size_t>(side * 3));
  const int64_t top = image.width > image.height ? (image.width - image.height) / 2 : 0;
  const int64_t left = image.height > image.width ? (image.height - image.width) / 2 : 0;
  for (int64_t y = 0; y < image.height; ++y)
    std::memcpy(out.row(top + y) + left * 3, image.row(y), static_cast<size_t>(image.width * 3));
  return out;
}

}  // namespace vista::image
