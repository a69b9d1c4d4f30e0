#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace vista::io {

namespace {

// Element sizes live in io/safetensors_header.cpp (no libtorch); here only the tensor types.
struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
};

constexpr DtypeInfo kDtypes[] = {
    {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16}, {"F64", torch::kFloat64},
    {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},     {"I8", torch::kInt8},
    {"U8", torch::kUInt8},    {"BOOL", torch::kBool},
};

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
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

  auto header = parse_safetensors_header(path, static_cast<const char*>(mapping->base), file_size);
  file.data_start_ = header.data_start;
  file.metadata_ = std::move(header.metadata);
  file.entries_ = std::move(header.entries);
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
  if (reinterpret_cast<uintptr_t>(data) % static_cast<uintptr_t>(safetensors_dtype_bytes(entry.dtype)) != 0) {
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
