#include "train/train_config.h"

#include <cmath>
#include <type_traits>
#include <filesystem>
#include <set>

#include "util/error.h"
#include "util/json_file.h"
#include "util/json_node.h"

namespace vista::train {

namespace {

// The paper's recipes; the -lora presets take LLaVA's finetune_lora.sh values (r 128, alpha 256,
// dropout 0.05, lr 2e-4, projector lr 2e-5); -sea is CE + SEA (docs/method.md §3.4) in stage 1. Data paths are
// placeholders the user overrides (data.path=..., data.images=...).
const char* kPresets = R"({
 "llava-1.5-7b-pretrain": {
   "run_dir": "runs/llava-1.5-7b-pretrain",
   "model": {"vision_tower": "openai/clip-vit-large-patch14-336", "llm": "lmsys/vicuna-7b-v1.5", "projector_type": "mlp2x_gelu", "select_layer": -2, "select_feature": "patch"},
   "data": {"path": "blip_laion_cc_sbu_558k.json", "images": "LLaVA-Pretrain/images", "tokenizer": "lmsys/vicuna-7b-v1.5", "template": "plain", "image_aspect_ratio": "square", "max_length": 2048, "group_by_modality_length": false},
   "optim": {"lr": 0.001, "warmup_ratio": 0.03, "schedule": "cosine", "weight_decay": 0.0, "max_grad_norm": 1.0},
   "train": {"stage": "pretrain", "epochs": 1, "per_device_batch": 32, "grad_accum": 8, "bf16": true, "gradient_checkpointing": true, "save_every": 500, "keep_last": 2},
   "loss": {"vista": {"enabled": true, "method": "l2", "reduce": "mean", "position_weight": "t_over_m", "lambda": 1.0}}
 },
 "llava-1.5-7b-finetune": {
   "run_dir": "runs/llava-1.5-7b-finetune",
   "model": {"vision_tower": "openai/clip-vit-large-patch14-336", "llm": "lmsys/vicuna-7b-v1.5", "projector_type": "mlp2x_gelu", "select_layer": -2, "select_feature": "patch", "projector_init": "runs/llava-1.5-7b-pretrain/final/mm_projector.safetensors"},
   "data": {"path": "llava_v1_5_mix665k.json", "images": "data", "tokenizer": "lmsys/vicuna-7b-v1.5", "template": "vicuna_v1", "image_aspect_ratio": "pad", "max_length": 2048, "group_by_modality_length": true},
   "optim": {"lr": 2e-05, "warmup_ratio": 0.03, "schedule": "cosine", "weight_decay": 0.0, "max_grad_norm": 1.0},
   "train": {"stage": "finetune", "epochs": 1, "per_device_batch": 16, "grad_accum": 8, "bf16": true, "gradient_checkpointing": true, "save_every": 500, "keep_last": 2},
   "loss": {"vista": {"enabled": true, "method": "l2", "reduce": "mean", "position_weight": "t_over_m", "lambda": 1.0}}
 },
 "tinyllava-3b-pretrain": {
   "run_dir": "runs/tinyllava-3b-pretrain",
   "model": {"vision_tower": "google/siglip-so400m-patch14-384", "llm": "microsoft/phi-2", "projector_type": "mlp2x_gelu", "select_layer": -2, "select_feature": "patch"},
   "data": {"path": "blip_laion_cc_sbu_558k.json", "images": "LLaVA-Pretrain/images", "tokenizer": "microsoft/phi-2", "template": "pretrain", "image_aspect_ratio": "square", "max_length": 3072, "group_by_modality_length": false},
   "optim": {"lr": 0.001, "warmup_ratio": 0.03, "schedule": "cosine", "weight_decay": 0.0, "max_grad_norm": 1.0},
   "train": {"stage": "pretrain", "epochs": 1, "per_device_batch": 32, "grad_accum": 8, "bf16": true, "gradient_checkpointing": true, "save_every": 500, "keep_last": 2},
   "loss": {"vista": {"enabled": true, "method": "l2", "reduce": "mean", "position_weight": "t_over_m", "lambda": 1.0}}
 },
 "tinyllava-3b-finetune": {
   "run_dir": "runs/tinyllava-3b-finetune",
   "model": {"vision_tower": "google/siglip-so400m-patch14-384", "llm": "microsoft/phi-2", "projector_type": "mlp2x_gelu", "select_layer": -2, "select_feature": "patch", "projector_init": "runs/tinyllava-3b-pretrain/final/mm_projector.safetensors"},
   "data": {"path": "llava_v1_5_mix665k.json", "images": "data", "tokenizer": "microsoft/phi-2", "template": "phi", "image_aspect_ratio": "square", "max_length": 3072, "group_by_modality_length": true},
   "optim": {"lr": 2e-05, "warmup_ratio": 0.03, "schedule": "cosine", "weight_decay": 0.0, "max_grad_norm": 1.0},
   "train": {"stage": "finetune", "epochs": 1, "per_device_batch": 8, "grad_accum": 16, "bf16": true, "gradient_checkpointing": true, "save_every": 500, "keep_last": 2},
   "loss": {"vista": {"enabled": true, "method": "l2", "reduce": "mean", "position_weight": "t_over_m", "lambda": 1.0}}
 },
 "llava-1.5-7b-finetune-lora": {
   "preset": "llava-1.5-7b-finetune",
   "run_dir": "runs/llava-1.5-7b-finetune-lora",
   "optim": {"lr": 0.0002},
   "train": {"lora": {"enabled": true, "r": 128, "alpha": 256, "dropout": 0.05, "projector_lr": 2e-05}}
 },
 "llava-1.5-7b-pretrain-sea": {
   "preset": "llava-1.5-7b-pretrain",
   "run_dir": "runs/llava-1.5-7b-pretrain-sea",
   "loss": {"vista": {"enabled": false}, "sea": {"enabled": true, "labels": "sea/llava-pretrain-558k.sealabels", "words": "sea/words.txt", "lambda": 1.0, "window": 2, "tau_min": 0.01}}
 },
 "tinyllava-3b-finetune-lora": {
   "preset": "tinyllava-3b-finetune",
   "run_dir": "runs/tinyllava-3b-finetune-lora",
   "optim": {"lr": 0.0002},
   "train": {"lora": {"enabled": true, "r": 128, "alpha": 256, "dropout": 0.05, "projector_lr": 2e-05}}
 }
})";

