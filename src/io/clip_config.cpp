#include "io/clip_config.h"

#include "util/error.h"

namespace vista::io {

VisionConfig ClipTextConfig::as_encoder_layer_config() const {
  VisionConfig c;
  c.model_type = "clip_text_model";
  c.family = "clip";
  c.hidden_size = hidden_size;
  c.intermediate_size = intermediate_size;
  c.num_hidden_layers = num_hidden_layers;
  c.num_attention_heads = num_attention_heads;
  c.layer_norm_eps = layer_norm_eps;
  c.hidden_act = hidden_act;
  return c;
}

namespace {

ClipTextConfig parse_text(const JsonNode& f) {
  const std::string type = f.string_or("model_type", "clip_text_model");
  if (type != "clip_text_model") fail("{}: field 'model_type' is '{}', expected clip_text_model", f.location(), type);
  ClipTextConfig c;
  c.vocab_size = f.integer("vocab_size");
  c.hidden_size = f.integer("hidden_size");
  c.intermediate_size = f.integer("intermediate_size");
  c.num_hidden_layers = f.integer("num_hidden_layers");
  c.num_attention_heads = f.integer("num_attention_heads");
  c.max_position_embeddings = f.integer("max_position_embeddings");
  c.layer_norm_eps = f.number_or("layer_norm_eps", 1e-5);
  c.hidden_act = f.string_or("hidden_act", "quick_gelu");
  c.pad_token_id = f.integer_or("pad_token_id", 1);
  c.bos_token_id = f.integer_or("bos_token_id", 49406);
  c.eos_token_id = f.integer_or("eos_token_id", 49407);
  for (auto [key, value] : {std::pair{"vocab_size", c.vocab_size},
                            {"hidden_size", c.hidden_size},
                            {"intermediate_size", c.intermediate_size},
                            {"num_hidden_layers", c.num_hidden_layers},
                            {"num_attention_heads", c.num_attention_heads},
                            {"max_position_embeddings", c.max_position_embeddings}})
    if (value <= 0) fail("{}: field '{}' must be positive, got {}", f.location(), key, value);
  if (c.hidden_size % c.num_attention_heads != 0)
    fail("{}: hidden_size {} is not divisible by num_attention_heads {}", f.location(), c.hidden_size,
         c.num_attention_heads);
  if (c.hidden_act != "quick_gelu" && c.hidden_act != "gelu")
    fail("{}: field 'hidden_act' is '{}', expected quick_gelu or gelu", f.location(), c.hidden_act);
  if (c.eos_token_id < 0 || c.eos_token_id >= c.vocab_size)
    fail("{}: field 'eos_token_id' = {} is outside the vocabulary of {}", f.location(), c.eos_token_id, c.vocab_size);
  return c;
}

JsonNode with_type(const JsonNode& f, const char* key, const char* type) {
  auto obj = f.object(key);
  if (obj.has("model_type")) return obj;
  auto raw = obj.raw();
  raw["model_type"] = type;
  return JsonNode::owning(std::move(raw), obj.file(), obj.path());
}

}  // namespace

ClipModelConfig parse_clip_model_config(const JsonNode& f) {
  const std::string type = f.string("model_type");
  if (type != "clip")
    fail("{}: field 'model_type' is '{}', expected 'clip' (a CLIPModel folder with both towers)", f.location(), type);
  ClipModelConfig c;
  c.text = parse_text(with_type(f, "text_config", "clip_text_model"));
  c.vision = parse_vision_config(with_type(f, "vision_config", "clip_vision_model"));
  if (c.vision.family != "clip")
    fail("{}: field 'vision_config.model_type' is '{}', expected clip_vision_model", f.location(), c.vision.model_type);
  c.projection_dim = f.integer_or("projection_dim", 512);
  if (c.projection_dim <= 0)
    fail("{}: field 'projection_dim' must be positive, got {}", f.location(), c.projection_dim);
  return c;
}

}  // namespace vista::io
