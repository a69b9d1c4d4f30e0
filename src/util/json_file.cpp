#include "util/json_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace vista {

namespace {

std::string read_bytes(const std::string& path, const char* expected) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open file (expected {})", path, expected);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail("{}: read error", path);
  return buffer.str();
}

}  // namespace

nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_bytes(path, "a readable JSON file");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}: invalid JSON at byte {}: {}", path, e.byte, e.what());
  } catch (const nlohmann::json::exception& e) {  // e.g. a number beyond double's range
    fail("{}: invalid JSON: {}", path, e.what());
  }
}

std::vector<JsonLine> read_jsonl_file(const std::string& path, const JsonlOptions& options) {
  const std::string bytes = read_bytes(path, "a readable JSON-lines file");
  std::vector<JsonLine> out;
  size_t begin = 0;
  for (int64_t number = 1; begin < bytes.size(); ++number) {
    size_t end = bytes.find_first_of("\r\n", begin);
    const bool last = end == std::string::npos;
    if (last) end = bytes.size();
    const std::string_view text(bytes.data() + begin, end - begin);
    begin = end + (end + 1 < bytes.size() && bytes[end] == '\r' && bytes[end + 1] == '\n' ? 2 : 1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) {
      if (options.blank_lines_allowed) continue;
      fail("{}:{}: invalid JSON line: the line is blank", path, number);
    }
    JsonLine line{number, fmt::format("{}:{}", path, number), std::string(text), {}};
    try {
      line.value = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      if (last && options.torn_last_line_dropped) break;
      fail("{}:{}: invalid JSON line: {}", path, number, e.what());
    }
    out.push_back(std::move(line));
  }
  return out;
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
