#pragma once
// The parts of transformers' tokenizer_config.json a caller may need next to tokenizer.json:
// special token names, add_bos/eos flags, clean-up flag, maximum length. They do not change
// Tokenizer::encode/decode, which follow tokenizer.json alone (the Rust engine's behaviour).
#include <optional>
#include <string>

namespace vista::text {

struct TokenizerConfig {
  bool present = false;  // false when the folder has no tokenizer_config.json
  std::string tokenizer_class;
  std::optional<std::string> bos_token, eos_token, unk_token, pad_token;
  std::optional<bool> add_bos_token, add_eos_token;
  bool clean_up_tokenization_spaces = false;
  std::optional<double> model_max_length;
  bool has_chat_template = false;
};

// Reads `path`; fields of the wrong type fail with the file and the field.
TokenizerConfig read_tokenizer_config(const std::string& path);

}  // namespace vista::text
