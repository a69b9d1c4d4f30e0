#pragma once
// Added tokens (tokenizer.json "added_tokens"): ids, flags, and leftmost-longest matching in text
// before the model runs (non-normalized tokens in the raw text, normalized ones after the
// normalizer), with the single_word / lstrip / rstrip rules of the reference.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace vista::text {

struct AddedToken {
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// A piece of text: either an added-token match (token_id set) or text still to tokenize.
struct TextSegment {
  size_t begin = 0, end = 0;         // byte range in the string that was split
  std::optional<uint32_t> token_id;  // set for an added-token match
};

class AddedTokenMatcher {
 public:
  struct Pattern {
    std::string text;
    uint32_t id;
    const AddedToken* token;
  };
  void build(std::vector<Pattern> patterns);
  bool empty() const { return patterns_.empty(); }
  // Splits `text` into matches and the text between them (empty pieces are left out).
  std::vector<TextSegment> split(std::string_view text) const;

 private:
  struct Node {
    std::unordered_map<unsigned char, uint32_t> children;
    int32_t pattern = -1;
  };
  // Longest pattern starting at `pos`, or -1.
  int32_t longest_at(std::string_view text, size_t pos, size_t* length) const;
  std::vector<Pattern> patterns_;
  std::vector<Node> nodes_;
  bool first_byte_[256] = {};
};

class AddedVocabulary {
 public:
  // `model_token_to_id` / `model_vocab_size` mirror the reference's id assignment: a token already
  // in the model keeps the model's id; others get the next id after the model vocabulary.
  template <typename ModelLookup>
  void add(const AddedToken& token, ModelLookup&& model_token_to_id, size_t model_vocab_size);

  // Must be called after the last add(); `normalize` turns a normalized token's content into the
  // form it is matched in (the tokenizer's normalizer).
  template <typename Normalize>
  void finalize(Normalize&& normalize);

  const AddedTokenMatcher& raw_matcher() const { return raw_; }
  const AddedTokenMatcher& normalized_matcher() const { return normalized_; }

  std::optional<uint32_t> token_to_id(std::string_view content) const;
  const AddedToken* token_for_id(uint32_t id) const;
  bool is_special(std::string_view content) const { return special_set_.count(std::string(content)) != 0; }
  size_t size() const { return by_content_.size(); }
  const std::unordered_map<uint32_t, AddedToken>& tokens_by_id() const { return by_id_; }

 private:
  std::unordered_map<std::string, uint32_t> by_content_;
  std::unordered_map<uint32_t, AddedToken> by_id_;
  std::vector<AddedToken> special_tokens_;  // in the order given
  std::vector<AddedToken> classic_tokens_;  // in the order given
  std::unordered_set<std::string> special_set_;
  AddedTokenMatcher raw_;
  AddedTokenMatcher normalized_;
};

bool operator==(const AddedToken& a, const AddedToken& b);

template <typename ModelLookup>
void AddedVocabulary::add(const AddedToken& token, ModelLookup&& model_token_to_id, size_t model_vocab_size) {
  if (token.special && !token.content.empty() && !special_set_.count(token.content)) {
    special_tokens_.push_back(token);
    special_set_.insert(token.content);
  }
  if (token.content.empty()) return;
  if (auto it = by_content_.find(token.content); it != by_content_.end() && by_id_.at(it->second) == token) return;
  uint32_t new_id;
  if (auto it = by_content_.find(token.content); it != by_content_.end()) {
    new_id = it->second;
  } else if (std::optional<uint32_t> model_id = model_token_to_id(token.content)) {
    new_id = *model_id;
  } else if (by_content_.empty()) {
    new_id = static_cast<uint32_t>(model_vocab_size);
  } else {
    uint32_t max_id = 0;
    for (const auto& [content, id] : by_content_) max_id = std::max(max_id, id);
    new_id = (max_id >= model_vocab_size || model_vocab_size == 0) ? max_id + 1 : static_cast<uint32_t>(model_vocab_size);
  }
  by_content_[token.content] = new_id;
  by_id_[new_id] = token;
  if (!special_set_.count(token.content)) classic_tokens_.push_back(token);
}

template <typename Normalize>
void AddedVocabulary::finalize(Normalize&& normalize) {
  std::vector<AddedTokenMatcher::Pattern> raw, normalized;
  auto collect = [&](const std::vector<AddedToken>& list) {
    for (const auto& token : list) {
      const uint32_t id = by_content_.at(token.content);
      const AddedToken* stored = &by_id_.at(id);
      if (token.normalized)
        normalized.push_back({normalize(token.content), id, stored});
      else
        raw.push_back({token.content, id, stored});
    }
  };
  collect(special_tokens_);
  collect(classic_tokens_);
  raw_.build(std::move(raw));
  normalized_.build(std::move(normalized));
}

}  // namespace vista::text
