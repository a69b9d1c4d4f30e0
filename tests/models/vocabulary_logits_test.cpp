// layers.h's vocabulary_logits: linear's expression, as vista's row_dots kernel for one float32
// decoding row without a graph on the CPU (to float32 rounding), and linear itself otherwise (bit
// for bit, with its graph).
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
    EXPECT_TRUE(std::any_of(profile.ops.begin(), profile.ops.end(),
                            [](const auto& op) { return op.name == "vista_kernel::row_dots"; }));
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

// Columns past the last eight-lane piece, rows past the last group of four, several threads' row
// ranges, rows farther apart than their length, and a bfloat16 weight (torch::mv's path).
TEST(VocabularyLogits, RowDotsCoverTailsThreadRangesAndStridedRows) {
  torch::manual_seed(10);
  torch::NoGradGuard no_grad;
  const auto wide = torch::randn({4099, 56});
  for (const auto& weight : {torch::randn({4099, 50}), wide.narrow(1, 0, 50), torch::randn({3, 7})}) {
    const auto row = torch::randn({1, weight.size(1)});
    const auto got = vocabulary_logits(row, weight), expected = torch::nn::functional::linear(row, weight);
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_TRUE(torch::allclose(got, expected, 1e-5, 1e-5))
        << weight.sizes() << " stride " << weight.stride(0) << ": " << (got - expected).abs().max();
  }
  const auto weight_bf16 = torch::randn({300, 40}).to(torch::kBFloat16);
  const auto row_bf16 = torch::randn({1, 1, 40}).to(torch::kBFloat16);
  // libtorch 1.13's bfloat16 mv rounds differently from its linear: a few bfloat16 ulps (0.375 at 21.5).
  EXPECT_TRUE(torch::allclose(vocabulary_logits(row_bf16, weight_bf16).to(torch::kFloat32),
                              torch::nn::functional::linear(row_bf16, weight_bf16).to(torch::kFloat32), 5e-2, 0.5));
}

}  // namespace
}  // namespace vista::models
