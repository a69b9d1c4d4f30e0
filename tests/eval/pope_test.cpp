// POPE against metrics_v1/pope (eval_pope.py stdout and per-answer parses).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "eval/metrics/pope.h"
#include "eval_test_util.h"

namespace vista::eval {
namespace {

using testing::fixture_cases;
using testing::fixture_expected;
using testing::metrics_dir;

std::map<std::string, PopeCategoryResult> run(const std::string& name) {
  const std::string dir = metrics_dir("pope") + "/" + name;
  std::map<std::string, PopeCategoryResult> out;
  for (auto& r : pope_evaluate_files(dir + "/coco", dir + "/llava_pope_test.jsonl", dir + "/answers/llava-v1.5-7b.jsonl"))
    out[r.category] = std::move(r);
  return out;
}

TEST(Pope, ParseRules) {
  EXPECT_EQ(pope_parse_answer("No"), "no");
  EXPECT_EQ(pope_parse_answer("not sure"), "no");
  EXPECT_EQ(pope_parse_answer("NO"), "yes");
  EXPECT_EQ(pope_parse_answer("Nope"), "yes");
  EXPECT_EQ(pope_parse_answer("no!"), "yes");
  EXPECT_EQ(pope_parse_answer("(no)"), "yes");
  EXPECT_EQ(pope_parse_answer("Not sure"), "yes");
  EXPECT_EQ(pope_parse_answer("No,there"), "yes");  // -> "Nothere"
  EXPECT_EQ(pope_parse_answer(".No"), "yes");       // empty first sentence
  EXPECT_EQ(pope_parse_answer("Yes. No."), "yes");
  EXPECT_EQ(pope_parse_answer("no\nthere is"), "yes");  // newline does not separate words
  EXPECT_EQ(pope_parse_answer("There is  no dog"), "no");
}

TEST(Pope, BothRunsMatchTheOfficialStdout) {
  const auto expected = fixture_expected("pope").at("runs");
  for (const auto& [name, run_expected] : expected.items()) {
    const auto results = run(name);
    ASSERT_EQ(results.size(), run_expected.at("categories").size()) << name;
    for (const auto& [category, e] : run_expected.at("categories").items()) {
      SCOPED_TRACE(name + "/" + category);
      ASSERT_TRUE(results.count(category));
      const auto& r = results.at(category);
      EXPECT_EQ(r.samples, e.at("samples").get<int64_t>());
      EXPECT_EQ(r.tp, e.at("TP").get<int64_t>());
      EXPECT_EQ(r.fp, e.at("FP").get<int64_t>());
      EXPECT_EQ(r.tn, e.at("TN").get<int64_t>());
      EXPECT_EQ(r.fn, e.at("FN").get<int64_t>());
      EXPECT_BITS_EQ(e.at("accuracy").get<double>(), r.accuracy);
      EXPECT_BITS_EQ(e.at("precision").get<double>(), r.precision);
      EXPECT_BITS_EQ(e.at("recall").get<double>(), r.recall);
      EXPECT_BITS_EQ(e.at("f1").get<double>(), r.f1);
      EXPECT_BITS_EQ(e.at("yes_ratio").get<double>(), r.yes_ratio);
      EXPECT_EQ(r.summary_line(), e.at("summary_line").get<std::string>());
      EXPECT_EQ(r.stdout_block(), e.at("stdout_block").get<std::string>());
    }
  }
}

TEST(Pope, PerAnswerParseAndPairing) {
  std::map<std::string, std::map<std::string, PopeCategoryResult>> runs = {{"main", run("main")},
                                                                            {"mismatch", run("mismatch")}};
  const auto cases = fixture_cases("pope");
  ASSERT_EQ(cases.size(), 240u);
  for (const auto& c : cases) {
    const auto& r = runs.at(c.at("run")).at(c.at("category"));
    const auto i = c.at("index_in_category").get<size_t>();
    ASSERT_LT(i, r.parsed.size());
    EXPECT_EQ(r.answers[i], c.at("text").get<std::string>());
    EXPECT_EQ(r.parsed[i], c.at("parsed").get<std::string>()) << c.dump();
    if (c.at("label").is_null()) {
      EXPECT_GE(static_cast<int64_t>(i), r.paired) << c.dump();
    } else {
      ASSERT_LT(static_cast<int64_t>(i), r.paired) << c.dump();
      EXPECT_EQ(r.label[i].value_or(""), c.at("label").get<std::string>());
    }
  }
}

TEST(Pope, ZeroDenominatorsAreReportedNotPrinted) {
  const auto r = pope_score_category("random", {"No", "no"}, {std::string("no"), std::string("no")});
  EXPECT_EQ(r.tn, 2);
  EXPECT_TRUE(std::isnan(r.precision));
  EXPECT_NE(r.undefined.find("precision"), std::string::npos);
  expect_error_containing([&] { (void)r.stdout_block(); }, {"random", "ZeroDivisionError"});
}

TEST(Pope, BadQuestionIdNamesTheLine) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("coco"));
  write_file(dir.file("coco/coco_pope_random.json"), "{\"label\": \"yes\"}\n");
  write_file(dir.file("q.jsonl"), "{\"question_id\": 1, \"category\": \"random\"}\n");
  write_file(dir.file("a.jsonl"), "{\"question_id\": 1, \"text\": \"Yes\"}\n{\"question_id\": \"1\", \"text\": \"No\"}\n");
  expect_error_containing([&] { pope_evaluate_files(dir.file("coco"), dir.file("q.jsonl"), dir.file("a.jsonl")); },
                          {"a.jsonl:2", "question_id"});
  write_file(dir.file("coco/other.json"), "");
  write_file(dir.file("a.jsonl"), "{\"question_id\": 1, \"text\": \"Yes\"}\n");
  expect_error_containing([&] { pope_evaluate_files(dir.file("coco"), dir.file("q.jsonl"), dir.file("a.jsonl")); },
                          {"other.json", "coco_pope_"});
}

TEST(Pope, MissingAnnotationFolder) {
  TempDir dir;
  write_file(dir.file("q.jsonl"), "");
  write_file(dir.file("a.jsonl"), "");
  expect_error_containing([&] { pope_evaluate_files(dir.file("nope"), dir.file("q.jsonl"), dir.file("a.jsonl")); },
                          {"nope", "does not exist"});
}

}  // namespace
}  // namespace vista::eval
