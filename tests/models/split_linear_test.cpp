// models/split_linear.h against at::linear under autograd: the output and the gradients of the
// input, the weight and the bias agree to float32 rounding (runtime/split_mm.h), for batched and
// 2-D inputs, with and without a bias, and with only some inputs needing a gradient.
#include "models/split_linear.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace vista::models {
namespace {

torch::Tensor leaf(const torch::Tensor& t) { return t.detach().clone().requires_grad_(true); }

// Sums of 70 (input's gradient: 130) products of N(0, 1) values, and of 303-257 for the weight's.
bool same_to_rounding(const torch::Tensor& a, const torch::Tensor& b) { return torch::allclose(a, b, 1e-5, 2e-4); }

TEST(SplitLinear, OutputAndGradientsAreAtLinearsToRounding) {
  torch::manual_seed(21);
  for (const bool batched : {true, false})
    for (const bool with_bias : {true, false})
      for (const bool weight_only : {false, true}) {
        const auto x = batched ? torch::randn({3, 101, 70}) : torch::randn({257, 70});
        const auto w = torch::randn({130, 70}), b = torch::randn({130});
        const auto out_weight =
            torch::randn(batched ? std::vector<int64_t>{3, 101, 130} : std::vector<int64_t>{257, 130});
        const std::string what = fmt::format("batched {}, bias {}, weight only {}", batched, with_bias, weight_only);
        auto x1 = weight_only ? x : leaf(x), w1 = leaf(w), b1 = leaf(b);
        auto x2 = weight_only ? x : leaf(x), w2 = leaf(w), b2 = leaf(b);
        const auto plain = torch::nn::functional::linear(x1, w1, with_bias ? b1 : torch::Tensor());
        const auto split = split_linear(x2, w2, with_bias ? b2 : torch::Tensor());
        ASSERT_TRUE(same_to_rounding(plain, split)) << what << ": " << (plain - split).abs().max();
        std::vector<torch::Tensor> in1{w1}, in2{w2};
        if (!weight_only) in1.push_back(x1), in2.push_back(x2);
        if (with_bias) in1.push_back(b1), in2.push_back(b2);
        const auto g1 = torch::autograd::grad({(plain * out_weight).sum()}, in1);
        const auto g2 = torch::autograd::grad({(split * out_weight).sum()}, in2);
        for (size_t i = 0; i < g1.size(); ++i)
          EXPECT_TRUE(same_to_rounding(g1[i], g2[i]))
              << what << ", gradient " << i << ": max difference " << (g1[i] - g2[i]).abs().max().item<double>();
      }
}

TEST(SplitLinear, WithoutAGraphItIsTheProductAlone) {
  torch::manual_seed(22);
  const auto x = torch::randn({2, 150, 64}), w = torch::randn({96, 64}).requires_grad_(true);
  torch::NoGradGuard no_grad;
  const auto y = split_linear(x, w, torch::Tensor());
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(same_to_rounding(y, torch::nn::functional::linear(x, w)));
}

}  // namespace
}  // namespace vista::models
