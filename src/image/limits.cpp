#include "image/limits.h"

#include <algorithm>

#include "util/error.h"

namespace vista::image {

void check_image_size(int64_t height, int64_t width, const std::string& source, int64_t max_pixels) {
  if (height <= 0 || width <= 0) fail("{}: image has no pixels ({}x{})", source, width, height);
  const int64_t limit = std::min(max_pixels, kMaxImagePixels);
  if (height > kMaxImageSide || width > kMaxImageSide || height * width > limit)
    fail("{}: image of {}x{} pixels exceeds the limit of {} pixels (decompression bomb?)", source, width, height,
         limit);
}

}  // namespace vista::image
