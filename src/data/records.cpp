#include "data/records.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "util/error.h"

namespace vista::data {

struct RecordFile::Mapping {
  const char* data = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (data && size) munmap(const_cast<char*>(data), size);
  }
};

namespace {

// Skips a JSON string starting at s[i] == '"'; returns the index after the closing quote.
size_t skip_string(const char* s, size_t i, size_t n, const std::string& path, size_t line) {
  for (++i; i < n; ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  fail("{}: line {}: unterminated string", path, line);
}

}  // namespace

RecordFile RecordFile::open(const std::string& path) {
  RecordFile file;
  file.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail("{}: cannot open data file: {}", path, std::strerror(errno));
  struct stat st {};
  fstat(fd, &st);
  auto mapping = std::make_shared<Mapping>();
  mapping->size = static_cast<size_t>(st.st_size);
  if (mapping->size > 0) {
    void* p = mmap(nullptr, mapping->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      fail("{}: mmap failed: {}", path, std::strerror(errno));
    }
    mapping->data = static_cast<const char*>(p);
  }
  ::close(fd);
  file.mapping_ = mapping;
  const char* s = mapping->data;
  const size_t n = mapping->size;
  size_t i = 0, line = 1;
  auto skip_ws = [&] {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
      if (s[i] == '\n') ++line;
      ++i;
    }
  };
  skip_ws();
  if (i == n) return file;  // empty file: no records
  const bool array = s[i] == '[';
  if (array) ++i;
  while (true) {
    skip_ws();
    if (i >= n) {
      if (array) fail("{}: line {}: the JSON array is not closed", path, line);
      break;
    }
    if (array && s[i] == ']') break;
    if (array && s[i] != '{') fail("{}: line {}: expected a record object '{{', found '{}'", path, line, s[i]);
    const size_t begin = i, start_line = line;
    if (!array) {
      // JSON Lines: one record per line, whatever it holds; record() reports bad lines.
      while (i < n && s[i] != '\n') ++i;
    } else if (s[i] == '{') {
      int depth = 0;
      for (; i < n; ++i) {
        const char c = s[i];
        if (c == '"') {
          i = skip_string(s, i, n, path, line) - 1;
        } else if (c == '\n') {
          ++line;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          if (--depth == 0) {
            ++i;
            break;
          }
        }
      }
      if (depth != 0) fail("{}: line {}: record starting here is not closed", path, start_line);
    }
    file.spans_.push_back({begin, i, start_line});
    skip_ws();
    if (array) {
      if (i < n && s[i] == ',') {
        ++i;
        continue;
      }
      skip_ws();
      if (i < n && s[i] == ']') break;
      fail("{}: line {}: expected ',' or ']' after a record", path, line);
    }
  }
  return file;
}

nlohmann::json RecordFile::raw(size_t i) const {
  if (i >= spans_.size()) fail("{}: record {} does not exist ({} records)", path_, i, spans_.size());
  const auto& span = spans_[i];
  try {
    return nlohmann::json::parse(mapping_->data + span.begin, mapping_->data + span.end);
  } catch (const nlohmann::json::exception& e) {
    // Not only syntax: a number beyond double's range is an out_of_range error (found by the fuzzer).
    fail("{}: record {} (line {}): invalid JSON: {}", path_, i, span.line, e.what());
  }
}

Record RecordFile::record(size_t i) const {
  const auto j = raw(i);
  const auto where = [&](const std::string& id) {
    return fmt::format("{}: record {} (id '{}', line {})", path_, i, id, spans_[i].line);
  };
  if (!j.is_object()) fail("{}: record {} (line {}): expected a JSON object", path_, i, spans_[i].line);
  Record r;
  r.index = i;
  if (j.contains("id")) r.id = j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
  else r.id = std::to_string(i);
  if (j.contains("image") && !j["image"].is_null()) {
    if (!j["image"].is_string()) fail("{}: field 'image' must be a string path", where(r.id));
    r.image = j["image"].get<std::string>();
  }
  if (!j.contains("conversations") || !j["conversations"].is_array())
    fail("{}: field 'conversations' must be an array of turns", where(r.id));
  for (size_t t = 0; t < j["conversations"].size(); ++t) {
    const auto& turn = j["conversations"][t];
    if (!turn.is_object() || !turn.contains("from") || !turn["from"].is_string() || !turn.contains("value") ||
        !turn["value"].is_string())
      fail("{}: conversations[{}] must be an object with string fields 'from' and 'value'", where(r.id), t);
    r.conversation.turns.push_back({turn["from"].get<std::string>(), turn["value"].get<std::string>()});
  }
  return r;
}

int64_t RecordFile::word_count(size_t i) const {
  const auto r = record(i);
  int64_t words = 0;
  for (const auto& t : r.conversation.turns) {
    bool in_word = false;
    for (char c : t.value) {
      const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
      if (!space && !in_word) ++words;
      in_word = !space;
    }
  }
  return words;
}

}  // namespace vista::data
