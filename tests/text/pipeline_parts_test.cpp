// Pieces of the pipeline: split behaviours, added-token matching flags, decoders, and behaviour
// the fixture README states for the committed tokenizers.
#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "text/added_vocabulary.h"
#include "text/decoders.h"
#include "util/json_node.h"
#include "text/normalizers.h"
#include "text/pre_tokenizers.h"
#include "text/tokenizer.h"
#include "tokenizer_test_util.h"

namespace vista::text {
namespace {

std::vector<std::string> split_with(const nlohmann::json& config, const std::string& text) {
  const auto pre = make_pre_tokenizer(JsonNode(config, "inline.json", "pre_tokenizer"));
  std::vector<PreSplit> splits = {PreSplit{text, true}};
  pre->pre_tokenize(splits);
  std::vector<std::string> out;
  for (auto& s : splits) out.push_back(s.text);
  return out;
}

nlohmann::json split_on_dash(const std::string& behavior) {
  return {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", false}};
}

// The example of the reference's SplitDelimiterBehavior documentation.
TEST(SplitBehaviors, ReferenceDocumentationExample) {
  const std::string text = "the-final--countdown";
  using V = std::vector<std::string>;
  EXPECT_EQ(split_with(split_on_dash("Removed"), text), (V{"the", "final", "countdown"}));
  EXPECT_EQ(split_with(split_on_dash("Isolated"), text), (V{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split_with(split_on_dash("MergedWithPrevious"), text), (V{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split_with(split_on_dash("MergedWithNext"), text), (V{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split_with(split_on_dash("Contiguous"), text), (V{"the", "-", "final", "--", "countdown"}));
}

TEST(PreTokenizers, GptRegexDigitsMetaspaceAndByteLevel) {
  using V = std::vector<std::string>;
  // Llama-3's pattern: digits in groups of three, the \s+(?!\S) lookahead leaves one space.
  const nlohmann::json llama3 = {
      {"type", "Split"},
      {"pattern", {{"Regex", R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
      {"behavior", "Isolated"},
      {"invert", false}};
  EXPECT_EQ(split_with(llama3, "I'M 12345 ok   go\n\nx"), (V{"I", "'M", " ", "123", "45", " ok", "  ", " go", "\n\n", "x"}));
  EXPECT_EQ(split_with({{"type", "Digits"}, {"individual_digits", true}}, "a12b"), (V{"a", "1", "2", "b"}));
  EXPECT_EQ(split_with({{"type", "Digits"}, {"individual_digits", false}}, "a12b3"), (V{"a", "12", "b", "3"}));
  EXPECT_EQ(split_with({{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "always"}, {"split", true}}, "Hey  friend"),
            (V{"\u2581Hey", "\u2581", "\u2581friend"}));
  EXPECT_EQ(split_with({{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}}, "Hello world!"),
            (V{"\u0120Hello", "\u0120world", "!"}));
}

TEST(AddedTokens, SingleWordRule) {
  AddedToken mask{"<mask>", /*single_word=*/true, false, false, /*normalized=*/false, false};
  AddedTokenMatcher matcher;
  matcher.build({{"<mask>", 0, &mask}});
  const std::string text = "<mask> My name <mask> A<mask> <mask>ony <mask>";
  std::vector<std::pair<std::string, bool>> pieces;
  for (const auto& s : matcher.split(text)) pieces.emplace_back(text.substr(s.begin, s.end - s.begin), s.token_id.has_value());
  // The reference's own test (there with a lowercasing normalizer).
  EXPECT_EQ(pieces, (std::vector<std::pair<std::string, bool>>{
                        {"<mask>", true}, {" My name ", false}, {"<mask>", true}, {" A<mask> <mask>ony ", false}, {"<mask>", true}}));
}

TEST(AddedTokens, LeftAndRightStripTakeUnicodeWhitespace) {
  AddedToken mask{"<mask>", true, /*lstrip=*/true, /*rstrip=*/true, false, false};
  AddedTokenMatcher matcher;
  matcher.build({{"<mask>", 0, &mask}});
  const std::string text = "Hi <mask> there\t<mask>\t<mask>\u2000";
  std::vector<std::pair<std::string, bool>> pieces;
  for (const auto& s : matcher.split(text)) pieces.emplace_back(text.substr(s.begin, s.end - s.begin), s.token_id.has_value());
  EXPECT_EQ(pieces, (std::vector<std::pair<std::string, bool>>{
                        {"Hi", false}, {" <mask> ", true}, {"there", false}, {"\t<mask>\t", true}, {"<mask>\u2000", true}}));
}

TEST(AddedTokens, LeftmostLongestMatch) {
  AddedToken a{"<a>", false, false, false, false, true}, ab{"<a><b>", false, false, false, false, true};
  AddedTokenMatcher matcher;
  matcher.build({{"<a>", 1, &a}, {"<a><b>", 2, &ab}});
  const std::string text = "x<a><b><a>";
  std::vector<std::pair<std::string, int>> pieces;
  for (const auto& s : matcher.split(text)) pieces.emplace_back(text.substr(s.begin, s.end - s.begin), s.token_id ? static_cast<int>(*s.token_id) : -1);
  EXPECT_EQ(pieces, (std::vector<std::pair<std::string, int>>{{"x", -1}, {"<a><b>", 2}, {"<a>", 1}}));
}

std::string decode_with(const nlohmann::json& config, std::vector<std::string> tokens) {
  return make_decoder(JsonNode(config, "inline.json", "decoder"))->decode(std::move(tokens));
}

TEST(Decoders, ByteFallbackFuseStripMetaspaceByteLevel) {
  const nlohmann::json llama = nlohmann::json::parse(R"({"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"},
      {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})");
  EXPECT_EQ(decode_with(llama, {"\u2581Hello", "<0xE2>", "<0x82>", "<0xAC>", "\u2581world"}), "Hello\u20AC world");
  // Byte tokens that are not valid UTF-8 become one U+FFFD each.
  EXPECT_EQ(decode_with(llama, {"<0xE2>", "<0x82>", "a"}), "\uFFFD\uFFFDa");
  // Strip removes one leading space of the fused text only.
  EXPECT_EQ(decode_with(llama, {"<s>", "\u2581Hello"}), "<s> Hello");
  EXPECT_EQ(decode_with(llama, {"\u2581\u2581x"}), " x");
  EXPECT_EQ(decode_with({{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "always"}, {"split", true}},
                        {"\u2581Hey", "\u2581friend!"}),
            "Hey friend!");
  // ByteLevel: characters map back to bytes; invalid UTF-8 becomes U+FFFD per maximal subpart.
  EXPECT_EQ(decode_with({{"type", "ByteLevel"}}, {"Hello", "\u0120w\u00C3\u00A9"}), "Hello w\u00E9");
  EXPECT_EQ(decode_with({{"type", "ByteLevel"}}, {"\u00C3", "x"}), "\uFFFDx");
}

TEST(Normalizers, PrependReplaceSequence) {
  const nlohmann::json config = nlohmann::json::parse(R"({"type": "Sequence", "normalizers": [
      {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]})");
  const auto normalizer = make_normalizer(JsonNode(config, "inline.json", "normalizer"));
  std::string text = "Hello  world";
  normalizer->normalize(text);
  EXPECT_EQ(text, "\u2581Hello\u2581\u2581world");
  std::string empty;
  normalizer->normalize(empty);
  EXPECT_EQ(empty, "");  // Prepend leaves empty text alone
  const auto regex = make_normalizer(JsonNode::owning(
      {{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", "_"}}, "inline.json", "normalizer"));
  std::string spaced = "a \t b\u3000c";
  regex->normalize(spaced);
  EXPECT_EQ(spaced, "a_b_c");
}

// Statements of the fixture README about the committed tokenizers.
TEST(CommittedTokenizers, ReadmeStatements) {
  const auto mistral = Tokenizer::from_dir(testdata("tokenizers/mistral7b"));
  EXPECT_EQ(mistral.encode("Hello world!", true).ids, (std::vector<int64_t>{1, 22557, 1526, 28808}));
  EXPECT_EQ(mistral.encode("Hello world!", false).ids, (std::vector<int64_t>{22557, 1526, 28808}));
  // Added tokens are matched whatever add_special_tokens says.
  const auto with_s = mistral.encode("<s>Hello</s>", false).ids;
  ASSERT_EQ(with_s.size(), 3u);
  EXPECT_EQ(with_s.front(), 1);
  EXPECT_EQ(with_s.back(), 2);
  EXPECT_EQ(mistral.decode({1, 22557, 1526}, false), "<s> Hello world");
  EXPECT_EQ(mistral.decode({1, 22557, 1526}, true), "Hello world");
  EXPECT_EQ(mistral.token_to_id("\u2581"), 28705);

  const auto qwen = Tokenizer::from_dir(testdata("tokenizers/qwen3"));
  const auto think = qwen.token_to_id("<think>");
  const auto im_end = qwen.token_to_id("<|im_end|>");
  ASSERT_TRUE(think && im_end);
  EXPECT_FALSE(qwen.is_special_token("<think>"));
  EXPECT_TRUE(qwen.is_special_token("<|im_end|>"));
  const auto ids = qwen.encode("<think>hi<|im_end|>", true).ids;
  EXPECT_EQ(ids.front(), *think);
  EXPECT_EQ(ids.back(), *im_end);
  EXPECT_EQ(qwen.decode(ids, true), "<think>hi");  // skip_special_tokens keeps non-special added tokens
  EXPECT_EQ(qwen.encode("x", true).ids, qwen.encode("x", false).ids);  // ByteLevel post-processor adds nothing
  EXPECT_EQ(qwen.decode({}, false), "");
}

TEST(CommittedTokenizers, ConcurrentEncodingIsConsistent) {
  const auto qwen = Tokenizer::from_dir(testdata("tokenizers/qwen3"));
  const std::string text = testing::read_text_file(testdata("tokenizers/bench/english_1mb.txt")).substr(0, 200000);
  const auto expected = qwen.encode_ids(text, false);
  std::vector<std::vector<int64_t>> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) threads.emplace_back([&, t] { results[t] = qwen.encode_ids(text, false); });
  for (auto& thread : threads) thread.join();
  for (const auto& r : results) EXPECT_EQ(r, expected);
}

}  // namespace
}  // namespace vista::text
