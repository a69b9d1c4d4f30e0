// tokenizer.json from anyone: loading either works or throws vista::Error; whatever loads must
// encode and decode text without crashing.
#include <cstdint>
#include <string>

#include "scratch_file.h"
#include "text/tokenizer.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = write_scratch(data, size, "_tokenizer.json");
  try {
    const auto tokenizer = vista::text::Tokenizer::from_file(path);
    for (const char* text : {"Hello world", " USER: <image>\nWhat is it? ASSISTANT:", "naïve café 日本語 🙂", ""}) {
      const auto ids = tokenizer.encode_ids(text, true);
      (void)tokenizer.decode(ids, false);
    }
  } catch (const vista::Error&) {
  }
  return 0;
}
