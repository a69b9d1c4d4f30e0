#pragma once
// Tokenization of a rendered prompt with image placeholders (docs/method.md §2.2) and its label
// spans (§3.4), found from prompt prefixes that end at stable boundaries.
#include <string>
#include <vector>

#include "data/conversation.h"
#include "text/tokenizer.h"

namespace vista::data {

inline constexpr int64_t kImagePlaceholderId = -200;
inline constexpr int64_t kIgnoreLabel = -100;

// Splits on "<image>", tokenizes every chunk on its own (with the tokenizer's special tokens, so
// a LLaMA tokenizer adds BOS and the dummy-prefix space to each), keeps only the first chunk's
// BOS and joins chunks with one -200.
std::vector<int64_t> tokenize_with_images(const text::Tokenizer& tokenizer, const std::string& prompt);

struct TokenizedSample {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> labels;
  // True when the prefix tokenizations did not line up with the full prompt's tokens; all
  // labels are then -100 (the official sanity rule), and `problem` says where.
  bool label_mismatch = false;
  std::string problem;
};

TokenizedSample tokenize_conversation(const text::Tokenizer& tokenizer, const Template& tmpl,
                                      const Conversation& conversation);

}  // namespace vista::data
