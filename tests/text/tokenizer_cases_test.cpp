// Parity with the Hugging Face Rust engine: every field of every case of
// <shared fixtures>/tokenizers/<name>/cases.jsonl, for all six fixture tokenizers (the two committed
// ones from testdata/ when the shared set is absent).
#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "text/case_check.h"
#include "text/tokenizer.h"
#include "tokenizer_test_util.h"

namespace vista::text {
namespace {

using testing::find_tokenizer_dir;
using testing::missing_tokenizer_message;

class TokenizerCases : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerCases, EveryFieldOfEveryCaseMatchesTheReference) {
  const std::string name = GetParam();
  std::string looked_in;
  const std::string dir = find_tokenizer_dir(name, &looked_in);
  if (dir.empty()) GTEST_SKIP() << missing_tokenizer_message(name, looked_in);
  const Tokenizer tokenizer = Tokenizer::from_dir(dir);
  const CaseCheckResult result = check_cases(tokenizer, dir + "/cases.jsonl");
  EXPECT_GE(result.total, 200u);
  std::string failed;
  for (const auto& id : result.failed_ids) failed += id + " ";
  EXPECT_EQ(result.passed, result.total) << result.first_mismatch.value_or("") << "\nfailing cases: " << failed;
}

// Sizes and added tokens as the fixture README and the tokenizer.json files state them.
TEST_P(TokenizerCases, VocabularyAndAddedTokensAsDeclared) {
  const std::string name = GetParam();
  std::string looked_in;
  const std::string dir = find_tokenizer_dir(name, &looked_in);
  if (dir.empty()) GTEST_SKIP() << missing_tokenizer_message(name, looked_in);
  const Tokenizer tokenizer = Tokenizer::from_dir(dir);
  const std::map<std::string, size_t> readme_sizes = {{"llama2", 32000},  {"llama2_llava_synth", 32002}, {"mistral7b", 32000},
                                                      {"qwen3", 151669}, {"llama3", 128256},            {"gemma3", 262145}};
  EXPECT_EQ(tokenizer.vocab_size(), readme_sizes.at(name));
  const auto json = nlohmann::json::parse(testing::read_text_file(dir + "/tokenizer.json"));
  for (const auto& token : json["added_tokens"]) {
    const std::string content = token["content"];
    EXPECT_EQ(tokenizer.token_to_id(content), token["id"].get<int64_t>()) << content;
    EXPECT_EQ(tokenizer.id_to_token(token["id"].get<int64_t>()), content);
    EXPECT_EQ(tokenizer.is_special_token(content), token["special"].get<bool>()) << content;
  }
  for (const auto& [token, id] : json["model"]["vocab"].items()) {
    if (tokenizer.is_special_token(token)) continue;
    ASSERT_EQ(tokenizer.token_to_id(token), id.get<int64_t>()) << token;
  }
  EXPECT_TRUE(tokenizer.config().present);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TokenizerCases,
                         ::testing::Values("qwen3", "mistral7b", "llama2", "llama2_llava_synth", "llama3", "gemma3"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace vista::text