void merge(nlohmann::json& base, const nlohmann::json& patch) {
  for (const auto& [key, value] : patch.items()) {
    if (value.is_object() && base.contains(key) && base[key].is_object()) merge(base[key], value);
    else base[key] = value;
  }
}

// Reads one section with typed getters and refuses keys nobody reads.
class Section {
 public:
  Section(const JsonNode& parent, const std::string& key) : node_(child(parent, key)) {}
  template <typename T>
  void get(const std::string& key, T& out) {
    seen_.insert(key);
    if (const auto value = node_.find(key)) out = value->as<T>();
  }
  Section sub(const std::string& key) {
    seen_.insert(key);
    return Section(node_, key);
  }
  void finish() const {
    for (const auto& [key, value] : node_.raw().items())
      if (!seen_.count(key)) fail("{}: unknown key '{}.{}'", node_.file(), node_.path(), key);
  }

 private:
  // An absent section reads as an empty one.
  static JsonNode child(const JsonNode& parent, const std::string& key) {
    if (parent.has(key)) return parent.object(key);
    const std::string path = parent.path().empty() ? key : parent.path() + "." + key;
    return JsonNode::owning(nlohmann::json::object(), parent.file(), path);
  }
  JsonNode node_;
  std::set<std::string> seen_;
};

