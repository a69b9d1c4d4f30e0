#pragma once
// Size limits applied before any pixel buffer is allocated.
#include <cstdint>
#include <string>

namespace vista::image {

// PIL raises DecompressionBombError above 2 * Image.MAX_IMAGE_PIXELS = 178956970 pixels.
constexpr int64_t kMaxImagePixels = 178956970;
constexpr int64_t kMaxImageSide = 1 << 20;

// Throws naming `source` for an empty image or one past the limits above.
void check_image_size(int64_t height, int64_t width, const std::string& source);

}  // namespace vista::image
