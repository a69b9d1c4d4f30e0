// VQA soft accuracy / STVQA exact match / eval_textvqa against metrics_v1/vqa_accuracy.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "eval/metrics/vqa_accuracy.h"
#include "eval_test_util.h"

namespace vista::eval {
namespace {

using testing::fixture_cases;
using testing::fixture_expected;
using testing::metrics_dir;
using testing::strings;

TEST(VqaAccuracy, EveryFixtureItem) {
  const auto cases = fixture_cases("vqa_accuracy");
  ASSERT_EQ(cases.size(), 191u);
  std::vector<VqaPrediction> items;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.at("id").get<std::string>());
    const auto gts = strings(c.at("gt_answers"));
    const VqaItemScore s = vqa_item_score(c.at("pred_answer").get<std::string>(), gts);
    EXPECT_EQ(s.pred_processed, c.at("pred_processed").get<std::string>());
    EXPECT_EQ(s.gt_processed, strings(c.at("gt_processed")));
    EXPECT_BITS_EQ(c.at("accuracy").get<double>(), s.accuracy);
    EXPECT_BITS_EQ(c.at("stvqa_accuracy").get<double>(), s.stvqa_accuracy);
    std::map<std::string, double> expected_scores, actual_scores(s.unique_answer_scores.begin(),
                                                                 s.unique_answer_scores.end());
    for (const auto& pair : c.at("unique_answer_scores")) expected_scores[pair[0]] = pair[1].get<double>();
    ASSERT_EQ(expected_scores.size(), actual_scores.size());
    for (const auto& [answer, score] : expected_scores) {
      ASSERT_TRUE(actual_scores.count(answer)) << answer;
      EXPECT_BITS_EQ(score, actual_scores[answer]);
    }
    EXPECT_BITS_EQ(c.at("stvqa_accuracy").get<double>(), stvqa_accuracy(c.at("pred_answer").get<std::string>(), gts));
    items.push_back({c.at("pred_answer").get<std::string>(), gts});
  }
  const auto expected = fixture_expected("vqa_accuracy");
  EXPECT_EQ(expected.at("n").get<size_t>(), items.size());
  EXPECT_BITS_EQ(expected.at("textvqa_accuracy_mean").get<double>(), textvqa_eval_pred_list(items));
  EXPECT_BITS_EQ(expected.at("stvqa_accuracy_mean").get<double>(), stvqa_eval_pred_list(items));
}

TEST(VqaAccuracy, KMatchesGiveTheDocumentedScores) {
  // k matching GT answers give 0.3, 0.6, 0.9, 1.0 (up to the last bit, which depends on where the matches
  // sit: the fixture's rounding_k2 / rounding_k3 items pin every outcome bit for bit, see EveryFixtureItem).
  const std::vector<std::string> front = {"x", "x", "a", "b", "c", "d", "e", "f", "g", "h"};
  const std::vector<std::string> back = {"a", "b", "c", "d", "e", "f", "g", "h", "x", "x"};
  EXPECT_BITS_EQ(0.3, vqa_soft_accuracy("x", {"x", "a", "b", "c", "d", "e", "f", "g", "h", "i"}));
  EXPECT_NEAR(vqa_soft_accuracy("x", front), 0.6, 1e-15);
  EXPECT_NEAR(vqa_soft_accuracy("x", back), 0.6, 1e-15);
  EXPECT_NEAR(vqa_soft_accuracy("x", {"x", "x", "x", "a", "b", "c", "d", "e", "f", "g"}), 0.9, 1e-15);
  EXPECT_BITS_EQ(1.0, vqa_soft_accuracy("x", {"x", "x", "x", "x", "a", "b", "c", "d", "e", "f"}));
  EXPECT_BITS_EQ(0.0, vqa_soft_accuracy("y", front));
  // The fixture really exercises different last bits for k = 2.
  std::set<double> k2;
  for (const auto& c : testing::fixture_cases("vqa_accuracy"))
    if (c.at("category") == "rounding_k2") k2.insert(c.at("accuracy").get<double>());
  EXPECT_GE(k2.size(), 2u);
}

