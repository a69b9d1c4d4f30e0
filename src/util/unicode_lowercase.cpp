#include "util/unicode_lowercase.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace vista::unicode {

namespace {

struct LowercaseEntry {
  char32_t code_point;
  uint8_t length;
  char32_t lower[3];
};

#include "util/unicode_lowercase_table.inc"

}  // namespace

Lowercase lowercase(char32_t code_point) {
  if (code_point < 0x80) {
    const bool upper = code_point >= U'A' && code_point <= U'Z';
    return {{upper ? code_point + 32 : code_point, 0, 0}, 1};
  }
  const auto it = std::lower_bound(std::begin(kLowercaseEntries), std::end(kLowercaseEntries), code_point,
                                   [](const LowercaseEntry& e, char32_t c) { return e.code_point < c; });
  if (it == std::end(kLowercaseEntries) || it->code_point != code_point) return {{code_point, 0, 0}, 1};
  return {{it->lower[0], it->lower[1], it->lower[2]}, it->length};
}

const char* lowercase_unicode_version() { return kLowercaseUnicodeVersion; }

}  // namespace vista::unicode
