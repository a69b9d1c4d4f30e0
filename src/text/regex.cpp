#include "text/regex.h"

#include <oniguruma.h>

#include <mutex>

#include "text/utf8.h"
#include "util/error.h"

namespace vista::text {

namespace {

void initialize_oniguruma() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

std::string onig_message(int code, OnigErrorInfo* info) {
  OnigUChar buffer[ONIG_MAX_ERROR_MESSAGE_LEN];
  if (info)
    onig_error_code_to_str(buffer, code, info);
  else
    onig_error_code_to_str(buffer, code);
  return reinterpret_cast<const char*>(buffer);
}

struct RegionDeleter {
  void operator()(OnigRegion* region) const { onig_region_free(region, 1); }
};

unsigned int property_ctype(const char* name) {
  initialize_oniguruma();
  const auto* p = reinterpret_cast<const OnigUChar*>(name);
  const int ctype = ONIGENC_PROPERTY_NAME_TO_CTYPE(ONIG_ENCODING_UTF8, const_cast<OnigUChar*>(p),
                                                   const_cast<OnigUChar*>(p + std::char_traits<char>::length(name)));
  if (ctype < 0) fail("Oniguruma: unknown Unicode property '{}'", name);
  return static_cast<unsigned int>(ctype);
}

bool has_ctype(char32_t cp, unsigned int ctype) {
  return ONIGENC_IS_CODE_CTYPE(ONIG_ENCODING_UTF8, static_cast<OnigCodePoint>(cp), ctype) != 0;
}

}  // namespace

Regex::Regex(const std::string& pattern, const std::string& where) : pattern_(pattern) {
  initialize_oniguruma();
  OnigRegex regex = nullptr;
  OnigErrorInfo info;
  const auto* begin = reinterpret_cast<const OnigUChar*>(pattern.data());
  const int rc = onig_new(&regex, begin, begin + pattern.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8,
                          ONIG_SYNTAX_DEFAULT, &info);
  if (rc != ONIG_NORMAL)
    fail("{}: invalid regular expression '{}': {}", where, escape_for_message(pattern), onig_message(rc, &info));
  regex_ = regex;
}

Regex::~Regex() {
  if (regex_) onig_free(static_cast<OnigRegex>(regex_));
}

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> matches;
  if (text.empty()) return matches;
  std::unique_ptr<OnigRegion, RegionDeleter> region(onig_region_new());
  const auto* str = reinterpret_cast<const OnigUChar*>(text.data());
  const auto* end = str + text.size();
  size_t start = 0;
  bool have_last = false;
  size_t last_end = 0;
  while (start <= text.size()) {
    onig_region_clear(region.get());
    const int r = onig_search(static_cast<OnigRegex>(regex_), str, end, str + start, end, region.get(), ONIG_OPTION_NONE);
    if (r == ONIG_MISMATCH) break;
    if (r < 0) fail("regular expression '{}': search failed: {}", escape_for_message(pattern_), onig_message(r, nullptr));
    const auto s = static_cast<size_t>(region->beg[0]);
    const auto e = static_cast<size_t>(region->end[0]);
    if (s == e && have_last && last_end == e) {
      // An empty match right after the previous match: step over one character and retry.
      if (start >= text.size()) break;
      start += utf8_sequence_length(static_cast<unsigned char>(text[start]));
      continue;
    }
    matches.emplace_back(s, e);
    start = e;
    have_last = true;
    last_end = e;
  }
  return matches;
}

bool is_unicode_whitespace(char32_t cp) {
  if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
  if (cp < 0x85) return false;
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool is_unicode_numeric(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  static const unsigned int ctype = property_ctype("N");
  return has_ctype(cp, ctype);
}

bool is_unicode_alphabetic(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  static const unsigned int ctype = property_ctype("Alphabetic");
  return has_ctype(cp, ctype);
}

bool is_unicode_mark(char32_t cp) {
  static const unsigned int ctype = property_ctype("M");
  return cp >= 0x300 && has_ctype(cp, ctype);
}

bool is_unicode_punctuation(char32_t cp) {
  static const unsigned int ctype = property_ctype("P");
  return has_ctype(cp, ctype);
}

bool is_regex_word_char(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '_';
  static const unsigned int alphabetic = property_ctype("Alphabetic"), mark = property_ctype("M"),
                            digit = property_ctype("Nd"), connector = property_ctype("Pc"),
                            join_control = property_ctype("Join_Control");
  return has_ctype(cp, alphabetic) || has_ctype(cp, mark) || has_ctype(cp, digit) || has_ctype(cp, connector) ||
         has_ctype(cp, join_control);
}

}  // namespace vista::text
