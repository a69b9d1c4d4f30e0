#pragma once
// Reading image files: format sniffing and dispatch to the PNG / JPEG decoders. Every result is
// RGB [H, W, 3] as PIL's Image.open(f).convert("RGB") gives it (EXIF orientation not applied).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/limits.h"

namespace vista::image {

enum class ImageFormat { kPng, kJpeg, kUnknown };

// From the first bytes (PNG signature, JPEG SOI + marker), never from the file name.
ImageFormat sniff_format(const uint8_t* data, size_t size);

// Decodes PNG or JPEG bytes; `source` names the data in errors (usually the file path).
// max_pixels: a lower pixel limit than the default one, checked before any pixel is decoded.
ImageU8 decode_image(const uint8_t* data, size_t size, const std::string& source, int64_t max_pixels = kMaxImagePixels);
ImageU8 decode_image(const std::vector<uint8_t>& bytes, const std::string& source);

// Reads and decodes a file. Missing, unreadable, empty, non-image, truncated and corrupt files
// are errors naming the path and the problem.
ImageU8 read_image_file(const std::string& path);

std::vector<uint8_t> read_file_bytes(const std::string& path);

}  // namespace vista::image
