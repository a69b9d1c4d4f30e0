#pragma once
// The full lowercase mapping of one code point (Unicode 14.0.0), shared by the tokenizers' Lowercase
// normalizer (Rust's char::to_lowercase) and the scorers' str.lower() (which adds Final_Sigma).
#include <cstddef>

namespace vista::unicode {

struct Lowercase {
  char32_t code_points[3];
  size_t length;  // 1 to 3
};

// A code point without a mapping maps to itself. U+03A3 maps to U+03C3: no context rule here.
Lowercase lowercase(char32_t code_point);

const char* lowercase_unicode_version();

}  // namespace vista::unicode
