// EvalAI answer normaliser against metrics_v1/answer_normalize (outputs of the official
// EvalAIAnswerProcessor) and the examples of the method spec's acceptance tests.
#include <gtest/gtest.h>

#include "eval/metrics/answer_normalize.h"
#include "eval_test_util.h"

namespace vista::eval {
namespace {

using testing::fixture_cases;

TEST(AnswerNormalize, EveryFixtureCaseAndStage) {
  const auto cases = fixture_cases("answer_normalize");
  ASSERT_EQ(cases.size(), 434u);  // metrics_v1/index.json counts.answer_normalize.cases
  int failures = 0;
  for (const auto& c : cases) {
    const std::string id = c.at("id");
    const AnswerNormalizeStages s = answer_normalize_stages(c.at("input").get<std::string>());
    const auto& stages = c.at("stages");
    const bool ok = s.output == c.at("output") && s.word_tokenize == stages.at("word_tokenize") &&
                    s.newline_tab_strip == stages.at("newline_tab_strip") &&
                    s.process_punctuation == stages.at("process_punctuation");
    if (!ok && ++failures <= 20)
      ADD_FAILURE() << id << " (" << c.at("category").get<std::string>() << ") input " << c.at("input").dump()
                    << "\n  expected " << c.at("output").dump() << " stages " << stages.dump() << "\n  got      \""
                    << s.output << "\" [" << s.word_tokenize << " | " << s.newline_tab_strip << " | "
                    << s.process_punctuation << "]";
  }
  EXPECT_EQ(failures, 0);
}

TEST(AnswerNormalize, MethodSpecExamples) {
  EXPECT_EQ(answer_normalize("Two dogs."), "2 dogs");
  EXPECT_EQ(answer_normalize("the cat's"), "cat 's");
  EXPECT_EQ(answer_normalize("1,000"), "1000");
  EXPECT_EQ(answer_normalize("Yes, it is."), "yes it is");
  EXPECT_EQ(answer_normalize("3.5 m"), "3.5 m");
  EXPECT_EQ(answer_normalize("dont know"), "don't know");
  EXPECT_EQ(answer_normalize("a-b c"), "b c");
  EXPECT_EQ(answer_normalize("(left)"), "left");
}

TEST(AnswerNormalize, ReadmeQuirks) {
  EXPECT_EQ(answer_normalize("what's"), "what 's");
  EXPECT_EQ(answer_normalize("whats"), "what's");
  EXPECT_EQ(answer_normalize("t-shirt - red"), "tshirt red");
  EXPECT_EQ(answer_normalize("black-and-white"), "black and white");
  EXPECT_EQ(answer_normalize("two-way"), "2 way");
  EXPECT_EQ(answer_normalize("none"), "0");
  EXPECT_EQ(answer_normalize("somebody'd"), "somebodyd");
  EXPECT_EQ(answer_normalize("1..2"), "1.2");
  EXPECT_EQ(answer_normalize("..5"), ".5");
  EXPECT_EQ(answer_normalize("the"), "");
  EXPECT_EQ(answer_normalize("!!!"), "");
  // At most 32 periods are deleted (re.UNICODE passed as `count`): 40 bare periods leave 8.
  EXPECT_EQ(answer_normalize(std::string(40, '.')), std::string(8, '.'));
}

}  // namespace
}  // namespace vista::eval
