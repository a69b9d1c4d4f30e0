// Malformed tokenizer.json / cases.jsonl files: every error names the file, the field and what
// was expected.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "text/case_check.h"
#include "text/tokenizer.h"
#include "tokenizer_test_util.h"

namespace vista::text {
namespace {

nlohmann::json minimal_tokenizer() {
  return nlohmann::json::parse(R"({
    "version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [{"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false,
                      "normalized": false, "special": true}],
    "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
    "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
              "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
              "vocab": {"<s>": 0, "a": 1, "b": 2, "ab": 3}, "merges": ["a b"]}
  })");
}

class MalformedTokenizer : public ::testing::Test {
 protected:
  std::string write(const nlohmann::json& json) {
    const std::string path = dir_.file("tokenizer.json");
    write_file(path, json.dump());
    return path;
  }
  // Loads `json` and expects an error that names the file and contains every needle.
  void expect_load_error(const nlohmann::json& json, std::initializer_list<std::string> needles) {
    const std::string path = write(json);
    std::vector<std::string> all(needles);
    all.push_back(path);
    try {
      Tokenizer::from_file(path);
      FAIL() << "expected an error";
    } catch (const std::exception& e) {
      const std::string message = e.what();
      for (const auto& needle : all) EXPECT_NE(message.find(needle), std::string::npos) << "message: " << message << "\nmissing: " << needle;
    }
  }
  TempDir dir_;
};

TEST_F(MalformedTokenizer, MinimalFileLoadsAndEncodes) {
  const auto tokenizer = Tokenizer::from_file(write(minimal_tokenizer()));
  EXPECT_EQ(tokenizer.encode("ab<s>a", false).ids, (std::vector<int64_t>{3, 0, 1}));
  EXPECT_EQ(tokenizer.encode("ab<s>a", false).tokens, (std::vector<std::string>{"ab", "<s>", "a"}));
}

// Found by the tokenizer.json fuzzer: one id of 55 million made vista allocate a 1.9 GB id table.
TEST_F(MalformedTokenizer, ASparseHugeIdIsAnErrorNotGigabytes) {
  auto json = minimal_tokenizer();
  json["model"]["vocab"]["b"] = 55555553;
  expect_load_error(json, {"model.vocab", "ids are sparse: the largest id is 55555553 for 4 entries"});
}

TEST_F(MalformedTokenizer, UnsupportedComponentTypesNameTypeAndField) {
  auto json = minimal_tokenizer();
  json["normalizer"] = {{"type", "Precompiled"}};
  expect_load_error(json, {"field 'normalizer.type'", "unsupported normalizer type 'Precompiled'"});
  json = minimal_tokenizer();
  json["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}, {{"type", "Bogus"}}}}};
  expect_load_error(json, {"field 'normalizer.normalizers[1].type'", "'Bogus'"});
  json = minimal_tokenizer();
  json["pre_tokenizer"] = {{"type", "UnicodeScripts"}};
  expect_load_error(json, {"field 'pre_tokenizer.type'", "unsupported pre_tokenizer type 'UnicodeScripts'"});
  json = minimal_tokenizer();
  json["decoder"] = {{"type", "WordPiece"}};
  expect_load_error(json, {"field 'decoder.type'", "unsupported decoder type 'WordPiece'"});
  json = minimal_tokenizer();
  json["post_processor"] = {{"type", "Fancy"}};
  expect_load_error(json, {"field 'post_processor.type'", "'Fancy'"});
  json = minimal_tokenizer();
  json["model"]["type"] = "WordPiece";
  expect_load_error(json, {"field 'model'", "unsupported model type 'WordPiece'"});
}

TEST_F(MalformedTokenizer, BadModelFields) {
  auto json = minimal_tokenizer();
  json["model"].erase("vocab");
  expect_load_error(json, {"field 'model.vocab' is missing"});
  json = minimal_tokenizer();
  json["model"]["vocab"]["c"] = "seven";
  expect_load_error(json, {"field 'model.vocab'", "'c'", "expected an integer id"});
  json = minimal_tokenizer();
  json["model"]["merges"] = {"a b c"};
  expect_load_error(json, {"field 'model.merges[0]'", "two tokens"});
  json = minimal_tokenizer();
  json["model"]["merges"] = {"a b", "a x"};
  expect_load_error(json, {"field 'model.merges[1]'", "'x' is not in model.vocab"});
  json = minimal_tokenizer();
  json["model"]["merges"] = {"b a"};
  expect_load_error(json, {"field 'model.merges[0]'", "merged token 'ba'"});
  json = minimal_tokenizer();
  json["model"]["merges"] = {{{"a", 1}}};
  expect_load_error(json, {"field 'model.merges[0]'"});
  json = minimal_tokenizer();
  json["model"]["dropout"] = 0.1;
  expect_load_error(json, {"field 'model.dropout'", "not supported"});
  json = minimal_tokenizer();
  json["model"]["vocab"]["c"] = 3;
  expect_load_error(json, {"field 'model.vocab'", "id 3"});
}

TEST_F(MalformedTokenizer, BadTopLevelAndPipelineFields) {
  auto json = minimal_tokenizer();
  json["version"] = "2.0";
  expect_load_error(json, {"field 'version'", "expected \"1.0\""});
  json = minimal_tokenizer();
  json["truncation"] = {{"max_length", 512}};
  expect_load_error(json, {"field 'truncation'", "not supported"});
  json = minimal_tokenizer();
  json["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}, {"invert", false}};
  expect_load_error(json, {"field 'pre_tokenizer.pattern.Regex'", "invalid regular expression"});
  json = minimal_tokenizer();
  json["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Sideways"}, {"invert", false}};
  expect_load_error(json, {"field 'pre_tokenizer.behavior'", "'Sideways'"});
  json = minimal_tokenizer();
  json["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Glob", "*"}}}, {"content", "x"}};
  expect_load_error(json, {"field 'normalizer.pattern'", "{\"String\": ...} or {\"Regex\": ...}"});
  json = minimal_tokenizer();
  json["normalizer"] = {{"type", "Prepend"}, {"prepend", 5}};
  expect_load_error(json, {"field 'normalizer.prepend'", "expected a string, got an integer"});
  json = minimal_tokenizer();
  json["added_tokens"][0]["id"] = 7;
  expect_load_error(json, {"field 'added_tokens[0].id'", "declares id 7", "gives it id 0"});
  json = minimal_tokenizer();
  json["added_tokens"][0].erase("content");
  expect_load_error(json, {"field 'added_tokens[0].content' is missing"});
  json = minimal_tokenizer();
  json["post_processor"] = nlohmann::json::parse(
      R"({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
          "pair": [], "special_tokens": {}})");
  expect_load_error(json, {"field 'post_processor.single[0].SpecialToken.id'", "'<bos>' is not listed"});
}