// Range checks: every numeric field has one, and the error names the field, the value and the range.
template <typename T>
void require_at_least(const char* field, T value, T minimum, const char* why = "") {
  if (!(value >= minimum)) fail("config: {} is {}, expected >= {}{}", field, value, minimum, why);
}
void require_finite_range(const char* field, double value, double lo, double hi, bool lo_open, bool hi_open) {
  const bool ok = std::isfinite(value) && (lo_open ? value > lo : value >= lo) && (hi_open ? value < hi : value <= hi);
  if (!ok)
    fail("config: {} is {}, expected a number in {}{}, {}{}", field, value, lo_open ? "(" : "[", lo, hi,
         hi_open ? ")" : "]");
}
void require_steps_or_unset(const char* field, int64_t value) {
  if (value != -1 && value < 1) fail("config: {} is {}, expected -1 (unset) or >= 1", field, value);
}
bool is_device_name(const std::string& device) {
  if (device == "cpu" || device == "cuda") return true;
  if (device.rfind("cuda:", 0) != 0 || device.size() == 5) return false;
  return device.find_first_not_of("0123456789", 5) == std::string::npos;
}

}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> out;
  const auto all = nlohmann::json::parse(kPresets);  // items() of a temporary would dangle
  for (const auto& [k, v] : all.items()) out.push_back(k);
  return out;
}

nlohmann::json preset(const std::string& name) {
  const auto all = nlohmann::json::parse(kPresets);
  if (!all.contains(name)) {
    std::string names;
    for (const auto& n : preset_names()) names += (names.empty() ? "" : ", ") + n;
    fail("no preset named '{}' (presets: {})", name, names);
  }
  auto out = all[name];
  if (out.contains("preset")) {  // a variant of another preset: its differences only
    auto base = preset(out["preset"].get<std::string>());
    out.erase("preset");
    merge(base, out);
    return base;
  }
  return out;
}

nlohmann::json load_config_json(const std::string& config_or_preset) {
  nlohmann::json config;
  if (std::filesystem::exists(config_or_preset)) {
    config = read_json_file(config_or_preset);
    if (!config.is_object()) fail("{}: a training config must be a JSON object", config_or_preset);
    if (config.contains("preset")) {
      auto base = preset(config["preset"].get<std::string>());
      config.erase("preset");
      merge(base, config);
      config = base;
    }
  } else if (config_or_preset.find('/') == std::string::npos && config_or_preset.find(".json") == std::string::npos) {
    config = preset(config_or_preset);
  } else {
    fail("{}: config file does not exist", config_or_preset);
  }
  return config;
}

void apply_override(nlohmann::json& config, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    fail("override '{}' must look like key.sub=value", assignment);
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    value = text;
  } catch (const nlohmann::json::exception& e) {  // e.g. a number too large for a double
    fail("override '{}': {} cannot be read: {}", assignment, text, e.what());
  }
  nlohmann::json* node = &config;
  size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const auto key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) fail("override '{}': empty key", assignment);
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return;
    }
    if (!node->contains(key)) (*node)[key] = nlohmann::json::object();
    node = &(*node)[key];
    if (!node->is_object()) fail("override '{}': '{}' is not a section", assignment, key);
    start = dot + 1;
  }
}

