#pragma once
// LLaVA's expand2square (image_aspect_ratio = "pad"): the image pasted on a square canvas of side
// max(w, h) filled with the background colour, at offset (side - short) // 2 on the short axis
// (floor: an odd remainder leaves the extra row / column at the bottom / right).
#include <array>
#include <cstdint>

#include "image/image.h"

namespace vista::image {

using Rgb = std::array<uint8_t, 3>;

// tuple(int(x * 255) for x in image_processor.image_mean): truncation, (122, 116, 104) for CLIP.
Rgb background_from_mean(const std::array<double, 3>& image_mean);

// A square image is returned unchanged. Works for any channel count; background needs 3 channels.
ImageU8 expand_to_square(const ImageU8& image, const Rgb& background);

}  // namespace vista::image
