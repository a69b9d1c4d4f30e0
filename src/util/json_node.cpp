#include "util/json_node.h"

#include "util/error.h"

namespace vista {

namespace {

// A value as a message shows it: scalars in full up to a length, containers by type only.
std::string described(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  std::string out = json_type_name(value);
  if (value.is_array() || value.is_object()) return out;
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return out + " " + text;
}

}  // namespace

std::string json_type_name(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer() || value.is_number_unsigned()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  return "an object";
}

JsonNode JsonNode::owning(nlohmann::json document, std::string file, std::string path) {
  auto held = std::make_shared<const nlohmann::json>(std::move(document));
  JsonNode node(*held, std::move(file), std::move(path));
  node.document_ = std::move(held);
  return node;
}

JsonNode JsonNode::child(const nlohmann::json& value, std::string path) const {
  JsonNode node(value, file_, std::move(path));
  node.document_ = document_;
  return node;
}

std::string JsonNode::where() const { return path_.empty() ? std::string("top level") : "field '" + path_ + "'"; }

std::string JsonNode::location() const { return path_.empty() ? file_ : file_ + ": " + where(); }

void JsonNode::fail(const std::string& message) const { vista::fail("{}: {}: {}", file_, where(), message); }

void JsonNode::expect(bool ok, const char* expected) const {
  if (!ok) fail(std::string("expected ") + expected + ", got " + described(*value_));
}

const JsonNode& JsonNode::expect_object() const {
  expect(value_->is_object(), "an object");
  return *this;
}

bool JsonNode::has(const std::string& key) const {
  if (!value_->is_object()) return false;
  auto it = value_->find(key);
  return it != value_->end() && !it->is_null();
}

bool JsonNode::contains(const std::string& key) const { return value_->is_object() && value_->contains(key); }

JsonNode JsonNode::at(const std::string& key) const {
  expect(value_->is_object(), "an object");
  auto it = value_->find(key);
  const std::string child_path = path_.empty() ? key : path_ + "." + key;
  if (it == value_->end()) vista::fail("{}: field '{}' is missing", file_, child_path);
  return child(*it, child_path);
}

std::optional<JsonNode> JsonNode::find(const std::string& key) const {
  expect(value_->is_object(), "an object");
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return child(*it, path_.empty() ? key : path_ + "." + key);
}

JsonNode JsonNode::at(size_t index) const {
  expect(value_->is_array(), "an array");
  if (index >= value_->size()) fail("index " + std::to_string(index) + " out of range");
  return child((*value_)[index], path_ + "[" + std::to_string(index) + "]");
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
  if (value_->is_number_unsigned() && value_->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    fail("expected an integer, got " + value_->dump() + ", beyond the 64-bit range");
  return value_->get<int64_t>();
}

double JsonNode::as_number() const {
  expect(value_->is_number(), "a number");
  return value_->get<double>();
}

const nlohmann::json& JsonNode::as_array() const {
  expect(value_->is_array(), "an array");
  return *value_;
}

const nlohmann::json& JsonNode::as_object() const {
  expect(value_->is_object(), "an object");
  return *value_;
}

JsonNode JsonNode::object(const std::string& key) const {
  JsonNode child = at(key);
  child.expect_object();
  return child;
}

std::string JsonNode::string_or(const std::string& key, const std::string& fallback) const {
  auto child = find(key);
  return child ? child->as_string() : fallback;
}

int64_t JsonNode::integer_or(const std::string& key, int64_t fallback) const {
  auto child = find(key);
  return child ? child->as_int() : fallback;
}

double JsonNode::number_or(const std::string& key, double fallback) const {
  auto child = find(key);
  return child ? child->as_number() : fallback;
}

bool JsonNode::boolean_or(const std::string& key, bool fallback) const {
  auto child = find(key);
  return child ? child->as_bool() : fallback;
}

std::optional<std::string> JsonNode::optional_string(const std::string& key) const {
  auto child = find(key);
  if (!child) return std::nullopt;
  return child->as_string();
}

}  // namespace vista
