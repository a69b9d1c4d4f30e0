// File readers (located errors, Python-compatible JSON output) and the fixture checker used by
// `vista check-fixtures`: it passes on metrics_v1 and fails when an expected value is changed.
#include <gtest/gtest.h>

#include <filesystem>

#include "eval/metrics/answers_file.h"
#include "fixtures/metrics_check.h"
#include "eval/metrics/json_io.h"
#include "eval/metrics/python_text.h"
#include "eval_test_util.h"

namespace vista::eval {
namespace {

namespace fs = std::filesystem;

TEST(Readers, JsonlErrorsNameFileAndLine) {
  TempDir dir;
  write_file(dir.file("a.jsonl"), "{\"a\": 1}\n{\"a\": \n");
  expect_error_containing([&] { read_python_jsonl(dir.file("a.jsonl")); }, {"a.jsonl:2", "invalid JSON"});
  write_file(dir.file("a.jsonl"), "{\"a\": 1}\n\n");
  expect_error_containing([&] { read_python_jsonl(dir.file("a.jsonl")); }, {"a.jsonl:2"});
  write_file(dir.file("a.jsonl"), "{\"a\": 1}\n[1]\n");
  const auto lines = read_python_jsonl(dir.file("a.jsonl"));
  ASSERT_EQ(lines.size(), 2u);
  const JsonNode first(lines[0].value, lines[0].where);
  expect_error_containing([&] { first.string("a"); }, {"a.jsonl:1", "field 'a'", "string"});
  expect_error_containing([&] { first.at("b"); }, {"a.jsonl:1", "field 'b' is missing"});
  expect_error_containing([&] { JsonNode(lines[1].value, lines[1].where).expect_object(); }, {"a.jsonl:2", "object"});
  expect_error_containing([&] { read_python_jsonl(dir.file("none.jsonl")); }, {"none.jsonl", "cannot open"});
}

TEST(Readers, KeepsTopLevelKeyOrder) {
  TempDir dir;
  write_file(dir.file("q.json"), R"({"z": {"b": 1, "a": 2}, "a": 1, "m": [], "z": 3})");
  std::vector<std::string> keys;
  const auto value = read_json_keep_order(dir.file("q.json"), &keys);
  EXPECT_EQ(keys, (std::vector<std::string>{"z", "a", "m"}));
  EXPECT_EQ(value.at("z"), 3);  // last value wins, first position kept (Python dict semantics)
}

TEST(PythonJson, DumpsLikeJsonDump) {
  nlohmann::ordered_json v;
  v["b"] = 39.0;
  v["a"] = nlohmann::ordered_json::array({1, "caf\xC3\xA9 \xF0\x9F\x98\x80\x7F\"\\\n", true, nullptr});
  v["e"] = nlohmann::ordered_json::object();
  v["l"] = nlohmann::ordered_json::array();
  EXPECT_EQ(python_json_dumps(v),
            "{\"b\": 39.0, \"a\": [1, \"caf\\u00e9 \\ud83d\\ude00\\u007f\\\"\\\\\\n\", true, null], \"e\": {}, \"l\": []}");
  EXPECT_EQ(python_json_dumps(v, 2),
            "{\n  \"b\": 39.0,\n  \"a\": [\n    1,\n    \"caf\\u00e9 \\ud83d\\ude00\\u007f\\\"\\\\\\n\",\n    true,\n    null\n"
            "  ],\n  \"e\": {},\n  \"l\": []\n}");
}

TEST(AnswersFile, ReadsAndRewritesTheFixtureAnswerFilesByteForByte) {
  // The fixtures' answers files were written by Python json.dumps (model_vqa.py's format).
  size_t lines = 0;
  for (const char* relative : {"gqa/answers/merge.jsonl", "scienceqa/answers/llava-v1.5-7b.jsonl",
                               "vqa_accuracy/textvqa_run/answers/llava-v1.5-7b.jsonl",
                               "pope/main/answers/llava-v1.5-7b.jsonl", "pope/mismatch/answers/llava-v1.5-7b.jsonl"}) {
    const std::string path = testing::metrics_dir(relative);
    const auto raw = py::read_text_lines(path);
    const auto answers = read_llava_answers(path);
    ASSERT_EQ(raw.size(), answers.size()) << path;
    for (size_t i = 0; i < raw.size(); ++i) {
      const auto original = nlohmann::json::parse(raw[i]);
      ASSERT_TRUE(answers[i].has_prompt);
      EXPECT_EQ(answers[i].line, static_cast<int64_t>(i) + 1);
      EXPECT_EQ(llava_answer_line(answers[i].question_id, answers[i].prompt, answers[i].text,
                                  original.at("answer_id").get<std::string>(), original.at("model_id").get<std::string>()),
                raw[i])
          << path << ":" << i + 1;
      ++lines;
    }
  }
  EXPECT_EQ(lines, 433u);
  TempDir dir;
  write_file(dir.file("a.jsonl"), "{\"question_id\": 1, \"text\": \"x\"}\n{\"question_id\": [1], \"text\": \"x\"}\n");
  expect_error_containing([&] { read_llava_answers(dir.file("a.jsonl")); }, {"a.jsonl:2", "question_id"});
  write_file(dir.file("a.jsonl"), "{\"question_id\": 1}\n");
  expect_error_containing([&] { read_llava_answers(dir.file("a.jsonl")); }, {"a.jsonl:1", "field 'text' is missing"});
}

TEST(FixtureCheck, EveryKindOfMetricsV1Passes) {
  size_t total = 0;
  for (const auto& kind : metrics_fixture_kinds()) {
    const auto checks = check_metrics_fixture(testing::metrics_dir(kind), kind);
    EXPECT_GT(checks.size(), 10u) << kind;
    total += checks.size();
    int failures = 0;
    for (const auto& c : checks)
      if (!c.pass && ++failures <= 10) ADD_FAILURE() << kind << ": " << c.name << ": " << c.detail;
    EXPECT_EQ(failures, 0) << kind;
  }
  EXPECT_GT(total, 3000u);
}

// Copies metrics_v1/<kind> (and the set's index.json) to a temporary set folder.
std::string copy_kind(const TempDir& dir, const std::string& kind) {
  fs::copy(testing::metrics_dir(kind), dir.file(kind), fs::copy_options::recursive);
  for (const auto& entry : fs::recursive_directory_iterator(dir.path()))
    fs::permissions(entry.path(), fs::perms::owner_write, fs::perm_options::add);
  return dir.file(kind);
}

TEST(FixtureCheck, AChangedExpectedValueFails) {
  TempDir dir;
  const std::string folder = copy_kind(dir, "mme");
  auto expected = nlohmann::json::parse(py::read_file_bytes(folder + "/expected.json"));
  const double total = expected["perception_total"].get<double>();
  expected["perception_total"] = std::nextafter(total, 1e9);  // one ulp off
  expected["tasks"]["count"]["TP"] = expected["tasks"]["count"]["TP"].get<int>() + 1;
  write_file(folder + "/expected.json", expected.dump());
  std::vector<std::string> failed;
  for (const auto& c : check_metrics_fixture(folder, "mme"))
    if (!c.pass) failed.push_back(c.name);
  EXPECT_EQ(failed, (std::vector<std::string>{"expected.perception_total", "expected.tasks.count.TP"}));
}

TEST(FixtureCheck, AChangedCaseStringFailsAndUnknownFieldsAreNotSkipped) {
  TempDir dir;
  const std::string folder = copy_kind(dir, "answer_normalize");
  std::string cases = py::read_file_bytes(folder + "/cases.jsonl");
  const std::string needle = "\"output\": \"yes\"";
  const auto pos = cases.find(needle);
  ASSERT_NE(pos, std::string::npos);
  cases.replace(pos, needle.size(), "\"output\": \"yes \", \"surprise\": 1");
  write_file(folder + "/cases.jsonl", cases);
  std::vector<std::string> failed;
  for (const auto& c : check_metrics_fixture(folder, "answer_normalize"))
    if (!c.pass) failed.push_back(c.name);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_NE(failed[0].find(".output"), std::string::npos);
  EXPECT_NE(failed[1].find(".surprise"), std::string::npos);
}

TEST(FixtureCheck, RefusesFoldersItCannotCheck) {
  TempDir dir;
  expect_error_containing([&] { check_metrics_fixture(dir.path(), "anls"); }, {"no cases.jsonl"});
  write_file(dir.file("cases.jsonl"), "");
  expect_error_containing([&] { check_metrics_fixture(dir.path(), "bleu"); }, {"unknown metrics fixture kind 'bleu'"});
  write_file(dir.file("bad.json"), "{");
  expect_error_containing([&] { read_json_file(dir.file("bad.json")); }, {"bad.json", "invalid JSON"});
}

}  // namespace
}  // namespace vista::eval
