#include "image/limits.h"

#include "util/error.h"

namespace vista::image {

void check_image_size(int64_t height, int64_t width, const std::string& source) {
  if (height <= 0 || width <= 0) fail("{}: image has no pixels ({}x{})", source, width, height);
  if (height > kMaxImageSide || width > kMaxImageSide || height * width > kMaxImagePixels)
    fail("{}: image of {}x{} pixels exceeds the limit of {} pixels (decompression bomb?)", source, width, height,
         kMaxImagePixels);
}

}  // namespace vista::image
