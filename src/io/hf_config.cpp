#include "io/hf_config.h"

#include "util/error.h"

namespace vista::io {

namespace {

void require_positive(const JsonNode& f, const char* key, int64_t value) {
  if (value <= 0) fail("{}: field '{}' must be positive, got {}", f.location(), key, value);
}

}  // namespace

nlohmann::json decoder_config_json(const DecoderConfig& c) {
  nlohmann::json j = {
      {"model_type", c.family == "llama" ? "llama" : c.family},
      {"vocab_size", c.vocab_size},
      {"hidden_size", c.hidden_size},
      {"intermediate_size", c.intermediate_size},
      {"num_hidden_layers", c.num_hidden_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_key_value_heads},
      {"max_position_embeddings", c.max_position_embeddings},
      {"rope_theta", c.rope_theta},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"hidden_act", c.hidden_act},
      {"rope_scaling", nullptr},
  };
  if (c.family == "phi") {
    j["layer_norm_eps"] = c.layer_norm_eps;
    j["partial_rotary_factor"] = c.partial_rotary_factor;
    j["qk_layernorm"] = false;
  } else {
    j["rms_norm_eps"] = c.rms_norm_eps;
  }
  if (c.family == "llama") j["attention_bias"] = c.qkv_bias;
  if (c.family == "qwen2") {
    j["sliding_window"] = c.sliding_window;
    j["use_sliding_window"] = false;
  }
  if (c.pad_token_id >= 0) j["pad_token_id"] = c.pad_token_id;
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_id >= 0) j["eos_token_id"] = c.eos_token_id;
  return j;
}

nlohmann::json vision_config_json(const VisionConfig& c) {
  return {{"model_type", c.model_type},     {"hidden_size", c.hidden_size},
          {"intermediate_size", c.intermediate_size}, {"num_hidden_layers", c.num_hidden_layers},
          {"num_attention_heads", c.num_attention_heads}, {"image_size", c.image_size},
          {"patch_size", c.patch_size},     {"num_channels", c.num_channels},
          {"layer_norm_eps", c.layer_norm_eps}, {"hidden_act", c.hidden_act}};
}

JsonNode read_config(const std::string& model_dir) {
  const std::string path = model_dir + "/config.json";
  return JsonNode::owning(read_json_file(path), path).expect_object();
}

