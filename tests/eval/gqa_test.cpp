// GQA against metrics_v1/gqa (convert_gqa_for_eval.py output and GQA eval.py scores / stdout).
#include <gtest/gtest.h>

#include <map>

#include "eval/metrics/gqa.h"
#include "eval/metrics/python_text.h"
#include "eval_test_util.h"

namespace vista::eval {
namespace {

using testing::fixture_cases;
using testing::fixture_expected;
using testing::metrics_dir;

TEST(Gqa, PredictionNormalisation) {
  EXPECT_EQ(gqa_normalize_prediction("T-Shirt."), "t-shirt");
  EXPECT_EQ(gqa_normalize_prediction("no..."), "no");
  EXPECT_EQ(gqa_normalize_prediction("yes. "), "yes. ");  // only trailing periods go
  EXPECT_EQ(gqa_normalize_prediction(" Left"), " left");
}

TEST(Gqa, ConvertedPredictionsAreByteIdentical) {
  const auto predictions = gqa_convert_answers(metrics_dir("gqa") + "/answers/merge.jsonl");
  EXPECT_EQ(gqa_predictions_json(predictions),
            py::read_file_bytes(metrics_dir("gqa") + "/official_outputs/testdev_balanced_predictions.json"));
  const auto expected = fixture_expected("gqa").at("predictions");
  ASSERT_EQ(predictions.size(), expected.size());
  for (size_t i = 0; i < predictions.size(); ++i) {
    EXPECT_EQ(predictions[i].question_id, expected[i].at("questionId").get<std::string>());
    EXPECT_EQ(predictions[i].prediction, expected[i].at("prediction").get<std::string>());
  }
}

TEST(Gqa, ScoresAndStdoutMatchEvalPy) {
  const auto expected = fixture_expected("gqa");
  const auto questions = gqa_read_questions(metrics_dir("gqa") + "/data/testdev_balanced_questions.json");
  const auto predictions = gqa_convert_answers(metrics_dir("gqa") + "/answers/merge.jsonl");
  const GqaScores s = gqa_evaluate(questions, predictions);
  EXPECT_EQ(gqa_stdout(s), expected.at("stdout").get<std::string>());
  const auto& e = expected.at("scores");
  EXPECT_BITS_EQ(e.at("accuracy").get<double>(), s.accuracy);
  EXPECT_BITS_EQ(e.at("binary").get<double>(), s.binary);
  EXPECT_BITS_EQ(e.at("open").get<double>(), s.open);
  EXPECT_BITS_EQ(e.at("validity").get<double>(), s.validity);
  EXPECT_BITS_EQ(e.at("plausibility").get<double>(), s.plausibility);
  EXPECT_BITS_EQ(e.at("distribution").get<double>(), s.distribution);
  const std::pair<const char*, const GqaTypeScores*> tables[] = {{"accuracyPerStructuralType", &s.per_structural},
                                                                 {"accuracyPerSemanticType", &s.per_semantic},
                                                                 {"accuracyPerSteps", &s.per_steps},
                                                                 {"accuracyPerLength", &s.per_length}};
  for (const auto& [key, table] : tables) {
    SCOPED_TRACE(key);
    ASSERT_EQ(table->size(), e.at(key).size());
    for (const auto& [type, value] : *table) {
      ASSERT_TRUE(e.at(key).contains(type)) << type;
      EXPECT_BITS_EQ(e.at(key).at(type)[0].get<double>(), value.first);
      EXPECT_EQ(e.at(key).at(type)[1].get<int64_t>(), value.second);
    }
  }
  EXPECT_EQ(s.scored, 50);  // metrics_v1/index.json counts.gqa.balanced
}

TEST(Gqa, EveryAnswer) {
  const auto questions = gqa_read_questions(metrics_dir("gqa") + "/data/testdev_balanced_questions.json");
  const auto predictions = gqa_convert_answers(metrics_dir("gqa") + "/answers/merge.jsonl");
  std::map<std::string, const GqaQuestion*> by_id;
  for (const auto& q : questions) by_id[q.id] = &q;
  std::map<std::string, std::string> predicted;
  for (const auto& p : predictions) predicted[p.question_id] = p.prediction;
  for (const auto& c : fixture_cases("gqa")) {
    SCOPED_TRACE(c.dump());
    const std::string id = c.at("question_id");
    ASSERT_TRUE(by_id.count(id));
    EXPECT_EQ(predicted.at(id), c.at("prediction").get<std::string>());
    EXPECT_EQ(by_id[id]->answer, c.at("gold").get<std::string>());
    EXPECT_EQ(by_id[id]->is_balanced, c.at("is_balanced").get<bool>());
    EXPECT_EQ(by_id[id]->structural, c.at("structural").get<std::string>());
    EXPECT_EQ(predicted.at(id) == by_id[id]->answer, c.at("correct").get<bool>());
  }
}

TEST(Gqa, MissingPredictionForABalancedQuestionIsAnError) {
  TempDir dir;
  write_file(dir.file("q.json"),
             R"({"b": {"isBalanced": false}, "a": {"isBalanced": true, "answer": "x", "question": "Is it?",
                 "types": {"structural": "verify", "semantic": "attr"}, "groups": {"global": null},
                 "semantic": [{"operation": "exist", "argument": "x"}]}})");
  const auto questions = gqa_read_questions(dir.file("q.json"));
  ASSERT_EQ(questions.size(), 2u);
  EXPECT_EQ(questions[0].id, "b");  // file order, not sorted
  EXPECT_EQ(questions[1].steps, 0);
  EXPECT_EQ(questions[1].words, 2);
  expect_error_containing([&] { gqa_evaluate(questions, {}); }, {"no prediction for question a"});
  write_file(dir.file("q.json"), R"({"a": {"isBalanced": true, "answer": 3}})");
  expect_error_containing([&] { gqa_read_questions(dir.file("q.json")); }, {"q.json", "'a'", "answer"});
}

TEST(Gqa, DistributionNeedsAnAnswerGroup) {
  TempDir dir;
  write_file(dir.file("q.json"),
             R"({"a": {"isBalanced": true, "answer": "x", "question": "Is it?",
                 "types": {"structural": "verify", "semantic": "attr"}, "groups": {"global": null}, "semantic": []}})");
  const auto questions = gqa_read_questions(dir.file("q.json"));
  expect_error_containing([&] { gqa_evaluate(questions, {{"a", true, "x"}}); }, {"distribution", "ZeroDivisionError"});
}

}  // namespace
}  // namespace vista::eval
