// ScienceQA against metrics_v1/scienceqa (eval_science_qa.py stdout and the two files it wrote).
#include <gtest/gtest.h>

#include <map>

#include "eval/metrics/python_text.h"
#include "eval/metrics/scienceqa.h"
#include "eval_test_util.h"

namespace vista::eval {
namespace {

using testing::fixture_cases;
using testing::fixture_expected;
using testing::metrics_dir;

ScienceQaResult run_fixture() {
  return scienceqa_evaluate_files(metrics_dir("scienceqa"), metrics_dir("scienceqa") + "/answers/llava-v1.5-7b.jsonl");
}

TEST(ScienceQa, ParseRules) {
  EXPECT_EQ(scienceqa_parse_answer("B"), "B");
  EXPECT_EQ(scienceqa_parse_answer("B. weather"), "B");
  EXPECT_EQ(scienceqa_parse_answer("The answer is C."), "C");
  EXPECT_EQ(scienceqa_parse_answer("The answer is BC"), "B");
  EXPECT_EQ(scienceqa_parse_answer("The answer is B"), "FAILED");    // nothing after the letter
  EXPECT_EQ(scienceqa_parse_answer("The answer is B\n"), "FAILED");  // '.' does not match a newline
  EXPECT_EQ(scienceqa_parse_answer("The answer is B. The answer is B."), "FAILED");  // two matches
  EXPECT_EQ(scienceqa_parse_answer("The answer is F."), "F");
  EXPECT_EQ(scienceqa_parse_answer("A\n"), "FAILED");
  EXPECT_EQ(scienceqa_parse_answer("b"), "FAILED");
  EXPECT_EQ(scienceqa_parse_answer(""), "FAILED");
  EXPECT_EQ(scienceqa_pred_index("E", 3), -1);
  EXPECT_EQ(scienceqa_pred_index("C", 3), 2);
  EXPECT_EQ(scienceqa_pred_index("F", 5), -1);
  EXPECT_EQ(scienceqa_pred_index("FAILED", 5), -1);
}

TEST(ScienceQa, TotalsAndStdout) {
  const auto expected = fixture_expected("scienceqa");
  const ScienceQaResult r = run_fixture();
  EXPECT_EQ(r.stdout_text(), expected.at("stdout").get<std::string>());
  EXPECT_EQ(r.correct, expected.at("correct").get<int64_t>());
  EXPECT_EQ(r.total, expected.at("total").get<int64_t>());
  EXPECT_BITS_EQ(expected.at("acc").get<double>(), r.acc);
  EXPECT_EQ(r.multimodal_correct, expected.at("multimodal_correct").get<int64_t>());
  EXPECT_EQ(r.multimodal_total, expected.at("multimodal_total").get<int64_t>());
  EXPECT_BITS_EQ(expected.at("img_acc").get<double>(), r.img_acc);
}

TEST(ScienceQa, OutputFilesAreByteIdentical) {
  const ScienceQaResult r = run_fixture();
  const std::string dir = metrics_dir("scienceqa") + "/official_outputs/";
  EXPECT_EQ(r.output_file_json(), py::read_file_bytes(dir + "llava-v1.5-7b_output.jsonl"));
  EXPECT_EQ(r.result_file_json(), py::read_file_bytes(dir + "llava-v1.5-7b_result.json"));
}

TEST(ScienceQa, EveryProblem) {
  const ScienceQaResult r = run_fixture();
  std::map<std::string, const ScienceQaItem*> items;
  for (const auto& item : r.items) items[item.question_id] = &item;
  const auto cases = fixture_cases("scienceqa");
  ASSERT_EQ(cases.size(), 100u);
  ASSERT_EQ(r.items.size(), cases.size());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.dump());
    const auto* item = items.at(c.at("question_id").get<std::string>());
    EXPECT_EQ(item->pred, c.at("pred").get<std::string>());
    EXPECT_EQ(item->parsed_ans, c.at("parsed_ans").get<std::string>());
    EXPECT_EQ(item->pred_idx, c.at("pred_idx").get<int>());
    EXPECT_EQ(item->ground_truth, c.at("ground_truth").get<std::string>());
    EXPECT_EQ(item->is_multimodal, c.at("is_multimodal").get<bool>());
    EXPECT_EQ(item->correct, c.at("correct").get<bool>());
  }
}

