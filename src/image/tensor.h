#pragma once
// The only libtorch-facing file of the image module (target vista_image_torch).
#include <torch/torch.h>

#include "image/image.h"
#include "image/normalize.h"

namespace vista::image {

torch::Tensor to_tensor(const FloatImage& image);  // [C, H, W] float32
torch::Tensor to_tensor(const ImageU8& image);     // [H, W, C] uint8
ImageU8 image_from_tensor(const torch::Tensor& hwc_uint8, const std::string& what);  // [H, W, C] uint8

}  // namespace vista::image
