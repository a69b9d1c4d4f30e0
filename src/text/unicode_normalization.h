#pragma once
// Unicode normalization forms (UAX #15) and full lowercase mapping on UTF-8 strings.
// Tables: unicode_tables.inc (generated, see tools/gen_unicode_tables.py).
#include <string>
#include <string_view>

namespace vista::text {

enum class NormalizationForm { NFC, NFD, NFKC, NFKD };

std::string normalize_unicode(std::string_view text, NormalizationForm form);

// Rust's char::to_lowercase applied to every code point (no context rules such as final sigma).
std::string to_lowercase(std::string_view text);

// Canonical combining class of a code point (0 for starters).
int canonical_combining_class(char32_t cp);

// The Unicode version of the normalization tables ("9.0.0", the reference's).
const char* unicode_tables_version();

}  // namespace vista::text
