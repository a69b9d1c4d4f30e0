// Unicode helpers: normalization forms (examples from UAX #15 and the Unicode standard), lossy
// UTF-8 decoding (Unicode standard, "U+FFFD substitution of maximal subparts"), lowercase, and
// the GPT-2 byte-level alphabet.
#include <gtest/gtest.h>

#include <set>

#include "text/byte_level.h"
#include "text/unicode_normalization.h"
#include "text/utf8.h"

namespace vista::text {
namespace {

std::string nfc(const std::string& s) { return normalize_unicode(s, NormalizationForm::NFC); }
std::string nfd(const std::string& s) { return normalize_unicode(s, NormalizationForm::NFD); }
std::string nfkc(const std::string& s) { return normalize_unicode(s, NormalizationForm::NFKC); }
std::string nfkd(const std::string& s) { return normalize_unicode(s, NormalizationForm::NFKD); }

TEST(UnicodeNormalization, Uax15Examples) {
  // U+1E9B U+0323 (long s with dot above, dot below): the four forms from UAX #15.
  const std::string s = "\u1E9B\u0323";
  EXPECT_EQ(nfd(s), "\u017F\u0323\u0307");
  EXPECT_EQ(nfc(s), "\u1E9B\u0323");
  EXPECT_EQ(nfkd(s), "s\u0323\u0307");
  EXPECT_EQ(nfkc(s), "\u1E69");
  // Canonical reordering: d + dot above + dot below == d + dot below + dot above.
  EXPECT_EQ(nfc("d\u0307\u0323"), "\u1E0D\u0307");
  EXPECT_EQ(nfd("\u1E0B\u0323"), "d\u0323\u0307");
}

TEST(UnicodeNormalization, SingletonsHangulAndCompatibility) {
  EXPECT_EQ(nfc("e\u0301"), "\u00E9");
  EXPECT_EQ(nfc("\u212A"), "K");             // KELVIN SIGN
  EXPECT_EQ(nfc("\u2126"), "\u03A9");        // OHM SIGN
  EXPECT_EQ(nfc("\u1100\u1161\u11A8"), "\uAC01");  // conjoining jamo -> 각
  EXPECT_EQ(nfd("\uAC01"), "\u1100\u1161\u11A8");
  EXPECT_EQ(nfc("\uAC00\u11A8"), "\uAC01");  // LV + T
  EXPECT_EQ(nfkc("\uFB01"), "fi");
  EXPECT_EQ(nfkc("x\u00B2"), "x2");
  EXPECT_EQ(nfc("\uFB01"), "\uFB01");        // compatibility mappings are not canonical
  EXPECT_EQ(nfc("plain ascii"), "plain ascii");
  // A combining mark blocked by another of the same class does not compose.
  EXPECT_EQ(nfc("a\u0301\u0301"), "\u00E1\u0301");
  EXPECT_EQ(canonical_combining_class(0x0301), 230);
  EXPECT_EQ(canonical_combining_class('a'), 0);
}

// The reference normalizes with unicode-normalization-alignments 0.1.12, whose tables are Unicode
// 9.0: later characters have no decomposition and combining class 0 there.
TEST(UnicodeNormalization, ReferenceTablesAreUnicode9) {
  EXPECT_EQ(canonical_combining_class(0x0D3B), 0);  // MALAYALAM SIGN VERTICAL BAR VIRAMA (10.0), ccc 9 since then
  EXPECT_EQ(nfd("a\u0301\u0D3B"), "a\u0301\u0D3B");  // not reordered in front of U+0301
  EXPECT_EQ(canonical_combining_class(0x0301), 230);
  EXPECT_EQ(nfc("\U0001D15E"), "\U0001D157\U0001D165");  // a composition exclusion (3.1) still decomposes
}

TEST(Utf8, LossyDecodingReplacesMaximalSubparts) {
  // Unicode standard, table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64
  const std::string bytes = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
  EXPECT_EQ(utf8_lossy(bytes), "a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd");
  // Rust documentation example of String::from_utf8_lossy.
  EXPECT_EQ(utf8_lossy("Hello \xF0\x90\x80World"), "Hello \uFFFDWorld");
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");  // surrogates are ill-formed
  EXPECT_EQ(utf8_lossy("ok \u20AC"), "ok \u20AC");
  EXPECT_TRUE(is_valid_utf8("\u00E9\U0001F600"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));
}

TEST(Utf8, CodePointsRoundTrip) {
  for (char32_t cp : {0x24u, 0xA2u, 0x939u, 0x20ACu, 0xD55Cu, 0x10348u, 0x10FFFFu}) {
    const std::string encoded = utf8_encode(cp);
    size_t pos = 0;
    EXPECT_EQ(next_code_point(encoded, pos), cp);
    EXPECT_EQ(pos, encoded.size());
  }
  EXPECT_EQ(code_point_count("a\u00E9\U0001F600"), 3u);
}

TEST(Lowercase, FullMappings) {
  EXPECT_EQ(to_lowercase("\u00C0B\u0391"), "\u00E0b\u03B1");
  EXPECT_EQ(to_lowercase("\u0130"), "i\u0307");  // İ lowercases to two code points
  EXPECT_EQ(to_lowercase("\u03A3"), "\u03C3");   // no final-sigma context rule
}

TEST(ByteLevel, Gpt2Alphabet) {
  EXPECT_EQ(byte_to_char(' '), 0x120u);   // Ġ
  EXPECT_EQ(byte_to_char('\n'), 0x10Au);  // Ċ
  EXPECT_EQ(byte_to_char('!'), static_cast<char32_t>('!'));
  EXPECT_EQ(byte_to_char(0xAD), 0x143u);  // the last of the 68 remapped bytes
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t cp = byte_to_char(static_cast<unsigned char>(b));
    EXPECT_EQ(char_to_byte(cp), b);
    seen.insert(cp);
  }
  EXPECT_EQ(seen.size(), 256u);
  EXPECT_EQ(char_to_byte('a'), 'a');
  EXPECT_EQ(char_to_byte(0x20), -1);  // space itself is not in the alphabet
}

}  // namespace
}  // namespace vista::text
