#include "losses/cross_entropy.h"

#include "test_util.h"

using vista::losses::shifted_cross_entropy;

TEST(CrossEntropy, MatchesTokenMeanOfShiftedTargets) {
  torch::manual_seed(0);
  auto logits = torch::randn({2, 4, 5});
  auto labels = torch::tensor({{-100, 1, 2, -100}, {-100, -100, 3, 4}});
  const auto ce = shifted_cross_entropy(logits, labels);
  // Independent spelling: -log softmax at each (b, t-1) whose label[t] is supervised.
  auto logp = torch::log_softmax(logits, -1);
  double sum = 0;
  int count = 0;
  for (int b = 0; b < 2; ++b)
    for (int t = 1; t < 4; ++t)
      if (labels[b][t].item<int64_t>() != -100) {
        sum -= logp[b][t - 1][labels[b][t].item<int64_t>()].item<double>();
        ++count;
      }
  EXPECT_NEAR(ce.loss.item<double>(), sum / count, 1e-6);
  EXPECT_EQ(ce.num_targets.item<int64_t>(), 4);
}

TEST(CrossEntropy, NoSupervisedTokenGivesZeroNotNan) {
  auto logits = torch::randn({1, 3, 5}, torch::requires_grad());
  auto labels = torch::full({1, 3}, -100, torch::kInt64);
  const auto ce = shifted_cross_entropy(logits, labels);
  EXPECT_EQ(ce.loss.item<float>(), 0.f);
  ce.loss.backward();
  EXPECT_TRUE(torch::all(logits.grad() == 0).item<bool>());
}

TEST(CrossEntropy, RejectsMismatchedShapes) {
  expect_error_containing([] { shifted_cross_entropy(torch::randn({2, 4, 5}), torch::zeros({2, 3}, torch::kInt64)); },
                          {"cross-entropy", "[2, 4, 5]", "[2, 3]"});
}

TEST(CrossEntropy, SupervisedRowsGiveTheSameLossAsAllPositions) {
  torch::manual_seed(3);
  auto logits = torch::randn({2, 5, 7});
  auto labels = torch::tensor(std::vector<int64_t>{-100, 1, -100, 3, 4, -100, -100, 6, 0, -100}).view({2, 5});
  const auto all = shifted_cross_entropy(logits, labels);
  const auto rows = vista::losses::supervised_positions(labels);
  const auto picked = logits.narrow(1, 0, 4).reshape({-1, 7}).index_select(0, rows);
  const auto targets = labels.narrow(1, 1, 4).reshape({-1}).index_select(0, rows);
  const auto part = vista::losses::cross_entropy_rows(picked, targets);
  EXPECT_NEAR(part.loss.item<double>(), all.loss.item<double>(), 1e-6);
  EXPECT_EQ(part.num_targets.item<int64_t>(), all.num_targets.item<int64_t>());
}
