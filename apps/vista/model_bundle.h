#pragma once
// What `generate`, `eval`, `analyze` and `serve` load: the model, its tokenizer, its image
// processor and the settings that travel with it (conversation template, aspect mode).
#include <string>

#include "image/processor_config.h"
#include "inference/model_settings.h"
#include "models/multimodal_lm.h"
#include "serve/server.h"
#include "text/tokenizer.h"

namespace vista::app {

struct ModelBundle {
  models::MultimodalLM model{nullptr};
  text::Tokenizer tokenizer;
  image::ImageProcessorConfig processor;
  inference::ModelSettings settings;
};

struct BundleFlags {
  std::string tokenizer_dir;     // empty: the model folder (final training folders carry their tokenizer)
  std::string vision_tower_dir;  // llava layout without an embedded tower
  std::string template_name;     // empty: the model's own
  std::string aspect;            // empty: the model's own
};

ModelBundle load_model_bundle(const std::string& model_dir, const BundleFlags& flags, const std::string& device);

// How a model folder is named to people: after the folder, except that a training run's
// <run>/<stage>/final is "<run>/<stage>" (every run's last folder is called final).
std::string model_display_name(const std::string& model_dir);

// The same, ready to serve under model_id (empty: model_display_name).
std::shared_ptr<serve::ServedModel> load_served_model(const std::string& model_dir, const BundleFlags& flags,
                                                      const std::string& device, const std::string& model_id);

}  // namespace vista::app
