#pragma once
// The LLM tokens of each label word, from which its label embedding is averaged. A word is
// tokenized in word-initial form (as it appears after a space inside a sentence) without BOS.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace vista::sea {

struct WordTokens {
  torch::Tensor token_ids_M;  // int64, all words' tokens concatenated
  torch::Tensor offsets_Q1;   // int64 [Q+1]: word w owns token_ids[offsets[w] .. offsets[w+1])
};

// A word that yields no token, or a token that is the tokenizer's unknown token, is an error
// naming the word list file, the line and the token.
WordTokens tokenize_words(const text::Tokenizer& tokenizer, const std::vector<std::string>& words,
                          const std::string& words_path);

// The ids of words [begin, end) of `tokens`, as the label_embeddings arguments for a subset:
// selects words word_N and returns their token ids and offsets.
WordTokens select_words(const WordTokens& tokens, const torch::Tensor& word_N);

}  // namespace vista::sea