TEST(ScienceQa, PredictionKeysFollowPython) {
  const std::vector<ScienceQaProblem> problems = {{"1", 3, 0}, {"2", 2, 1}};
  std::unordered_map<std::string, ScienceQaPrediction> predictions;
  predictions["1"] = {std::string("A"), std::string("<image>\nQ"), "answers.jsonl:1"};
  const auto r = scienceqa_evaluate(problems, predictions);
  EXPECT_EQ(r.correct, 1);
  EXPECT_TRUE(r.items[1].missing);
  EXPECT_EQ(r.items[1].pred, "FAILED");
  EXPECT_EQ(r.items[1].question, "Unknown");
  EXPECT_EQ(r.multimodal_total, 1);  // missing predictions never count as IMG
}

TEST(ScienceQa, ReaderErrorsNameFileLineAndField) {
  TempDir dir;
  write_file(dir.file("pid_splits.json"), R"({"test": ["1"]})");
  write_file(dir.file("problems.json"), R"({"1": {"choices": ["a", "b"], "answer": 0}})");
  write_file(dir.file("a.jsonl"), "{\"question_id\": \"1\", \"text\": 5, \"prompt\": \"x\"}\n");
  expect_error_containing([&] { scienceqa_evaluate_files(dir.path(), dir.file("a.jsonl")); },
                          {"a.jsonl:1", "field 'text'", "string"});
  write_file(dir.file("a.jsonl"), "{\"question_id\": \"1\", \"text\": \"A\"}\n");
  expect_error_containing([&] { scienceqa_evaluate_files(dir.path(), dir.file("a.jsonl")); },
                          {"a.jsonl:1", "prompt"});
  write_file(dir.file("problems.json"), R"({"1": {"choices": ["a", "b"]}})");
  expect_error_containing([&] { scienceqa_evaluate_files(dir.path(), dir.file("a.jsonl")); },
                          {"problems.json", "'1'", "answer"});
}

TEST(ScienceQa, BadSplitsAndProblemsAreRefused) {
  TempDir dir;
  write_file(dir.file("a.jsonl"), "");
  write_file(dir.file("problems.json"), R"({"1": {"choices": ["a", "b"], "answer": 7}})");
  write_file(dir.file("pid_splits.json"), R"({"val": ["1"]})");
  expect_error_containing([&] { scienceqa_evaluate_files(dir.path(), dir.file("a.jsonl")); },
                          {"pid_splits.json", "'test'"});
  write_file(dir.file("pid_splits.json"), R"({"test": [1]})");
  expect_error_containing([&] { scienceqa_evaluate_files(dir.path(), dir.file("a.jsonl")); },
                          {"pid_splits.json", "not a string"});
  write_file(dir.file("pid_splits.json"), R"({"test": ["2"]})");
  expect_error_containing([&] { scienceqa_evaluate_files(dir.path(), dir.file("a.jsonl")); },
                          {"problems.json", "no problem '2'"});
  write_file(dir.file("pid_splits.json"), R"({"test": ["1"]})");
  expect_error_containing([&] { scienceqa_evaluate_files(dir.path(), dir.file("a.jsonl")); },
                          {"problem 1", "answer index 7"});
  // No problem with an <image> prompt: IMG-Accuracy is a division by zero in the official script.
  write_file(dir.file("problems.json"), R"({"1": {"choices": ["a", "b"], "answer": 0}})");
  const auto r = scienceqa_evaluate_files(dir.path(), dir.file("a.jsonl"));
  EXPECT_EQ(r.total, 1);
  expect_error_containing([&] { (void)r.stdout_text(); }, {"IMG-Accuracy", "ZeroDivisionError"});
}

}  // namespace
}  // namespace vista::eval