TrainConfig parse_train_config(const nlohmann::json& config) {
  TrainConfig c;
  c.resolved = config;
  for (const auto& [key, value] : config.items())
    if (key != "run_dir" && key != "model" && key != "data" && key != "optim" && key != "train" && key != "loss" &&
        key != "dist")
      fail("config: unknown top-level key '{}'", key);
  const JsonNode root(config, "config");
  c.run_dir = root.string_or("run_dir", c.run_dir);
  {
    Section s(root, "model");
    s.get("path", c.model.path);
    s.get("vision_tower", c.model.vision_tower);
    s.get("llm", c.model.llm);
    s.get("projector_type", c.model.projector_type);
    s.get("select_layer", c.model.select_layer);
    s.get("select_feature", c.model.select_feature);
    s.get("projector_init", c.model.projector_init);
    s.finish();
  }
  {
    Section s(root, "data");
    s.get("path", c.data.path);
    s.get("images", c.data.images);
    s.get("tokenizer", c.data.tokenizer);
    s.get("template", c.data.template_name);
    s.get("image_aspect_ratio", c.data.image_aspect_ratio);
    s.get("processor", c.data.processor);
    s.get("max_length", c.data.max_length);
    s.get("group_by_modality_length", c.data.group_by_modality_length);
    s.get("bad_sample_policy", c.data.bad_sample_policy);
    s.get("max_bad_fraction", c.data.max_bad_fraction);
    s.get("loader_threads", c.data.loader_threads);
    s.get("prefetch_batches", c.data.prefetch_batches);
    s.finish();
    if (c.data.bad_sample_policy != "skip" && c.data.bad_sample_policy != "stop")
      fail("config: data.bad_sample_policy is '{}', expected 'skip' or 'stop'", c.data.bad_sample_policy);
    if (c.data.image_aspect_ratio != "pad" && c.data.image_aspect_ratio != "square")
      fail("config: data.image_aspect_ratio is '{}', expected 'pad' or 'square'", c.data.image_aspect_ratio);
    require_at_least<int64_t>("data.max_length", c.data.max_length, 1);
    require_finite_range("data.max_bad_fraction", c.data.max_bad_fraction, 0.0, 1.0, false, false);
    require_at_least<int64_t>("data.loader_threads", c.data.loader_threads, 0);
    if (c.data.loader_threads > 64)
      fail("config: data.loader_threads is {}, expected 0 (load in the step) to 64", c.data.loader_threads);
    require_at_least<int64_t>("data.prefetch_batches", c.data.prefetch_batches, 1);
  }
  {
    Section s(root, "optim");
    s.get("lr", c.optim.lr);
    std::vector<double> betas;
    s.get("betas", betas);
    if (!betas.empty()) {
      if (betas.size() != 2) fail("config: optim.betas must hold two numbers");
      c.optim.beta1 = betas[0];
      c.optim.beta2 = betas[1];
    }
    s.get("eps", c.optim.eps);
    s.get("weight_decay", c.optim.weight_decay);
    s.get("warmup_ratio", c.optim.warmup_ratio);
    s.get("schedule", c.optim.schedule);
    s.get("max_grad_norm", c.optim.max_grad_norm);
    s.finish();
    if (c.optim.schedule != "cosine" && c.optim.schedule != "constant")
      fail("config: optim.schedule is '{}', expected 'cosine' or 'constant'", c.optim.schedule);
    require_finite_range("optim.lr", c.optim.lr, 0.0, 1e3, true, false);
    require_finite_range("optim.betas[0]", c.optim.beta1, 0.0, 1.0, false, true);
    require_finite_range("optim.betas[1]", c.optim.beta2, 0.0, 1.0, false, true);
    require_finite_range("optim.eps", c.optim.eps, 0.0, 1.0, true, false);
    require_finite_range("optim.weight_decay", c.optim.weight_decay, 0.0, 1e3, false, false);
    require_finite_range("optim.warmup_ratio", c.optim.warmup_ratio, 0.0, 1.0, false, false);
    require_finite_range("optim.max_grad_norm", c.optim.max_grad_norm, 0.0, 1e30, true, false);
  }
  {
    Section s(root, "train");
    auto& t = c.train;
    s.get("stage", t.stage);
    s.get("unfreeze_vision", t.unfreeze_vision);
    s.get("epochs", t.epochs);
    s.get("max_steps", t.max_steps);
    s.get("per_device_batch", t.per_device_batch);
    s.get("grad_accum", t.grad_accum);
    if (const auto& tj = config.value("train", nlohmann::json::object()); tj.is_object() && tj.contains("seed") &&
                                                                          tj["seed"].is_number_integer() &&
                                                                          tj["seed"].get<int64_t>() < 0)
      fail("config: train.seed is {}, expected an integer >= 0", tj["seed"].dump());
    s.get("seed", t.seed);
    s.get("threads", t.threads);
    s.get("device", t.device);
    s.get("bf16", t.bf16);
    s.get("gradient_checkpointing", t.gradient_checkpointing);
    s.get("log_every", t.log_every);
    s.get("save_every", t.save_every);
    s.get("keep_last", t.keep_last);
    s.get("resume", t.resume);
    s.get("stop_after_steps", t.stop_after_steps);
    s.get("plot", t.plot);
    s.get("zero", t.zero);
    {
      auto l = s.sub("lora");
      l.get("enabled", t.lora.enabled);
      l.get("r", t.lora.r);
      l.get("alpha", t.lora.alpha);
      l.get("dropout", t.lora.dropout);
      l.get("targets", t.lora.targets);
      l.get("lr", t.lora.lr);
      l.get("projector_lr", t.lora.projector_lr);
      l.get("base_dtype", t.lora.base_dtype);
      l.finish();
      if (t.lora.base_dtype != "auto" && t.lora.base_dtype != "float32" && t.lora.base_dtype != "bfloat16")
        fail("config: train.lora.base_dtype is '{}', expected 'auto', 'float32' or 'bfloat16'", t.lora.base_dtype);
      if (t.lora.base_dtype == "bfloat16" && !t.bf16)
        fail("config: train.lora.base_dtype = bfloat16 needs train.bf16 = true (the forward must run under autocast)");
      require_at_least<int64_t>("train.lora.r", t.lora.r, 1);
      require_finite_range("train.lora.alpha", t.lora.alpha, 0.0, 1e6, true, false);
      require_finite_range("train.lora.dropout", t.lora.dropout, 0.0, 1.0, false, true);
      if (t.lora.lr != -1) require_finite_range("train.lora.lr", t.lora.lr, 0.0, 1e3, true, false);
      if (t.lora.projector_lr != -1)
        require_finite_range("train.lora.projector_lr", t.lora.projector_lr, 0.0, 1e3, true, false);
      if (t.lora.enabled && t.stage != "finetune")
        fail("config: train.lora.enabled needs train.stage = finetune (stage 1 trains the projector only)");
    }
    s.finish();
    if (t.zero < 0 || t.zero > 2)
      fail("config: train.zero is {}, expected 0 (replicated optimizer), 1 (sharded optimizer state) or 2 (sharded "
           "state and gradients)", t.zero);
    if (t.stage != "pretrain" && t.stage != "finetune")
      fail("config: train.stage is '{}', expected 'pretrain' or 'finetune'", t.stage);
    require_at_least<int64_t>("train.epochs", t.epochs, 1);
    require_steps_or_unset("train.max_steps", t.max_steps);
    require_at_least<int64_t>("train.per_device_batch", t.per_device_batch, 1);
    require_at_least<int64_t>("train.grad_accum", t.grad_accum, 1);
    require_at_least<int>("train.threads", t.threads, 0, " (0 = all cores)");
    if (t.threads > 1024) fail("config: train.threads is {}, expected 0 (all cores) to 1024", t.threads);
    require_at_least<int64_t>("train.log_every", t.log_every, 1);
    require_at_least<int64_t>("train.save_every", t.save_every, 1,
                              " (optimizer steps between checkpoints; the last step is always saved)");
    require_at_least<int64_t>("train.keep_last", t.keep_last, 1);
    require_steps_or_unset("train.stop_after_steps", t.stop_after_steps);
    if (!is_device_name(t.device)) fail("config: train.device is '{}', expected 'cpu', 'cuda' or 'cuda:N'", t.device);
    if (t.resume.empty()) fail("config: train.resume is empty, expected 'auto', 'none' or a checkpoint folder");
  }
  {
    Section s(root, "dist");
    s.get("backend", c.dist.backend);
    s.get("timeout_s", c.dist.timeout_s);
    s.get("bucket_mb", c.dist.bucket_mb);
    s.finish();
    if (c.dist.backend != "auto" && c.dist.backend != "gloo" && c.dist.backend != "nccl")
      fail("config: dist.backend is '{}', expected 'auto', 'gloo' or 'nccl'", c.dist.backend);
    require_finite_range("dist.timeout_s", c.dist.timeout_s, 1.0, 86400.0, false, false);
    require_finite_range("dist.bucket_mb", c.dist.bucket_mb, 0.0, 4096.0, true, false);
  }
  {
    Section loss(root, "loss");
    auto v = loss.sub("vista");
    std::string method = "l2", reduce = "mean", weight = "t_over_m";
    v.get("enabled", c.vista_enabled);
    v.get("method", method);
    v.get("reduce", reduce);
    v.get("position_weight", weight);
    v.get("lambda", c.vista.lambda);
    v.get("detach_text", c.vista.detach_text);
    v.finish();
    auto sea = loss.sub("sea");
    sea.get("enabled", c.sea.enabled);
    sea.get("labels", c.sea.labels);
    sea.get("online_clip", c.sea.online_clip);
    sea.get("words", c.sea.words);
    sea.get("top_n", c.sea.top_n);
    sea.get("score_sign", c.sea.score_sign);
    sea.get("lambda", c.sea.lambda);
    sea.get("window", c.sea.window);
    sea.get("tau_min", c.sea.tau_min);
    sea.get("theta_init", c.sea.theta_init);
    sea.get("allow_finetune", c.sea.allow_finetune);
    sea.finish();
    loss.finish();
    if (c.sea.enabled) {
      require_finite_range("loss.sea.lambda", c.sea.lambda, 0.0, 1e6, false, false);
      require_finite_range("loss.sea.tau_min", c.sea.tau_min, 0.0, 100.0, true, false);
      require_finite_range("loss.sea.theta_init", c.sea.theta_init, -20.0, 20.0, false, false);
      require_at_least<int64_t>("loss.sea.window", c.sea.window, 1);
      if (c.sea.words.empty()) fail("config: loss.sea.words is required when loss.sea.enabled is true");
      if (c.sea.labels.empty() == c.sea.online_clip.empty())
        fail(
            "config: set exactly one of loss.sea.labels (a label file from `vista sea label`) and loss.sea.online_clip "
            "(a CLIPModel folder labelling each batch)");
      require_at_least<int64_t>("loss.sea.top_n", c.sea.top_n, 1);
      if (c.sea.score_sign != 1.0 && c.sea.score_sign != -1.0)
        fail("config: loss.sea.score_sign is {}, expected -1 (the paper's -cos) or 1", c.sea.score_sign);
      if (c.train.stage != "pretrain" && !c.sea.allow_finetune)
        fail(
            "config: loss.sea.enabled in stage '{}': SEA is a stage-1 (pretrain) objective; set "
            "loss.sea.allow_finetune=true to use it anyway",
            c.train.stage);
      if (c.train.lora.enabled) fail("config: loss.sea.enabled with train.lora.enabled is not supported");
    }
    require_finite_range("loss.vista.lambda", c.vista.lambda, 0.0, 1e6, false, false);
    c.vista.method = losses::parse_vista_method(method);
    c.vista.reduce = losses::parse_vista_reduce(reduce);
    c.vista.weight = losses::parse_vista_weight(weight);
  }
  if (c.model.path.empty() && (c.model.vision_tower.empty() || c.model.llm.empty()))
    fail("config: set model.path (a multimodal checkpoint) or both model.vision_tower and model.llm");
  for (const auto& [name, value] : {std::pair{"data.path", c.data.path}, {"data.tokenizer", c.data.tokenizer}})
    if (value.empty()) fail("config: {} is required", name);
  return c;
}

TrainConfig resolve_train_config(const std::string& config_or_preset, const std::vector<std::string>& overrides) {
  auto json = load_config_json(config_or_preset);
  for (const auto& o : overrides) apply_override(json, o);
  return parse_train_config(json);
}

}  // namespace vista::train
