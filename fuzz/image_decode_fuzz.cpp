// Image bytes from anyone: decoding returns an image within the pixel limits or throws
// vista::Error; never a crash, an overflow or a decompression bomb.
#include <cstdint>

#include "image/decode.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto image = vista::image::decode_image(data, size, "fuzz input");
    (void)image;
  } catch (const vista::Error&) {
  }
  return 0;
}
