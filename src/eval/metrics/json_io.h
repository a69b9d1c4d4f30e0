#pragma once
// JSON in and out the way the official Python scripts do it: reading JSON-lines files and objects in
// key order; writing byte-identical json.dump output.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "util/json_file.h"
#include "util/json_node.h"

namespace vista::eval {

// Same as json.load(open(path)) for the files the scorers read, with the keys of the top-level
// object in file order (Python dicts keep insertion order; nlohmann::json sorts them). A repeated
// key keeps its first position (and its last value). Errors name the file.
nlohmann::json read_json_keep_order(const std::string& path, std::vector<std::string>* top_level_keys);

// `[json.loads(line) for line in open(path)]`: every line must hold one JSON value (a blank line is
// an error, as in the official scripts). Fields are read through JsonNode(line.value, line.where).
std::vector<JsonLine> read_python_jsonl(const std::string& path);

// A JSON value as a lookup key that keeps Python's distinctions: the string "1" and the int 1 are
// different keys ("s:1" / "j:1").
std::string json_key(const nlohmann::json& value);

// json.dumps(value, indent=indent) with the default ensure_ascii=True; indent < 0 means no indent
// (separators ", " and ": "). Floats as repr(float), NaN/Infinity as Python writes them.
std::string python_json_dumps(const nlohmann::ordered_json& value, int indent = -1);
// A Python string literal as json.dumps writes it (with the quotes, ensure_ascii=True).
std::string python_json_string(const std::string& utf8);

}  // namespace vista::eval
