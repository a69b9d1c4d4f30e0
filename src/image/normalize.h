#pragma once
// The processors' last steps, as transformers 4.40 computes them on an HWC uint8 image:
//   rescale:   (x as float64 * rescale_factor) cast to float32;
//   normalize: (x - mean) / std in float32 (mean/std cast to float32 first);
// output channel-first (CHW) float32.
#include <array>
#include <cstdint>
#include <vector>

#include "image/image.h"

namespace vista::image {

struct FloatImage {  // CHW float32
  int64_t channels = 0, height = 0, width = 0;
  std::vector<float> values;
};

struct NormalizeOptions {
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;
  bool do_normalize = true;
  std::array<double, 3> mean{0.5, 0.5, 0.5};
  std::array<double, 3> std{0.5, 0.5, 0.5};
};

FloatImage rescale_normalize(const ImageU8& image, const NormalizeOptions& options);

}  // namespace vista::image
