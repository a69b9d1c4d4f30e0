#include "analysis/image_as_seen.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace vista::analysis {

image::ImageU8 image_as_seen(const image::FloatImage& processed, const image::ImageProcessorConfig& p) {
  if (processed.channels != 3) fail("image as seen: expected 3 channels, got {}", processed.channels);
  auto out = image::make_image(processed.height, processed.width, 3);
  const auto plane = static_cast<size_t>(processed.height * processed.width);
  for (int64_t c = 0; c < 3; ++c)
    for (size_t i = 0; i < plane; ++i) {
      double v = processed.values[static_cast<size_t>(c) * plane + i];
      if (p.do_normalize) v = v * p.image_std[static_cast<size_t>(c)] + p.image_mean[static_cast<size_t>(c)];
      if (p.do_rescale) v /= p.rescale_factor;
      out.pixels[i * 3 + static_cast<size_t>(c)] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
    }
  return out;
}

}  // namespace vista::analysis
