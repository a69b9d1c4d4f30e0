#pragma once
// Pre-tokenizers of tokenizer.json ("pre_tokenizer"): Sequence, Split, ByteLevel, Metaspace,
// Digits, Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer. Each one splits every
// piece of text into smaller pieces (and may rewrite them, as ByteLevel and Metaspace do).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/json_node.h"

namespace vista::text {

struct PreSplit {
  std::string text;
  bool at_start = false;  // begins at offset 0 of the original input (Metaspace prepend_scheme "first")
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `splits` by the pieces each one is cut into; empty pieces are dropped.
  virtual void pre_tokenize(std::vector<PreSplit>& splits) const = 0;
};

// How the delimiters found by a pattern are kept (the reference's SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// One piece of the pattern-split of a string: [begin, end) and whether it is a match.
struct PatternPiece {
  size_t begin, end;
  bool is_match;
};
// Covers the whole text with matches and gaps (the reference's Pattern::find_matches).
std::vector<PatternPiece> pieces_from_matches(std::string_view text, const std::vector<std::pair<size_t, size_t>>& matches);
// Applies a behavior and returns the byte ranges to keep (possibly empty ones).
std::vector<std::pair<size_t, size_t>> apply_split_behavior(const std::vector<PatternPiece>& pieces, SplitBehavior behavior);

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonNode& node);

}  // namespace vista::text
