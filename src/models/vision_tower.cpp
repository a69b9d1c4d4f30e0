#include "models/vision_tower.h"

#include "models/clip_vision.h"
#include "models/siglip_vision.h"
#include "util/error.h"

namespace vista::models {

int64_t resolve_hidden_index(int64_t index, int64_t num_layers, const char* model_name) {
  const int64_t count = num_layers + 1;
  const int64_t resolved = index < 0 ? count + index : index;
  if (resolved < 0 || resolved >= count)
    fail("{}: hidden state index {} out of range for {} layers (valid: {}..{})", model_name, index, num_layers, -count,
         count - 1);
  return resolved;
}

std::shared_ptr<VisionTower> make_vision_tower(const io::VisionConfig& config) {
  if (config.family == "siglip") return std::make_shared<SiglipVisionModelImpl>(config);
  return std::make_shared<ClipVisionModelImpl>(config);
}

}  // namespace vista::models
