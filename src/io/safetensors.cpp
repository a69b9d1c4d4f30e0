#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "util/error.h"

namespace vista::io {

namespace {

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  int64_t bytes;
};

constexpr DtypeInfo kDtypes[] = {
    {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2}, {"BF16", torch::kBFloat16, 2},
    {"F64", torch::kFloat64, 8}, {"I64", torch::kInt64, 8},   {"I32", torch::kInt32, 4},
    {"I16", torch::kInt16, 2},   {"I8", torch::kInt8, 1},     {"U8", torch::kUInt8, 1},
    {"BOOL", torch::kBool, 1},
};

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

// Detects duplicate top-level keys, which nlohmann::json would otherwise silently collapse.
nlohmann::json parse_header(const std::string& path, const char* data, size_t size) {
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

}  // namespace

struct SafetensorsFile::Mapping {
  void* base = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (base != nullptr && size > 0) munmap(base, size);
  }
};

torch::ScalarType scalar_type_from_safetensors(const std::string& dtype, const std::string& context) {
  const auto* info = find_dtype(dtype);
  if (info == nullptr)
    fail("{}: unknown dtype '{}' (expected one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)",
         context, dtype);
  return info->type;
}

std::string safetensors_dtype_name(torch::ScalarType type) {
  for (const auto& d : kDtypes)
    if (d.type == type) return d.name;
  fail("safetensors: tensors of type {} cannot be stored", c10::toString(type));
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile file;
  file.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail("{}: cannot open safetensors file: {}", path, std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    fail("{}: cannot stat: {}", path, std::strerror(errno));
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  auto mapping = std::make_shared<Mapping>();
  if (file_size > 0) {
    mapping->base = mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapping->base == MAP_FAILED) {
      mapping->base = nullptr;
      ::close(fd);
      fail("{}: mmap failed: {}", path, std::strerror(errno));
    }
    mapping->size = file_size;
  }
  ::close(fd);
  file.mapping_ = mapping;

  if (file_size < 8) fail("{}: file is {} bytes, too short for the 8-byte header length", path, file_size);
  uint64_t header_len = 0;
  std::memcpy(&header_len, mapping->base, 8);  // little-endian on every supported host
  if (header_len > file_size - 8)
    fail("{}: header length {} runs past the end of the file ({} bytes)", path, header_len, file_size);
  const char* header_data = static_cast<const char*>(mapping->base) + 8;
  const nlohmann::json header = parse_header(path, header_data, header_len);
  file.data_start_ = 8 + header_len;
  const uint64_t data_size = file_size - file.data_start_;

  std::vector<const TensorEntry*> by_offset;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) fail("{}: __metadata__ must be an object of strings", path);
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) fail("{}: __metadata__ field '{}' must be a string", path, k);
        file.metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = fmt::format("{}: tensor '{}'", path, name);
    if (!value.is_object()) fail("{} must be an object with dtype, shape, data_offsets", where);
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!value.contains(field)) fail("{}: missing field '{}'", where, field);
    if (!value["dtype"].is_string()) fail("{}: field 'dtype' must be a string", where);
    TensorEntry entry;
    entry.name = name;
    entry.dtype = value["dtype"].get<std::string>();
    const auto* dtype = find_dtype(entry.dtype);
    if (dtype == nullptr)
      fail("{}: unknown dtype '{}' (expected one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)",
           where, entry.dtype);
    const auto& shape = value["shape"];
    if (!shape.is_array()) fail("{}: field 'shape' must be an array of non-negative integers", where);
    uint64_t numel = 1;
    for (const auto& dim : shape) {
      if (!dim.is_number_integer() || dim.get<int64_t>() < 0)
        fail("{}: field 'shape' must be an array of non-negative integers, got {}", where, shape.dump());
      entry.shape.push_back(dim.get<int64_t>());
      numel *= static_cast<uint64_t>(dim.get<int64_t>());
    }
    const auto& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      fail("{}: field 'data_offsets' must be [begin, end] with non-negative integers, got {}", where,
           offsets.dump());
    entry.begin = offsets[0].get<uint64_t>();
    entry.end = offsets[1].get<uint64_t>();
    if (entry.begin > entry.end) fail("{}: data_offsets begin {} > end {}", where, entry.begin, entry.end);
    if (entry.end > data_size)
      fail("{}: data_offsets [{}, {}] lie outside the data buffer ({} bytes)", where, entry.begin,
           entry.end, data_size);
    const uint64_t expected_bytes = numel * static_cast<uint64_t>(dtype->bytes);
    if (entry.end - entry.begin != expected_bytes)
      fail("{}: byte count {} does not match shape {} of {} ({} bytes expected)", where,
           entry.end - entry.begin, shape_string(entry.shape), entry.dtype, expected_bytes);
    file.entries_[name] = std::move(entry);
  }
  for (const auto& [name, entry] : file.entries_) by_offset.push_back(&entry);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorEntry* a, const TensorEntry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  // The format requires the buffer to be fully indexed: no overlaps, no holes, no trailing bytes.
  uint64_t cursor = 0;
  const TensorEntry* previous = nullptr;
  for (const auto* entry : by_offset) {
    if (entry->begin < cursor)
      fail("{}: tensor '{}' [{}, {}] overlaps tensor '{}' [{}, {}]", path, entry->name, entry->begin,
           entry->end, previous->name, previous->begin, previous->end);
    if (entry->begin > cursor)
      fail("{}: {} unindexed bytes before tensor '{}' at offset {} (hole in the data buffer)", path,
           entry->begin - cursor, entry->name, cursor);
    cursor = entry->end;
    previous = entry;
  }
  if (cursor != data_size)
    fail("{}: data buffer has {} bytes but the tensors index only {}", path, data_size, cursor);
  return file;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries_) out.push_back(name);
  return out;
}

torch::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) fail("{}: no tensor named '{}'", path_, name);
  const auto& entry = it->second;
  const auto* dtype = find_dtype(entry.dtype);
  const auto options = torch::TensorOptions().dtype(dtype->type);
  char* data = static_cast<char*>(mapping_->base) + data_start_ + entry.begin;
  if (entry.end == entry.begin) return torch::empty(entry.shape, options);
  if (reinterpret_cast<uintptr_t>(data) % static_cast<uintptr_t>(dtype->bytes) != 0) {
    auto out = torch::empty(entry.shape, options);
    std::memcpy(out.data_ptr(), data, entry.end - entry.begin);
    return out;
  }
  auto keep_alive = mapping_;
  return torch::from_blob(
      data, entry.shape, [keep_alive](void*) {}, options);
}

std::map<std::string, torch::Tensor> load_safetensors(const std::string& path) {
  const auto file = SafetensorsFile::open(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, entry] : file.entries()) out[name] = file.tensor(name).clone();
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> payload;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    auto cpu = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(cpu.numel()) * cpu.element_size();
    header[name] = {{"dtype", safetensors_dtype_name(cpu.scalar_type())},
                    {"shape", cpu.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    payload.push_back(cpu);
  }
  std::string header_text = header.dump();
  // Pad with spaces so the data buffer starts 8-byte aligned, as the reference writer does.
  while ((8 + header_text.size()) % 8 != 0) header_text.push_back(' ');
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("{}: cannot open for writing", tmp);
    const uint64_t header_len = header_text.size();
    out.write(reinterpret_cast<const char*>(&header_len), 8);
    out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
    for (const auto& t : payload)
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    out.flush();
    if (!out) fail("{}: write failed (disk full?)", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    fail("{}: cannot rename {} into place: {}", path, tmp, std::strerror(errno));
}

}  // namespace vista::io
