#pragma once
// LoRA in a training run: the adapters' options from the config, the base model's identity, the
// learning rate of each trainable tensor, and the adapter checkpoint (adapters + projector, never
// the frozen base) with a manifest naming the base by path and content hash.
#include <string>
#include <vector>

#include "models/lora.h"
#include "models/multimodal_lm.h"
#include "train/freezing.h"
#include "train/train_config.h"

namespace vista::train {

models::LoraOptions lora_options(const TrainConfig& config);

// train.lora.base_dtype resolved for this device; bfloat16 converts the frozen LLM weights in place
// (half their memory; the forward runs under bf16 autocast anyway).
torch::ScalarType lora_base_dtype(const TrainConfig& config, torch::Device device);
void keep_frozen_llm_in(models::MultimodalLMImpl& model, torch::ScalarType dtype);

// The weight files the base model of this run is built from, and their content hash.
std::vector<std::string> base_weight_files(const TrainConfig& config);
std::string base_content_hash(const TrainConfig& config);

// Per trainable tensor: the adapters' rate, the projector's, or optim.lr.
std::vector<double> learning_rates(const StageParameters& trainables, const TrainConfig& config);

// <dir>/adapter_model.safetensors (every trainable tensor by its model name) and
// <dir>/adapter_config.json (LoRA options, the base's paths and hash, the model's layout).
void write_adapter_checkpoint(const std::string& dir, const StageParameters& trainables, const TrainConfig& config,
                              const std::string& base_hash);
bool is_adapter_checkpoint(const std::string& dir);
// The LoRA options an adapter folder was trained with.
models::LoraOptions read_adapter_options(const std::string& dir);
// Loads an adapter checkpoint into `model` (which already carries adapters), after checking that
// the base it was trained on is the one given (both hashes in the message otherwise).
void load_adapter_checkpoint(const std::string& dir, models::MultimodalLMImpl& model, const std::string& base_hash);

// An adapter folder (a LoRA run's final/ or checkpoint) as a model: the base rebuilt from the run's
// train_config.json (its paths as given at training time), adapters attached and loaded, eval mode.
struct AdapterModel {
  models::MultimodalLM model{nullptr};
  TrainConfig config;  // the run's
  models::LoraOptions options;
};
AdapterModel load_adapter_model(const std::string& dir, torch::Device device);

// The same model as plain weights: a fresh base, the adapters merged into it (float32 math) and
// the other trained tensors (projector) copied in.
models::MultimodalLM merge_adapter_model(const std::string& dir, torch::Device device);

}  // namespace vista::train
