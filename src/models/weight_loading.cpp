#include "models/weight_loading.h"

#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "util/json_file.h"
#include "util/error.h"

namespace vista::models {

namespace fs = std::filesystem;

CheckpointReader CheckpointReader::open(const std::string& dir) {
  CheckpointReader reader;
  reader.dir_ = dir;
  const auto single = fs::path(dir) / "model.safetensors";
  const auto index = fs::path(dir) / "model.safetensors.index.json";
  std::vector<std::string> shard_names;
  if (fs::exists(single)) {
    shard_names.push_back("model.safetensors");
  } else if (fs::exists(index)) {
    const auto json = read_json_file(index.string());
    if (!json.contains("weight_map") || !json["weight_map"].is_object())
      fail("{}: missing object field 'weight_map'", index.string());
    std::set<std::string> unique;
    for (const auto& [key, shard] : json["weight_map"].items()) {
      if (!shard.is_string()) fail("{}: weight_map['{}'] must be a file name", index.string(), key);
      unique.insert(shard.get<std::string>());
    }
    shard_names.assign(unique.begin(), unique.end());
  } else if (fs::exists(fs::path(dir) / "pytorch_model.bin") ||
             fs::exists(fs::path(dir) / "pytorch_model.bin.index.json")) {
    fail("{}: holds PyTorch pickle weights (pytorch_model.bin); vista reads safetensors only. Convert once "
         "with `python -c \"from transformers import AutoModel; ...save_pretrained(out, safe_serialization=True)\"`",
         dir);
  } else {
    fail("{}: no model.safetensors or model.safetensors.index.json found", dir);
  }
  for (const auto& name : shard_names) {
    auto file = std::make_shared<io::SafetensorsFile>(io::SafetensorsFile::open((fs::path(dir) / name).string()));
    for (const auto& key : file->names()) {
      if (reader.where_.count(key))
        fail("{}: tensor '{}' appears in more than one shard ({} and {})", dir, key,
             reader.files_[reader.where_[key]]->path(), file->path());
      reader.where_[key] = reader.files_.size();
    }
    reader.files_.push_back(file);
  }
  return reader;
}

std::vector<std::string> CheckpointReader::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, i] : where_) out.push_back(k);
  return out;
}

std::vector<int64_t> CheckpointReader::shape(const std::string& key) const {
  return files_.at(where_.at(key))->entries().at(key).shape;
}

torch::Tensor CheckpointReader::tensor(const std::string& key) const {
  const auto it = where_.find(key);
  if (it == where_.end()) fail("{}: no tensor '{}'", dir_, key);
  return files_[it->second]->tensor(key);
}

std::string CheckpointLayout::map(const std::string& module_name) const {
  for (const auto& [from, to] : module_to_checkpoint)
    if (module_name.rfind(from, 0) == 0) return to + module_name.substr(from.size());
  return module_name;
}

namespace {
bool has_prefix(const std::string& name, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes)
    if (name.rfind(p, 0) == 0) return true;
  return false;
}

std::vector<std::pair<std::string, torch::Tensor>> named_state(torch::nn::Module& module, const CheckpointLayout& layout) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : module.named_parameters(/*recurse=*/true))
    if (!has_prefix(item.key(), layout.skipped_module_prefixes)) out.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true))
    if (!has_prefix(item.key(), layout.skipped_module_prefixes)) out.emplace_back(item.key(), item.value());
  return out;
}
}  // namespace

LoadReport load_strict(torch::nn::Module& module, const CheckpointReader& reader, const CheckpointLayout& layout) {
  std::vector<std::string> missing, misshaped;
  std::set<std::string> used;
  std::vector<std::pair<torch::Tensor, std::string>> to_copy;
  for (auto& [name, param] : named_state(module, layout)) {
    const std::string key = layout.map(name);
    if (!reader.contains(key)) {
      missing.push_back(fmt::format("{} (expected shape {})", key, shape_string(param.sizes().vec())));
      continue;
    }
    if (!used.insert(key).second) fail("{}: tensor '{}' would be loaded twice (layout error)", reader.dir(), key);
    const auto shape = reader.shape(key);
    if (shape != param.sizes().vec()) {
      misshaped.push_back(fmt::format("{}: expected {}, got {}", key, shape_string(param.sizes().vec()), shape_string(shape)));
      continue;
    }
    to_copy.emplace_back(param, key);
  }
  std::vector<std::string> unexpected;
  LoadReport report;
  for (const auto& key : reader.keys()) {
    if (used.count(key)) continue;
    if (has_prefix(key, layout.ignored_checkpoint_prefixes)) {
      ++report.ignored;
      continue;
    }
    unexpected.push_back(key);
  }
  if (!missing.empty() || !misshaped.empty() || !unexpected.empty()) {
    std::string message = fmt::format("{}: checkpoint does not match the model ({} missing, {} unexpected, {} mis-shaped)",
                                      reader.dir(), missing.size(), unexpected.size(), misshaped.size());
    for (const auto& m : missing) message += "\n  missing: " + m;
    for (const auto& u : unexpected) message += "\n  unexpected: " + u;
    for (const auto& m : misshaped) message += "\n  mis-shaped: " + m;
    throw Error(message);
  }
  torch::NoGradGuard no_grad;
  for (auto& [param, key] : to_copy) param.copy_(reader.tensor(key));
  report.loaded = to_copy.size();
  return report;
}

std::map<std::string, torch::Tensor> export_state(torch::nn::Module& module, const CheckpointLayout& layout) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, tensor] : named_state(module, layout)) out[layout.map(name)] = tensor.detach();
  return out;
}

}  // namespace vista::models
