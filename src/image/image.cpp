#include "image/image.h"

#include "util/error.h"

namespace vista::image {

ImageU8 make_image(int64_t height, int64_t width, int64_t channels, uint8_t value) {
  if (height < 0 || width < 0 || channels <= 0)
    fail("image: invalid size {}x{}x{}", height, width, channels);
  ImageU8 image;
  image.height = height;
  image.width = width;
  image.channels = channels;
  image.pixels.assign(static_cast<size_t>(height * width * channels), value);
  return image;
}

std::string image_shape(const ImageU8& image) {
  return fmt::format("[{}, {}, {}]", image.height, image.width, image.channels);
}

void require_rgb(const ImageU8& image, const std::string& what) {
  if (image.channels != 3 || image.height <= 0 || image.width <= 0)
    fail("{}: expected a non-empty RGB image [H, W, 3], got {}", what, image_shape(image));
  if (image.pixels.size() != static_cast<size_t>(image.height * image.width * 3))
    fail("{}: pixel buffer holds {} bytes, {} needs {}", what, image.pixels.size(), image_shape(image),
         image.height * image.width * 3);
}

}  // namespace vista::image
