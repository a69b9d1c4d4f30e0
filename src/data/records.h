#pragma once
// LLaVA-format data files, indexed lazily: a JSON array (llava_v1_5_mix665k.json) or JSON Lines.
// Opening a file records where each record starts and ends; a record is parsed only when asked
// for, so a 665K-record file costs an index of offsets, not 665K objects.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data/conversation.h"

namespace vista::data {

struct Record {
  size_t index = 0;                  // position in the file
  std::string id;                    // the record's "id" (or its index when absent)
  std::optional<std::string> image;  // path relative to the image folder; none for text-only
  Conversation conversation;
};

class RecordFile {
 public:
  // Throws naming the file for unreadable files and for structural errors (unterminated
  // strings, unbalanced brackets, anything but an array of objects / one object per line).
  static RecordFile open(const std::string& path);

  size_t size() const { return spans_.size(); }
  const std::string& path() const { return path_; }
  // The raw JSON of record i; throws naming the file, the record and the JSON error.
  nlohmann::json raw(size_t i) const;
  // Record i validated: conversations present, turns with string 'from'/'value', image a string.
  // Errors name the file, the record index and id, and the field.
  Record record(size_t i) const;
  // Cheap length proxy for the sampler: whitespace-separated words of all turns (no tokenizer).
  int64_t word_count(size_t i) const;

 private:
  struct Span {
    size_t begin, end;
    size_t line;  // 1-based line where the record starts
  };
  struct Mapping;
  std::string path_;
  std::shared_ptr<Mapping> mapping_;
  std::vector<Span> spans_;
};

}  // namespace vista::data
