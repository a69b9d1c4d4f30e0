#include "apps/vista/model_bundle.h"

#include <filesystem>

#include "models/model_loading.h"
#include "train/lora_setup.h"
#include "util/error.h"

namespace vista::app {

ModelBundle load_model_bundle(const std::string& model_dir, const BundleFlags& flags, const std::string& device) {
  if (train::is_adapter_checkpoint(model_dir)) {  // a LoRA run's folder: base + adapters, unmerged
    auto adapter = train::load_adapter_model(model_dir, torch::Device(device));
    const auto tokenizer_dir = flags.tokenizer_dir.empty() ? adapter.config.data.tokenizer : flags.tokenizer_dir;
    // The run's own config names the template it trained with.
    const auto templ = flags.template_name.empty() ? adapter.config.data.template_name : flags.template_name;
    auto settings =
        inference::resolve_model_settings(model_dir, tokenizer_dir, adapter.model->config(), templ, flags.aspect);
    if (flags.template_name.empty()) settings.template_source = model_dir + ": the run's data.template";
    return ModelBundle{adapter.model, text::Tokenizer::from_dir(tokenizer_dir),
                       image::load_processor_config(model_dir + "/preprocessor_config.json"), settings};
  }
  models::LoadOptions load;
  load.device = torch::Device(device);
  load.vision_tower_dir = flags.vision_tower_dir;
  const auto processor_path = model_dir + "/preprocessor_config.json";
  if (!std::filesystem::exists(processor_path))
    fail("{}: missing; the image processor settings are needed to preprocess images", processor_path);
  auto model = models::load_multimodal(model_dir, load);
  const auto tokenizer_dir = flags.tokenizer_dir.empty() ? model_dir : flags.tokenizer_dir;
  auto settings =
      inference::resolve_model_settings(model_dir, tokenizer_dir, model->config(), flags.template_name, flags.aspect);
  return ModelBundle{model, text::Tokenizer::from_dir(tokenizer_dir), image::load_processor_config(processor_path),
                     settings};
}

std::shared_ptr<serve::ServedModel> load_served_model(const std::string& model_dir, const BundleFlags& flags,
                                                      const std::string& device, const std::string& model_id) {
  auto bundle = load_model_bundle(model_dir, flags, device);
  return std::make_shared<serve::ServedModel>(
      serve::ServedModel{bundle.model, std::move(bundle.tokenizer), bundle.processor, bundle.settings,
                         model_id.empty() ? model_display_name(model_dir) : model_id});
}

std::string model_display_name(const std::string& model_dir) {
  auto path = std::filesystem::path(model_dir).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();
  return path.filename() == "final"
             ? (path.parent_path().parent_path().filename() / path.parent_path().filename()).generic_string()
             : path.filename().string();
}

}  // namespace vista::app
