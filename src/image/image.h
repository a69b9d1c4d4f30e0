#pragma once
// The image type of the data pipeline: 8-bit pixels, HWC, row-major, no libtorch.
#include <cstdint>
#include <string>
#include <vector>

namespace vista::image {

struct ImageU8 {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels bytes, HWC

  const uint8_t* row(int64_t y) const { return pixels.data() + y * width * channels; }
  uint8_t* row(int64_t y) { return pixels.data() + y * width * channels; }
};

// A height x width x channels image filled with `value`.
ImageU8 make_image(int64_t height, int64_t width, int64_t channels, uint8_t value = 0);

// Throws vista::Error naming `what` when the image is not height x width x 3 with a matching buffer.
void require_rgb(const ImageU8& image, const std::string& what);

// "[H, W, C]" for messages.
std::string image_shape(const ImageU8& image);

}  // namespace vista::image
