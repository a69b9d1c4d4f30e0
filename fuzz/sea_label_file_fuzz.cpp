// A SEA label file from anyone: the header parses, and a finished file's size checks, or they
// throw vista::Error naming the file.
#include <cstdint>
#include <string>

#include "sea/label_file_header.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    size_t offset = 0;
    const auto header =
        vista::sea::parse_label_file_header("fuzz.sealabels", reinterpret_cast<const char*>(data), size, &offset);
    vista::sea::check_label_file_size("fuzz.sealabels", header, offset, size);
    // What a writer of this header would write must read back as the same header.
    const auto bytes = vista::sea::label_file_header_bytes(header);
    size_t again = 0;
    const auto reread = vista::sea::parse_label_file_header("rewritten", bytes.data(), bytes.size(), &again);
    if (reread.images != header.images || reread.top_n != header.top_n || again != bytes.size()) __builtin_trap();
  } catch (const vista::Error&) {
  }
  return 0;
}
