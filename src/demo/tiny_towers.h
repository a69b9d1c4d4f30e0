#pragma once
// The demo's small vision tower and LLM, made meaningful by a brief pretraining on the shapes
// data (attribute classification for the tower, next-token prediction on the conversations'
// text for the LLM) and saved as ordinary Hugging Face folders, cached for reuse.
#include <cstdint>
#include <string>

#include "io/hf_config.h"

namespace vista::demo {

struct TowerRecipe {
  int64_t image_size = 32, patch_size = 8, hidden = 64, layers = 2, heads = 4;
  int64_t steps = 120, batch = 32;
  double lr = 1e-3;
  uint64_t seed = 0;
};

struct LlmRecipe {
  int64_t hidden = 64, intermediate = 172, layers = 2, heads = 4, kv_heads = 2;
  int64_t steps = 300, batch = 16, max_tokens = 256;
  double lr = 2e-3;
  uint64_t seed = 0;
};

// A small CLIP vision tower's config (intermediate size 4 x hidden), as the demo's towers use.
io::VisionConfig tiny_clip_vision_config(int64_t image_size, int64_t patch_size, int64_t hidden, int64_t layers,
                                         int64_t heads);

// CLIP-style tower trained to tell shape, colour, position and size from the pretrain images;
// writes config.json, model.safetensors and preprocessor_config.json. Returns final accuracy.
double prepare_vision_tower(const std::string& out_dir, const std::string& pretrain_json, const std::string& images,
                            const TowerRecipe& recipe);

// LLaMA-style LLM with the tokenizer's vocabulary (tied embeddings), trained on the text of the
// stage-2 conversations (images removed, loss on the answers) and the stage-1 captions. Returns
// the final LM loss.
double prepare_llm(const std::string& out_dir, const std::string& finetune_json, const std::string& pretrain_json,
                   const std::string& tokenizer_dir, const LlmRecipe& recipe);

}  // namespace vista::demo
