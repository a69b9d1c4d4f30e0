#include "text/byte_level.h"

#include <array>

#include "text/utf8.h"

namespace vista::text {

namespace {

struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<int16_t, 512> to_byte{};
  std::array<std::string, 256> utf8;
  Tables() {
    to_byte.fill(-1);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++);
      to_char[static_cast<size_t>(b)] = cp;
      to_byte[cp] = static_cast<int16_t>(b);
      utf8[static_cast<size_t>(b)] = utf8_encode(cp);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t byte_to_char(unsigned char b) { return tables().to_char[b]; }

int char_to_byte(char32_t cp) { return cp < 512 ? tables().to_byte[cp] : -1; }

const std::string& byte_level_char_utf8(unsigned char b) { return tables().utf8[b]; }

void append_byte_level(std::string& out, std::string_view bytes) {
  const Tables& t = tables();
  for (char ch : bytes) out += t.utf8[static_cast<unsigned char>(ch)];
}

}  // namespace vista::text
