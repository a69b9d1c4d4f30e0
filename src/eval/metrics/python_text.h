#pragma once
// The Python 3.11 string semantics the official scorers rely on, over Unicode code points:
// str.lower() (full mapping with Final_Sigma), str.strip()/str.split() whitespace, re's \d,
// len/indexing in code points, repr(float), '%.Nf' formatting, and text-mode line reading
// (universal newlines). Tables: unicode_tables.inc (generated from CPython 3.11, Unicode 14.0.0).
#include <string>
#include <string_view>
#include <vector>

namespace vista::eval {

// UTF-8 <-> code points. Invalid UTF-8 (overlong forms, surrogates, truncated sequences) throws
// vista::Error naming `what`.
std::u32string utf8_to_u32(std::string_view text, std::string_view what = "string");
std::string u32_to_utf8(std::u32string_view text);

namespace py {

bool is_space(char32_t c);           // str.isspace() of one code point
bool is_decimal(char32_t c);         // re: \d in a str pattern (category Nd)
bool is_cased(char32_t c);           // Lowercase | Uppercase | Lt
bool is_case_ignorable(char32_t c);  // Case_Ignorable

std::u32string lower(std::u32string_view s);                       // str.lower()
std::u32string strip(std::u32string_view s);                       // str.strip()
std::u32string rstrip(std::u32string_view s, char32_t ch);         // str.rstrip(ch)
std::vector<std::u32string> split(std::u32string_view s);          // str.split()
std::vector<std::u32string> split(std::u32string_view s, std::u32string_view sep);  // str.split(sep)
std::u32string replace(std::u32string_view s, std::u32string_view old, std::u32string_view with);  // old non-empty
bool contains(std::u32string_view s, std::u32string_view needle);

// UTF-8 in, UTF-8 out.
std::string lower(std::string_view utf8);
std::string strip(std::string_view utf8);

// repr(x) / str(x) of a Python float: shortest round-trip digits, "1.0", "1e-05", "1e+16", "nan", "inf".
std::string float_repr(double x);
// '%.Nf' % x (correctly rounded, ties to even on the exact binary value, as CPython does).
std::string format_fixed(double x, int decimals);

// Lines of a file opened in Python text mode (`open(path)`, universal newlines): "\r\n" and "\r" read
// as "\n"; each line keeps its "\n" except possibly the last one. The bytes must be UTF-8.
std::vector<std::string> read_text_lines(const std::string& path);
// The whole file as bytes; throws naming the file when it cannot be read.
std::string read_file_bytes(const std::string& path);

}  // namespace py
}  // namespace vista::eval
