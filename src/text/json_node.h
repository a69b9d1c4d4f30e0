#pragma once
// A JSON value together with the file it came from and its path inside it, so that every
// accessor can fail with "<file>: field 'model.merges[3]': expected ..., got ...".
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace vista::text {

class JsonNode {
 public:
  JsonNode(const nlohmann::json& value, std::string file, std::string path = "")
      : value_(&value), file_(std::move(file)), path_(std::move(path)) {}

  const nlohmann::json& raw() const { return *value_; }
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  // "field 'a.b'" (or "top level") for messages.
  std::string where() const;

  bool is_null() const { return value_->is_null(); }
  bool is_object() const { return value_->is_object(); }
  bool is_array() const { return value_->is_array(); }
  bool is_string() const { return value_->is_string(); }

  // Present and not null.
  bool has(const std::string& key) const;
  // Child that must exist (may be null); the node must be an object.
  JsonNode at(const std::string& key) const;
  // Child or nullopt when absent or null.
  std::optional<JsonNode> find(const std::string& key) const;
  JsonNode at(size_t index) const;
  size_t size() const;  // arrays and objects

  std::string as_string() const;
  bool as_bool() const;
  int64_t as_int() const;
  const nlohmann::json& as_array() const;
  const nlohmann::json& as_object() const;

  std::string string_or(const std::string& key, const std::string& fallback) const;
  bool bool_or(const std::string& key, bool fallback) const;
  // Optional string: absent or null gives nullopt.
  std::optional<std::string> optional_string(const std::string& key) const;

  // Throws vista::Error "<file>: <where>: <message>".
  [[noreturn]] void fail(const std::string& message) const;

 private:
  void expect(bool ok, const char* expected) const;
  const nlohmann::json* value_;
  std::string file_;
  std::string path_;
};

// Name of a JSON value's type for messages ("string", "number", ...).
std::string json_type_name(const nlohmann::json& value);

// Reads and parses a JSON file; errors name the file and the parse position.
nlohmann::json read_json(const std::string& path);

}  // namespace vista::text
