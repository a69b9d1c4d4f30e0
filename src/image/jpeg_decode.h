#pragma once
// JPEG -> RGB exactly as PIL's Image.open(f).convert("RGB") with libjpeg-turbo's default
// decoder settings (islow IDCT, fancy upsampling), EXIF orientation NOT applied:
//   1 component  -> gray, replicated
//   3 components -> libjpeg's RGB output (YCbCr converted; Adobe transform 0 taken as RGB)
//   4 components -> libjpeg's CMYK output (YCCK converted), inverted as PIL's "CMYK;I"
//                   (PIL always assumes Adobe polarity), then PIL's cmyk2rgb:
//                   nk = 255 - k; out = clip(nk - (c * nk) / 255) with PIL's MULDIV255 rounding.
// Errors (naming the source): any truncation, even of the final EOI marker, as PIL raises
// "image file is truncated" (libjpeg's "Premature end of JPEG file" warning becomes an error);
// warnings that mean damaged entropy-coded data (bad Huffman code, premature end of a data
// segment, lost restart marker, bad progression) are errors too, where PIL would return a damaged
// image; harmless warnings (extraneous bytes before a marker) are ignored as PIL ignores them;
// corrupt markers; 2-component files.
#include <cstddef>
#include <cstdint>
#include <string>

#include "image/image.h"
#include "image/limits.h"

namespace vista::image {

ImageU8 decode_jpeg_rgb(const uint8_t* data, size_t size, const std::string& source,
                        int64_t max_pixels = kMaxImagePixels);

// PIL's cmyk2rgb for one pixel of *PIL* CMYK (already inverted from the Adobe file values).
void pil_cmyk_to_rgb(const uint8_t cmyk[4], uint8_t rgb[3]);

}  // namespace vista::image
