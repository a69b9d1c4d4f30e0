// layers.h's vocabulary_logits: linear's expression, as a matrix-vector product for one decoding
// row without a graph on the CPU (to float32 rounding), and linear itself otherwise (bit for bit,
// with its graph).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "models/layers.h"
#include "train/op_profile.h"

namespace vista::models {
namespace {

TEST(VocabularyLogits, OneDecodingRowIsAMatrixVectorProductOtherwiseLinear) {
  torch::manual_seed(9);
  const auto weight = torch::randn({1000, 48}), bias = torch::randn({1000});
  const auto row = torch::randn({1, 1, 48}), rows = torch::randn({2, 3, 48});
  for (const auto& b : {torch::Tensor(), bias}) {
    torch::NoGradGuard no_grad;
    const auto expected = torch::nn::functional::linear(row, weight, b);
    torch::Tensor got;
    const auto profile = train::profile_ops([&] { got = vocabulary_logits(row, weight, b); });
    EXPECT_TRUE(
        std::any_of(profile.ops.begin(), profile.ops.end(), [](const auto& op) { return op.name == "aten::mv"; }));
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_TRUE(torch::allclose(got, expected, 1e-5, 1e-5)) << (got - expected).abs().max();
    EXPECT_TRUE(torch::equal(vocabulary_logits(rows, weight, b), torch::nn::functional::linear(rows, weight, b)));
  }
  // With a graph: linear's own result and gradient.
  const auto leaf = row.clone().requires_grad_(true);
  const auto with_graph = vocabulary_logits(leaf, weight, bias);
  ASSERT_TRUE(with_graph.requires_grad());
  EXPECT_TRUE(torch::equal(with_graph, torch::nn::functional::linear(leaf, weight, bias)));
}

}  // namespace
}  // namespace vista::models
