#pragma once
// GPT-2's reversible byte <-> printable character mapping (used by the ByteLevel pre-tokenizer,
// normalizer and decoder): bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF map to themselves, the other
// 68 bytes to U+0100 onwards.
#include <cstdint>
#include <string>
#include <string_view>

namespace vista::text {

// The code point standing for byte b.
char32_t byte_to_char(unsigned char b);
// The byte a code point stands for, or -1 when it is not one of the 256 mapped characters.
int char_to_byte(char32_t cp);
// Appends the mapped characters of every byte of `bytes` (UTF-8 encoded).
void append_byte_level(std::string& out, std::string_view bytes);
// The UTF-8 encoding of the character of byte b (precomputed).
const std::string& byte_level_char_utf8(unsigned char b);

}  // namespace vista::text
