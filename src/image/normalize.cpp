#include "image/normalize.h"

#include "util/error.h"

namespace vista::image {

FloatImage rescale_normalize(const ImageU8& image, const NormalizeOptions& options) {
  require_rgb(image, "rescale_normalize");
  FloatImage out;
  out.channels = 3;
  out.height = image.height;
  out.width = image.width;
  const int64_t plane = image.height * image.width;
  out.values.resize(static_cast<size_t>(3 * plane));
  // Per channel: a 256-entry table of the float32 result of each uint8 value.
  for (int c = 0; c < 3; ++c) {
    const float mean = static_cast<float>(options.mean[c]);
    const float std = static_cast<float>(options.std[c]);
    if (options.do_normalize && std == 0.0f) fail("rescale_normalize: image_std[{}] is zero", c);
    float table[256];
    for (int v = 0; v < 256; ++v) {
      float x = options.do_rescale ? static_cast<float>(static_cast<double>(v) * options.rescale_factor)
                                   : static_cast<float>(v);
      if (options.do_normalize) {
        x = (x - mean) / std;  // float32 subtraction, then float32 division
      }
      table[v] = x;
    }
    float* dst = out.values.data() + c * plane;
    const uint8_t* src = image.pixels.data() + c;
    for (int64_t i = 0; i < plane; ++i) dst[i] = table[src[3 * i]];
  }
  return out;
}

}  // namespace vista::image
