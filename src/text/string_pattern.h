#pragma once
// The {"String": "..."} / {"Regex": "..."} patterns of Replace and Split.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/json_node.h"

namespace vista::text {

class StringPattern {
 public:
  virtual ~StringPattern() = default;
  // Non-overlapping matches (byte ranges), left to right.
  virtual std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const = 0;
  std::string replace_all(std::string_view text, std::string_view content) const;
};

// A literal (non-empty) string: plain substring search.
std::unique_ptr<StringPattern> make_literal_pattern(std::string literal);
// An Oniguruma regular expression; `where` names the file and field for errors.
std::unique_ptr<StringPattern> make_regex_pattern(const std::string& regex, const std::string& where);
// From a tokenizer.json pattern object.
std::unique_ptr<StringPattern> make_string_pattern(const JsonNode& node);

}  // namespace vista::text
