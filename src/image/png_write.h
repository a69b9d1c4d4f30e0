#pragma once
// PNG output for plots and heatmaps: 8-bit gray (1 channel), gray+alpha (2), RGB (3), RGBA (4),
// written to a temporary file and renamed into place.
#include <cstdint>
#include <string>
#include <vector>

#include "image/image.h"

namespace vista::image {

std::vector<uint8_t> encode_png(const ImageU8& image, const std::string& what = "encode_png");
void write_png(const std::string& path, const ImageU8& image);

}  // namespace vista::image
