#include "text/json_node.h"

#include <fstream>
#include <sstream>

#include "util/error.h"

namespace vista::text {

std::string json_type_name(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer() || value.is_number_unsigned()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  return "an object";
}

std::string JsonNode::where() const { return path_.empty() ? std::string("top level") : "field '" + path_ + "'"; }

void JsonNode::fail(const std::string& message) const { vista::fail("{}: {}: {}", file_, where(), message); }

void JsonNode::expect(bool ok, const char* expected) const {
  if (!ok) fail(std::string("expected ") + expected + ", got " + json_type_name(*value_));
}

bool JsonNode::has(const std::string& key) const {
  if (!value_->is_object()) return false;
  auto it = value_->find(key);
  return it != value_->end() && !it->is_null();
}

JsonNode JsonNode::at(const std::string& key) const {
  expect(value_->is_object(), "an object");
  auto it = value_->find(key);
  const std::string child = path_.empty() ? key : path_ + "." + key;
  if (it == value_->end()) vista::fail("{}: field '{}' is missing", file_, child);
  return JsonNode(*it, file_, child);
}

std::optional<JsonNode> JsonNode::find(const std::string& key) const {
  expect(value_->is_object(), "an object");
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return JsonNode(*it, file_, path_.empty() ? key : path_ + "." + key);
}

JsonNode JsonNode::at(size_t index) const {
  expect(value_->is_array(), "an array");
  if (index >= value_->size()) fail("index " + std::to_string(index) + " out of range");
  return JsonNode((*value_)[index], file_, path_ + "[" + std::to_string(index) + "]");
}

size_t JsonNode::size() const {
  expect(value_->is_array() || value_->is_object(), "an array or an object");
  return value_->size();
}

std::string JsonNode::as_string() const {
  expect(value_->is_string(), "a string");
  return value_->get<std::string>();
}

bool JsonNode::as_bool() const {
  expect(value_->is_boolean(), "a boolean");
  return value_->get<bool>();
}

int64_t JsonNode::as_int() const {
  expect(value_->is_number_integer() || value_->is_number_unsigned(), "an integer");
  return value_->get<int64_t>();
}

const nlohmann::json& JsonNode::as_array() const {
  expect(value_->is_array(), "an array");
  return *value_;
}

const nlohmann::json& JsonNode::as_object() const {
  expect(value_->is_object(), "an object");
  return *value_;
}

std::string JsonNode::string_or(const std::string& key, const std::string& fallback) const {
  auto child = find(key);
  return child ? child->as_string() : fallback;
}

bool JsonNode::bool_or(const std::string& key, bool fallback) const {
  auto child = find(key);
  return child ? child->as_bool() : fallback;
}

std::optional<std::string> JsonNode::optional_string(const std::string& key) const {
  auto child = find(key);
  if (!child) return std::nullopt;
  return child->as_string();
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) vista::fail("{}: cannot open file (expected a readable JSON file)", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    vista::fail("{}: invalid JSON at byte {}: {}", path, e.byte, e.what());
  } catch (const nlohmann::json::exception& e) {  // e.g. a number beyond double's range
    vista::fail("{}: invalid JSON: {}", path, e.what());
  }
}

}  // namespace vista::text
