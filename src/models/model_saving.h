#pragma once
// Writing multimodal checkpoints in any of the three layouts (see model_loading.h), so one
// model can move between the official LLaVA code, transformers' llava-hf classes and TinyLLaVA
// Factory.
#include <string>

#include "models/multimodal_lm.h"

namespace vista::models {

struct SaveOptions {
  io::Layout layout = io::Layout::kOfficialLlava;
  // Tensors are written in their in-memory dtype.
};

// Writes <out_dir>/config.json and model.safetensors (atomically). The official layout also
// writes the tower to <out_dir>/vision_tower/ and points mm_vision_tower there. llava-hf needs
// <image> and <pad> vocabulary rows: when the model has none they are appended (initialised to
// the mean embedding / lm_head row) and the vocab padded to a multiple of 8, as transformers'
// converter does; converting back drops them again.
void save_multimodal(MultimodalLMImpl& model, const std::string& out_dir, const SaveOptions& options);

}  // namespace vista::models
