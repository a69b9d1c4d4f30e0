// The BPE model: heap-based merging against a naive reference implementation, unknown tokens,
// byte fallback, ignore_merges, and the cutting of long words.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "text/bpe_model.h"
#include "util/json_node.h"
#include "text/tokenizer.h"
#include "tokenizer_test_util.h"

namespace vista::text {
namespace {

std::unique_ptr<BpeModel> model_from(const nlohmann::json& json) { return BpeModel::from_json(JsonNode(json, "inline.json", "model")); }

std::vector<uint32_t> tokenize(const BpeModel& model, const std::string& word) {
  std::vector<uint32_t> ids;
  model.tokenize(word, ids);
  return ids;
}

// Textbook BPE, quadratic: repeatedly merge the adjacent pair with the lowest rank, leftmost
// first. Works on single-byte characters.
std::vector<std::string> naive_bpe(const std::string& word, const std::map<std::pair<std::string, std::string>, size_t>& ranks) {
  std::vector<std::string> symbols;
  for (char c : word) symbols.emplace_back(1, c);
  while (true) {
    size_t best = SIZE_MAX, best_rank = SIZE_MAX;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto it = ranks.find({symbols[i], symbols[i + 1]});
      if (it != ranks.end() && it->second < best_rank) best_rank = it->second, best = i;
    }
    if (best == SIZE_MAX) return symbols;
    symbols[best] += symbols[best + 1];
    symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
}

TEST(BpeModel, HeapMergingMatchesNaiveBpeOnRandomVocabularies) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 30; ++trial) {
    // Random merges over a small alphabet, each joining two existing tokens. '_' plays the part
    // of SentencePiece's '▁': it only starts tokens, so words of 256+ bytes get cut before it
    // (BpeModel's long-word path), which must not change the result.
    std::vector<std::string> tokens = {"a", "b", "c", "d", "_"};
    std::map<std::pair<std::string, std::string>, size_t> ranks;
    nlohmann::json merges = nlohmann::json::array();
    std::uniform_int_distribution<int> count(5, 80);
    const int n = count(rng);
    for (int m = 0; m < n; ++m) {
      const auto& left = tokens[rng() % tokens.size()];
      const auto& right = tokens[rng() % tokens.size()];
      if (ranks.count({left, right}) || left.size() + right.size() > 8 || right.find('_') != std::string::npos) continue;
      ranks[{left, right}] = merges.size();
      merges.push_back(nlohmann::json::array({left, right}));
      const std::string merged = left + right;
      if (std::find(tokens.begin(), tokens.end(), merged) == tokens.end()) tokens.push_back(merged);
    }
    nlohmann::json vocab = nlohmann::json::object();
    for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
    const auto model = model_from({{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}});
    std::uniform_int_distribution<int> length(1, 700);
    for (int w = 0; w < 40; ++w) {
      std::string word;
      const int len = length(rng);
      for (int i = 0; i < len; ++i) word.push_back("abcd_"[rng() % 5]);
      std::vector<std::string> expected = naive_bpe(word, ranks);
      std::vector<std::string> actual;
      for (uint32_t id : tokenize(*model, word)) actual.push_back(*model->id_to_token(id));
      ASSERT_EQ(actual, expected) << "trial " << trial << " word " << word;
      std::vector<uint32_t> whole;
      model->merge_word_uncached(word, whole);
      ASSERT_EQ(tokenize(*model, word), whole) << "trial " << trial << " word " << word;
    }
  }
}

TEST(BpeModel, UnknownCharactersFuseOnlyWhenAsked) {
  nlohmann::json json = {{"type", "BPE"}, {"unk_token", "<unk>"}, {"vocab", {{"<unk>", 0}, {"a", 1}, {"b", 2}}}, {"merges", nlohmann::json::array()}};
  json["fuse_unk"] = true;
  EXPECT_EQ(tokenize(*model_from(json), "axyb"), (std::vector<uint32_t>{1, 0, 2}));
  json["fuse_unk"] = false;
  EXPECT_EQ(tokenize(*model_from(json), "axyb"), (std::vector<uint32_t>{1, 0, 0, 2}));
  // Without an unknown token, characters outside the vocabulary are dropped.
  json.erase("unk_token");
  EXPECT_EQ(tokenize(*model_from(json), "axyb"), (std::vector<uint32_t>{1, 2}));
}

