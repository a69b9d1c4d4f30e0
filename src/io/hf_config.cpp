#include "io/hf_config.h"

#include "util/error.h"

namespace vista::io {

namespace {

void require_positive(const JsonFields& f, const char* key, int64_t value) {
  if (value <= 0) fail("{}: field '{}' must be positive, got {}", f.source(), key, value);
}

}  // namespace

JsonFields read_config(const std::string& model_dir) {
  const std::string path = model_dir + "/config.json";
  return JsonFields(read_json_file(path), path);
}

DecoderConfig parse_decoder_config(const JsonFields& f) {
  DecoderConfig c;
  c.model_type = f.string("model_type");
  if (c.model_type != "llama" && c.model_type != "llava_llama" && c.model_type != "llava")
    fail("{}: field 'model_type' is '{}', expected 'llama' or 'llava_llama'", f.source(), c.model_type);
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
    fail("{}: hidden_size {} is not divisible by num_attention_heads {}", f.source(), c.hidden_size,
         c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    fail("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", f.source(),
         c.num_attention_heads, c.num_key_value_heads);
  c.head_dim = f.integer_or("head_dim", c.hidden_size / c.num_attention_heads);
  if (c.head_dim * c.num_attention_heads != c.hidden_size)
    fail("{}: head_dim {} x num_attention_heads {} != hidden_size {} (not supported)", f.source(),
         c.head_dim, c.num_attention_heads, c.hidden_size);
  c.max_position_embeddings = f.integer_or("max_position_embeddings", 2048);
  c.rms_norm_eps = f.number_or("rms_norm_eps", 1e-6);
  c.rope_theta = f.number_or("rope_theta", 10000.0);
  c.tie_word_embeddings = f.boolean_or("tie_word_embeddings", false);
  c.attention_bias = f.boolean_or("attention_bias", false);
  c.hidden_act = f.string_or("hidden_act", "silu");
  if (c.hidden_act != "silu")
    fail("{}: field 'hidden_act' is '{}', only 'silu' is supported for llama", f.source(), c.hidden_act);
  if (f.has("rope_scaling"))
    fail("{}: field 'rope_scaling' is set ({}); RoPE scaling is not supported yet", f.source(),
         f.raw().at("rope_scaling").dump());
  if (f.integer_or("pretraining_tp", 1) != 1)
    fail("{}: field 'pretraining_tp' must be 1 (sliced projections are not supported)", f.source());
  c.pad_token_id = f.integer_or("pad_token_id", -1);
  c.bos_token_id = f.integer_or("bos_token_id", -1);
  c.eos_token_id = f.integer_or("eos_token_id", -1);
  return c;
}

VisionConfig parse_vision_config(const JsonFields& fields) {
  // A full CLIPModel config nests the tower under vision_config.
  const std::string type = fields.string("model_type");
  if (type == "clip") return parse_vision_config(fields.object("vision_config"));
  VisionConfig c;
  c.model_type = type;
  if (type != "clip_vision_model")
    fail("{}: field 'model_type' is '{}', expected 'clip_vision_model' or 'clip'", fields.source(), type);
  const auto& f = fields;
  c.hidden_size = f.integer("hidden_size");
  c.intermediate_size = f.integer("intermediate_size");
  c.num_hidden_layers = f.integer("num_hidden_layers");
  c.num_attention_heads = f.integer("num_attention_heads");
  c.image_size = f.integer("image_size");
  c.patch_size = f.integer("patch_size");
  c.num_channels = f.integer_or("num_channels", 3);
  c.layer_norm_eps = f.number_or("layer_norm_eps", 1e-5);
  c.hidden_act = f.string_or("hidden_act", "quick_gelu");
  for (auto [key, value] : {std::pair{"hidden_size", c.hidden_size}, {"intermediate_size", c.intermediate_size},
                            {"num_hidden_layers", c.num_hidden_layers},
                            {"num_attention_heads", c.num_attention_heads}, {"image_size", c.image_size},
                            {"patch_size", c.patch_size}, {"num_channels", c.num_channels}})
    require_positive(f, key, value);
  if (c.hidden_size % c.num_attention_heads != 0)
    fail("{}: hidden_size {} is not divisible by num_attention_heads {}", f.source(), c.hidden_size,
         c.num_attention_heads);
  if (c.image_size % c.patch_size != 0)
    fail("{}: image_size {} is not a multiple of patch_size {}", f.source(), c.image_size, c.patch_size);
  if (c.hidden_act != "quick_gelu" && c.hidden_act != "gelu" && c.hidden_act != "gelu_pytorch_tanh")
    fail("{}: field 'hidden_act' is '{}', expected quick_gelu, gelu or gelu_pytorch_tanh", f.source(),
         c.hidden_act);
  return c;
}

LlavaConfig parse_llava_config(const JsonFields& f) {
  LlavaConfig c;
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
  if (mm.mm_vision_select_feature != "patch" && mm.mm_vision_select_feature != "cls_patch")
    fail("{}: field 'mm_vision_select_feature' is '{}', expected 'patch' or 'cls_patch'", f.source(),
         mm.mm_vision_select_feature);
  if (mm.mm_patch_merge_type != "flat")
    fail("{}: field 'mm_patch_merge_type' is '{}'; only 'flat' is supported (anyres is out of scope)",
         f.source(), mm.mm_patch_merge_type);
  if (mm.mm_use_im_start_end)
    fail("{}: field 'mm_use_im_start_end' is true; image start/end tokens are not supported", f.source());
  require_positive(f, "mm_hidden_size", mm.mm_hidden_size);
  return c;
}

}  // namespace vista::io
