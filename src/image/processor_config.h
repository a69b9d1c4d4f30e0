#pragma once
// preprocessor_config.json of a CLIPImageProcessor or SiglipImageProcessor (transformers 4.40
// field names and defaults). Only BICUBIC resampling (3) is supported.
#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace vista::image {

enum class ProcessorKind { kClip, kSiglip };

struct ImageProcessorConfig {
  std::string source;  // file (or object) it came from, for messages
  ProcessorKind kind = ProcessorKind::kClip;
  bool do_resize = true;
  // Resize either so the shortest edge is `shortest_edge` (CLIP) or to resize_height x resize_width.
  bool resize_shortest_edge = true;
  int64_t shortest_edge = 224;
  int64_t resize_height = 224, resize_width = 224;
  int resample = 3;  // PIL BICUBIC
  bool do_center_crop = true;
  int64_t crop_height = 224, crop_width = 224;
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;
  bool do_normalize = true;
  std::array<double, 3> image_mean{0.48145466, 0.4578275, 0.40821073};
  std::array<double, 3> image_std{0.26862954, 0.26130258, 0.27577711};
  bool do_convert_rgb = true;
};

// `source` names the object in errors. "image_processor_type" selects the defaults; a missing
// type is taken as CLIP. Unknown types, unsupported resample values, malformed sizes are errors
// naming source and field.
ImageProcessorConfig parse_processor_config(const nlohmann::json& config, const std::string& source);
ImageProcessorConfig load_processor_config(const std::string& path);

}  // namespace vista::image

namespace vista::image {
// preprocessor_config.json content that parse_processor_config reads back to the same config.
nlohmann::json processor_config_json(const ImageProcessorConfig& config);
void save_processor_config(const std::string& path, const ImageProcessorConfig& config);
}  // namespace vista::image
