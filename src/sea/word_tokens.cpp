#include "sea/word_tokens.h"

#include "util/error.h"

namespace vista::sea {

namespace {
// SentencePiece-style tokenizers mark a word start themselves ("▁cat" from "cat"); byte-level
// ones only see it from a leading space ("Ġcat" from " cat").
bool starts_word(const std::string& token) {
  return token.rfind("\xE2\x96\x81", 0) == 0 || token.rfind("\xC4\xA0", 0) == 0 || token.rfind(" ", 0) == 0;
}
}  // namespace

WordTokens tokenize_words(const text::Tokenizer& tokenizer, const std::vector<std::string>& words,
                          const std::string& words_path) {
  std::vector<int64_t> ids, offsets{0};
  // The unknown token: as tokenizer_config.json names it, else the model's usual spellings.
  std::optional<std::string> unk = tokenizer.config().unk_token;
  for (const char* usual : {"<unk>", "[UNK]"})
    if (!unk && tokenizer.token_to_id(usual)) unk = usual;
  const auto unk_id = unk ? tokenizer.token_to_id(*unk) : std::nullopt;
  for (size_t w = 0; w < words.size(); ++w) {
    auto word_ids = tokenizer.encode_ids(words[w], false);
    if (!word_ids.empty() && !starts_word(tokenizer.id_to_token(word_ids.front()))) {
      auto spaced = tokenizer.encode_ids(" " + words[w], false);
      if (!spaced.empty() && starts_word(tokenizer.id_to_token(spaced.front()))) word_ids = std::move(spaced);
    }
    if (word_ids.empty())
      fail("{}:{}: '{}' gives no token with the LLM tokenizer {}", words_path, w + 1, words[w], tokenizer.source());
    for (const auto id : word_ids)
      if (unk_id && id == *unk_id)
        fail("{}:{}: '{}' holds a character the LLM tokenizer {} maps to its unknown token '{}'; remove the word",
             words_path, w + 1, words[w], tokenizer.source(), *unk);
    ids.insert(ids.end(), word_ids.begin(), word_ids.end());
    offsets.push_back(static_cast<int64_t>(ids.size()));
  }
  WordTokens out;
  out.token_ids_M = torch::tensor(ids, torch::kLong);
  out.offsets_Q1 = torch::tensor(offsets, torch::kLong);
  return out;
}

WordTokens select_words(const WordTokens& tokens, const torch::Tensor& word_N) {
  const auto words = word_N.to(torch::kCPU, torch::kLong).contiguous();
  const auto* off = tokens.offsets_Q1.data_ptr<int64_t>();
  const auto* all = tokens.token_ids_M.data_ptr<int64_t>();
  const int64_t q = tokens.offsets_Q1.numel() - 1;
  std::vector<int64_t> ids, offsets{0};
  for (int64_t i = 0; i < words.numel(); ++i) {
    const int64_t w = words.data_ptr<int64_t>()[i];
    if (w < 0 || w >= q) fail("sea: word index {} is outside the word list of {} words", w, q);
    ids.insert(ids.end(), all + off[w], all + off[w + 1]);
    offsets.push_back(static_cast<int64_t>(ids.size()));
  }
  return {torch::tensor(ids, torch::kLong), torch::tensor(offsets, torch::kLong)};
}

}  // namespace vista::sea
