#pragma once
// The safetensors header: 8-byte little-endian length, then JSON naming each tensor's dtype, shape
// and byte range. Parsed and checked against the file size here, without libtorch, so the checks
// are fuzzed on their own (fuzz/safetensors_header_fuzz.cpp).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vista::io {

struct TensorEntry {
  std::string name;
  std::string dtype;  // safetensors spelling: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data buffer (after the header)
  uint64_t end = 0;
};

struct SafetensorsHeader {
  std::map<std::string, std::string> metadata;
  std::map<std::string, TensorEntry> entries;
  uint64_t data_start = 0;  // where the data buffer begins in the file
};

// Bytes per element of a safetensors dtype; 0 for a dtype vista does not read.
int64_t safetensors_dtype_bytes(const std::string& dtype);

// `file` holds the whole file (file_size bytes). Throws vista::Error naming `path` and the problem:
// short file, header past the end, invalid or duplicate JSON, unknown dtype, a shape whose byte
// count does not fit 64 bits or differs from its range, ranges outside the buffer, overlapping,
// leaving holes or trailing bytes.
SafetensorsHeader parse_safetensors_header(const std::string& path, const char* file, uint64_t file_size);

}  // namespace vista::io
