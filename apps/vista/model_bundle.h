#pragma once
// What `generate` and `eval` both load: the model, its tokenizer and its image processor.
#include <string>

#include "image/processor_config.h"
#include "models/multimodal_lm.h"
#include "text/tokenizer.h"

namespace vista::app {

struct ModelBundle {
  models::MultimodalLM model{nullptr};
  text::Tokenizer tokenizer;
  image::ImageProcessorConfig processor;
};

// tokenizer_dir empty: the model folder (final training folders carry their tokenizer).
ModelBundle load_model_bundle(const std::string& model_dir, const std::string& tokenizer_dir,
                              const std::string& vision_tower_dir, const std::string& device);

}  // namespace vista::app
