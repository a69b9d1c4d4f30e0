#pragma once
// Typed views of Hugging Face config.json files. Parsing validates every field the models use;
// unsupported features (rope_scaling, unknown activations) are refused, never ignored.
#include <optional>
#include <string>

#include "io/json_file.h"

namespace vista::io {

struct DecoderConfig {
  std::string model_type;  // llama, llava_llama
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  std::string hidden_act = "silu";
  int64_t pad_token_id = -1;
  int64_t bos_token_id = -1;
  int64_t eos_token_id = -1;
};

struct VisionConfig {
  std::string model_type;  // clip_vision_model
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t image_size = 0;
  int64_t patch_size = 0;
  int64_t num_channels = 3;
  double layer_norm_eps = 1e-5;
  std::string hidden_act = "quick_gelu";

  int64_t num_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
};

// The mm_* fields of the official LLaVA config (llava_llama).
struct MultimodalConfig {
  int64_t mm_hidden_size = 0;
  std::string mm_projector_type = "linear";
  int64_t mm_vision_select_layer = -2;
  std::string mm_vision_select_feature = "patch";
  std::string mm_vision_tower;
  std::string mm_patch_merge_type = "flat";
  bool mm_use_im_start_end = false;
  bool mm_use_im_patch_token = false;
  std::string image_aspect_ratio = "pad";
  int64_t tokenizer_model_max_length = 0;  // 0 = no truncation
  std::string tokenizer_padding_side = "right";
};

struct LlavaConfig {
  DecoderConfig text;
  MultimodalConfig mm;
};

DecoderConfig parse_decoder_config(const JsonFields& fields);
VisionConfig parse_vision_config(const JsonFields& fields);
LlavaConfig parse_llava_config(const JsonFields& fields);

// Reads <dir>/config.json.
JsonFields read_config(const std::string& model_dir);

}  // namespace vista::io
