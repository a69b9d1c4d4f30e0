#pragma once
// UTF-8 helpers: decoding code points, encoding them, and Rust-compatible lossy decoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vista::text {

// Decodes the code point starting at text[pos] (text must be valid UTF-8 there) and advances pos.
inline char32_t next_code_point(std::string_view text, size_t& pos) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) {
    pos += 1;
    return b0;
  }
  if (b0 < 0xE0) {
    const char32_t cp = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(text[pos + 1]) & 0x3Fu);
    pos += 2;
    return cp;
  }
  if (b0 < 0xF0) {
    const char32_t cp = ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(text[pos + 1]) & 0x3Fu) << 6) |
                        (static_cast<unsigned char>(text[pos + 2]) & 0x3Fu);
    pos += 3;
    return cp;
  }
  const char32_t cp = ((b0 & 0x07u) << 18) | ((static_cast<unsigned char>(text[pos + 1]) & 0x3Fu) << 12) |
                      ((static_cast<unsigned char>(text[pos + 2]) & 0x3Fu) << 6) |
                      (static_cast<unsigned char>(text[pos + 3]) & 0x3Fu);
  pos += 4;
  return cp;
}

// Byte length of the UTF-8 sequence whose lead byte is `lead` (1 for invalid lead bytes).
inline size_t utf8_sequence_length(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

inline std::string utf8_encode(char32_t cp) {
  std::string out;
  append_utf8(out, cp);
  return out;
}

// Length of the valid UTF-8 sequence at bytes[pos], or 0 when the bytes there are not a
// complete valid sequence. `*valid_prefix` (if given) receives the length of the longest prefix
// that could start a valid sequence (the "maximal subpart" of an ill-formed sequence, >= 1).
size_t valid_sequence_length(std::string_view bytes, size_t pos, size_t* valid_prefix = nullptr);

bool is_valid_utf8(std::string_view bytes);

// Like Rust's String::from_utf8_lossy: every maximal ill-formed subsequence becomes one U+FFFD.
std::string utf8_lossy(std::string_view bytes);

// Number of code points in valid UTF-8 text.
size_t code_point_count(std::string_view text);

// Escapes control characters, invalid bytes and invisible code points (\uXXXX) for messages.
std::string escape_for_message(std::string_view text, size_t max_bytes = 200);

}  // namespace vista::text
