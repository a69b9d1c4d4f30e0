#include "eval/metrics/python_text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "text/utf8.h"  // append_utf8 (header-only)
#include "util/error.h"
#include "util/unicode_lowercase.h"

namespace vista::eval {

namespace {

struct CodePointRange {
  char32_t first, last;
};

#include "eval/metrics/unicode_tables.inc"

template <size_t N>
bool in_ranges(const CodePointRange (&table)[N], char32_t c) {
  const auto it = std::upper_bound(std::begin(table), std::end(table), c,
                                   [](char32_t v, const CodePointRange& r) { return v < r.first; });
  if (it == std::begin(table)) return false;
  return c <= std::prev(it)->last;
}

// CPython unicodeobject.c handle_capital_sigma: U+03A3 at i is final (U+03C2) when the first
// non-case-ignorable code point before it is cased and the first one after it is not cased or absent.
char32_t capital_sigma_lower(std::u32string_view s, size_t i) {
  ptrdiff_t j = static_cast<ptrdiff_t>(i) - 1;
  char32_t c = 0;
  for (; j >= 0; --j) {
    c = s[static_cast<size_t>(j)];
    if (!py::is_case_ignorable(c)) break;
  }
  bool final_sigma = j >= 0 && py::is_cased(c);
  if (final_sigma && i + 1 < s.size()) {
    size_t k = i + 1;
    for (; k < s.size(); ++k) {
      c = s[k];
      if (!py::is_case_ignorable(c)) break;
    }
    final_sigma = k == s.size() || !py::is_cased(c);
  }
  return final_sigma ? U'\u03C2' : U'\u03C3';
}

}  // namespace

std::u32string utf8_to_u32(std::string_view text, std::string_view what) {
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    char32_t cp = 0;
    int extra = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      cp = b0 & 0x1F, extra = 1, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      cp = b0 & 0x0F, extra = 2, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      cp = b0 & 0x07, extra = 3, min = 0x10000;
    } else {
      fail("{}: invalid UTF-8 byte 0x{:02X} at byte offset {}", what, b0, i);
    }
    if (i + static_cast<size_t>(extra) >= n) fail("{}: truncated UTF-8 sequence at byte offset {}", what, i);
    for (int k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xC0) != 0x80) fail("{}: invalid UTF-8 continuation byte at byte offset {}", what, i + k);
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      fail("{}: invalid UTF-8 sequence (code point U+{:04X}) at byte offset {}", what, static_cast<uint32_t>(cp), i);
    out.push_back(cp);
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

std::string u32_to_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) text::append_utf8(out, c);
  return out;
}

namespace py {

bool is_space(char32_t c) { return in_ranges(kWhitespaceRanges, c); }
bool is_decimal(char32_t c) { return in_ranges(kDecimalDigitRanges, c); }
bool is_cased(char32_t c) { return in_ranges(kCasedRanges, c); }
bool is_case_ignorable(char32_t c) { return in_ranges(kCaseIgnorableRanges, c); }

std::u32string lower(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char32_t c = s[i];
    if (c < 0x80) {
      out.push_back(c >= U'A' && c <= U'Z' ? c + 32 : c);
    } else if (c == 0x3A3) {
      out.push_back(capital_sigma_lower(s, i));
    } else {
      const unicode::Lowercase m = unicode::lowercase(c);
      out.append(m.code_points, m.length);
    }
  }
  return out;
}

std::u32string strip(std::u32string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::u32string(s.substr(b, e - b));
}

std::u32string rstrip(std::u32string_view s, char32_t ch) {
  size_t e = s.size();
  while (e > 0 && s[e - 1] == ch) --e;
  return std::u32string(s.substr(0, e));
}

std::vector<std::u32string> split(std::u32string_view s) {
  std::vector<std::u32string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) break;
    size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::u32string> split(std::u32string_view s, std::u32string_view sep) {
  if (sep.empty()) fail("str.split: empty separator");
  std::vector<std::u32string> out;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    if (pos == std::u32string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, pos - start));
    start = pos + sep.size();
  }
}

std::u32string replace(std::u32string_view s, std::u32string_view old, std::u32string_view with) {
  if (old.empty()) fail("str.replace: empty pattern is not supported");
  std::u32string out;
  out.reserve(s.size());
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(old, start);
    if (pos == std::u32string_view::npos) break;
    out.append(s.substr(start, pos - start));
    out.append(with);
    start = pos + old.size();
  }
  out.append(s.substr(start));
  return out;
}

bool contains(std::u32string_view s, std::u32string_view needle) { return s.find(needle) != std::u32string_view::npos; }

std::string lower(std::string_view utf8) { return u32_to_utf8(lower(utf8_to_u32(utf8))); }
std::string strip(std::string_view utf8) { return u32_to_utf8(strip(utf8_to_u32(utf8))); }

std::string float_repr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (x == 0.0) return std::signbit(x) ? "-0.0" : "0.0";
  // Shortest round-trip digits d1.d2d3...e<exp>.
  std::array<char, 64> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), x, std::chars_format::scientific);
  std::string sci(buf.data(), res.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const size_t epos = sci.find('e');
  const int exponent = std::stoi(sci.substr(epos + 1));
  std::string digits = sci.substr(0, epos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int ndigits = static_cast<int>(digits.size());
  const int decpt = exponent + 1;  // value = 0.DIGITS * 10^decpt
  std::string out;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out = "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
    } else if (decpt >= ndigits) {
      out = digits + std::string(static_cast<size_t>(decpt - ndigits), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(decpt)) + "." + digits.substr(static_cast<size_t>(decpt));
    }
  } else {
    out = digits.substr(0, 1);
    if (ndigits > 1) out += "." + digits.substr(1);
    const int e = decpt - 1;
    out += fmt::format("e{}{:02d}", e < 0 ? '-' : '+', e < 0 ? -e : e);
  }
  return sign + out;
}

std::string format_fixed(double x, int decimals) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  const int n = std::snprintf(nullptr, 0, "%.*f", decimals, x);
  std::string out(static_cast<size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), "%.*f", decimals, x);
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open file", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail("{}: read error", path);
  return buffer.str();
}

std::vector<std::string> read_text_lines(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  utf8_to_u32(bytes, path);  // validates: Python's text mode would raise UnicodeDecodeError
  std::vector<std::string> lines;
  std::string line;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char ch = bytes[i];
    if (ch == '\r' || ch == '\n') {
      if (ch == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') ++i;
      line.push_back('\n');
      lines.push_back(std::move(line));
      line.clear();
    } else {
      line.push_back(ch);
    }
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

}  // namespace py
}  // namespace vista::eval
