// A LLaVA data file (JSON array or JSONL) from anyone: indexing and reading every record either
// works or throws vista::Error naming the problem.
#include <cstdint>

#include "data/records.h"
#include "scratch_file.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = write_scratch(data, size, size && data[0] == '[' ? "_records.json" : "_records.jsonl");
  try {
    const auto file = vista::data::RecordFile::open(path);
    for (size_t i = 0; i < file.size() && i < 64; ++i) {
      try {
        (void)file.record(i);
      } catch (const vista::Error&) {
      }
    }
  } catch (const vista::Error&) {
  }
  return 0;
}