TEST(BpeModel, ByteFallbackUsesByteTokensAndFallsBackToUnknown) {
  nlohmann::json vocab = {{"<unk>", 0}, {"a", 1}};
  for (int b = 0; b < 256; ++b) vocab[fmt::format("<0x{:02X}>", b)] = 2 + b;
  nlohmann::json json = {{"type", "BPE"}, {"unk_token", "<unk>"}, {"byte_fallback", true}, {"fuse_unk", true}, {"vocab", vocab},
                         {"merges", nlohmann::json::array()}};
  // "é" is C3 A9
  EXPECT_EQ(tokenize(*model_from(json), "a\xC3\xA9"), (std::vector<uint32_t>{1, 2 + 0xC3, 2 + 0xA9}));
  vocab.erase("<0xA9>");
  json["vocab"] = vocab;
  EXPECT_EQ(tokenize(*model_from(json), "a\xC3\xA9"), (std::vector<uint32_t>{1, 0}));
}

TEST(BpeModel, IgnoreMergesEmitsWholeVocabularyWords) {
  nlohmann::json json = {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"abc", 4}}}, {"merges", {"a b"}}};
  EXPECT_EQ(tokenize(*model_from(json), "abc"), (std::vector<uint32_t>{3, 2}));
  json["ignore_merges"] = true;
  EXPECT_EQ(tokenize(*model_from(json), "abc"), (std::vector<uint32_t>{4}));
  EXPECT_EQ(tokenize(*model_from(json), "abcab"), (std::vector<uint32_t>{3, 2, 3}));
}

TEST(BpeModel, ContinuingSubwordPrefixAndSuffix) {
  nlohmann::json json = {{"type", "BPE"},
                         {"continuing_subword_prefix", "##"},
                         {"vocab", {{"a", 0}, {"##b", 1}, {"##c", 2}, {"ab", 3}, {"##bc", 4}}},
                         {"merges", {"a ##b", "##b ##c"}}};
  EXPECT_EQ(tokenize(*model_from(json), "abc"), (std::vector<uint32_t>{3, 2}));
  EXPECT_EQ(tokenize(*model_from(json), "abcbc"), (std::vector<uint32_t>{3, 2, 4}));
}

TEST(BpeModel, RepeatedWordsUseTheCacheConsistently) {
  nlohmann::json json = {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}}, {"merges", {"a b"}}};
  const auto model = model_from(json);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(tokenize(*model, "abab"), (std::vector<uint32_t>{2, 2}));
}

// A whole 1 MB text is one BPE word for the SentencePiece-style tokenizers (no pre-tokenizer).
// Long words are cut where no merge can cross; the result must equal merging the whole word,
// and the token count must equal the reference engine's (bench/results.json).
TEST(BpeModel, LongWordCuttingEqualsWholeWordMerging) {
  const std::string dir = testdata("tokenizers/mistral7b");
  const auto json = nlohmann::json::parse(testing::read_text_file(dir + "/tokenizer.json"));
  const auto model = BpeModel::from_json(JsonNode(json["model"], dir + "/tokenizer.json", "model"));
  const std::string text = testing::read_text_file(testdata("tokenizers/bench/english_1mb.txt"));
  std::string word = "\xE2\x96\x81";  // the normalizer: Prepend("▁"), Replace(" " -> "▁")
  for (char c : text) word += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
  std::vector<uint32_t> whole, cut;
  model->merge_word_uncached(word, whole);
  model->tokenize(word, cut);
  EXPECT_EQ(cut, whole);

  const auto results = nlohmann::json::parse(testing::read_text_file(testdata("tokenizers/bench/results.json")));
  int64_t reference_tokens = -1;
  for (const auto& run : results["runs"])
    if (run["engine"] == "tokenizers@0.23.2" && run["tokenizer"] == "mistral7b") reference_tokens = run["single_call"]["tokens"];
  ASSERT_GT(reference_tokens, 0);
  EXPECT_EQ(static_cast<int64_t>(whole.size()), reference_tokens);
  const auto tokenizer = Tokenizer::from_dir(dir);
  EXPECT_EQ(static_cast<int64_t>(tokenizer.encode_ids(text, false).size()), reference_tokens);
}

TEST(BpeModel, QwenTokenCountOnTheBenchTextMatchesTheReference) {
  const auto tokenizer = Tokenizer::from_dir(testdata("tokenizers/qwen3"));
  const std::string text = testing::read_text_file(testdata("tokenizers/bench/english_1mb.txt"));
  const auto results = nlohmann::json::parse(testing::read_text_file(testdata("tokenizers/bench/results.json")));
  int64_t reference_tokens = -1;
  for (const auto& run : results["runs"])
    if (run["engine"] == "tokenizers@0.23.2" && run["tokenizer"] == "qwen3") reference_tokens = run["single_call"]["tokens"];
  ASSERT_GT(reference_tokens, 0);
  const auto ids = tokenizer.encode_ids(text, false);
  EXPECT_EQ(static_cast<int64_t>(ids.size()), reference_tokens);
  EXPECT_EQ(tokenizer.decode(ids, false), text);  // byte-level BPE round-trips (the text is NFC already)
}

}  // namespace
}  // namespace vista::text
