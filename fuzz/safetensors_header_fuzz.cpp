// A safetensors file from anyone: its header parses and every tensor's byte range lies inside the
// file, matches its shape and dtype, and the ranges tile the data buffer; or it is a vista::Error.
#include <cstdint>
#include <string>

#include "io/safetensors_header.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto header =
        vista::io::parse_safetensors_header("fuzz.safetensors", reinterpret_cast<const char*>(data), size);
    if (header.data_start > size) __builtin_trap();
    unsigned __int128 covered = 0;
    for (const auto& [name, entry] : header.entries) {
      unsigned __int128 bytes = static_cast<uint64_t>(vista::io::safetensors_dtype_bytes(entry.dtype));
      bool empty = false;
      for (const auto d : entry.shape) {
        if (d == 0) empty = true;
        else bytes *= static_cast<uint64_t>(d);
        if (bytes > INT64_MAX) __builtin_trap();  // libtorch could not hold the shape
      }
      if (empty) bytes = 0;
      if (bytes != entry.end - entry.begin || header.data_start + entry.end > size) __builtin_trap();
      covered += bytes;
    }
    if (covered != size - header.data_start) __builtin_trap();
  } catch (const vista::Error&) {
  }
  return 0;
}
