#pragma once
// The header of a SEA label file (label_file.h): what it holds and how it is written and read.
// No libtorch here, so the fuzzers parse it as it is.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vista::sea {

struct LabelFileHeader {
  int64_t top_n = 10;
  int64_t grid_rows = 0, grid_cols = 0;
  int64_t num_words = 0;
  std::string words_hash;   // content hash of the word list the ids index
  nlohmann::json producer;  // CLIP folder, score sign, ...: compared on resume
  std::vector<std::string> images;

  int64_t patches() const { return grid_rows * grid_cols; }
  size_t record_bytes() const { return static_cast<size_t>(patches() * top_n) * (sizeof(int32_t) + sizeof(uint16_t)); }
};

// "VSEALBL1", u64 length, the JSON header, zero padding to 64 bytes.
std::string label_file_header_bytes(const LabelFileHeader& header);

// Parses the header at the start of `data` (the file named `path`); sets the offset of the first
// record. Errors name the file and the field.
LabelFileHeader parse_label_file_header(const std::string& path, const char* data, size_t size, size_t* data_offset);

// A finished file holds exactly one record per image after the header; anything else is an error
// naming the file and both sizes.
void check_label_file_size(const std::string& path, const LabelFileHeader& header, size_t data_offset, size_t size);

}  // namespace vista::sea
