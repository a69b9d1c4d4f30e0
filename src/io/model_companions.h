#pragma once
// The files beside a model's weights that its ecosystem's loaders read, so that an exported folder
// loads as users load it:
//   every layout: tokenizer.json, tokenizer_config.json (with a chat_template that renders the
//                 model's conversation template), special_tokens_map.json, generation_config.json,
//                 preprocessor_config.json
//   llava-hf:     <image> and <pad> as added special tokens at the ids config.json names, and
//                 processor_config.json / chat_template.json, what LlavaProcessor reads
//   llava:        vision_tower/preprocessor_config.json (LLaVA's builder loads the processor there)
#include <nlohmann/json.hpp>
#include <string>

#include "io/hf_config.h"

namespace vista::io {

struct CompanionSources {
  std::string tokenizer_dir;      // holds tokenizer.json (+ tokenizer_config.json, special_tokens_map.json)
  std::string processor_config;   // a preprocessor_config.json
  std::string template_name;      // plain, pretrain, vicuna_v1 or phi
};

// The Jinja chat template (HF apply_chat_template) that renders `template_name` byte for byte as
// vista's conversation templates do, with image content parts as "<image>\n".
std::string chat_template_for(const std::string& template_name);

// Writes the companion files into out_dir, which already holds config.json (read for the token
// ids and the layout). Missing sources are an error naming what is missing.
void write_model_companions(const std::string& out_dir, const CompanionSources& sources);

}  // namespace vista::io
