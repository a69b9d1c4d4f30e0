#pragma once
// The one way vista reads JSON fields: a value together with where it came from (a file, or
// "<file>:<line>" for a JSON-lines record) and its path inside, so every accessor can fail with
// "<file>: field 'model.merges[3]': expected an integer, got a string "x"".
#include <nlohmann/json.hpp>

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace vista {

class JsonNode {
 public:
  // Refers to `value`, which must outlive the node and its children.
  JsonNode(const nlohmann::json& value, std::string file, std::string path = "")
      : value_(&value), file_(std::move(file)), path_(std::move(path)) {}
  // A temporary would dangle: use owning().
  JsonNode(nlohmann::json&& value, std::string file, std::string path = "") = delete;
  // Holds `document`; its children share it.
  static JsonNode owning(nlohmann::json document, std::string file, std::string path = "");

  const nlohmann::json& raw() const { return *value_; }
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  // "field 'a.b'", or "top level".
  std::string where() const;
  // "<file>: field 'a.b'", or "<file>" at the top level.
  std::string location() const;

  bool is_null() const { return value_->is_null(); }
  bool is_object() const { return value_->is_object(); }
  bool is_array() const { return value_->is_array(); }
  bool is_string() const { return value_->is_string(); }

  // Fails unless the node is an object; returns it.
  const JsonNode& expect_object() const;
  // Present and not null (false when the node is not an object).
  bool has(const std::string& key) const;
  // Present, null included (Python's `key in dict`).
  bool contains(const std::string& key) const;
  // Child that must exist (may be null); the node must be an object.
  JsonNode at(const std::string& key) const;
  // Child, or nullopt when absent or null.
  std::optional<JsonNode> find(const std::string& key) const;
  JsonNode at(size_t index) const;
  size_t size() const;  // arrays and objects

  std::string as_string() const;
  bool as_bool() const;
  int64_t as_int() const;  // integers only: 1.5 or 1e30 are not truncated into one
  double as_number() const;
  const nlohmann::json& as_array() const;
  const nlohmann::json& as_object() const;
  // One of the above by type, and arrays of them element by element.
  template <typename T>
  T as() const;

  // The child `key`, which must exist, as a type.
  std::string string(const std::string& key) const { return at(key).as_string(); }
  int64_t integer(const std::string& key) const { return at(key).as_int(); }
  double number(const std::string& key) const { return at(key).as_number(); }
  bool boolean(const std::string& key) const { return at(key).as_bool(); }
  JsonNode object(const std::string& key) const;
  // Absent or null gives the fallback.
  std::string string_or(const std::string& key, const std::string& fallback) const;
  int64_t integer_or(const std::string& key, int64_t fallback) const;
  double number_or(const std::string& key, double fallback) const;
  bool boolean_or(const std::string& key, bool fallback) const;
  std::optional<std::string> optional_string(const std::string& key) const;

  // Throws vista::Error "<file>: <where>: <message>".
  [[noreturn]] void fail(const std::string& message) const;

 private:
  // A child: shares the parent's document, if the parent holds one.
  JsonNode child(const nlohmann::json& value, std::string path) const;
  void expect(bool ok, const char* expected) const;
  std::shared_ptr<const nlohmann::json> document_;  // set by owning()
  const nlohmann::json* value_;
  std::string file_;
  std::string path_;
};

template <typename T>
T JsonNode::as() const {
  if constexpr (std::is_same_v<T, bool>) {
    return as_bool();
  } else if constexpr (std::is_integral_v<T>) {
    const int64_t v = as_int();
    const bool fits = std::is_signed_v<T> ? v >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                                                v <= static_cast<int64_t>(std::numeric_limits<T>::max())
                                          : v >= 0 && static_cast<uint64_t>(v) <= std::numeric_limits<T>::max();
    if (!fits)
      fail("value " + std::to_string(v) + " is outside [" + std::to_string(std::numeric_limits<T>::min()) + ", " +
           std::to_string(std::numeric_limits<T>::max()) + "]");
    return static_cast<T>(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(as_number());
  } else if constexpr (std::is_same_v<T, std::string>) {
    return as_string();
  } else {
    as_array();
    T out;
    for (size_t i = 0; i < value_->size(); ++i) out.push_back(at(i).as<typename T::value_type>());
    return out;
  }
}

// Name of a JSON value's type for messages ("a string", "an integer", ...).
std::string json_type_name(const nlohmann::json& value);

}  // namespace vista
