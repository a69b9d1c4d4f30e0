#pragma once
// How a saved model wants its inputs prepared: the conversation template and the image aspect mode.
// Both travel with the model folder (training and `convert` write them); a flag only overrides, and
// a value vista does not know is an error naming where it came from.
#include <string>

#include "data/conversation.h"
#include "image/processor.h"
#include "io/hf_config.h"

namespace vista::inference {

struct ModelSettings {
  data::Template tmpl;
  image::AspectMode aspect = image::AspectMode::kPad;
  std::string aspect_name;
  std::string template_source;  // "--template", "<dir>/tokenizer_config.json" or the decoder-family default
  std::string aspect_source;
};

// template_flag / aspect_flag empty: the model's own. The template is recognised from the
// chat_template in tokenizer_config.json (model folder first, then tokenizer_dir); a folder
// without one (an upstream checkpoint) gets its decoder family's template (phi for Phi, vicuna_v1
// otherwise) and template_source says so.
ModelSettings resolve_model_settings(const std::string& model_dir, const std::string& tokenizer_dir,
                                     const io::LlavaConfig& config, const std::string& template_flag,
                                     const std::string& aspect_flag);

image::AspectMode parse_aspect_mode(const std::string& name, const std::string& source);

}  // namespace vista::inference
