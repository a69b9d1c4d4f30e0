#pragma once
// One experiment = one JSON file (or a built-in preset) plus dotted command-line overrides
// (`vista train CONFIG train.lr=1e-4 loss.vista.enabled=false`). Overrides are applied to the
// JSON before parsing, so every value goes through the same typed validation.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "losses/vista_alignment.h"

namespace vista::train {

struct ModelSection {
  std::string path;            // a full multimodal checkpoint (any layout) to start from
  std::string vision_tower;    // or: a vision tower folder ...
  std::string llm;             // ... and an LLM folder, with a new projector
  std::string projector_type = "mlp2x_gelu";
  int64_t select_layer = -2;
  std::string select_feature = "patch";
  std::string projector_init;  // optional: projector weights from a stage-1 run (mm_projector.safetensors)
};

struct DataSection {
  std::string path, images, tokenizer;
  std::string template_name = "vicuna_v1";
  std::string image_aspect_ratio = "pad";  // pad or square
  std::string processor;                   // preprocessor_config.json; default: the tower folder's
  int64_t max_length = 2048;
  bool group_by_modality_length = false;
  std::string bad_sample_policy = "skip";  // skip (count and report) or stop
  double max_bad_fraction = 0.01;          // stop when more samples than this are bad
  int64_t loader_threads = 1;              // threads loading samples ahead of the step; 0: the step loads them
  int64_t prefetch_batches = 2;            // micro-batches those threads keep loading ahead
};

struct OptimSection {
  double lr = 2e-5;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.0;  // when > 0, biases and norm weights are excluded
  double warmup_ratio = 0.03;
  std::string schedule = "cosine";  // cosine or constant
  double max_grad_norm = 1.0;
};

// LoRA finetuning: adapters on the LLM's projections, the base frozen, the projector fully trained.
struct LoraSection {
  bool enabled = false;
  int64_t r = 8;
  double alpha = 16;
  double dropout = 0.05;
  std::vector<std::string> targets;  // module-path regular expressions; empty = the LLM's projections
  double lr = -1;                    // adapters; -1 = optim.lr
  double projector_lr = -1;          // the projector (LLaVA's mm_projector_lr); -1 = optim.lr
  // The frozen LLM weights: auto = bfloat16 on CUDA with train.bf16, else float32; float32;
  // bfloat16 (needs train.bf16: the forward runs under autocast).
  std::string base_dtype = "auto";
};

struct TrainSection {
  std::string stage = "finetune";  // pretrain: projector only; finetune: projector + LLM
  bool unfreeze_vision = false;
  int64_t epochs = 1;
  int64_t max_steps = -1;          // optimizer steps; -1 = epochs decide
  int64_t per_device_batch = 4;
  int64_t grad_accum = 1;
  uint64_t seed = 42;
  int threads = 0;
  std::string device = "cpu";
  bool bf16 = false;
  bool gradient_checkpointing = false;  // recompute decoder-layer activations in backward
  int64_t log_every = 1;
  int64_t save_every = 100;
  int64_t keep_last = 2;
  std::string resume = "auto";     // auto, none, or a checkpoint folder
  int64_t stop_after_steps = -1;   // stop as an interruption would (checkpoint written), for testing
  bool plot = true;
  int zero = 0;                    // across ranks: 0 replicated AdamW, 1 sharded state, 2 also sharded gradients
  LoraSection lora;
};

// Multi-process runs (torchrun, SLURM or `vista train --nproc-per-node N`); ignored in one process.
struct DistSection {
  std::string backend = "auto";  // auto (nccl on CUDA, gloo on CPU), gloo or nccl
  double timeout_s = 600;        // any collective waiting longer ends every rank with a message
  double bucket_mb = 25;         // gradients are averaged in flat buckets of about this size
};

// SEA (docs/method.md): token-level alignment of sampled visual tokens with CLIP-derived label
// words, a pretraining objective. Labels come from `vista sea label`.
struct SeaSection {
  bool enabled = false;
  std::string labels;       // label file written by `vista sea label` ...
  std::string online_clip;  // ... or a CLIPModel folder that labels each batch's images as they come
  std::string words;        // the word list the labels index
  int64_t top_n = 10;       // online labels: words kept per patch
  double score_sign = -1;   // online labels: -1 = the paper's -cos
  double lambda = 1.0;
  int64_t window = 2;           // one patch per k x k window
  double tau_min = 0.01;        // tau = exp(theta) >= tau_min
  double theta_init = 0.0;      // tau starts at exp(theta_init)
  bool allow_finetune = false;  // SEA is a stage-1 objective; stage 2 must ask for it
};

struct TrainConfig {
  std::string run_dir = "runs/default";
  ModelSection model;
  DataSection data;
  OptimSection optim;
  TrainSection train;
  DistSection dist;
  bool vista_enabled = true;
  losses::VistaOptions vista;
  SeaSection sea;
  nlohmann::json resolved;  // the JSON after presets and overrides, as saved beside checkpoints
};

// Names of the built-in presets (the paper's recipes, docs/method.md §4, and the demo's).
std::vector<std::string> preset_names();
nlohmann::json preset(const std::string& name);

// CONFIG is a preset name or a JSON file; a file may say {"preset": NAME, ...} to start from one.
nlohmann::json load_config_json(const std::string& config_or_preset);
// "a.b.c=value": value parsed as JSON when it is valid JSON, else taken as a string.
void apply_override(nlohmann::json& config, const std::string& assignment);
// Typed parse with errors naming the field; unknown keys are refused (typos must not pass).
TrainConfig parse_train_config(const nlohmann::json& config);

TrainConfig resolve_train_config(const std::string& config_or_preset, const std::vector<std::string>& overrides);

}  // namespace vista::train
