#include "image/jpeg_decode.h"

#include <jpeglib.h>
#include <jerror.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include "image/limits.h"
#include "util/error.h"

namespace vista::image {

namespace {

// Error manager: plain data only, since a longjmp crosses the frames that use it.
struct JpegErrors {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 64];
  bool truncated;
};

[[noreturn]] void on_jpeg_error(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings that mean entropy-coded data was lost or damaged: libjpeg would go on and hand out
// grey or garbage blocks, so they are errors here.
bool damages_pixels(int code) {
  switch (code) {
    case JWRN_JPEG_EOF:          // "Premature end of JPEG file"
    case JWRN_HIT_MARKER:        // "Corrupt JPEG data: premature end of data segment"
    case JWRN_HUFF_BAD_CODE:     // "Corrupt JPEG data: bad Huffman code"
    case JWRN_ARITH_BAD_CODE:    // "Corrupt JPEG data: bad arithmetic code"
    case JWRN_MUST_RESYNC:       // "Corrupt JPEG data: found marker ... instead of RST"
    case JWRN_BOGUS_PROGRESSION: // "Inconsistent progression sequence"
      return true;
    default:
      return false;
  }
}

void on_jpeg_message(j_common_ptr cinfo, int level) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  if (level >= 0) return;  // trace messages
  cinfo->err->num_warnings++;
  const int code = cinfo->err->msg_code;
  if (!damages_pixels(code)) return;  // e.g. extraneous bytes before a marker: data intact, PIL decodes it
  (*cinfo->err->format_message)(cinfo, errors->message);
  errors->truncated = code == JWRN_JPEG_EOF;
  std::longjmp(errors->jump, 1);
}

struct JpegHeader {
  int64_t width = 0, height = 0;
  int components = 0;
};

// These functions hold only trivially destructible locals (see JpegErrors).
bool read_jpeg_header(jpeg_decompress_struct* cinfo, JpegErrors* errors, const uint8_t* data, size_t size,
                      JpegHeader* header) {
  if (setjmp(errors->jump)) return false;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, const_cast<unsigned char*>(data), static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  header->width = cinfo->image_width;
  header->height = cinfo->image_height;
  header->components = cinfo->num_components;
  return true;
}

bool read_jpeg_pixels(jpeg_decompress_struct* cinfo, JpegErrors* errors, J_COLOR_SPACE out_space, uint8_t* out,
                      size_t row_bytes) {
  if (setjmp(errors->jump)) return false;
  cinfo->out_color_space = out_space;  // everything else at libjpeg's defaults, as PIL leaves them
  jpeg_start_decompress(cinfo);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out + static_cast<size_t>(cinfo->output_scanline) * row_bytes;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

struct JpegGuard {
  jpeg_decompress_struct* cinfo;
  bool created = false;
  ~JpegGuard() {
    if (created) jpeg_destroy_decompress(cinfo);
  }
};

}  // namespace

void pil_cmyk_to_rgb(const uint8_t cmyk[4], uint8_t rgb[3]) {
  const int nk = 255 - cmyk[3];
  for (int c = 0; c < 3; ++c) {
    const int tmp = cmyk[c] * nk + 128;            // MULDIV255(in, nk, tmp)
    const int v = nk - (((tmp >> 8) + tmp) >> 8);
    rgb[c] = static_cast<uint8_t>(std::clamp(v, 0, 255));
  }
}

ImageU8 decode_jpeg_rgb(const uint8_t* data, size_t size, const std::string& source, int64_t max_pixels) {
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof(cinfo));
  JpegErrors errors;
  std::memset(&errors, 0, sizeof(errors));
  cinfo.err = jpeg_std_error(&errors.pub);
  errors.pub.error_exit = on_jpeg_error;
  errors.pub.emit_message = on_jpeg_message;
  JpegGuard guard{&cinfo};
  guard.created = true;  // jpeg_destroy_decompress is safe on a struct jpeg_create_decompress began

  JpegHeader header;
  if (!read_jpeg_header(&cinfo, &errors, data, size, &header)) {
    if (errors.truncated) fail("{}: truncated JPEG (file ends inside the header): {}", source, errors.message);
    fail("{}: corrupt JPEG header: {}", source, errors.message);
  }
  check_image_size(header.height, header.width, source, max_pixels);

  J_COLOR_SPACE out_space;
  switch (header.components) {
    case 1: out_space = JCS_GRAYSCALE; break;
    case 3: out_space = JCS_RGB; break;
    case 4: out_space = JCS_CMYK; break;
    default: fail("{}: JPEG with {} components is not supported (PIL reads 1, 3 or 4)", source, header.components);
  }
  const int components = header.components;
  std::vector<uint8_t> raw(static_cast<size_t>(header.height * header.width * components));
  if (!read_jpeg_pixels(&cinfo, &errors, out_space, raw.data(), static_cast<size_t>(header.width * components))) {
    if (errors.truncated) fail("{}: truncated JPEG (image data ends early): {}", source, errors.message);
    fail("{}: corrupt JPEG data: {}", source, errors.message);
  }

  ImageU8 image = make_image(header.height, header.width, 3);
  const size_t pixels = static_cast<size_t>(header.height * header.width);
  uint8_t* out = image.pixels.data();
  if (components == 3) {
    std::memcpy(out, raw.data(), raw.size());
  } else if (components == 1) {
    for (size_t i = 0; i < pixels; ++i) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = raw[i];
  } else {
    for (size_t i = 0; i < pixels; ++i) {
      const uint8_t* p = raw.data() + 4 * i;
      const uint8_t inverted[4] = {static_cast<uint8_t>(255 - p[0]), static_cast<uint8_t>(255 - p[1]),
                                   static_cast<uint8_t>(255 - p[2]), static_cast<uint8_t>(255 - p[3])};
      pil_cmyk_to_rgb(inverted, out + 3 * i);
    }
  }
  return image;
}

}  // namespace vista::image
