#pragma once
// JSON reading (part of the torch-free floor every library stands on) with errors that name the file, the field and
// what was expected.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace vista {

nlohmann::json read_json_file(const std::string& path);
// Writes through a temporary file renamed into place, so a crash never leaves half a file.
// indent -1: compact.
void write_json_file(const std::string& path, const nlohmann::json& json, int indent = 2);

// A JSON object together with where it came from, so every accessor can report
// "<file>: field '<name>' ...".
class JsonFields {
 public:
  JsonFields(nlohmann::json object, std::string source);

  bool has(const std::string& key) const;  // present and not null
  int64_t integer(const std::string& key) const;
  int64_t integer_or(const std::string& key, int64_t fallback) const;
  double number(const std::string& key) const;
  double number_or(const std::string& key, double fallback) const;
  bool boolean_or(const std::string& key, bool fallback) const;
  std::string string(const std::string& key) const;
  std::string string_or(const std::string& key, const std::string& fallback) const;
  JsonFields object(const std::string& key) const;
  const nlohmann::json& raw() const { return object_; }
  const std::string& source() const { return source_; }

 private:
  const nlohmann::json& require(const std::string& key) const;
  nlohmann::json object_;
  std::string source_;
};

}  // namespace vista
