#pragma once
// Oniguruma regular expressions (the engine HF tokenizers uses for its patterns), UTF-8, Ruby
// syntax, no options: the same configuration as the reference, so \s, \p{L}, (?i:...) and
// lookaheads behave identically.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vista::text {

class Regex {
 public:
  // `where` names the file and field the pattern came from, for error messages.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Non-overlapping matches, left to right (empty matches right after a match are skipped).
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* regex_ = nullptr;  // OnigRegex
};

// Unicode character classes (Oniguruma's Unicode tables), used outside regular expressions.
bool is_unicode_whitespace(char32_t cp);   // White_Space property (Rust char::is_whitespace)
bool is_unicode_numeric(char32_t cp);      // General category N* (Rust char::is_numeric)
bool is_unicode_alphabetic(char32_t cp);   // Alphabetic property
bool is_unicode_mark(char32_t cp);         // General category M*
bool is_unicode_punctuation(char32_t cp);  // General category P*
bool is_regex_word_char(char32_t cp);      // \w: Alphabetic, M, Nd, Pc, Join_Control

}  // namespace vista::text
