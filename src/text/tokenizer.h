#pragma once
// A Hugging Face tokenizer.json tokenizer with the Rust `tokenizers` engine's behaviour:
// added tokens matched first, then normalizer -> pre-tokenizer -> BPE model -> post-processor;
// decoding through the decoder chain.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/post_processors.h"
#include "text/tokenizer_config.h"

namespace vista::text {

class Tokenizer {
 public:
  // Loads DIR/tokenizer.json and, when present, DIR/tokenizer_config.json.
  static Tokenizer from_dir(const std::string& dir);
  // Loads one tokenizer.json (no tokenizer_config.json).
  static Tokenizer from_file(const std::string& tokenizer_json);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // `text` must be valid UTF-8. add_special_tokens applies the post-processor's template
  // (e.g. a leading <s>); added tokens in the text are matched either way.
  Encoding encode(std::string_view text, bool add_special_tokens) const;
  // Same ids as encode(), without building the token strings.
  std::vector<int64_t> encode_ids(std::string_view text, bool add_special_tokens) const;
  // Unknown ids are skipped (as in the reference); skip_special_tokens drops added tokens
  // marked "special": true.
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const;

  std::optional<int64_t> token_to_id(std::string_view token) const;
  std::optional<std::string> find_token(int64_t id) const;
  // Throws vista::Error for an id without a token.
  std::string id_to_token(int64_t id) const;
  bool is_special_token(std::string_view token) const;
  // Distinct tokens, model vocabulary plus added tokens (the reference's get_vocab_size(true)).
  size_t vocab_size() const;
  size_t model_vocab_size() const;

  const TokenizerConfig& config() const;
  const std::string& source() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vista::text