TEST(VqaAccuracy, NeedsExactlyTenAnswers) {
  expect_error_containing([] { vqa_soft_accuracy("x", {"x", "x"}); }, {"exactly 10", "got 2"});
  expect_error_containing([] { python_mean({}); }, {"empty"});
}

TEST(TextVqa, PromptProcessor) {
  EXPECT_EQ(textvqa_question_from_prompt("OCR tokens: A, B. Question: What Is It? Short answer:"), "what is it?");
  EXPECT_EQ(textvqa_question_from_prompt("Q1?\nReference OCR token: A\nAnswer briefly."), "q1?");
  EXPECT_EQ(textvqa_question_from_prompt("Reference OCR token: A\nQ2?\nAnswer briefly."), "q2?");
  EXPECT_EQ(textvqa_question_from_prompt("Q3?\nAnswer the question using a single word or phrase."), "q3?");
  expect_error_containing([] { textvqa_question_from_prompt("just one line"); }, {"unknown layout"});
}

TEST(TextVqa, EndToEndRunMatchesTheOfficialScript) {
  const auto run = fixture_expected("vqa_accuracy").at("textvqa_run");
  const std::string dir = metrics_dir("vqa_accuracy") + "/textvqa_run";
  const TextVqaRun r = textvqa_evaluate_files(dir + "/TextVQA_0.5.1_val.json", dir + "/answers/llava-v1.5-7b.jsonl");
  EXPECT_EQ(r.stdout_text, run.at("stdout").get<std::string>());
  EXPECT_EQ(r.items.size(), run.at("samples").get<size_t>());
  EXPECT_BITS_EQ(run.at("accuracy").get<double>(), r.accuracy);
  ASSERT_EQ(r.items.size(), run.at("items").size());
  for (size_t i = 0; i < r.items.size(); ++i) {
    const auto& e = run.at("items")[i];
    EXPECT_EQ(r.items[i].question_id, e.at("question_id").get<std::string>());
    EXPECT_EQ(r.items[i].question, e.at("question").get<std::string>()) << i;
    EXPECT_EQ(r.items[i].text, e.at("text").get<std::string>());
  }
}

TEST(TextVqa, MissingAnnotationNamesTheResultLine) {
  TempDir dir;
  write_file(dir.file("ann.json"),
             R"({"data": [{"image_id": "img1", "question": "Q?", "answers": ["a","a","a","a","a","a","a","a","a","a"]}]})");
  write_file(dir.file("res.jsonl"), "{\"question_id\": \"img1\", \"prompt\": \"Q?\\nShort.\", \"text\": \"a\"}\n"
                                    "{\"question_id\": \"img2\", \"prompt\": \"Q?\\nShort.\", \"text\": \"a\"}\n");
  expect_error_containing([&] { textvqa_evaluate_files(dir.file("ann.json"), dir.file("res.jsonl")); },
                          {"res.jsonl:2", "no annotation", "img2"});
}

TEST(TextVqa, BadInputsAreRefused) {
  TempDir dir;
  write_file(dir.file("ann.json"), R"({"dataset_name": "textvqa"})");
  write_file(dir.file("res.jsonl"), "");
  expect_error_containing([&] { textvqa_evaluate_files(dir.file("ann.json"), dir.file("res.jsonl")); },
                          {"ann.json", "'data'"});
  expect_error_containing([] { textvqa_question_from_prompt("OCR tokens: A. What? Short answer:"); },
                          {"OCR tokens", "Question:"});
  write_file(dir.file("ann.json"), R"({"data": [{"image_id": "i", "question": "Q?", "answers": ["a", 1]}]})");
  expect_error_containing([&] { textvqa_evaluate_files(dir.file("ann.json"), dir.file("res.jsonl")); },
                          {"ann.json: data[0]", "answers"});
}

}  // namespace
}  // namespace vista::eval
