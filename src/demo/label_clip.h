#pragma once
// The demo's SEA labeller: a small CLIPModel (both towers) trained on the shapes data so that
// image patches land near the words naming what they show, saved as an HF CLIPModel folder with
// the LLM's tokenizer.json (its two extra ids are CLIP's start and end of text) and a processor.
#include <cstdint>
#include <string>

namespace vista::demo {

struct LabelClipRecipe {
  int64_t image_size = 32, patch_size = 8, hidden = 64, layers = 2, heads = 4, projection = 32;
  int64_t steps = 150, batch = 32;
  double lr = 2e-3;
  uint64_t seed = 0;
};

// Returns the final attribute accuracy of the patch-to-word matching.
double prepare_label_clip(const std::string& out_dir, const std::string& pretrain_json, const std::string& images,
                          const std::string& tokenizer_dir, const LabelClipRecipe& recipe);

}  // namespace vista::demo
