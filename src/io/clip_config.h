#pragma once
// Hugging Face CLIPModel config.json: the text tower, the vision tower and the shared projection.
// Used by SEA's labelling (docs/method.md, SEA), which needs both towers of one CLIP.
#include <string>

#include "io/hf_config.h"

namespace vista::io {

struct ClipTextConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t max_position_embeddings = 0;
  double layer_norm_eps = 1e-5;
  std::string hidden_act = "quick_gelu";
  int64_t pad_token_id = 1;
  int64_t bos_token_id = 49406;
  int64_t eos_token_id = 49407;

  // The encoder-layer fields in the shape the shared ViT layer takes (vit_layer.h).
  VisionConfig as_encoder_layer_config() const;
};

struct ClipModelConfig {
  ClipTextConfig text;
  VisionConfig vision;
  int64_t projection_dim = 512;
};

// model_type "clip" with text_config and vision_config; missing optional fields take
// transformers' CLIPTextConfig defaults.
ClipModelConfig parse_clip_model_config(const JsonNode& fields);

}  // namespace vista::io
