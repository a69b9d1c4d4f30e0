#include "image/center_crop.h"

#include <algorithm>
#include <cstring>

#include "util/error.h"

namespace vista::image {

namespace {

int64_t floor_div2(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

}  // namespace

ImageU8 center_crop(const ImageU8& image, int64_t crop_height, int64_t crop_width) {
  if (crop_height <= 0 || crop_width <= 0) fail("center_crop: invalid crop size {}x{}", crop_height, crop_width);
  if (image.pixels.size() != static_cast<size_t>(image.height * image.width * image.channels))
    fail("center_crop: invalid input image {}", image_shape(image));
  const int64_t c = image.channels;
  int64_t top = floor_div2(image.height - crop_height);
  int64_t left = floor_div2(image.width - crop_width);
  // The padded canvas (identical to the image when the crop fits).
  const int64_t canvas_h = std::max(crop_height, image.height);
  const int64_t canvas_w = std::max(crop_width, image.width);
  const int64_t pad_top = (canvas_h - image.height + 1) / 2;  // ceil
  const int64_t pad_left = (canvas_w - image.width + 1) / 2;
  top += pad_top;
  left += pad_left;
  const int64_t y0 = std::max<int64_t>(0, top), y1 = std::min(canvas_h, top + crop_height);
  const int64_t x0 = std::max<int64_t>(0, left), x1 = std::min(canvas_w, left + crop_width);
  ImageU8 out = make_image(y1 - y0, x1 - x0, c, 0);
  // Columns of the canvas that hold image pixels (the rest stay zero).
  const int64_t ix0 = std::max(x0, pad_left), ix1 = std::min(x1, pad_left + image.width);
  for (int64_t y = y0; y < y1 && ix1 > ix0; ++y) {
    const int64_t sy = y - pad_top;
    if (sy < 0 || sy >= image.height) continue;
    std::memcpy(out.row(y - y0) + (ix0 - x0) * c, image.row(sy) + (ix0 - pad_left) * c,
                static_cast<size_t>((ix1 - ix0) * c));
  }
  return out;
}

}  // namespace vista::image
