#pragma once
// Size limits applied before any pixel buffer is allocated.
#include <cstdint>
#include <string>

namespace vista::image {

// PIL raises DecompressionBombError above 2 * Image.MAX_IMAGE_PIXELS = 178956970 pixels.
constexpr int64_t kMaxImagePixels = 178956970;
constexpr int64_t kMaxImageSide = 1 << 20;

// Throws naming `source` for an empty image or one past the limits above (or max_pixels).
// max_pixels: a caller's lower limit (a server facing the network sets its own).
void check_image_size(int64_t height, int64_t width, const std::string& source, int64_t max_pixels = kMaxImagePixels);

}  // namespace vista::image
