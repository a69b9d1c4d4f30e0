#pragma once
// Typed views of Hugging Face config.json files. Parsing validates every field the models use;
// unsupported features (rope_scaling, unknown activations) are refused, never ignored.
#include <optional>
#include <string>

#include "util/json_file.h"
#include "util/json_node.h"

namespace vista::io {

// Decoder families: "llama" (LLaMA/Vicuna, also the text part of llava_llama / llava-hf),
// "qwen2" (LLaMA blocks + q/k/v biases, eager sliding-window mask), "phi" (parallel block,
// LayerNorm, partial rotary, gelu_new, lm_head bias).
struct DecoderConfig {
  std::string model_type;  // as written in the file
  std::string family;      // llama, qwen2, phi
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
  bool qkv_bias = false;       // biases on q/k/v projections
  bool output_bias = false;    // bias on the attention output projection
  bool lm_head_bias = false;   // phi
  double layer_norm_eps = 1e-5;        // phi (LayerNorm)
  double partial_rotary_factor = 1.0;  // phi: RoPE on the first factor*head_dim features
  int64_t sliding_window = 0;          // qwen2 eager attention: keys older than this are masked; 0 = none
  std::string hidden_act = "silu";

  int64_t rotary_dim() const { return static_cast<int64_t>(partial_rotary_factor * static_cast<double>(head_dim)); }
  int64_t pad_token_id = -1;
  int64_t bos_token_id = -1;
  int64_t eos_token_id = -1;
};

struct VisionConfig {
  std::string model_type;  // clip_vision_model, siglip_vision_model
  std::string family;      // clip (CLS token, pre-norm) or siglip (no CLS, attention-pooling head)
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
  int64_t num_positions() const { return num_patches() + (family == "clip" ? 1 : 0); }
};

// The multimodal fields, named as in the official LLaVA config (mm_*); llava-hf and TinyLLaVA
// configs are translated into them.
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
  // Id marking an image in input_ids: -200 for official LLaVA / TinyLLaVA, a vocabulary id for llava-hf.
  int64_t image_token_index = -200;
};

// Which checkpoint layout a multimodal folder uses.
enum class Layout { kOfficialLlava, kLlavaHf, kTinyLlava };
std::string layout_name(Layout layout);
Layout parse_layout(const std::string& name);  // "llava", "llava-hf", "tinyllava"

struct LlavaConfig {
  Layout layout = Layout::kOfficialLlava;
  DecoderConfig text;
  MultimodalConfig mm;
  // The tower's own config when the multimodal config embeds it (llava-hf, TinyLLaVA); the
  // official layout reads it from the mm_vision_tower folder instead.
  std::optional<VisionConfig> vision;
};

DecoderConfig parse_decoder_config(const JsonNode& fields);
VisionConfig parse_vision_config(const JsonNode& fields);
// Official LLaVA (llava_llama), llava-hf (llava) or TinyLLaVA (tinyllava) config.json.
LlavaConfig parse_llava_config(const JsonNode& fields);

// config.json content for each config (HF field names; enough to load back into vista and into
// the reference loaders).
nlohmann::json decoder_config_json(const DecoderConfig& config);
nlohmann::json vision_config_json(const VisionConfig& config);

// Reads <dir>/config.json.
JsonNode read_config(const std::string& model_dir);

}  // namespace vista::io
