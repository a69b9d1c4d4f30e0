#pragma once
// transformers' image_transforms.center_crop on an HWC uint8 image:
//   top = (H - crop_h) // 2, left = (W - crop_w) // 2 (floor division);
//   when the crop is larger than the image, the image is first zero-padded to
//   max(crop, size) with ceil((new - old) / 2) before it, then cropped as above.
#include <cstdint>

#include "image/image.h"

namespace vista::image {

ImageU8 center_crop(const ImageU8& image, int64_t crop_height, int64_t crop_width);

}  // namespace vista::image
