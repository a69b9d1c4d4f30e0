#pragma once
// Strict loading of Hugging Face checkpoints into modules: every parameter is loaded exactly
// once, or one error lists every missing, unexpected and mis-shaped tensor.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/safetensors.h"

namespace vista::models {

// A checkpoint folder: model.safetensors, or sharded model-*.safetensors with
// model.safetensors.index.json.
class CheckpointReader {
 public:
  static CheckpointReader open(const std::string& dir);
  std::vector<std::string> keys() const;
  bool contains(const std::string& key) const { return where_.count(key) != 0; }
  std::vector<int64_t> shape(const std::string& key) const;
  torch::Tensor tensor(const std::string& key) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::shared_ptr<io::SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;  // key -> index into files_
};

// Maps module parameter names to checkpoint keys by prefix rewriting (first matching rule wins;
// names matching no rule are used unchanged). Keys under an ignored prefix are allowed to be
// present in the checkpoint without a parameter (e.g. the vision-tower copy inside LLaVA files).
struct CheckpointLayout {
  std::vector<std::pair<std::string, std::string>> module_to_checkpoint;
  std::vector<std::string> ignored_checkpoint_prefixes;
  // Module parameters under these prefixes are not part of this checkpoint (loaded elsewhere).
  std::vector<std::string> skipped_module_prefixes;
  std::string map(const std::string& module_name) const;
};

struct LoadReport {
  size_t loaded = 0;
  size_t ignored = 0;
};

// Loads every parameter and buffer of `module` (except skipped prefixes) from `reader`.
// Tensors are converted to each parameter's dtype and device.
LoadReport load_strict(torch::nn::Module& module, const CheckpointReader& reader, const CheckpointLayout& layout);

// The module's parameters under checkpoint names (for saving).
std::map<std::string, torch::Tensor> export_state(torch::nn::Module& module, const CheckpointLayout& layout);

}  // namespace vista::models
