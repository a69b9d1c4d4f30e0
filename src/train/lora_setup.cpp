#include "train/lora_setup.h"

#include <filesystem>

#include "io/content_hash.h"
#include "util/json_file.h"
#include "util/json_node.h"
#include "io/safetensors.h"
#include "train/model_setup.h"
#include "util/error.h"

namespace vista::train {

namespace fs = std::filesystem;

namespace {
const char* kAdapterWeights = "adapter_model.safetensors";
const char* kAdapterConfig = "adapter_config.json";
}  // namespace

models::LoraOptions lora_options(const TrainConfig& c) {
  models::LoraOptions o;
  o.r = c.train.lora.r;
  o.alpha = c.train.lora.alpha;
  o.dropout = c.train.lora.dropout;
  if (!c.train.lora.targets.empty()) o.targets = c.train.lora.targets;
  return o;
}

torch::ScalarType lora_base_dtype(const TrainConfig& c, torch::Device device) {
  const auto& d = c.train.lora.base_dtype;
  if (d == "bfloat16" || (d == "auto" && device.is_cuda() && c.train.bf16)) return torch::kBFloat16;
  return torch::kFloat32;
}

void keep_frozen_llm_in(models::MultimodalLMImpl& model, torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.language_model->parameters())
    if (!p.requires_grad() && p.scalar_type() != dtype) p.set_data(p.to(dtype));
}

std::vector<std::string> base_weight_files(const TrainConfig& c) {
  std::vector<std::string> files;
  auto add_folder = [&](const std::string& dir) {
    for (const auto* name : {"model.safetensors", "vision_tower/model.safetensors"})
      if (fs::exists(fs::path(dir) / name)) files.push_back((fs::path(dir) / name).string());
  };
  if (!c.model.path.empty()) add_folder(c.model.path);
  if (!c.model.vision_tower.empty()) add_folder(c.model.vision_tower);
  if (!c.model.llm.empty()) add_folder(c.model.llm);
  if (!c.model.projector_init.empty()) files.push_back(c.model.projector_init);
  return files;
}

std::string base_content_hash(const TrainConfig& c) { return io::content_hash(base_weight_files(c)); }

std::vector<double> learning_rates(const StageParameters& trainables, const TrainConfig& c) {
  const double adapters = c.train.lora.lr > 0 ? c.train.lora.lr : c.optim.lr;
  const double projector = c.train.lora.projector_lr > 0 ? c.train.lora.projector_lr : c.optim.lr;
  std::vector<double> out;
  for (const auto& name : trainables.names) {
    if (models::is_lora_parameter(name)) out.push_back(adapters);
    else if (name.rfind("projector.", 0) == 0) out.push_back(projector);
    else out.push_back(c.optim.lr);
  }
  return out;
}

void write_adapter_checkpoint(const std::string& dir, const StageParameters& trainables, const TrainConfig& c,
                              const std::string& base_hash) {
  fs::create_directories(dir);
  std::map<std::string, torch::Tensor> tensors;
  for (size_t i = 0; i < trainables.names.size(); ++i) tensors[trainables.names[i]] = trainables.all[i].detach();
  io::save_safetensors((fs::path(dir) / kAdapterWeights).string(), tensors, {{"format", "pt"}});
  const auto o = lora_options(c);
  write_json_file((fs::path(dir) / kAdapterConfig).string(), {{"format", "vista-lora"},
                                                              {"r", o.r},
                                                              {"alpha", o.alpha},
                                                              {"dropout", o.dropout},
                                                              {"targets", o.targets},
                                                              {"base",
                                                               {{"path", c.model.path},
                                                                {"vision_tower", c.model.vision_tower},
                                                                {"llm", c.model.llm},
                                                                {"projector_init", c.model.projector_init},
                                                                {"files", base_weight_files(c)},
                                                                {"content_hash", base_hash}}}});
}

bool is_adapter_checkpoint(const std::string& dir) { return fs::exists(fs::path(dir) / kAdapterConfig); }

models::LoraOptions read_adapter_options(const std::string& dir) {
  const auto path = (fs::path(dir) / kAdapterConfig).string();
  const JsonNode f = JsonNode::owning(read_json_file(path), path);
  models::LoraOptions o;
  o.r = f.integer("r");
  o.alpha = f.number("alpha");
  o.dropout = f.number_or("dropout", 0.0);
  if (!f.raw().contains("targets") || !f.raw()["targets"].is_array()) fail("{}: field 'targets' must be a list", path);
  o.targets = f.raw()["targets"].get<std::vector<std::string>>();
  return o;
}

