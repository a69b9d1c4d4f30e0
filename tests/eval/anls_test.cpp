// ANLS against metrics_v1/anls (outputs of the official STVQAANLSEvaluator).
#include <gtest/gtest.h>

#include "eval/metrics/anls.h"
#include "eval/metrics/python_text.h"
#include "eval_test_util.h"

namespace vista::eval {
namespace {

using testing::fixture_cases;
using testing::fixture_expected;
using testing::strings;

TEST(Anls, EveryFixtureItemAndTheMean) {
  const auto cases = fixture_cases("anls");
  ASSERT_EQ(cases.size(), 100u);
  std::vector<double> scores;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.at("id").get<std::string>() + " " + c.at("category").get<std::string>());
    const AnlsItemScore s = anls_item_score(c.at("pred_answer").get<std::string>(), strings(c.at("gt_answers")));
    EXPECT_EQ(s.edit_distance, c.at("edit_distance").get<std::vector<int64_t>>());
    const auto per_gt = c.at("anls_per_gt").get<std::vector<double>>();
    ASSERT_EQ(s.anls_per_gt.size(), per_gt.size());
    for (size_t i = 0; i < per_gt.size(); ++i) EXPECT_BITS_EQ(per_gt[i], s.anls_per_gt[i]);
    EXPECT_BITS_EQ(c.at("anls").get<double>(), s.anls);
    scores.push_back(s.anls);
  }
  const auto expected = fixture_expected("anls");
  EXPECT_EQ(expected.at("n").get<size_t>(), scores.size());
  EXPECT_BITS_EQ(expected.at("anls_mean").get<double>(), anls_mean(scores));
}

TEST(Anls, Levenshtein) {
  EXPECT_EQ(levenshtein_distance(U"kitten", U"sitting"), 3);
  EXPECT_EQ(levenshtein_distance(U"", U"abc"), 3);
  EXPECT_EQ(levenshtein_distance(U"abc", U"abc"), 0);
  // Code points, not bytes: one astral character is one edit.
  EXPECT_EQ(levenshtein_distance(utf8_to_u32("a\xF0\x9F\x98\x80"), U"ab"), 1);
}

TEST(Anls, ThresholdIsInclusiveAndNoEvalAiNormalisation) {
  EXPECT_EQ(anls_pair("ab", "ac"), 0.5);   // d = 1, max len 2 -> 0.5 kept
  EXPECT_EQ(anls_pair("abc", "xyc"), 0.0);  // 1 - 2/3 < 0.5 -> 0
  EXPECT_EQ(anls_pair("  STOP\n", "stop"), 1.0);
  EXPECT_LT(anls_pair("two", "2"), 0.5);    // no number mapping
  expect_error_containing([] { anls_pair(" ", ""); }, {"undefined"});
  expect_error_containing([] { anls_item_score("a", {}); }, {"at least one"});
}

}  // namespace
}  // namespace vista::eval
