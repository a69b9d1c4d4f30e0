#include "image/tensor.h"

#include <cstring>

#include "util/error.h"

namespace vista::image {

torch::Tensor to_tensor(const FloatImage& image) {
  auto out = torch::empty({image.channels, image.height, image.width}, torch::kFloat32);
  std::memcpy(out.data_ptr<float>(), image.values.data(), image.values.size() * sizeof(float));
  return out;
}

torch::Tensor to_tensor(const ImageU8& image) {
  auto out = torch::empty({image.height, image.width, image.channels}, torch::kUInt8);
  std::memcpy(out.data_ptr<uint8_t>(), image.pixels.data(), image.pixels.size());
  return out;
}

ImageU8 image_from_tensor(const torch::Tensor& hwc_uint8, const std::string& what) {
  if (hwc_uint8.dim() != 3 || hwc_uint8.scalar_type() != torch::kUInt8)
    fail("{}: expected a uint8 tensor [H, W, C], got {} {}", what, c10::toString(hwc_uint8.scalar_type()),
         shape_string(hwc_uint8.sizes().vec()));
  const auto t = hwc_uint8.contiguous().cpu();
  ImageU8 image = make_image(t.size(0), t.size(1), t.size(2));
  std::memcpy(image.pixels.data(), t.data_ptr<uint8_t>(), image.pixels.size());
  return image;
}

}  // namespace vista::image
