#include "models/llava.h"

#include <filesystem>

#include "util/error.h"

namespace vista::models {

namespace fs = std::filesystem;

LlavaForCausalLMImpl::LlavaForCausalLMImpl(const io::LlavaConfig& config, const io::VisionConfig& vision_config)
    : config_(config) {
  if (vision_config.hidden_size != config.mm.mm_hidden_size)
    fail("LLaVA config: mm_hidden_size {} does not match the vision tower's hidden_size {}", config.mm.mm_hidden_size,
         vision_config.hidden_size);
  vision_tower = register_module("vision_tower", ClipVisionModel(vision_config));
  projector = register_module("projector", Projector(config.mm.mm_projector_type, config.mm.mm_hidden_size,
                                                     config.text.hidden_size));
  language_model = register_module("language_model", LlamaForCausalLM(config.text));
}

torch::Tensor LlavaForCausalLMImpl::selected_vision_features(const torch::Tensor& pixels_BCHW) {
  std::optional<torch::NoGradGuard> no_grad;
  if (vision_frozen_) no_grad.emplace();
  auto hidden_BND = vision_tower->hidden_state(pixels_BCHW, config_.mm.mm_vision_select_layer);
  if (config_.mm.mm_vision_select_feature == "patch") hidden_BND = hidden_BND.narrow(1, 1, hidden_BND.size(1) - 1);
  return hidden_BND;
}

torch::Tensor LlavaForCausalLMImpl::encode_images(const torch::Tensor& pixels_BCHW) {
  auto features = selected_vision_features(pixels_BCHW);
  return projector->forward(features.to(projector->parameters()[0].scalar_type()));
}

SplicedBatch LlavaForCausalLMImpl::prepare_inputs(const torch::Tensor& input_ids_BL, const torch::Tensor& attention_mask_BL,
                                                  const torch::Tensor& labels_BL, const torch::Tensor& image_features_KND) {
  SpliceInputs in;
  in.input_ids_BL = input_ids_BL;
  in.attention_mask_BL = attention_mask_BL;
  in.labels_BL = labels_BL;
  in.token_embeds_BLD = language_model->embed(input_ids_BL.clamp_min(0));
  in.image_features_KND = image_features_KND;
  in.max_length = config_.mm.tokenizer_model_max_length;
  return splice_multimodal(in);
}

torch::Tensor LlavaForCausalLMImpl::hidden(const SplicedBatch& batch, const HiddenStateObserver& observer) {
  return language_model->hidden(batch.inputs_embeds_BTD, batch.attention_mask_BT, batch.position_ids_BT, observer);
}

CheckpointLayout official_llava_layout(const io::LlavaConfig& config) {
  CheckpointLayout layout;
  layout.module_to_checkpoint = {
      {"language_model.model.", "model."},
      {"language_model.lm_head.", "lm_head."},
  };
  // nn.Linear directly for 'linear', nn.Sequential (indices 0, 2, ...) for the MLPs.
  if (config.mm.mm_projector_type == "linear")
    layout.module_to_checkpoint.push_back({"projector.0.", "model.mm_projector."});
  else
    layout.module_to_checkpoint.push_back({"projector.", "model.mm_projector."});
  layout.ignored_checkpoint_prefixes = {"model.vision_tower."};
  layout.skipped_module_prefixes = {"vision_tower."};
  return layout;
}

std::string resolve_vision_tower_dir(const std::string& model_dir, const std::string& mm_vision_tower) {
  const fs::path name(mm_vision_tower);
  std::vector<std::string> tried;
  auto usable = [&](const fs::path& p) {
    tried.push_back(p.string());
    return fs::exists(p / "config.json");
  };
  if (name.is_absolute()) {
    if (usable(name)) return name.string();
  } else {
    for (fs::path base = fs::absolute(model_dir); ; base = base.parent_path()) {
      if (usable(base / name)) return (base / name).string();
      if (base == base.parent_path()) break;
    }
  }
  std::string message = fmt::format(
      "{}/config.json: field 'mm_vision_tower' = '{}' names no local folder with a config.json; pass the tower's "
      "folder explicitly (--vision-tower DIR). Tried:", model_dir, mm_vision_tower);
  for (const auto& t : tried) message += "\n  " + t;
  throw Error(message);
}

ClipVisionModel load_clip_vision(const std::string& dir, torch::Device device, torch::ScalarType dtype) {
  auto model = ClipVisionModel(io::parse_vision_config(io::read_config(dir)));
  load_strict(*model, CheckpointReader::open(dir), CheckpointLayout{});
  model->to(device, dtype);
  return model;
}

LlamaForCausalLM load_llama(const std::string& dir, torch::Device device, torch::ScalarType dtype) {
  auto model = LlamaForCausalLM(io::parse_decoder_config(io::read_config(dir)));
  load_strict(*model, CheckpointReader::open(dir), CheckpointLayout{});
  model->to(device, dtype);
  return model;
}

LlavaForCausalLM load_llava(const std::string& model_dir, const LlavaLoadOptions& options) {
  const auto config = io::parse_llava_config(io::read_config(model_dir));
  const std::string vision_dir = options.vision_tower_dir.empty()
                                     ? resolve_vision_tower_dir(model_dir, config.mm.mm_vision_tower)
                                     : options.vision_tower_dir;
  const auto vision_config = io::parse_vision_config(io::read_config(vision_dir));
  auto model = LlavaForCausalLM(config, vision_config);
  load_strict(*model->vision_tower, CheckpointReader::open(vision_dir), CheckpointLayout{});
  load_strict(*model, CheckpointReader::open(model_dir), official_llava_layout(config));
  model->to(options.device, options.dtype);
  return model;
}

}  // namespace vista::models