void load_adapter_checkpoint(const std::string& dir, models::MultimodalLMImpl& model, const std::string& base_hash) {
  const auto config_path = (fs::path(dir) / kAdapterConfig).string();
  const JsonNode config = JsonNode::owning(read_json_file(config_path), config_path);
  const auto base = config.object("base");
  const auto recorded = base.string("content_hash");
  if (recorded != base_hash)
    fail("{}: these adapters were trained on a base with content hash {} (files {}), but the base given now hashes "
         "to {}; train on, or load with, the same base model",
         dir, recorded, base.raw().value("files", nlohmann::json::array()).dump(), base_hash);
  const auto file = io::SafetensorsFile::open((fs::path(dir) / kAdapterWeights).string());
  torch::NoGradGuard no_grad;
  size_t lora_in_model = 0, loaded = 0;
  for (auto& p : model.named_parameters()) {
    const bool lora = models::is_lora_parameter(p.key());
    lora_in_model += lora;
    if (!file.contains(p.key())) {
      if (lora) fail("{}/{}: no tensor for the adapter '{}'", dir, kAdapterWeights, p.key());
      continue;
    }
    const auto t = file.tensor(p.key());
    if (t.sizes() != p.value().sizes())
      fail("{}/{}: '{}' has shape {}, the model expects {}", dir, kAdapterWeights, p.key(), shape_string(t.sizes().vec()),
           shape_string(p.value().sizes().vec()));
    p.value().copy_(t);
    ++loaded;
  }
  if (loaded != file.names().size())
    fail("{}/{}: {} tensors, {} of them name parameters of the model (adapter options differ from the model's?)", dir,
         kAdapterWeights, file.names().size(), loaded);
  if (lora_in_model == 0) fail("{}: the model carries no LoRA adapters to load into", dir);
}

namespace {

TrainConfig run_config(const std::string& dir) {
  for (const auto* name : {"train_config.json", "../../config.json", "../config.json"}) {
    const auto path = fs::path(dir) / name;
    if (fs::exists(path)) return parse_train_config(read_json_file(path.string()));
  }
  fail("{}: no train_config.json (nor the run's config.json above it) to rebuild the base model from", dir);
}

}  // namespace

AdapterModel load_adapter_model(const std::string& dir, torch::Device device) {
  if (!is_adapter_checkpoint(dir)) fail("{}: not a LoRA adapter folder (no {})", dir, kAdapterConfig);
  AdapterModel out;
  out.config = run_config(dir);
  out.options = read_adapter_options(dir);
  out.model = build_model(out.config, device);
  out.model->set_preprocessing(out.config.data.image_aspect_ratio, out.config.data.max_length);
  models::add_lora_adapters(*out.model, out.options);
  load_adapter_checkpoint(dir, *out.model, base_content_hash(out.config));
  out.model->eval();
  return out;
}

models::MultimodalLM merge_adapter_model(const std::string& dir, torch::Device device) {
  const auto c = run_config(dir);
  const auto options = read_adapter_options(dir);
  const auto hash = base_content_hash(c);
  const auto config_path = (fs::path(dir) / kAdapterConfig).string();
  const auto recorded =
      JsonNode::owning(read_json_file(config_path), config_path).object("base").string("content_hash");
  if (recorded != hash)
    fail("{}: these adapters were trained on a base with content hash {}, the base found now hashes to {}", dir,
         recorded, hash);
  auto model = build_model(c, device);
  model->set_preprocessing(c.data.image_aspect_ratio, c.data.max_length);
  const auto file = io::SafetensorsFile::open((fs::path(dir) / kAdapterWeights).string());
  std::map<std::string, torch::Tensor> adapters;
  torch::NoGradGuard no_grad;
  auto params = model->named_parameters();
  for (const auto& name : file.names()) {
    if (models::is_lora_parameter(name)) {
      adapters[name] = file.tensor(name);
      continue;
    }
    auto* p = params.find(name);
    if (!p) fail("{}/{}: '{}' is not a parameter of the base model", dir, kAdapterWeights, name);
    p->copy_(file.tensor(name));
  }
  models::merge_lora_adapters(*model, adapters, options);
  model->eval();
  return model;
}

}  // namespace vista::train
