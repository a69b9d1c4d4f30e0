#include "image/decode.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "image/jpeg_decode.h"
#include "image/png_decode.h"
#include "util/error.h"

namespace vista::image {

namespace {

bool starts_with(const uint8_t* data, size_t size, const char* magic, size_t n) {
  return size >= n && std::memcmp(data, magic, n) == 0;
}

// A name for formats we recognise but do not decode, so the error says what the file is.
const char* other_format_name(const uint8_t* data, size_t size) {
  if (starts_with(data, size, "GIF87a", 6) || starts_with(data, size, "GIF89a", 6)) return "GIF";
  if (starts_with(data, size, "BM", 2)) return "BMP";
  if (size >= 12 && starts_with(data, size, "RIFF", 4) && std::memcmp(data + 8, "WEBP", 4) == 0) return "WebP";
  if (starts_with(data, size, "II*\0", 4) || starts_with(data, size, "MM\0*", 4)) return "TIFF";
  if (size >= 12 && std::memcmp(data + 4, "ftyp", 4) == 0) return "HEIF/AVIF";
  return nullptr;
}

}  // namespace

ImageFormat sniff_format(const uint8_t* data, size_t size) {
  if (starts_with(data, size, "\x89PNG\r\n\x1a\n", 8)) return ImageFormat::kPng;
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat::kJpeg;
  return ImageFormat::kUnknown;
}

ImageU8 decode_image(const uint8_t* data, size_t size, const std::string& source, int64_t max_pixels) {
  if (size == 0) fail("{}: file is empty, expected a PNG or JPEG image", source);
  switch (sniff_format(data, size)) {
    case ImageFormat::kPng:
      return decode_png_rgb(data, size, source, max_pixels);
    case ImageFormat::kJpeg:
      return decode_jpeg_rgb(data, size, source, max_pixels);
    case ImageFormat::kUnknown: break;
  }
  if (const char* name = other_format_name(data, size))
    fail("{}: {} images are not supported, expected PNG or JPEG", source, name);
  std::string head;
  for (size_t i = 0; i < std::min<size_t>(size, 8); ++i) head += fmt::format("{:02x}", data[i]);
  fail("{}: not a PNG or JPEG image (file starts with bytes {})", source, head);
}

ImageU8 decode_image(const std::vector<uint8_t>& bytes, const std::string& source) {
  return decode_image(bytes.data(), bytes.size(), source);
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) fail("{}: cannot open image file: {}", path, std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) bytes.insert(bytes.end(), buffer, buffer + n);
  if (std::ferror(file.get())) fail("{}: read error: {}", path, std::strerror(errno));
  return bytes;
}

ImageU8 read_image_file(const std::string& path) {
  const auto bytes = read_file_bytes(path);
  return decode_image(bytes, path);
}

}  // namespace vista::image
