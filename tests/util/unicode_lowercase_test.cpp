// The shared lowercase mapping against the Unicode Character Database (UnicodeData.txt and the
// unconditional entries of SpecialCasing.txt), code points chosen for the cases that differ.
#include <gtest/gtest.h>

#include <string>

#include "util/unicode_lowercase.h"

namespace vista::unicode {
namespace {

std::u32string lower(char32_t c) {
  const Lowercase l = lowercase(c);
  return std::u32string(l.code_points, l.length);
}

TEST(UnicodeLowercase, MatchesTheCharacterDatabase) {
  EXPECT_EQ(lower(U'A'), U"a");
  EXPECT_EQ(lower(U'z'), U"z");
  EXPECT_EQ(lower(U'\u00C0'), U"\u00E0");          // LATIN CAPITAL A WITH GRAVE
  EXPECT_EQ(lower(U'\u0130'), U"i\u0307");         // SpecialCasing: CAPITAL I WITH DOT ABOVE -> i + COMBINING DOT
  EXPECT_EQ(lower(U'\u03A3'), U"\u03C3");          // no Final_Sigma context here
  EXPECT_EQ(lower(U'\u1E9E'), U"\u00DF");          // CAPITAL SHARP S
  EXPECT_EQ(lower(U'\u2126'), U"\u03C9");          // OHM SIGN
  EXPECT_EQ(lower(U'\u212A'), U"k");               // KELVIN SIGN
  EXPECT_EQ(lower(U'\U00010400'), U"\U00010428");  // DESERET CAPITAL LONG I
  EXPECT_EQ(lower(U'\u01C5'), U"\u01C6");          // titlecase Dz with caron
  EXPECT_EQ(lower(U'\u00DF'), U"\u00DF");          // already lowercase
  EXPECT_EQ(lower(U'\u4E2D'), U"\u4E2D");          // uncased
  EXPECT_EQ(lower(U'\U0010FFFF'), U"\U0010FFFF");
  EXPECT_STREQ(lowercase_unicode_version(), "14.0.0");
}

}  // namespace
}  // namespace vista::unicode
