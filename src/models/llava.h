#pragma once
// LLaVA assembly: vision tower -> feature selection -> projector -> splice into the decoder.
#include <torch/torch.h>

#include <optional>
#include <string>

#include "io/hf_config.h"
#include "models/clip_vision.h"
#include "models/llama.h"
#include "models/multimodal_splice.h"
#include "models/projector.h"
#include "models/weight_loading.h"

namespace vista::models {

class LlavaForCausalLMImpl : public torch::nn::Module {
 public:
  LlavaForCausalLMImpl(const io::LlavaConfig& config, const io::VisionConfig& vision_config);

  // Vision features selected per mm_vision_select_layer / mm_vision_select_feature, projected:
  // [B, N, D_llm]. The tower runs without autograd while vision_frozen() (its usual state).
  torch::Tensor selected_vision_features(const torch::Tensor& pixels_BCHW);
  torch::Tensor encode_images(const torch::Tensor& pixels_BCHW);

  SplicedBatch prepare_inputs(const torch::Tensor& input_ids_BL, const torch::Tensor& attention_mask_BL,
                              const torch::Tensor& labels_BL, const torch::Tensor& image_features_KND);

  torch::Tensor hidden(const SplicedBatch& batch, const HiddenStateObserver& observer = nullptr);
  torch::Tensor logits(const torch::Tensor& hidden_BTD) { return language_model->logits(hidden_BTD); }

  bool vision_frozen() const { return vision_frozen_; }
  void set_vision_frozen(bool frozen) { vision_frozen_ = frozen; }
  const io::LlavaConfig& config() const { return config_; }

  ClipVisionModel vision_tower{nullptr};
  Projector projector{nullptr};
  LlamaForCausalLM language_model{nullptr};

 private:
  io::LlavaConfig config_;
  bool vision_frozen_ = true;
};
TORCH_MODULE(LlavaForCausalLM);

// The official LLaVA checkpoint layout (liuhaotian/llava-v1.5-*): model.*, lm_head.*,
// model.mm_projector.*, and a vision-tower copy under model.vision_tower.vision_tower.* that
// loaders ignore (the tower comes from mm_vision_tower).
CheckpointLayout official_llava_layout(const io::LlavaConfig& config);

struct LlavaLoadOptions {
  std::string vision_tower_dir;  // overrides config.mm_vision_tower when set
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;
};

// Finds the directory named by mm_vision_tower: an existing absolute path, else relative to the
// model folder or any of its ancestors. Throws listing every place tried.
std::string resolve_vision_tower_dir(const std::string& model_dir, const std::string& mm_vision_tower);

LlavaForCausalLM load_llava(const std::string& model_dir, const LlavaLoadOptions& options = {});
ClipVisionModel load_clip_vision(const std::string& dir, torch::Device device = torch::kCPU,
                                 torch::ScalarType dtype = torch::kFloat32);
LlamaForCausalLM load_llama(const std::string& dir, torch::Device device = torch::kCPU,
                            torch::ScalarType dtype = torch::kFloat32);

}  // namespace vista::models
