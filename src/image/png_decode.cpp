#include "image/png_decode.h"

#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <memory>
#include <vector>

#include "image/limits.h"
#include "util/error.h"

namespace vista::image {

namespace {

// Everything libpng's callbacks touch. Plain data only: a longjmp may cross the frames that use it.
struct PngSource {
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  char message[256] = {0};
};

void copy_message(PngSource* src, const char* message) {
  std::strncpy(src->message, message ? message : "unknown libpng error", sizeof(src->message) - 1);
  src->message[sizeof(src->message) - 1] = '\0';
}

[[noreturn]] void on_png_error(png_structp png, png_const_charp message) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  copy_message(src, message);
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}  // ancillary problems PIL ignores too

void on_png_read(png_structp png, png_bytep out, png_size_t length) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (length > src->size - src->pos) png_error(png, "unexpected end of file (truncated PNG)");
  std::memcpy(out, src->data + src->pos, length);
  src->pos += length;
}

struct PngHeader {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  size_t rowbytes = 0;
  int palette_size = 0;
  uint8_t palette[256 * 3] = {0};
};

// The functions below hold only trivially destructible locals, so the longjmp of an error
// skips no destructor. Each returns false after a libpng error (message in the source).
bool read_png_header(png_structp png, png_infop info, PngHeader* header) {
  if (setjmp(png_jmpbuf(png))) return false;
  // PIL verifies the CRC of every chunk before the image data, ancillary ones included.
  png_set_crc_action(png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
  png_set_user_limits(png, static_cast<png_uint_32>(kMaxImageSide), static_cast<png_uint_32>(kMaxImageSide));
  png_read_info(png, info);
  png_get_IHDR(png, info, &header->width, &header->height, &header->bit_depth, &header->color_type,
               &header->interlace, nullptr, nullptr);
  if (header->color_type == PNG_COLOR_TYPE_PALETTE) {
    png_colorp palette = nullptr;
    int count = 0;
    if (png_get_PLTE(png, info, &palette, &count) != 0) {
      header->palette_size = std::min(count, 256);
      for (int i = 0; i < header->palette_size; ++i) {
        header->palette[3 * i + 0] = palette[i].red;
        header->palette[3 * i + 1] = palette[i].green;
        header->palette[3 * i + 2] = palette[i].blue;
      }
    }
  }
  // Samples stay as stored (16-bit big-endian, palette indices, unscaled gray); only sub-byte
  // samples are unpacked to one byte each. Every conversion to RGB is done below, as PIL does it.
  if (header->bit_depth < 8) png_set_packing(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  header->rowbytes = png_get_rowbytes(png, info);
  return true;
}

bool read_png_rows(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  return true;
}

struct PngGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngGuard() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

int samples_per_pixel(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_PALETTE: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 0;
  }
}

void convert_row_to_rgb(const PngHeader& h, const uint8_t* in, uint8_t* out) {
  const int64_t width = h.width;
  const int samples = samples_per_pixel(h.color_type);
  if (h.color_type == PNG_COLOR_TYPE_PALETTE) {
    for (int64_t x = 0; x < width; ++x) {
      const int index = in[x];
      if (index < h.palette_size) {
        std::memcpy(out + 3 * x, h.palette + 3 * index, 3);
      } else {
        std::memset(out + 3 * x, 0, 3);
      }
    }
    return;
  }
  const bool gray = h.color_type == PNG_COLOR_TYPE_GRAY || h.color_type == PNG_COLOR_TYPE_GRAY_ALPHA;
  if (h.bit_depth == 16) {
    for (int64_t x = 0; x < width; ++x) {
      const uint8_t* p = in + 2 * samples * x;
      if (h.color_type == PNG_COLOR_TYPE_GRAY) {
        const unsigned v = (static_cast<unsigned>(p[0]) << 8) | p[1];
        const uint8_t g = static_cast<uint8_t>(std::min(v, 255u));
        out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = g;
      } else if (gray) {  // LA;16B: most significant byte
        out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = p[0];
      } else {  // RGB;16B / RGBA;16B: most significant byte
        out[3 * x + 0] = p[0];
        out[3 * x + 1] = p[2];
        out[3 * x + 2] = p[4];
      }
    }
    return;
  }
  if (gray) {
    const int scale = h.bit_depth == 1 ? 255 : h.bit_depth == 2 ? 85 : h.bit_depth == 4 ? 17 : 1;
    for (int64_t x = 0; x < width; ++x) {
      const uint8_t g = static_cast<uint8_t>(in[samples * x] * scale);
      out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = g;
    }
    return;
  }
  for (int64_t x = 0; x < width; ++x) std::memcpy(out + 3 * x, in + samples * x, 3);
}

}  // namespace

ImageU8 decode_png_rgb(const uint8_t* data, size_t size, const std::string& source, int64_t max_pixels) {
  PngSource src;
  src.data = data;
  src.size = size;
  PngGuard guard;
  guard.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_png_error, on_png_warning);
  if (!guard.png) fail("{}: cannot initialise libpng", source);
  guard.info = png_create_info_struct(guard.png);
  if (!guard.info) fail("{}: cannot initialise libpng", source);
  png_set_read_fn(guard.png, &src, on_png_read);

  auto header = std::make_unique<PngHeader>();
  if (!read_png_header(guard.png, guard.info, header.get()))
    fail("{}: corrupt or truncated PNG: {}", source, src.message);
  if (samples_per_pixel(header->color_type) == 0)
    fail("{}: PNG colour type {} is not supported", source, header->color_type);
  check_image_size(header->height, header->width, source, max_pixels);

  std::vector<uint8_t> raw(header->rowbytes * header->height);
  std::vector<png_bytep> rows(header->height);
  for (png_uint_32 y = 0; y < header->height; ++y) rows[y] = raw.data() + y * header->rowbytes;
  if (!read_png_rows(guard.png, rows.data())) fail("{}: corrupt or truncated PNG: {}", source, src.message);

  ImageU8 image = make_image(header->height, header->width, 3);
  for (png_uint_32 y = 0; y < header->height; ++y) convert_row_to_rgb(*header, rows[y], image.row(y));
  return image;
}

}  // namespace vista::image
