#include "image/png_write.h"

#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "util/error.h"

namespace vista::image {

namespace {

struct PngSink {
  std::vector<uint8_t>* bytes = nullptr;  // appended to by the write callback (never throws past libpng:
                                          // a failed allocation is turned into a libpng error)
  char message[256] = {0};
};

[[noreturn]] void on_write_error(png_structp png, png_const_charp message) {
  auto* sink = static_cast<PngSink*>(png_get_error_ptr(png));
  std::strncpy(sink->message, message ? message : "unknown libpng error", sizeof(sink->message) - 1);
  png_longjmp(png, 1);
}

void on_write_warning(png_structp, png_const_charp) {}

void on_write(png_structp png, png_bytep data, png_size_t length) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  bool ok = true;
  try {
    sink->bytes->insert(sink->bytes->end(), data, data + length);
  } catch (...) {
    ok = false;
  }
  if (!ok) png_error(png, "out of memory");
}

void on_flush(png_structp) {}

bool write_png_rows(png_structp png, png_infop info, const ImageU8* image, png_bytepp rows, int color_type) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, static_cast<png_uint_32>(image->width), static_cast<png_uint_32>(image->height), 8,
               color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

struct PngWriteGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriteGuard() { png_destroy_write_struct(&png, info ? &info : nullptr); }
};

}  // namespace

std::vector<uint8_t> encode_png(const ImageU8& image, const std::string& what) {
  int color_type;
  switch (image.channels) {
    case 1: color_type = PNG_COLOR_TYPE_GRAY; break;
    case 2: color_type = PNG_COLOR_TYPE_GRAY_ALPHA; break;
    case 3: color_type = PNG_COLOR_TYPE_RGB; break;
    case 4: color_type = PNG_COLOR_TYPE_RGB_ALPHA; break;
    default: fail("{}: cannot write a PNG with {} channels (1 to 4)", what, image.channels);
  }
  if (image.height <= 0 || image.width <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.height * image.width * image.channels))
    fail("{}: invalid image {} for PNG output", what, image_shape(image));
  std::vector<uint8_t> bytes;
  PngSink sink;
  sink.bytes = &bytes;
  PngWriteGuard guard;
  guard.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, on_write_error, on_write_warning);
  if (!guard.png) fail("{}: cannot initialise libpng", what);
  guard.info = png_create_info_struct(guard.png);
  if (!guard.info) fail("{}: cannot initialise libpng", what);
  png_set_write_fn(guard.png, &sink, on_write, on_flush);
  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  for (int64_t y = 0; y < image.height; ++y) rows[y] = const_cast<png_bytep>(image.row(y));
  if (!write_png_rows(guard.png, guard.info, &image, rows.data(), color_type))
    fail("{}: PNG encoding failed: {}", what, sink.message);
  return bytes;
}

void write_png(const std::string& path, const ImageU8& image) {
  const auto bytes = encode_png(image, path);
  const std::string tmp = path + ".tmp";
  {
    std::FILE* file = std::fopen(tmp.c_str(), "wb");
    if (!file) fail("{}: cannot open for writing: {}", tmp, std::strerror(errno));
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
    const bool closed = std::fclose(file) == 0;
    if (!ok || !closed) {
      std::remove(tmp.c_str());
      fail("{}: write failed: {}", tmp, std::strerror(errno));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail("{}: cannot rename {} into place: {}", path, tmp, ec.message());
  }
}

}  // namespace vista::image
