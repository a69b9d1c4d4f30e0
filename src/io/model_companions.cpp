#include "io/model_companions.h"

#include <filesystem>
#include <fstream>

#include "util/json_file.h"
#include "util/error.h"

namespace vista::io {

namespace fs = std::filesystem;

namespace {

const char* kVicunaSystem =
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
    "detailed, and polite answers to the user's questions.";

nlohmann::json read_object_or_empty(const fs::path& path) {
  if (!fs::exists(path)) return nlohmann::json::object();
  auto j = read_json_file(path.string());
  if (!j.is_object()) fail("{}: expected a JSON object", path.string());
  return j;
}

// The text part of a config (nested text_config for llava-hf / TinyLLaVA).
const nlohmann::json& text_part(const nlohmann::json& config) {
  return config.contains("text_config") && config["text_config"].is_object() ? config["text_config"] : config;
}

int64_t int_or(const nlohmann::json& j, const char* key, int64_t fallback) {
  return j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : fallback;
}

// Adds `content` as a special added token with `id`, or checks that it is already there.
void ensure_added_token(nlohmann::json& tokenizer, const std::string& source, const std::string& content, int64_t id) {
  auto& added = tokenizer["added_tokens"];
  if (!added.is_array()) added = nlohmann::json::array();
  for (const auto& t : added) {
    const bool same_content = t.value("content", "") == content, same_id = t.value("id", int64_t{-1}) == id;
    if (same_content && same_id) return;
    if (same_content || same_id)
      fail("{}: added token '{}' (id {}) conflicts with the export's {} = {}", source, t.value("content", ""),
           t.value("id", int64_t{-1}), content, id);
  }
  const auto& vocab = tokenizer["model"]["vocab"];
  if (vocab.is_object() && vocab.contains(content) && vocab[content].get<int64_t>() != id)
    fail("{}: '{}' is already in the vocabulary with id {}, the export needs id {}", source, content,
         vocab[content].get<int64_t>(), id);
  added.push_back({{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                   {"normalized", false}, {"special", true}});
}

}  // namespace

std::string chat_template_for(const std::string& template_name) {
  // Jinja as transformers runs it (trim_blocks, lstrip_blocks): every newline is written as '\n'
  // inside an expression so that no whitespace rule can remove it.
  const std::string user_content =
      "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
      "{% if part['type'] == 'image' %}{{ '<image>\\n' }}{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
      "{% endfor %}{% endif %}";
  const std::string assistant_content =
      "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
      "{% if part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}";
  if (template_name == "plain" || template_name == "pretrain") {
    // "<image>" + caption + "\n"; the user's words are not part of the string.
    return "{% for message in messages %}{% if message['role'] == 'user' %}"
           "{% if message['content'] is string %}{% if '<image>' in message['content'] %}{{ '<image>' }}{% endif %}"
           "{% else %}{% for part in message['content'] %}{% if part['type'] == 'image' %}{{ '<image>' }}{% endif %}"
           "{% endfor %}{% endif %}{% elif message['role'] == 'assistant' %}" +
           assistant_content + "{{ '\\n' }}{% endif %}{% endfor %}";
  }
  std::string terminator;
  if (template_name == "vicuna_v1" || template_name == "v1") terminator = "</s>";
  else if (template_name == "phi") terminator = "<|endoftext|>";
  else fail("no chat template for conversation template '{}' (expected plain, pretrain, vicuna_v1 or phi)", template_name);
  // SYS + " " + ("USER: " + q + " " + "ASSISTANT: " + a + TERM)*, then "ASSISTANT:" to generate.
  return std::string("{% if messages and messages[0]['role'] == 'system' and messages[0]['content'] is string %}") +
         "{{ messages[0]['content'] + ' ' }}{% else %}{{ '" + kVicunaSystem + " ' }}{% endif %}" +
         "{% for message in messages %}{% if message['role'] == 'user' %}{{ 'USER: ' }}" + user_content +
         "{{ ' ' }}{% elif message['role'] == 'assistant' %}{{ 'ASSISTANT: ' }}" + assistant_content + "{{ '" +
         terminator + "' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}";
}

void write_model_companions(const std::string& out_dir, const CompanionSources& sources) {
  const fs::path out(out_dir);
  const auto config_path = out / "config.json";
  const auto config = read_json_file(config_path.string());
  const std::string model_type = config.value("model_type", "");
  const bool llava_hf = model_type == "llava", official = model_type == "llava_llama";
  const auto& text = text_part(config);
  const std::string chat_template = chat_template_for(sources.template_name);

  // Tokenizer.
  const fs::path tok_dir(sources.tokenizer_dir);
  const auto tok_json = tok_dir / "tokenizer.json";
  if (sources.tokenizer_dir.empty() || !fs::exists(tok_json))
    fail("export to {}: no tokenizer.json in '{}' (the model's tokenizer folder is needed: pass --tokenizer DIR)", out_dir,
         sources.tokenizer_dir);
  auto tokenizer_config = read_object_or_empty(tok_dir / "tokenizer_config.json");
  auto special_tokens = read_object_or_empty(tok_dir / "special_tokens_map.json");
  if (llava_hf) {
    auto tokenizer = read_json_file(tok_json.string());
    const int64_t image_id = int_or(config, "image_token_index", -1);
    const int64_t pad_id = int_or(config, "pad_token_id", int_or(text, "pad_token_id", -1));
    if (image_id < 0) fail("{}: llava-hf config has no image_token_index", config_path.string());
    ensure_added_token(tokenizer, tok_json.string(), "<image>", image_id);
    auto& decoder = tokenizer_config["added_tokens_decoder"];
    if (!decoder.is_object()) decoder = nlohmann::json::object();
    decoder[std::to_string(image_id)] = {{"content", "<image>"}, {"lstrip", false}, {"normalized", false},
                                         {"rstrip", false},      {"single_word", false}, {"special", true}};
    if (pad_id >= 0 && pad_id != image_id) {
      ensure_added_token(tokenizer, tok_json.string(), "<pad>", pad_id);
      decoder[std::to_string(pad_id)] = {{"content", "<pad>"}, {"lstrip", false}, {"normalized", false},
                                         {"rstrip", false},    {"single_word", false}, {"special", true}};
      tokenizer_config["pad_token"] = "<pad>";
      special_tokens["pad_token"] = "<pad>";
    }
    tokenizer_config["image_token"] = "<image>";
    tokenizer_config["processor_class"] = "LlavaProcessor";
    write_json_file((out / "tokenizer.json").string(), tokenizer, -1);
  } else if (fs::absolute(tok_dir).lexically_normal() != fs::absolute(out).lexically_normal()) {
    fs::copy_file(tok_json, out / "tokenizer.json", fs::copy_options::overwrite_existing);
  }
  tokenizer_config["chat_template"] = chat_template;
  if (const int64_t max_length = int_or(config, "tokenizer_model_max_length", 0); max_length > 0)
    tokenizer_config["model_max_length"] = max_length;
  write_json_file((out / "tokenizer_config.json").string(), tokenizer_config);
  if (!special_tokens.empty()) write_json_file((out / "special_tokens_map.json").string(), special_tokens);

  // Generation defaults: greedy, the text model's special tokens.
  nlohmann::json generation = {{"_from_model_config", true}, {"do_sample", false}};
  for (const char* key : {"bos_token_id", "eos_token_id", "pad_token_id"})
    if (text.contains(key) && !text[key].is_null()) generation[key] = text[key];
  if (llava_hf && config.contains("pad_token_id")) generation["pad_token_id"] = config["pad_token_id"];
  write_json_file((out / "generation_config.json").string(), generation);

  // Image processor.
  if (sources.processor_config.empty() || !fs::exists(sources.processor_config))
    fail("export to {}: preprocessor_config.json '{}' not found", out_dir, sources.processor_config);
  auto processor = read_json_file(sources.processor_config);
  if (llava_hf) {
    processor["processor_class"] = "LlavaProcessor";
    const auto& vision = config.at("vision_config");
    const bool keep_cls = config.value("vision_feature_select_strategy", "default") == "full";
    write_json_file((out / "processor_config.json").string(),
               {{"processor_class", "LlavaProcessor"},
                {"patch_size", int_or(vision, "patch_size", 14)},
                {"vision_feature_select_strategy", keep_cls ? "full" : "default"},
                {"num_additional_image_tokens", vision.value("model_type", "clip_vision_model") == "siglip_vision_model" ? 0 : 1},
                {"image_token", "<image>"}});
    write_json_file((out / "chat_template.json").string(), {{"chat_template", chat_template}});
  }
  write_json_file((out / "preprocessor_config.json").string(), processor);
  if (official && fs::is_directory(out / "vision_tower"))
    write_json_file((out / "vision_tower" / "preprocessor_config.json").string(), processor);
}

}  // namespace vista::io
