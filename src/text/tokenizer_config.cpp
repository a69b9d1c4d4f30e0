#include "text/tokenizer_config.h"

#include "util/json_file.h"
#include "util/json_node.h"

namespace vista::text {

namespace {

// A special token is written either as "<s>" or as {"content": "<s>", ...}.
std::optional<std::string> special_token(const JsonNode& root, const std::string& key) {
  auto node = root.find(key);
  if (!node) return std::nullopt;
  if (node->is_string()) return node->as_string();
  if (node->is_object()) return node->at("content").as_string();
  node->fail("expected a string, an object with \"content\", or null");
}

std::optional<bool> optional_bool(const JsonNode& root, const std::string& key) {
  auto node = root.find(key);
  if (!node) return std::nullopt;
  return node->as_bool();
}

}  // namespace

TokenizerConfig read_tokenizer_config(const std::string& path) {
  const nlohmann::json json = read_json_file(path);
  const JsonNode root(json, path);
  root.as_object();
  TokenizerConfig config;
  config.present = true;
  config.tokenizer_class = root.string_or("tokenizer_class", "");
  config.bos_token = special_token(root, "bos_token");
  config.eos_token = special_token(root, "eos_token");
  config.unk_token = special_token(root, "unk_token");
  config.pad_token = special_token(root, "pad_token");
  config.add_bos_token = optional_bool(root, "add_bos_token");
  config.add_eos_token = optional_bool(root, "add_eos_token");
  config.clean_up_tokenization_spaces = root.boolean_or("clean_up_tokenization_spaces", false);
  if (auto max_length = root.find("model_max_length")) {
    if (!max_length->raw().is_number()) max_length->fail("expected a number, got " + json_type_name(max_length->raw()));
    config.model_max_length = max_length->raw().get<double>();
  }
  config.has_chat_template = root.has("chat_template");
  return config;
}

}  // namespace vista::text
