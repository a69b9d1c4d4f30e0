#pragma once
// PNG -> RGB exactly as PIL's Image.open(f).convert("RGB") (Pillow 9.4 - 11):
//   gray 1/2/4/8-bit   -> scaled to 0..255 (v * 255 / (2^bits - 1)) and replicated
//   gray 16-bit        -> min(v, 255) (PIL opens it as mode I / I;16; I -> RGB clips)
//   RGB/RGBA/LA 16-bit -> most significant byte of each sample
//   alpha              -> dropped, no compositing (rgba2rgb / la2rgb copy the colour)
//   palette            -> PLTE lookup (indices past the PLTE read black); tRNS ignored
//   interlaced         -> deinterlaced; gamma/ICC/sBIT chunks ignored as PIL ignores them.
// Truncated or corrupt data (bad CRC, zlib error) is an error naming the source.
#include <cstddef>
#include <cstdint>
#include <string>

#include "image/image.h"
#include "image/limits.h"

namespace vista::image {

ImageU8 decode_png_rgb(const uint8_t* data, size_t size, const std::string& source,
                       int64_t max_pixels = kMaxImagePixels);

}  // namespace vista::image
