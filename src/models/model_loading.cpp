#include "models/model_loading.h"

#include <filesystem>

#include "util/error.h"

namespace vista::models {

namespace fs = std::filesystem;

CheckpointLayout checkpoint_layout(const io::LlavaConfig& config) {
  CheckpointLayout layout;
  const bool linear = config.mm.mm_projector_type == "linear";
  switch (config.layout) {
    case io::Layout::kOfficialLlava:
      layout.module_to_checkpoint = {{"language_model.model.", "model."}, {"language_model.lm_head.", "lm_head."}};
      // nn.Linear directly for 'linear', nn.Sequential (indices 0, 2, ...) for the MLPs.
      layout.module_to_checkpoint.push_back(linear ? std::pair{"projector.0.", "model.mm_projector."}
                                                   : std::pair{"projector.", "model.mm_projector."});
      layout.ignored_checkpoint_prefixes = {"model.vision_tower."};
      layout.skipped_module_prefixes = {"vision_tower."};
      break;
    case io::Layout::kLlavaHf:
      if (projector_depth(config.mm.mm_projector_type) != 2)
        fail("llava-hf layout holds exactly two projector layers, not '{}'", config.mm.mm_projector_type);
      layout.module_to_checkpoint = {{"projector.0.", "multi_modal_projector.linear_1."},
                                     {"projector.2.", "multi_modal_projector.linear_2."}};
      break;
    case io::Layout::kTinyLlava:
      layout.module_to_checkpoint = {{"projector.", "connector._connector."},
                                     {"vision_tower.", "vision_tower._vision_tower."}};
      break;
  }
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
    for (fs::path base = fs::absolute(model_dir);; base = base.parent_path()) {
      if (usable(base / name)) return (base / name).string();
      if (base == base.parent_path()) break;
    }
  }
  std::string message = fmt::format(
      "{}/config.json: field 'mm_vision_tower' = '{}' names no local folder with a config.json; pass the tower's "
      "folder explicitly (--vision-tower DIR). Tried:",
      model_dir, mm_vision_tower);
  for (const auto& t : tried) message += "\n  " + t;
  throw Error(message);
}

std::shared_ptr<VisionTower> load_vision_tower(const std::string& dir, torch::Device device, torch::ScalarType dtype) {
  auto model = make_vision_tower(io::parse_vision_config(io::read_config(dir)));
  // A SigLIP folder saved from the full SiglipModel may lack the pooling head; towers saved by
  // SiglipVisionModel have it.
  load_strict(*model, CheckpointReader::open(dir), CheckpointLayout{});
  model->to(device, dtype);
  return model;
}

std::shared_ptr<CausalLM> load_causal_lm(const std::string& dir, torch::Device device, torch::ScalarType dtype) {
  auto model = make_causal_lm(io::parse_decoder_config(io::read_config(dir)));
  load_strict(*model, CheckpointReader::open(dir), CheckpointLayout{});
  model->to(device, dtype);
  return model;
}

MultimodalLM load_multimodal(const std::string& model_dir, const LoadOptions& options) {
  const auto config = io::parse_llava_config(io::read_config(model_dir));
  io::VisionConfig vision_config;
  std::string vision_dir;
  if (config.layout == io::Layout::kOfficialLlava) {
    vision_dir = options.vision_tower_dir.empty() ? resolve_vision_tower_dir(model_dir, config.mm.mm_vision_tower)
                                                  : options.vision_tower_dir;
    vision_config = io::parse_vision_config(io::read_config(vision_dir));
  } else {
    vision_config = *config.vision;
  }
  auto model = MultimodalLM(config, vision_config);
  if (!vision_dir.empty()) load_strict(*model->vision_tower, CheckpointReader::open(vision_dir), CheckpointLayout{});
  load_strict(*model, CheckpointReader::open(model_dir), checkpoint_layout(config));
  model->to(options.device, options.dtype);
  return model;
}

}  // namespace vista::models
