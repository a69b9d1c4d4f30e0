#pragma once
// The BPE model of a tokenizer.json ("model": {"type": "BPE", ...}): vocabulary, ranked merges,
// unknown-token and byte-fallback handling, and a heap-based merge loop (O(n log n) per word).
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/hash_tables.h"
#include "util/json_node.h"

namespace vista::text {

class BpeModel {
 public:
  // `node` is the "model" object of tokenizer.json.
  static std::unique_ptr<BpeModel> from_json(const JsonNode& node);

  // Appends the ids of one pre-tokenized word.
  void tokenize(std::string_view word, std::vector<uint32_t>& ids) const;

  // The plain heap-based merge of the whole word, without the word cache, the ignore_merges
  // shortcut or the cutting of long words (the reference path; tests compare against it).
  void merge_word_uncached(std::string_view word, std::vector<uint32_t>& ids) const { merge_word(word, ids); }

  std::optional<uint32_t> token_to_id(std::string_view token) const;
  // nullptr when the id has no token.
  const std::string* id_to_token(uint32_t id) const;
  // Number of vocabulary entries (as the reference's get_vocab_size).
  size_t vocab_size() const { return vocab_count_; }
  size_t merge_count() const { return merges_.size(); }

  // Words shorter than this many bytes are cached (as the reference does).
  static constexpr size_t kCacheMaxWordBytes = 256;
  static constexpr size_t kCacheCapacity = 200000;

 private:
  BpeModel() = default;
  void merge_word(std::string_view word, std::vector<uint32_t>& ids) const;
  // merge_word through the word cache (no ignore_merges shortcut).
  void tokenize_merged(std::string_view word, std::vector<uint32_t>& ids) const;
  // Long words: cut where no merge can ever join the two sides, then tokenize each chunk.
  void tokenize_long_word(std::string_view word, std::vector<uint32_t>& ids) const;
  const U64Set& joinable_pairs() const;
  uint32_t lookup_char(std::string_view ch, bool is_first, bool is_last, std::string& scratch) const;

  std::vector<std::string> vocab_r_;   // id -> token ("" with has_token_[id] == false for holes)
  std::vector<bool> has_token_;
  StringIdMap vocab_;
  size_t vocab_count_ = 0;
  PairMap merges_;
  std::optional<std::string> unk_token_;
  std::optional<uint32_t> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::string source_;                 // file name for runtime errors
  uint32_t ascii_ids_[128];            // single ASCII characters (no prefix/suffix) -> id
  uint32_t byte_ids_[256];             // <0xXX> tokens -> id
  bool all_byte_tokens_ = false;

  // Pairs of code points (a << 21 | b) that occur next to each other inside some vocabulary
  // token. Two single-character symbols whose characters are not such a pair can never end up in
  // one token, so a long word can be cut between them without changing the result.
  mutable std::once_flag joinable_once_;
  mutable U64Set joinable_;

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<uint32_t>> cache_;
};

}  // namespace vista::text
