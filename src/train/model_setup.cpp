#include "train/model_setup.h"

#include <filesystem>

#include "models/model_loading.h"
#include "train/checkpoint.h"

namespace vista::train {

namespace fs = std::filesystem;

models::MultimodalLM build_model(const TrainConfig& c, torch::Device device) {
  if (!c.model.path.empty()) {
    auto model = models::load_multimodal(c.model.path, {});
    if (!c.model.projector_init.empty()) load_projector(c.model.projector_init, *model);
    model->to(device);
    return model;
  }
  io::LlavaConfig config;
  config.text = io::parse_decoder_config(io::read_config(c.model.llm));
  const auto vision = io::parse_vision_config(io::read_config(c.model.vision_tower));
  config.layout = config.text.family == "llama" ? io::Layout::kOfficialLlava : io::Layout::kTinyLlava;
  config.vision = vision;
  config.mm.mm_hidden_size = vision.hidden_size;
  config.mm.mm_projector_type = c.model.projector_type;
  config.mm.mm_vision_select_layer = c.model.select_layer;
  config.mm.mm_vision_select_feature = c.model.select_feature;
  config.mm.mm_vision_tower = fs::absolute(c.model.vision_tower).string();
  config.mm.image_aspect_ratio = c.data.image_aspect_ratio;
  config.mm.tokenizer_model_max_length = c.data.max_length;
  auto model = models::MultimodalLM(config, vision);  // the projector keeps libtorch's seeded default init
  models::load_strict(*model->vision_tower, models::CheckpointReader::open(c.model.vision_tower), {});
  models::load_strict(*model->language_model, models::CheckpointReader::open(c.model.llm), {});
  if (!c.model.projector_init.empty()) load_projector(c.model.projector_init, *model);
  model->to(device);
  return model;
}

image::ImageProcessorConfig processor_config(const TrainConfig& c, const io::VisionConfig& vision) {
  if (!c.data.processor.empty()) return image::load_processor_config(c.data.processor);
  const std::string tower = c.model.vision_tower.empty() ? "" : c.model.vision_tower + "/preprocessor_config.json";
  if (!tower.empty() && fs::exists(tower)) return image::load_processor_config(tower);
  const std::string own = c.model.path + "/preprocessor_config.json";
  if (!c.model.path.empty() && fs::exists(own)) return image::load_processor_config(own);
  image::ImageProcessorConfig p;  // CLIP defaults at the tower's resolution
  if (vision.family == "siglip") {
    p.kind = image::ProcessorKind::kSiglip;
    p.resize_shortest_edge = false;
    p.do_center_crop = false;
    p.resize_height = p.resize_width = vision.image_size;
    p.image_mean = {0.5, 0.5, 0.5};
    p.image_std = {0.5, 0.5, 0.5};
  } else {
    p.shortest_edge = p.crop_height = p.crop_width = vision.image_size;
  }
  return p;
}

}  // namespace vista::train
