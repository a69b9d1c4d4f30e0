#pragma once
// Bit-exact port of PIL's Image.resize(size, Image.BICUBIC) on 8-bit images (libImaging
// Resample.c, 8bpc path; box = the whole image, no reducing_gap):
//   * cubic kernel with a = -0.5, support 2; when downscaling the kernel is stretched by the
//     scale factor (support * scale, taps evaluated at x / scale): antialiasing;
//   * tap window per output pixel: center = (i + 0.5) * scale, [int(center - support + 0.5),
//     int(center + support + 0.5)) clipped to the image; weights normalised to sum 1 (double);
//   * weights to fixed point with PRECISION_BITS = 22, rounded half away from zero;
//   * accumulate in int32 starting at 1 << 21, result = clip(acc >> 22, 0, 255);
//   * horizontal pass first (only over the rows the vertical pass reads), then vertical; a pass
//     whose size does not change is skipped; same size = copy.
#include <cstdint>

#include "image/image.h"

namespace vista::image {

ImageU8 resize_bicubic(const ImageU8& image, int64_t out_height, int64_t out_width);

}  // namespace vista::image
