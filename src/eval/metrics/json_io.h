#pragma once
// JSON in and out the way the official Python scripts do it: reading JSON / JSON-lines files with
// errors that name the file, the line and the field; writing byte-identical json.dump output.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vista::eval {

// json.load(open(path)). Errors name the file.
nlohmann::json read_json(const std::string& path);
// Same, and the keys of the top-level object in file order (Python dicts keep insertion order;
// nlohmann::json sorts them). A repeated key keeps its first position (and its last value).
nlohmann::json read_json_keep_order(const std::string& path, std::vector<std::string>* top_level_keys);

// One line of a JSON-lines file: `[json.loads(line) for line in open(path)]`.
struct JsonLine {
  int64_t line = 0;  // 1-based
  nlohmann::json value;
};
// Every line must hold one JSON value (an empty line is an error, as in the official scripts).
std::vector<JsonLine> read_jsonl(const std::string& path);

// Field access with located errors: "<file>:<line>: field '<name>' ..." (line 0 = whole file).
class JsonRecord {
 public:
  JsonRecord(const nlohmann::json& value, std::string file, int64_t line);
  bool has(const std::string& key) const;  // present (null counts as present)
  const nlohmann::json& at(const std::string& key) const;  // throws when missing
  std::string string(const std::string& key) const;         // throws when missing or not a string
  int64_t integer(const std::string& key) const;            // throws when missing or not an integer
  bool boolean(const std::string& key) const;
  std::string where() const;  // "<file>:<line>" or "<file>"
  std::string where(const std::string& key) const;  // "... field 'key'"
  const nlohmann::json& raw() const { return value_; }

 private:
  const nlohmann::json& value_;
  std::string file_;
  int64_t line_;
};

// A JSON value as a lookup key that keeps Python's distinctions: the string "1" and the int 1 are
// different keys ("s:1" / "j:1").
std::string json_key(const nlohmann::json& value);

// json.dumps(value, indent=indent) with the default ensure_ascii=True; indent < 0 means no indent
// (separators ", " and ": "). Floats as repr(float), NaN/Infinity as Python writes them.
std::string python_json_dumps(const nlohmann::ordered_json& value, int indent = -1);
// A Python string literal as json.dumps writes it (with the quotes, ensure_ascii=True).
std::string python_json_string(const std::string& utf8);

}  // namespace vista::eval
