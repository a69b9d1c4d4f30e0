#pragma once
// Loading models from Hugging Face folders, and the checkpoint layouts of multimodal models:
//   llava      official LLaVA / LLaVA-VISTA: model.*, lm_head.*, model.mm_projector.{0,2}.*; the
//              tower comes from mm_vision_tower (a copy under model.vision_tower.vision_tower.* is ignored)
//   llava-hf   transformers' LlavaForConditionalGeneration: language_model.*, vision_tower.*,
//              multi_modal_projector.linear_{1,2}.*
//   tinyllava  TinyLLaVA Factory: language_model.*, vision_tower._vision_tower.*, connector._connector.*
#include <string>

#include "models/causal_lm.h"
#include "models/multimodal_lm.h"
#include "models/vision_tower.h"
#include "models/weight_loading.h"

namespace vista::models {

CheckpointLayout checkpoint_layout(const io::LlavaConfig& config);

struct LoadOptions {
  std::string vision_tower_dir;  // official layout: overrides config.mm_vision_tower when set
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;
};

// Finds the folder named by mm_vision_tower: an existing absolute path, else relative to the
// model folder or any of its ancestors. Throws listing every place tried.
std::string resolve_vision_tower_dir(const std::string& model_dir, const std::string& mm_vision_tower);

// Any of the three layouts, recognised from config.json's model_type.
MultimodalLM load_multimodal(const std::string& model_dir, const LoadOptions& options = {});
std::shared_ptr<VisionTower> load_vision_tower(const std::string& dir, torch::Device device = torch::kCPU,
                                               torch::ScalarType dtype = torch::kFloat32);
std::shared_ptr<CausalLM> load_causal_lm(const std::string& dir, torch::Device device = torch::kCPU,
                                         torch::ScalarType dtype = torch::kFloat32);

}  // namespace vista::models
