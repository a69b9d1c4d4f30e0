#include "util/json_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace vista {

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open JSON file", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return nlohmann::json::parse(buffer.str());
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", path, e.what());
  }
}

JsonFields::JsonFields(nlohmann::json object, std::string source)
    : object_(std::move(object)), source_(std::move(source)) {
  if (!object_.is_object()) fail("{}: expected a JSON object, got {}", source_, object_.type_name());
}

bool JsonFields::has(const std::string& key) const { return object_.contains(key) && !object_.at(key).is_null(); }

const nlohmann::json& JsonFields::require(const std::string& key) const {
  if (!has(key)) fail("{}: missing required field '{}'", source_, key);
  return object_.at(key);
}

int64_t JsonFields::integer(const std::string& key) const {
  const auto& v = require(key);
  if (!v.is_number_integer()) fail("{}: field '{}' must be an integer, got {}", source_, key, v.dump());
  return v.get<int64_t>();
}

int64_t JsonFields::integer_or(const std::string& key, int64_t fallback) const {
  return has(key) ? integer(key) : fallback;
}

double JsonFields::number(const std::string& key) const {
  const auto& v = require(key);
  if (!v.is_number()) fail("{}: field '{}' must be a number, got {}", source_, key, v.dump());
  return v.get<double>();
}

double JsonFields::number_or(const std::string& key, double fallback) const {
  return has(key) ? number(key) : fallback;
}

bool JsonFields::boolean_or(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const auto& v = object_.at(key);
  if (!v.is_boolean()) fail("{}: field '{}' must be true or false, got {}", source_, key, v.dump());
  return v.get<bool>();
}

std::string JsonFields::string(const std::string& key) const {
  const auto& v = require(key);
  if (!v.is_string()) fail("{}: field '{}' must be a string, got {}", source_, key, v.dump());
  return v.get<std::string>();
}

std::string JsonFields::string_or(const std::string& key, const std::string& fallback) const {
  return has(key) ? string(key) : fallback;
}

JsonFields JsonFields::object(const std::string& key) const {
  const auto& v = require(key);
  if (!v.is_object()) fail("{}: field '{}' must be an object, got {}", source_, key, v.type_name());
  return JsonFields(v, source_ + ": " + key);
}

void write_json_file(const std::string& path, const nlohmann::json& json, int indent) {
  const auto tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) fail("{}: cannot open for writing", tmp);
    out << json.dump(indent) << "\n";
    if (!out) fail("{}: write failed", tmp);
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace vista
