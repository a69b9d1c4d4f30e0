#pragma once
// Locating the tokenizer fixtures: the project's shared fixture set (../shared/fixtures/tokenizers,
// or $VISTA_SHARED_FIXTURES/tokenizers) holds all six; a user's clone has no ../shared and falls back
// to the two Apache-2.0 tokenizers committed under testdata/tokenizers, skipping the other four.
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace vista::text::testing {

// The folder holding <name>/tokenizer.json and <name>/cases.jsonl, or "" (then `looked_in`
// lists the places tried).
inline std::string find_tokenizer_dir(const std::string& name, std::string* looked_in = nullptr) {
  const std::vector<std::string> candidates = {shared_fixtures("tokenizers/" + name), testdata("tokenizers/" + name)};
  std::string tried;
  for (const auto& candidate : candidates) {
    if (std::filesystem::exists(std::filesystem::path(candidate) / "tokenizer.json")) return candidate;
    tried += (tried.empty() ? "" : ", ") + candidate;
  }
  if (looked_in) *looked_in = tried;
  return "";
}

inline std::string missing_tokenizer_message(const std::string& name, const std::string& looked_in) {
  return "tokenizer '" + name + "' not found (looked in " + looked_in +
         "): its tokenizer.json is not committed (license) and lives in the project's shared fixture set; "
         "set VISTA_SHARED_FIXTURES to a folder holding tokenizers/" + name + "/tokenizer.json to run this test.";
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace vista::text::testing