DecoderConfig parse_decoder_config(const JsonNode& f) {
  DecoderConfig c;
  c.model_type = f.string("model_type");
  if (c.model_type == "llama" || c.model_type == "llava_llama") c.family = "llama";
  else if (c.model_type == "qwen2") c.family = "qwen2";
  else if (c.model_type == "phi") c.family = "phi";
  else
    fail("{}: field 'model_type' is '{}', expected one of llama, llava_llama, qwen2, phi", f.location(), c.model_type);
  const bool phi = c.family == "phi";
  c.vocab_size = f.integer("vocab_size");
  c.hidden_size = f.integer("hidden_size");
  c.intermediate_size = f.integer("intermediate_size");
  c.num_hidden_layers = f.integer("num_hidden_layers");
  c.num_attention_heads = f.integer("num_attention_heads");
  c.num_key_value_heads = f.integer_or("num_key_value_heads", c.num_attention_heads);
  require_positive(f, "vocab_size", c.vocab_size);
  require_positive(f, "hidden_size", c.hidden_size);
  require_positive(f, "intermediate_size", c.intermediate_size);
  require_positive(f, "num_hidden_layers", c.num_hidden_layers);
  require_positive(f, "num_attention_heads", c.num_attention_heads);
  require_positive(f, "num_key_value_heads", c.num_key_value_heads);
  if (c.hidden_size % c.num_attention_heads != 0)
    fail("{}: hidden_size {} is not divisible by num_attention_heads {}", f.location(), c.hidden_size,
         c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    fail("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", f.location(), c.num_attention_heads,
         c.num_key_value_heads);
  c.head_dim = f.integer_or("head_dim", c.hidden_size / c.num_attention_heads);
  if (c.head_dim * c.num_attention_heads != c.hidden_size)
    fail("{}: head_dim {} x num_attention_heads {} != hidden_size {} (not supported)", f.location(), c.head_dim,
         c.num_attention_heads, c.hidden_size);
  c.max_position_embeddings = f.integer_or("max_position_embeddings", 2048);
  c.rms_norm_eps = f.number_or("rms_norm_eps", 1e-6);
  c.layer_norm_eps = f.number_or("layer_norm_eps", 1e-5);
  c.rope_theta = f.number_or("rope_theta", c.family == "qwen2" ? 1000000.0 : 10000.0);
  c.tie_word_embeddings = f.boolean_or("tie_word_embeddings", false);
  if (c.family == "llama") {
    c.qkv_bias = c.output_bias = f.boolean_or("attention_bias", false);
  } else if (c.family == "qwen2") {
    c.qkv_bias = true;
    // transformers 4.40's eager Qwen2 path applies sliding_window even when use_sliding_window is false.
    c.sliding_window = f.integer_or("sliding_window", 0);
  } else {
    c.qkv_bias = c.output_bias = c.lm_head_bias = true;
    c.partial_rotary_factor = f.number_or("partial_rotary_factor", 0.5);
    if (c.partial_rotary_factor <= 0.0 || c.partial_rotary_factor > 1.0)
      fail("{}: field 'partial_rotary_factor' must be in (0, 1], got {}", f.location(), c.partial_rotary_factor);
    if (f.boolean_or("qk_layernorm", false))
      fail("{}: field 'qk_layernorm' is true; no released phi checkpoint uses it and transformers 4.40 cannot run it",
           f.location());
  }
  c.hidden_act = f.string_or("hidden_act", phi ? "gelu_new" : "silu");
  if (!phi && c.hidden_act != "silu")
    fail("{}: field 'hidden_act' is '{}', only 'silu' is supported for {}", f.location(), c.hidden_act, c.model_type);
  if (phi && c.hidden_act != "gelu_new" && c.hidden_act != "gelu" && c.hidden_act != "gelu_pytorch_tanh")
    fail("{}: field 'hidden_act' is '{}', expected gelu_new, gelu or gelu_pytorch_tanh for phi", f.location(),
         c.hidden_act);
  if (f.has("rope_scaling"))
    fail("{}: field 'rope_scaling' is set ({}); RoPE scaling is not supported yet", f.location(),
         f.raw().at("rope_scaling").dump());
  if (f.integer_or("pretraining_tp", 1) != 1)
    fail("{}: field 'pretraining_tp' must be 1 (sliced projections are not supported)", f.location());
  c.pad_token_id = f.integer_or("pad_token_id", -1);
  c.bos_token_id = f.integer_or("bos_token_id", -1);
  c.eos_token_id = f.integer_or("eos_token_id", -1);
  return c;
}

VisionConfig parse_vision_config(const JsonNode& fields) {
  // A full CLIPModel config nests the tower under vision_config.
  const std::string type = fields.string("model_type");
  if (type == "clip") return parse_vision_config(fields.object("vision_config"));
  if (type == "siglip") return parse_vision_config(fields.object("vision_config"));
  VisionConfig c;
  c.model_type = type;
  if (type == "clip_vision_model") c.family = "clip";
  else if (type == "siglip_vision_model") c.family = "siglip";
  else
    fail("{}: field 'model_type' is '{}', expected clip_vision_model, siglip_vision_model, clip or siglip",
         fields.location(), type);
  const auto& f = fields;
  c.hidden_size = f.integer("hidden_size");
  c.intermediate_size = f.integer("intermediate_size");
  c.num_hidden_layers = f.integer("num_hidden_layers");
  c.num_attention_heads = f.integer("num_attention_heads");
  c.image_size = f.integer("image_size");
  c.patch_size = f.integer("patch_size");
  c.num_channels = f.integer_or("num_channels", 3);
  c.layer_norm_eps = f.number_or("layer_norm_eps", c.family == "clip" ? 1e-5 : 1e-6);
  c.hidden_act = f.string_or("hidden_act", c.family == "clip" ? "quick_gelu" : "gelu_pytorch_tanh");
  for (auto [key, value] : {std::pair{"hidden_size", c.hidden_size}, {"intermediate_size", c.intermediate_size},
                            {"num_hidden_layers", c.num_hidden_layers},
                            {"num_attention_heads", c.num_attention_heads}, {"image_size", c.image_size},
                            {"patch_size", c.patch_size}, {"num_channels", c.num_channels}})
    require_positive(f, key, value);
  if (c.hidden_size % c.num_attention_heads != 0)
    fail("{}: hidden_size {} is not divisible by num_attention_heads {}", f.location(), c.hidden_size,
         c.num_attention_heads);
  if (c.image_size % c.patch_size != 0)
    fail("{}: image_size {} is not a multiple of patch_size {}", f.location(), c.image_size, c.patch_size);
  if (c.hidden_act != "quick_gelu" && c.hidden_act != "gelu" && c.hidden_act != "gelu_pytorch_tanh")
    fail("{}: field 'hidden_act' is '{}', expected quick_gelu, gelu or gelu_pytorch_tanh", f.location(), c.hidden_act);
  return c;
}

std::string layout_name(Layout layout) {
  switch (layout) {
    case Layout::kOfficialLlava: return "llava";
    case Layout::kLlavaHf: return "llava-hf";
    case Layout::kTinyLlava: return "tinyllava";
  }
  return "?";
}

Layout parse_layout(const std::string& name) {
  if (name == "llava" || name == "official") return Layout::kOfficialLlava;
  if (name == "llava-hf" || name == "llava_hf") return Layout::kLlavaHf;
  if (name == "tinyllava") return Layout::kTinyLlava;
  fail("unknown checkpoint layout '{}' (expected llava, llava-hf or tinyllava)", name);
}

namespace {

void validate_mm(const JsonNode& f, const MultimodalConfig& mm) {
  if (mm.mm_vision_select_feature != "patch" && mm.mm_vision_select_feature != "cls_patch")
    fail("{}: vision feature selection '{}' is not supported (expected patch / cls_patch, or llava-hf default / full)",
         f.location(), mm.mm_vision_select_feature);
  if (mm.mm_patch_merge_type != "flat")
    fail("{}: field 'mm_patch_merge_type' is '{}'; only 'flat' is supported (anyres is out of scope)", f.location(),
         mm.mm_patch_merge_type);
  if (mm.mm_use_im_start_end)
    fail("{}: field 'mm_use_im_start_end' is true; image start/end tokens are not supported", f.location());
  require_positive(f, "mm_hidden_size", mm.mm_hidden_size);
}

LlavaConfig parse_official(const JsonNode& f) {
  LlavaConfig c;
  c.layout = Layout::kOfficialLlava;
  c.text = parse_decoder_config(f);
  auto& mm = c.mm;
  mm.mm_hidden_size = f.integer("mm_hidden_size");
  mm.mm_projector_type = f.string_or("mm_projector_type", "linear");
  mm.mm_vision_select_layer = f.integer_or("mm_vision_select_layer", -1);
  mm.mm_vision_select_feature = f.string_or("mm_vision_select_feature", "patch");
  mm.mm_vision_tower = f.string("mm_vision_tower");
  mm.mm_patch_merge_type = f.string_or("mm_patch_merge_type", "flat");
  mm.mm_use_im_start_end = f.boolean_or("mm_use_im_start_end", false);
  mm.mm_use_im_patch_token = f.boolean_or("mm_use_im_patch_token", false);
  mm.image_aspect_ratio = f.string_or("image_aspect_ratio", "square");
  mm.tokenizer_model_max_length = f.integer_or("tokenizer_model_max_length", 0);
  mm.tokenizer_padding_side = f.string_or("tokenizer_padding_side", "right");
  return c;
}

// The nested text_config of llava-hf / TinyLLaVA holds only the fields that differ from the
// family's defaults; model_type must be present.
JsonNode nested(const JsonNode& f, const std::string& key, const std::string& default_type) {
  auto obj = f.object(key);
  if (!obj.has("model_type")) {
    auto raw = obj.raw();
    raw["model_type"] = default_type;
    return JsonNode::owning(std::move(raw), obj.file(), obj.path());
  }
  return obj;
}

LlavaConfig parse_llava_hf(const JsonNode& f) {
  LlavaConfig c;
  c.layout = Layout::kLlavaHf;
  c.text = parse_decoder_config(nested(f, "text_config", "llama"));
  c.vision = parse_vision_config(nested(f, "vision_config", "clip_vision_model"));
  auto& mm = c.mm;
  mm.mm_hidden_size = c.vision->hidden_size;
  const auto act = f.string_or("projector_hidden_act", "gelu");
  if (act != "gelu") fail("{}: field 'projector_hidden_act' is '{}'; only 'gelu' is supported", f.location(), act);
  mm.mm_projector_type = "mlp2x_gelu";
  mm.mm_vision_select_layer = f.integer_or("vision_feature_layer", -2);
  const auto strategy = f.string_or("vision_feature_select_strategy", "default");
  if (strategy == "default") mm.mm_vision_select_feature = "patch";
  else if (strategy == "full") mm.mm_vision_select_feature = "cls_patch";
  else fail("{}: field 'vision_feature_select_strategy' is '{}', expected 'default' or 'full'", f.location(), strategy);
  mm.image_token_index = f.integer("image_token_index");
  if (f.has("pad_token_id")) c.text.pad_token_id = f.integer("pad_token_id");
  // Not a transformers field: vista records the aspect mode the model was trained with (llava-hf's
  // LLaVA-1.5 models were trained with pad).
  mm.image_aspect_ratio = f.string_or("image_aspect_ratio", "pad");
  mm.tokenizer_model_max_length = f.integer_or("tokenizer_model_max_length", 0);
  return c;
}

LlavaConfig parse_tinyllava(const JsonNode& f) {
  LlavaConfig c;
  c.layout = Layout::kTinyLlava;
  c.text = parse_decoder_config(nested(f, "text_config", "phi"));
  c.vision = parse_vision_config(nested(f, "vision_config", "siglip_vision_model"));
  auto& mm = c.mm;
  mm.mm_hidden_size = f.integer_or("vision_hidden_size", c.vision->hidden_size);
  mm.mm_projector_type = f.string_or("connector_type", "mlp2x_gelu");
  mm.mm_vision_select_layer = f.integer_or("vision_feature_layer", -2);
  mm.mm_vision_select_feature = f.string_or("vision_feature_select_strategy", "patch");
  mm.image_aspect_ratio = f.string_or("image_aspect_ratio", "square");
  mm.tokenizer_model_max_length = f.integer_or("tokenizer_model_max_length", 0);
  mm.tokenizer_padding_side = f.string_or("tokenizer_padding_side", "right");
  mm.image_token_index = f.integer_or("image_token_index", -200);
  if (f.has("pad_token_id")) c.text.pad_token_id = f.integer("pad_token_id");
  return c;
}

}  // namespace

LlavaConfig parse_llava_config(const JsonNode& f) {
  const auto type = f.string("model_type");
  LlavaConfig c;
  if (type == "llava") c = parse_llava_hf(f);
  else if (type == "tinyllava") c = parse_tinyllava(f);
  else if (type == "llava_llama") c = parse_official(f);
  else
    fail("{}: field 'model_type' is '{}', expected llava_llama (official LLaVA), llava (llava-hf) or tinyllava",
         f.location(), type);
  if (c.vision && c.vision->hidden_size != c.mm.mm_hidden_size)
    fail("{}: vision hidden size {} does not match the projector input {}", f.location(), c.vision->hidden_size,
         c.mm.mm_hidden_size);
  validate_mm(f, c.mm);
  return c;
}

}  // namespace vista::io
