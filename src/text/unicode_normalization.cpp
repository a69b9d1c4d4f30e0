#include "text/unicode_normalization.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "text/utf8.h"
#include "util/unicode_lowercase.h"

namespace vista::text {

namespace {

struct CccRange {
  uint32_t first, last;
  uint8_t ccc;
};
struct MappingEntry {
  uint32_t cp, offset, length;
};
struct CompositionEntry {
  uint32_t first, second, composite;
};

#include "text/unicode_tables.inc"

constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

template <size_t N>
const MappingEntry* find_mapping(const MappingEntry (&table)[N], char32_t cp) {
  const auto* end = table + N;
  const auto* it = std::lower_bound(table, end, cp, [](const MappingEntry& e, char32_t c) { return e.cp < c; });
  return it != end && it->cp == cp ? it : nullptr;
}

void decompose_into(char32_t cp, bool compatibility, std::vector<char32_t>& out) {
  if (cp < 0xA0) {  // nothing below U+00A0 decomposes
    out.push_back(cp);
    return;
  }
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const char32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  const MappingEntry* entry = compatibility ? find_mapping(kCompatibilityDecomposition, cp)
                                            : find_mapping(kCanonicalDecomposition, cp);
  if (!entry) {
    out.push_back(cp);
    return;
  }
  const uint32_t* pool = compatibility ? kCompatibilityDecomposition_pool : kCanonicalDecomposition_pool;
  for (uint32_t i = 0; i < entry->length; ++i) out.push_back(pool[entry->offset + i]);
}

bool compose_pair(char32_t a, char32_t b, char32_t* result) {
  // Hangul L + V -> LV, LV + T -> LVT
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    *result = kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    return true;
  }
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount) {
    *result = a + (b - kTBase);
    return true;
  }
  const auto* begin = kCompositions;
  const auto* end = kCompositions + sizeof(kCompositions) / sizeof(kCompositions[0]);
  const auto* it = std::lower_bound(begin, end, std::make_pair(a, b), [](const CompositionEntry& e, const std::pair<char32_t, char32_t>& key) {
    return e.first != key.first ? e.first < key.first : e.second < key.second;
  });
  if (it != end && it->first == a && it->second == b) {
    *result = it->composite;
    return true;
  }
  return false;
}

// Canonical ordering: stable sort of every run of non-starters by combining class.
void canonical_order(std::vector<char32_t>& cps) {
  size_t i = 0;
  while (i < cps.size()) {
    if (canonical_combining_class(cps[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size() && canonical_combining_class(cps[j]) != 0) ++j;
    if (j - i > 1)
      std::stable_sort(cps.begin() + static_cast<std::ptrdiff_t>(i), cps.begin() + static_cast<std::ptrdiff_t>(j),
                       [](char32_t x, char32_t y) { return canonical_combining_class(x) < canonical_combining_class(y); });
    i = j;
  }
}

// Canonical composition in the manner of the reference (Rust unicode-normalization) recomposer.
std::vector<char32_t> compose(const std::vector<char32_t>& cps) {
  std::vector<char32_t> out;
  out.reserve(cps.size());
  std::ptrdiff_t starter = -1;  // index in `out` of the current composee
  int last_ccc = -1;            // -1: nothing after the composee yet
  for (char32_t ch : cps) {
    const int ch_class = canonical_combining_class(ch);
    // UAX #15: a character between the composee and ch blocks ch when its class is 0 or >= ch's.
    const bool blocked = last_ccc >= 0 && last_ccc >= ch_class;
    char32_t composed = 0;
    if (starter >= 0 && !blocked && compose_pair(out[static_cast<size_t>(starter)], ch, &composed)) {
      out[static_cast<size_t>(starter)] = composed;
      continue;
    }
    if (ch_class == 0) {
      starter = static_cast<std::ptrdiff_t>(out.size());
      last_ccc = -1;
    } else if (starter >= 0) {
      last_ccc = ch_class;
    }
    out.push_back(ch);
  }
  return out;
}

bool all_below(std::string_view text, unsigned char limit_lead) {
  for (char ch : text)
    if (static_cast<unsigned char>(ch) >= limit_lead) return false;
  return true;
}

}  // namespace

int canonical_combining_class(char32_t cp) {
  if (cp < 0x300) return 0;
  const auto* begin = kCccRanges;
  const auto* end = kCccRanges + sizeof(kCccRanges) / sizeof(kCccRanges[0]);
  const auto* it = std::upper_bound(begin, end, cp, [](char32_t c, const CccRange& r) { return c < r.first; });
  if (it == begin) return 0;
  --it;
  return cp <= it->last ? it->ccc : 0;
}

const char* unicode_tables_version() { return kUnicodeTablesVersion; }

std::string normalize_unicode(std::string_view text, NormalizationForm form) {
  const bool compatibility = form == NormalizationForm::NFKC || form == NormalizationForm::NFKD;
  const bool composed = form == NormalizationForm::NFC || form == NormalizationForm::NFKC;
  // ASCII never changes; for NFC, text without code points >= U+0300 (lead byte >= 0xCC) cannot
  // change either (nothing below U+0300 composes with a following character of that range).
  if (all_below(text, 0x80) || (form == NormalizationForm::NFC && all_below(text, 0xCC))) return std::string(text);

  std::vector<char32_t> cps;
  cps.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) decompose_into(next_code_point(text, pos), compatibility, cps);
  canonical_order(cps);
  if (composed) cps = compose(cps);
  std::string out;
  out.reserve(text.size() + 8);
  for (char32_t cp : cps) append_utf8(out, cp);
  return out;
}

std::string to_lowercase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const auto b = static_cast<unsigned char>(text[pos]);
    if (b < 0x80) {
      out.push_back(b >= 'A' && b <= 'Z' ? static_cast<char>(b + 32) : static_cast<char>(b));
      ++pos;
      continue;
    }
    const unicode::Lowercase lower = unicode::lowercase(next_code_point(text, pos));
    for (size_t i = 0; i < lower.length; ++i) append_utf8(out, lower.code_points[i]);
  }
  return out;
}

}  // namespace vista::text
