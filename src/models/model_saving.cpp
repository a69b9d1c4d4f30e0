#include "models/model_saving.h"

#include "models/lora.h"

#include <filesystem>
#include <fstream>

#include "util/json_file.h"
#include "io/safetensors.h"
#include "models/model_loading.h"
#include "util/error.h"

namespace vista::models {

namespace fs = std::filesystem;

namespace {

// Vocabulary rows that exist only in the llava-hf layout (<image>, <pad>, filler): everything
// from the image token id on, as transformers' converter appends them at the end.
int64_t base_vocab(const io::LlavaConfig& c) {
  return c.layout == io::Layout::kLlavaHf ? std::min(c.mm.image_token_index, c.text.pad_token_id) : c.text.vocab_size;
}

nlohmann::json config_json(const io::LlavaConfig& c, const io::VisionConfig& vision, io::Layout layout,
                           int64_t vocab, int64_t image_token, int64_t pad_token) {
  auto text = decoder_config_json(c.text);
  text["vocab_size"] = vocab;
  const auto& mm = c.mm;
  if (layout == io::Layout::kOfficialLlava) {
    if (c.text.family != "llama")
      fail("the official LLaVA layout (llava_llama) holds LLaMA-family decoders only, not '{}'", c.text.family);
    auto j = text;
    j["model_type"] = "llava_llama";
    j["architectures"] = {"LlavaLlamaForCausalLM"};
    j["mm_hidden_size"] = mm.mm_hidden_size;
    j["mm_projector_type"] = mm.mm_projector_type;
    j["mm_vision_select_layer"] = mm.mm_vision_select_layer;
    j["mm_vision_select_feature"] = mm.mm_vision_select_feature;
    j["mm_vision_tower"] = "vision_tower";
    j["mm_patch_merge_type"] = mm.mm_patch_merge_type;
    j["mm_use_im_start_end"] = false;
    j["mm_use_im_patch_token"] = false;
    j["image_aspect_ratio"] = mm.image_aspect_ratio;
    j["tokenizer_model_max_length"] = mm.tokenizer_model_max_length;
    j["tokenizer_padding_side"] = mm.tokenizer_padding_side;
    j["use_mm_proj"] = true;
    return j;
  }
  if (layout == io::Layout::kLlavaHf) {
    if (mm.mm_vision_select_feature != "patch" && mm.mm_vision_select_feature != "cls_patch")
      fail("llava-hf cannot express feature selection '{}'", mm.mm_vision_select_feature);
    return {{"model_type", "llava"},
            {"architectures", {"LlavaForConditionalGeneration"}},
            {"text_config", text},
            {"vision_config", vision_config_json(vision)},
            {"vision_feature_layer", mm.mm_vision_select_layer},
            {"vision_feature_select_strategy", mm.mm_vision_select_feature == "patch" ? "default" : "full"},
            {"projector_hidden_act", "gelu"},
            {"image_token_index", image_token},
            {"pad_token_id", pad_token},
            {"ignore_index", -100},
            {"tie_word_embeddings", c.text.tie_word_embeddings},
            {"image_aspect_ratio", mm.image_aspect_ratio},
            {"tokenizer_model_max_length", mm.tokenizer_model_max_length}};
  }
  return {{"model_type", "tinyllava"},
          {"architectures", {"TinyLlavaForConditionalGeneration"}},
          {"text_config", text},
          {"vision_config", vision_config_json(vision)},
          {"hidden_size", c.text.hidden_size},
          {"vocab_size", vocab},
          {"vision_hidden_size", mm.mm_hidden_size},
          {"connector_type", mm.mm_projector_type},
          {"vision_feature_layer", mm.mm_vision_select_layer},
          {"vision_feature_select_strategy", mm.mm_vision_select_feature},
          {"image_token_index", -200},
          {"ignore_index", -100},
          {"pad_token_id", pad_token},
          {"image_aspect_ratio", mm.image_aspect_ratio},
          {"tokenizer_model_max_length", mm.tokenizer_model_max_length},
          {"tokenizer_padding_side", mm.tokenizer_padding_side}};
}

}  // namespace

void save_multimodal(MultimodalLMImpl& model, const std::string& out_dir, const SaveOptions& options) {
  for (const auto& p : model.named_parameters())
    if (is_lora_parameter(p.key()))
      fail("{}: the model carries LoRA adapters ({}); save them as an adapter checkpoint or merge them first "
           "(vista lora merge)", out_dir, p.key());
  fs::create_directories(out_dir);
  auto config = model.config();
  const auto& vision = model.vision_config();
  const int64_t v0 = base_vocab(config);
  int64_t vocab = v0, image_token = -200, pad_token = config.text.pad_token_id;
  if (options.layout == io::Layout::kLlavaHf) {
    if (config.layout == io::Layout::kLlavaHf) {
      vocab = config.text.vocab_size;
      image_token = config.mm.image_token_index;
    } else {
      image_token = v0;
      pad_token = v0 + 1;
      vocab = (v0 + 2 + 7) / 8 * 8;
    }
  }
  auto target = config;
  target.layout = options.layout;
  auto state = export_state(model, checkpoint_layout(target));
  // Resize the vocabulary rows of the embedding and lm_head to the target's count.
  for (auto& [key, tensor] : state) {
    const bool vocab_rows = key.find("embed_tokens.weight") != std::string::npos ||
                            key.find("lm_head.") != std::string::npos;
    if (!vocab_rows || tensor.size(0) == vocab) continue;
    if (tensor.size(0) > vocab) {
      tensor = tensor.narrow(0, 0, vocab);
    } else {
      auto extra_shape = tensor.sizes().vec();
      extra_shape[0] = vocab - tensor.size(0);
      tensor = torch::cat({tensor, tensor.narrow(0, 0, v0).mean(0, true).expand(extra_shape)}, 0);
    }
  }
  const fs::path out(out_dir);
  io::save_safetensors((out / "model.safetensors").string(), state, {{"format", "pt"}});
  write_json_file((out / "config.json").string(),
                  config_json(config, vision, options.layout, vocab, image_token, pad_token));
  if (options.layout == io::Layout::kOfficialLlava) {
    const auto tower_dir = out / "vision_tower";
    fs::create_directories(tower_dir);
    io::save_safetensors((tower_dir / "model.safetensors").string(), export_state(*model.vision_tower, {}),
                         {{"format", "pt"}});
    write_json_file((tower_dir / "config.json").string(), vision_config_json(vision));
  }
}

}  // namespace vista::models
