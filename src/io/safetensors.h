#pragma once
// Reader and writer for the safetensors format (https://github.com/huggingface/safetensors):
// 8-byte little-endian header length, a JSON header, then one contiguous byte buffer.
// The reader memory-maps the file and validates every header field against the file size
// (io/safetensors_header.h) before any tensor is touched.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors_header.h"

namespace vista::io {

class SafetensorsFile {
 public:
  // Throws vista::Error naming the file and the problem for any malformed input.
  static SafetensorsFile open(const std::string& path);

  const std::string& path() const { return path_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::map<std::string, TensorEntry>& entries() const { return entries_; }
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  std::vector<std::string> names() const;

  // A CPU tensor viewing the mapped bytes (kept alive by the tensor). Read-only: callers that
  // need to write must clone. Misaligned data is copied.
  torch::Tensor tensor(const std::string& name) const;

 private:
  struct Mapping;
  std::string path_;
  std::shared_ptr<Mapping> mapping_;
  uint64_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, TensorEntry> entries_;
};

torch::ScalarType scalar_type_from_safetensors(const std::string& dtype, const std::string& context);
std::string safetensors_dtype_name(torch::ScalarType type);

// Writes tensors (any device, any layout; copied to contiguous CPU) atomically: a temporary file
// in the same folder, then rename, so readers never see a half-written file.
void save_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Convenience: every tensor of a file, cloned into owned CPU memory.
std::map<std::string, torch::Tensor> load_safetensors(const std::string& path);

}  // namespace vista::io
