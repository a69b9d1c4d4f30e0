#pragma once
// JSON and JSON-lines files read with errors that name the file (and line), and JSON written
// atomically. Fields inside are read through JsonNode (util/json_node.h).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vista {

// Errors name the file and the byte where parsing stopped.
nlohmann::json read_json_file(const std::string& path);
// Writes through a temporary file renamed into place, so a crash never leaves half a file.
// indent -1: compact.
void write_json_file(const std::string& path, const nlohmann::json& json, int indent = 2);

// One record of a JSON-lines file.
struct JsonLine {
  int64_t line = 0;   // 1-based
  std::string where;  // "<file>:<line>", the file name JsonNode's messages start with
  std::string text;   // the line as written, without its line break
  nlohmann::json value;
};
struct JsonlOptions {
  // Python's `json.loads(line)` over `open(path)` (the official scorers) fails on a blank line;
  // vista's own readers skip them.
  bool blank_lines_allowed = true;
  // A file being appended to, or cut by a crash, may end in part of a record: leave it out.
  bool torn_last_line_dropped = false;
};
// Lines end at "\n", "\r\n" or "\r" (Python's universal newlines); each holds one JSON value.
std::vector<JsonLine> read_jsonl_file(const std::string& path, const JsonlOptions& options = {});

}  // namespace vista
