#include "text/string_pattern.h"

#include "text/regex.h"

namespace vista::text {

namespace {

class LiteralPattern : public StringPattern {
 public:
  explicit LiteralPattern(std::string literal) : literal_(std::move(literal)) {}
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const override {
    std::vector<std::pair<size_t, size_t>> out;
    size_t pos = 0;
    while (true) {
      const size_t found = text.find(literal_, pos);
      if (found == std::string_view::npos) break;
      out.emplace_back(found, found + literal_.size());
      pos = found + literal_.size();
    }
    return out;
  }

 private:
  std::string literal_;
};

class RegexPattern : public StringPattern {
 public:
  RegexPattern(const std::string& regex, const std::string& where) : regex_(regex, where) {}
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const override { return regex_.find_all(text); }

 private:
  Regex regex_;
};

}  // namespace

std::string StringPattern::replace_all(std::string_view text, std::string_view content) const {
  const auto matches = find_all(text);
  if (matches.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size() + matches.size() * content.size());
  size_t last = 0;
  for (const auto& [begin, end] : matches) {
    out.append(text.substr(last, begin - last));
    out.append(content);
    last = end;
  }
  out.append(text.substr(last));
  return out;
}

std::unique_ptr<StringPattern> make_literal_pattern(std::string literal) {
  return std::make_unique<LiteralPattern>(std::move(literal));
}

std::unique_ptr<StringPattern> make_regex_pattern(const std::string& regex, const std::string& where) {
  return std::make_unique<RegexPattern>(regex, where);
}

std::unique_ptr<StringPattern> make_string_pattern(const JsonNode& node) {
  if (auto literal = node.find("String")) {
    const std::string text = literal->as_string();
    // The reference compiles an escaped copy of the string as a regex; for an empty string that
    // regex matches the empty string everywhere, which a literal search cannot express.
    if (text.empty()) return make_regex_pattern("", node.file() + ": " + literal->where());
    return make_literal_pattern(text);
  }
  if (auto regex = node.find("Regex")) return make_regex_pattern(regex->as_string(), node.file() + ": " + regex->where());
  node.fail("expected a pattern object {\"String\": ...} or {\"Regex\": ...}");
}

}  // namespace vista::text
