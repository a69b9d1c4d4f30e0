// Python 3.11 string semantics the scorers depend on; expected values are CPython's documented /
// observable behaviour as listed in testdata/metrics_v1/README.md.
#include <gtest/gtest.h>

#include "eval/metrics/python_text.h"
#include "test_util.h"
#include "util/error.h"

namespace vista::eval {
namespace {

TEST(PythonLower, AsciiAndLatin) {
  EXPECT_EQ(py::lower("YES No"), "yes no");
  EXPECT_EQ(py::lower("\xC3\x89" "COLE"), "\xC3\xA9" "cole");  // ÉCOLE -> école
}

TEST(PythonLower, SpecialCasing) {
  EXPECT_EQ(py::lower("\xC4\xB0"), "i\xCC\x87");            // İ -> i + U+0307 (2 code points)
  EXPECT_EQ(py::lower("\xE1\xBA\x9E"), "\xC3\x9F");         // ẞ -> ß
  EXPECT_EQ(py::lower("\xE2\x84\xAA"), "k");                // KELVIN SIGN -> k
  EXPECT_EQ(py::lower("\xE2\x84\xA6"), "\xCF\x89");         // OHM SIGN -> ω
  EXPECT_EQ(py::lower("\xC7\x85"), "\xC7\x86");             // ǅ -> ǆ
  EXPECT_EQ(py::lower("\xEF\xAC\x81"), "\xEF\xAC\x81");     // ﬁ unchanged
  EXPECT_EQ(py::lower("\xC3\x9F"), "\xC3\x9F");             // ß unchanged
  EXPECT_EQ(py::lower("\xEF\xBC\x91"), "\xEF\xBC\x91");     // fullwidth 1 unchanged
}

TEST(PythonLower, FinalSigma) {
  EXPECT_EQ(py::lower("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3"), "\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82");  // ΟΔΟΣ -> οδος
  EXPECT_EQ(py::lower("A\xCE\xA3"), "a\xCF\x82");                                              // AΣ -> aς
  EXPECT_EQ(py::lower("\xCE\xA3\xCE\xA3"), "\xCF\x83\xCF\x82");                                // ΣΣ -> σς
  EXPECT_EQ(py::lower("\xCE\xA3"), "\xCF\x83");                                                // Σ -> σ
  EXPECT_EQ(py::lower("A\xCE\xA3" "B"), "a\xCF\x83" "b");                                      // followed by cased
  EXPECT_EQ(py::lower("A'\xCE\xA3"), "a'\xCF\x82");  // apostrophe is case-ignorable
}

TEST(PythonWhitespace, StripAndSplit) {
  EXPECT_EQ(py::strip(" \t\n\x0b\x0c\r\x1c\x1f\xC2\x85\xC2\xA0" "a b\xE3\x80\x80"), "a b");
  EXPECT_EQ(py::strip("\xE2\x80\x8B" "a"), "\xE2\x80\x8B" "a");  // U+200B is not whitespace
  EXPECT_EQ(py::strip("\xEF\xBB\xBF" "a"), "\xEF\xBB\xBF" "a");  // U+FEFF neither
  EXPECT_EQ(py::strip("\xE1\xA0\x8E" "a"), "\xE1\xA0\x8E" "a");  // nor U+180E
  const auto words = py::split(utf8_to_u32("  a\xE2\x80\x82" "b\n\nc  "));
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(u32_to_utf8(words[1]), "b");
  const auto spaced = py::split(utf8_to_u32("a  b"), U" ");
  ASSERT_EQ(spaced.size(), 3u);  // "a  b".split(" ") == ["a", "", "b"]
  EXPECT_EQ(u32_to_utf8(spaced[1]), "");
}

TEST(PythonDigits, UnicodeDecimal) {
  EXPECT_TRUE(py::is_decimal(U'7'));
  EXPECT_TRUE(py::is_decimal(U'\u0663'));  // ARABIC-INDIC THREE
  EXPECT_TRUE(py::is_decimal(U'\uFF13'));  // FULLWIDTH THREE
  EXPECT_FALSE(py::is_decimal(U'\u00B2'));  // SUPERSCRIPT TWO
  EXPECT_FALSE(py::is_decimal(U'\u00BD'));  // ½
  EXPECT_FALSE(py::is_decimal(U'\u2460'));  // ①
}

TEST(PythonFloat, Repr) {
  EXPECT_EQ(py::float_repr(1.0), "1.0");
  EXPECT_EQ(py::float_repr(110.0), "110.0");
  EXPECT_EQ(py::float_repr(0.1), "0.1");
  EXPECT_EQ(py::float_repr(0.0001), "0.0001");
  EXPECT_EQ(py::float_repr(0.00001), "1e-05");
  EXPECT_EQ(py::float_repr(1e16), "1e+16");
  EXPECT_EQ(py::float_repr(1.5e16), "1.5e+16");
  EXPECT_EQ(py::float_repr(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(py::float_repr(2.0 / 3.0), "0.6666666666666666");
  EXPECT_EQ(py::float_repr(100.0 / 3.0 * 4.0), "133.33333333333334");
  EXPECT_EQ(py::float_repr(2.0 / 3.0 * 100 + 2.0 / 3.0 * 100), "133.33333333333331");
  EXPECT_EQ(py::float_repr(-2.5), "-2.5");
  EXPECT_EQ(py::float_repr(1.25e-7), "1.25e-07");
  EXPECT_EQ(py::float_repr(123e100), "1.23e+102");
}

TEST(PythonFloat, FixedFormattingRoundsHalfToEvenOnTheBinaryValue) {
  EXPECT_EQ(py::format_fixed(0.125, 2), "0.12");   // exact binary tie -> even
  EXPECT_EQ(py::format_fixed(0.375, 2), "0.38");
  EXPECT_EQ(py::format_fixed(2.675, 2), "2.67");   // 2.675 is 2.67499999... in binary
  EXPECT_EQ(py::format_fixed(70.73298429319372, 2), "70.73");
  EXPECT_EQ(py::format_fixed(1.0, 3), "1.000");
}

TEST(Utf8, RejectsInvalidInput) {
  expect_error_containing([] { utf8_to_u32("a\xC3", "answer"); }, {"answer", "truncated"});
  expect_error_containing([] { utf8_to_u32("\xC0\xAF", "x"); }, {"invalid UTF-8"});
  expect_error_containing([] { utf8_to_u32("\xED\xA0\x80", "x"); }, {"invalid UTF-8"});  // surrogate
  EXPECT_EQ(u32_to_utf8(utf8_to_u32("h\xC3\xA9\xF0\x9F\x98\x80")), "h\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(utf8_to_u32("\xF0\x9F\x98\x80").size(), 1u);  // astral: one code point
}

TEST(PythonTextFile, UniversalNewlines) {
  TempDir dir;
  write_file(dir.file("a.txt"), "one\r\ntwo\rthree\nfour");
  const auto lines = py::read_text_lines(dir.file("a.txt"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "one\n");
  EXPECT_EQ(lines[1], "two\n");
  EXPECT_EQ(lines[2], "three\n");
  EXPECT_EQ(lines[3], "four");
  expect_error_containing([&] { py::read_text_lines(dir.file("missing.txt")); }, {"missing.txt", "cannot open"});
}

}  // namespace
}  // namespace vista::eval
