#include "train/final_export.h"

#include <filesystem>

#include "io/model_companions.h"
#include "models/model_saving.h"
#include "train/checkpoint.h"
#include "train/lora_setup.h"

namespace vista::train {

namespace fs = std::filesystem;

std::string export_final_model(const TrainConfig& c, models::MultimodalLMImpl& model,
                               const image::ImageProcessorConfig& processor) {
  const auto dir = (fs::path(c.run_dir) / "final").string();
  models::save_multimodal(model, dir, {model.config().layout});
  save_projector(dir + "/mm_projector.safetensors", model);
  fs::copy_file(fs::path(c.run_dir) / "config.json", fs::path(dir) / "train_config.json",
                fs::copy_options::overwrite_existing);
  image::save_processor_config(dir + "/preprocessor_config.json", processor);
  io::write_model_companions(dir, {c.data.tokenizer, dir + "/preprocessor_config.json", c.data.template_name});
  return dir;
}

std::string export_final_adapter(const TrainConfig& c, const StageParameters& trainables, const std::string& base_hash,
                                 const image::ImageProcessorConfig& processor) {
  const auto dir = (fs::path(c.run_dir) / "final").string();
  write_adapter_checkpoint(dir, trainables, c, base_hash);
  fs::copy_file(fs::path(c.run_dir) / "config.json", fs::path(dir) / "train_config.json",
                fs::copy_options::overwrite_existing);
  image::save_processor_config(dir + "/preprocessor_config.json", processor);
  return dir;
}

}  // namespace vista::train
