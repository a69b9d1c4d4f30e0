#include "eval/metrics/json_io.h"

#include <cmath>
#include <unordered_set>

#include "eval/metrics/python_text.h"
#include "util/error.h"

namespace vista::eval {

nlohmann::json read_json_keep_order(const std::string& path, std::vector<std::string>* top_level_keys) {
  const std::string text = py::read_file_bytes(path);
  std::vector<std::string> keys;
  std::unordered_set<std::string> seen;
  nlohmann::json::parser_callback_t callback = [&](int depth, nlohmann::json::parse_event_t event,
                                                   nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1) {
      const std::string key = parsed.get<std::string>();
      if (seen.insert(key).second) keys.push_back(key);
    }
    return true;
  };
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text, callback);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", path, e.what());
  }
  if (top_level_keys) *top_level_keys = value.is_object() ? std::move(keys) : std::vector<std::string>{};
  return value;
}

std::vector<JsonLine> read_python_jsonl(const std::string& path) {
  return read_jsonl_file(path, JsonlOptions{/*blank_lines_allowed=*/false, /*torn_last_line_dropped=*/false});
}

std::string json_key(const nlohmann::json& value) {
  if (value.is_string()) return "s:" + value.get<std::string>();
  return "j:" + value.dump();
}

std::string python_json_string(const std::string& utf8) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  auto put_u = [&](uint32_t u) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out.push_back(hex[(u >> shift) & 0xF]);
  };
  for (char32_t c : utf8_to_u32(utf8)) {
    switch (c) {
      case U'"': out += "\\\""; break;
      case U'\\': out += "\\\\"; break;
      case U'\n': out += "\\n"; break;
      case U'\r': out += "\\r"; break;
      case U'\t': out += "\\t"; break;
      case U'\b': out += "\\b"; break;
      case U'\f': out += "\\f"; break;
      default:
        if (c >= 0x20 && c <= 0x7E) {
          out.push_back(static_cast<char>(c));
        } else if (c >= 0x10000) {
          const uint32_t v = static_cast<uint32_t>(c) - 0x10000;
          put_u(0xD800 | (v >> 10));
          put_u(0xDC00 | (v & 0x3FF));
        } else {
          put_u(static_cast<uint32_t>(c));
        }
    }
  }
  out += "\"";
  return out;
}

namespace {

void dump_value(const nlohmann::ordered_json& v, int indent, int level, std::string& out) {
  using value_t = nlohmann::ordered_json::value_t;
  const auto newline = [&](int lvl) {
    out.push_back('\n');
    out.append(static_cast<size_t>(indent * lvl), ' ');
  };
  switch (v.type()) {
    case value_t::null: out += "null"; return;
    case value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case value_t::number_integer: out += std::to_string(v.get<int64_t>()); return;
    case value_t::number_unsigned: out += std::to_string(v.get<uint64_t>()); return;
    case value_t::number_float: {
      const double x = v.get<double>();
      if (std::isnan(x)) out += "NaN";
      else if (std::isinf(x)) out += x > 0 ? "Infinity" : "-Infinity";
      else out += py::float_repr(x);
      return;
    }
    case value_t::string: out += python_json_string(v.get<std::string>()); return;
    case value_t::array: {
      if (v.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += indent >= 0 ? "," : ", ";
        first = false;
        if (indent >= 0) newline(level + 1);
        dump_value(item, indent, level + 1, out);
      }
      if (indent >= 0) newline(level);
      out.push_back(']');
      return;
    }
    case value_t::object: {
      if (v.empty()) {
        out += "{}";
        return;
      }
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out += indent >= 0 ? "," : ", ";
        first = false;
        if (indent >= 0) newline(level + 1);
        out += python_json_string(key);
        out += ": ";
        dump_value(item, indent, level + 1, out);
      }
      if (indent >= 0) newline(level);
      out.push_back('}');
      return;
    }
    default: fail("python_json_dumps: unsupported JSON value type {}", v.type_name());
  }
}

}  // namespace

std::string python_json_dumps(const nlohmann::ordered_json& value, int indent) {
  std::string out;
  dump_value(value, indent, 0, out);
  return out;
}

}  // namespace vista::eval
