#include "text/case_check.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "text/utf8.h"
#include "util/error.h"
#include "util/json_file.h"
#include "util/json_node.h"

namespace vista::text {

namespace {

std::string id_list(const std::vector<int64_t>& ids, size_t from, size_t count) {
  std::string out = "[";
  const size_t end = std::min(ids.size(), from + count);
  if (from > 0) out += "... ";
  for (size_t i = from; i < end; ++i) out += (i > from ? ", " : "") + std::to_string(ids[i]);
  if (end < ids.size()) out += ", ...";
  return out + "]";
}

std::string token_list(const std::vector<std::string>& tokens, size_t from, size_t count) {
  std::string out = "[";
  const size_t end = std::min(tokens.size(), from + count);
  if (from > 0) out += "... ";
  for (size_t i = from; i < end; ++i) out += (i > from ? ", \"" : "\"") + escape_for_message(tokens[i], 80) + "\"";
  if (end < tokens.size()) out += ", ...";
  return out + "]";
}

template <typename T>
size_t first_difference(const std::vector<T>& a, const std::vector<T>& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

std::string describe_ids(const std::vector<int64_t>& expected, const std::vector<int64_t>& actual, const Tokenizer& tokenizer) {
  const size_t at = first_difference(expected, actual);
  const size_t from = at > 3 ? at - 3 : 0;
  auto name = [&](const std::vector<int64_t>& ids) {
    if (at >= ids.size()) return std::string("(end)");
    auto token = tokenizer.find_token(ids[at]);
    return fmt::format("{} \"{}\"", ids[at], token ? escape_for_message(*token, 80) : std::string("?"));
  };
  return fmt::format("lengths expected {} got {}; first difference at index {}: expected {}, got {}\n    expected: {}\n    got:      {}",
                     expected.size(), actual.size(), at, name(expected), name(actual), id_list(expected, from, 12),
                     id_list(actual, from, 12));
}

std::string describe_tokens(const std::vector<std::string>& expected, const std::vector<std::string>& actual) {
  const size_t at = first_difference(expected, actual);
  const size_t from = at > 3 ? at - 3 : 0;
  return fmt::format("lengths expected {} got {}; first difference at index {}\n    expected: {}\n    got:      {}",
                     expected.size(), actual.size(), at, token_list(expected, from, 10), token_list(actual, from, 10));
}

std::string describe_strings(const std::string& expected, const std::string& actual) {
  size_t at = 0;
  while (at < expected.size() && at < actual.size() && expected[at] == actual[at]) ++at;
  // Back up to a character boundary and show some context before the difference.
  size_t from = at > 20 ? at - 20 : 0;
  while (from > 0 && (static_cast<unsigned char>(expected[from]) & 0xC0) == 0x80) --from;
  auto excerpt = [&](const std::string& s) {
    return from >= s.size() ? std::string() : escape_for_message(std::string_view(s).substr(from), 120);
  };
  return fmt::format("byte lengths expected {} got {}; first difference at byte {}\n    expected: {}\"{}\"\n    got:      {}\"{}\"",
                     expected.size(), actual.size(), at, from ? "..." : "", excerpt(expected), from ? "..." : "", excerpt(actual));
}

std::vector<int64_t> read_ids(const JsonNode& node) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < node.size(); ++i) out.push_back(node.at(i).as_int());
  return out;
}

std::vector<std::string> read_strings(const JsonNode& node) {
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) out.push_back(node.at(i).as_string());
  return out;
}

}  // namespace

const std::vector<std::string>& case_fields() {
  static const std::vector<std::string> fields = {"ids", "ids_with_special", "tokens", "tokens_with_special",
                                                  "decoded", "decoded_with_special", "decoded_skip_special"};
  return fields;
}

CaseCheckResult check_cases(const Tokenizer& tokenizer, const std::string& cases_path) {
  CaseCheckResult result;
  for (const auto& line : read_jsonl_file(cases_path)) {
    const std::string& where = line.where;
    const JsonNode node(line.value, where);
    const std::string id = node.string_or("id", fmt::format("line-{}", line.line));
    const std::string text = node.at("text").as_string();

    const Encoding plain = tokenizer.encode(text, false);
    const Encoding special = tokenizer.encode(text, true);
    std::vector<std::string> mismatches;
    auto check_ids = [&](const char* field, const std::vector<int64_t>& actual) {
      const auto expected = read_ids(node.at(field));
      if (expected != actual) mismatches.push_back(fmt::format("field '{}': {}", field, describe_ids(expected, actual, tokenizer)));
    };
    auto check_tokens = [&](const char* field, const std::vector<std::string>& actual) {
      const auto expected = read_strings(node.at(field));
      if (expected != actual) mismatches.push_back(fmt::format("field '{}': {}", field, describe_tokens(expected, actual)));
    };
    auto check_string = [&](const char* field, const std::string& actual) {
      const std::string expected = node.at(field).as_string();
      if (expected != actual) mismatches.push_back(fmt::format("field '{}': {}", field, describe_strings(expected, actual)));
    };
    check_ids("ids", plain.ids);
    check_ids("ids_with_special", special.ids);
    check_tokens("tokens", plain.tokens);
    check_tokens("tokens_with_special", special.tokens);
    // Decoding uses the expected ids, so a decode error shows even when encoding differs.
    const auto expected_ids = read_ids(node.at("ids"));
    const auto expected_special = read_ids(node.at("ids_with_special"));
    check_string("decoded", tokenizer.decode(expected_ids, false));
    check_string("decoded_with_special", tokenizer.decode(expected_special, false));
    check_string("decoded_skip_special", tokenizer.decode(expected_special, true));

    ++result.total;
    if (mismatches.empty()) {
      ++result.passed;
      continue;
    }
    result.failed_ids.push_back(id);
    if (!result.first_mismatch) {
      std::string message = fmt::format("case '{}' ({}), text \"{}\":", id, where, escape_for_message(text, 160));
      for (const auto& m : mismatches) message += "\n  " + m;
      result.first_mismatch = message;
    }
  }
  if (result.total == 0) fail("{}: no cases found (expected one JSON object per line)", cases_path);
  return result;
}

}  // namespace vista::text