TEST_F(MalformedTokenizer, UnreadableFiles) {
  const std::string path = dir_.file("tokenizer.json");
  write_file(path, "{\"version\": \"1.0\", ");
  expect_error_containing([&] { Tokenizer::from_file(path); }, {path, "invalid JSON"});
  expect_error_containing([&] { Tokenizer::from_dir(dir_.file("nowhere")); }, {"nowhere/tokenizer.json", "missing file"});
  write_file(path, minimal_tokenizer().dump());
  write_file(dir_.file("tokenizer_config.json"), R"({"add_bos_token": "yes"})");
  expect_error_containing([&] { Tokenizer::from_dir(dir_.path()); }, {"tokenizer_config.json", "field 'add_bos_token'", "expected a boolean"});
}

TEST_F(MalformedTokenizer, InvalidUtf8InputIsRefused) {
  const auto tokenizer = Tokenizer::from_file(write(minimal_tokenizer()));
  expect_error_containing([&] { tokenizer.encode("a\xC3(b", false); }, {"not valid UTF-8", "offset 1"});
}

TEST_F(MalformedTokenizer, BrokenCasesFileNamesLineAndField) {
  const auto tokenizer = Tokenizer::from_file(write(minimal_tokenizer()));
  const std::string cases = dir_.file("cases.jsonl");
  write_file(cases, "{\"id\": \"x\", \"text\": \"ab\"}\n");
  expect_error_containing([&] { check_cases(tokenizer, cases); }, {cases + ":1", "field 'ids' is missing"});
  write_file(cases, "not json\n");
  expect_error_containing([&] { check_cases(tokenizer, cases); }, {cases + ":1", "invalid JSON"});
}

// The checker must be able to fail: a wrong expectation is reported with the field and a diff.
TEST_F(MalformedTokenizer, CaseCheckerReportsFirstMismatch) {
  const auto tokenizer = Tokenizer::from_file(write(minimal_tokenizer()));
  const std::string cases = dir_.file("cases.jsonl");
  write_file(cases,
             R"({"id": "good", "text": "ab", "ids": [3], "ids_with_special": [3], "tokens": ["ab"], "tokens_with_special": ["ab"], "decoded": "ab", "decoded_with_special": "ab", "decoded_skip_special": "ab"})"
             "\n"
             R"({"id": "bad", "text": "aab", "ids": [1, 1, 2], "ids_with_special": [1, 3], "tokens": ["a", "ab"], "tokens_with_special": ["a", "ab"], "decoded": "a ab", "decoded_with_special": "a ab", "decoded_skip_special": "a ab"})"
             "\n");
  const auto result = check_cases(tokenizer, cases);
  EXPECT_EQ(result.total, 2u);
  EXPECT_EQ(result.passed, 1u);
  ASSERT_TRUE(result.first_mismatch.has_value());
  EXPECT_NE(result.first_mismatch->find("case 'bad'"), std::string::npos) << *result.first_mismatch;
  EXPECT_NE(result.first_mismatch->find("field 'ids'"), std::string::npos) << *result.first_mismatch;
  EXPECT_NE(result.first_mismatch->find("first difference at index 1"), std::string::npos) << *result.first_mismatch;
  EXPECT_EQ(result.first_mismatch->find("field 'ids_with_special'"), std::string::npos) << *result.first_mismatch;
}

}  // namespace
}  // namespace vista::text
