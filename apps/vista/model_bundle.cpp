#include "apps/vista/model_bundle.h"

#include <filesystem>

#include "models/model_loading.h"
#include "train/lora_setup.h"
#include "util/error.h"

namespace vista::app {

ModelBundle load_model_bundle(const std::string& model_dir, const std::string& tokenizer_dir,
                              const std::string& vision_tower_dir, const std::string& device) {
  if (train::is_adapter_checkpoint(model_dir)) {  // a LoRA run's folder: base + adapters, unmerged
    auto adapter = train::load_adapter_model(model_dir, torch::Device(device));
    const auto processor = model_dir + "/preprocessor_config.json";
    return ModelBundle{adapter.model,
                       text::Tokenizer::from_dir(tokenizer_dir.empty() ? adapter.config.data.tokenizer : tokenizer_dir),
                       image::load_processor_config(processor)};
  }
  models::LoadOptions load;
  load.device = torch::Device(device);
  load.vision_tower_dir = vision_tower_dir;
  const auto processor_path = model_dir + "/preprocessor_config.json";
  if (!std::filesystem::exists(processor_path))
    fail("{}: missing; the image processor settings are needed to preprocess images", processor_path);
  return ModelBundle{models::load_multimodal(model_dir, load),
                     text::Tokenizer::from_dir(tokenizer_dir.empty() ? model_dir : tokenizer_dir),
                     image::load_processor_config(processor_path)};
}

}  // namespace vista::app
