#include "io/safetensors_header.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "util/error.h"

namespace vista::io {

namespace {

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Detects duplicate top-level keys, which nlohmann::json would otherwise silently collapse.
nlohmann::json parse_json(const std::string& path, const char* data, size_t size) {
  std::set<std::string> seen;
  std::string duplicate;
  auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (depth == 1 && event == nlohmann::json::parse_event_t::key) {
      const auto key = parsed.get<std::string>();
      if (!seen.insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(data, data + size, callback);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: safetensors header is not valid JSON: {}", path, e.what());
  }
  if (!duplicate.empty()) fail("{}: safetensors header names tensor '{}' twice", path, duplicate);
  if (!header.is_object()) fail("{}: safetensors header must be a JSON object", path);
  return header;
}

TensorEntry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& value,
                        uint64_t data_size) {
  const std::string where = fmt::format("{}: tensor '{}'", path, name);
  if (!value.is_object()) fail("{} must be an object with dtype, shape, data_offsets", where);
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!value.contains(field)) fail("{}: missing field '{}'", where, field);
  if (!value["dtype"].is_string()) fail("{}: field 'dtype' must be a string", where);
  TensorEntry entry;
  entry.name = name;
  entry.dtype = value["dtype"].get<std::string>();
  const int64_t element_bytes = safetensors_dtype_bytes(entry.dtype);
  if (element_bytes == 0)
    fail("{}: unknown dtype '{}' (expected one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)", where,
         entry.dtype);
  const auto& shape = value["shape"];
  if (!shape.is_array()) fail("{}: field 'shape' must be an array of non-negative integers", where);
  // The non-zero dimensions times the element size must fit int64: a product that wrapped around
  // to the range's size would view memory the file does not have, and libtorch refuses such a
  // shape even with a zero in it.
  int64_t bytes = element_bytes;
  bool overflow = false, empty = false;
  for (const auto& dim : shape) {
    if (!dim.is_number_integer() || dim.get<int64_t>() < 0)
      fail("{}: field 'shape' must be an array of non-negative integers, got {}", where, shape.dump());
    const auto d = dim.get<int64_t>();
    entry.shape.push_back(d);
    if (d == 0) empty = true;
    else overflow = __builtin_mul_overflow(bytes, d, &bytes) || overflow;
  }
  if (overflow) fail("{}: shape {} of {} is too large to be stored", where, shape_string(entry.shape), entry.dtype);
  if (empty) bytes = 0;
  const auto& offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    fail("{}: field 'data_offsets' must be [begin, end] with non-negative integers, got {}", where, offsets.dump());
  entry.begin = offsets[0].get<uint64_t>();
  entry.end = offsets[1].get<uint64_t>();
  if (entry.begin > entry.end) fail("{}: data_offsets begin {} > end {}", where, entry.begin, entry.end);
  if (entry.end > data_size)
    fail("{}: data_offsets [{}, {}] lie outside the data buffer ({} bytes)", where, entry.begin, entry.end, data_size);
  if (entry.end - entry.begin != static_cast<uint64_t>(bytes))
    fail("{}: byte count {} does not match shape {} of {} ({} bytes expected)", where, entry.end - entry.begin,
         shape_string(entry.shape), entry.dtype, bytes);
  return entry;
}

}  // namespace

int64_t safetensors_dtype_bytes(const std::string& dtype) {
  static const std::map<std::string, int64_t> kBytes = {{"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F64", 8}, {"I64", 8},
                                                        {"I32", 4}, {"I16", 2}, {"I8", 1},   {"U8", 1},  {"BOOL", 1}};
  const auto it = kBytes.find(dtype);
  return it == kBytes.end() ? 0 : it->second;
}

SafetensorsHeader parse_safetensors_header(const std::string& path, const char* file, uint64_t file_size) {
  if (file_size < 8) fail("{}: file is {} bytes, too short for the 8-byte header length", path, file_size);
  uint64_t header_len = 0;
  std::memcpy(&header_len, file, 8);  // little-endian on every supported host
  if (header_len > file_size - 8)
    fail("{}: header length {} runs past the end of the file ({} bytes)", path, header_len, file_size);
  const nlohmann::json header = parse_json(path, file + 8, header_len);
  SafetensorsHeader out;
  out.data_start = 8 + header_len;
  const uint64_t data_size = file_size - out.data_start;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) fail("{}: __metadata__ must be an object of strings", path);
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) fail("{}: __metadata__ field '{}' must be a string", path, k);
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    out.entries[name] = parse_entry(path, name, value, data_size);
  }
  std::vector<const TensorEntry*> by_offset;
  for (const auto& [name, entry] : out.entries) by_offset.push_back(&entry);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorEntry* a, const TensorEntry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  // The format requires the buffer to be fully indexed: no overlaps, no holes, no trailing bytes.
  uint64_t cursor = 0;
  const TensorEntry* previous = nullptr;
  for (const auto* entry : by_offset) {
    if (entry->begin < cursor)
      fail("{}: tensor '{}' [{}, {}] overlaps tensor '{}' [{}, {}]", path, entry->name, entry->begin, entry->end,
           previous->name, previous->begin, previous->end);
    if (entry->begin > cursor)
      fail("{}: {} unindexed bytes before tensor '{}' at offset {} (hole in the data buffer)", path,
           entry->begin - cursor, entry->name, cursor);
    cursor = entry->end;
    previous = entry;
  }
  if (cursor != data_size) fail("{}: data buffer has {} bytes but the tensors index only {}", path, data_size, cursor);
  return out;
}

}  // namespace vista::io
