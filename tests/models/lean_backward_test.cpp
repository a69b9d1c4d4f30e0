// The decoder pieces that keep less for backward (lean_elementwise.h, the recomputed attention core
// of checkpointing.h) against the plain expressions written out here: the forward output and every
// gradient must be the same bits, because the demo's weights and the fixtures' gradients depend on it;
// the RMS norm's CPU kernel, which sums in another order, to float32 rounding.
#include <fmt/format.h>

#include <ATen/Parallel.h>

#include <array>
#include <utility>
#include <vector>

#include "models/checkpointing.h"
#include "models/layers.h"
#include "models/lean_elementwise.h"
#include "test_util.h"

using namespace vista::models;

namespace {

torch::Tensor leaf(const torch::Tensor& t) { return t.detach().clone().requires_grad_(true); }

// Gradients of sum(out * weight) with respect to `inputs`.
std::vector<torch::Tensor> grads_of(const torch::Tensor& out, const torch::Tensor& weight,
                                    const std::vector<torch::Tensor>& inputs) {
  return torch::autograd::grad({(out * weight).sum()}, inputs);
}

void expect_same_bits(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                      const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::equal(a[i], b[i]))
        << what << " gradient " << i << ": max difference " << (a[i] - b[i]).abs().max().item<double>();
}

}  // namespace

TEST(LeanBackward, SwigluMatchesSiluTimesUpBitForBit) {
  torch::manual_seed(3);
  const auto gate = torch::randn({2, 5, 11}) * 3, up = torch::randn({2, 5, 11}), w = torch::randn({2, 5, 11});
  auto g1 = leaf(gate), u1 = leaf(up), g2 = leaf(gate), u2 = leaf(up);
  const auto plain = torch::silu(g1) * u1;
  const auto lean = swiglu(g2, u2);
  EXPECT_TRUE(torch::equal(plain, lean));
  expect_same_bits(grads_of(plain, w, {g1, u1}), grads_of(lean, w, {g2, u2}), "swiglu");
  // Only one input needing a gradient still gives it.
  auto u3 = leaf(up);
  expect_same_bits(grads_of(torch::silu(gate) * u1, w, {u1}), grads_of(swiglu(gate, u3), w, {u3}), "swiglu, up only");
}

// As in a decoder layer: the normalised x feeds a projection and x also goes round it (the
// residual). On the CPU the norm is rms_norm_kernel.h's one pass each way, which sums in another
// order than libtorch: its output and gradients must be as close to the float64 expression as the
// float32 HF expression is, within a few float32 ulps of the largest value. 13 channels (a tail
// after the eight-lane pieces) and 2 x 70 rows (three chunks of the weight's gradient).
TEST(LeanBackward, RmsNormKernelMatchesTheHfExpressionToFloat32Rounding) {
  torch::manual_seed(4);
  const auto x = torch::randn({2, 70, 13}) * 2, weight = torch::rand({13}) + 0.5, proj = torch::randn({13, 13}) / 4;
  const auto w = torch::randn({2, 70, 13});
  auto hf_rms_norm = [](const torch::Tensor& h, const torch::Tensor& g) {
    return g * (h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + 1e-5));
  };
  auto run = [&](bool kernel, torch::ScalarType dtype, bool x_grad, bool weight_grad) {
    auto xi = x.to(dtype).requires_grad_(x_grad), wi = weight.to(dtype).requires_grad_(weight_grad);
    const auto normed = kernel ? rms_norm_float32(xi, wi, 1e-5) : hf_rms_norm(xi, wi);
    const auto out = xi + torch::matmul(normed, proj.to(dtype));
    std::vector<torch::Tensor> inputs, results{out.detach().to(torch::kFloat64)};
    if (x_grad) inputs.push_back(xi);
    if (weight_grad) inputs.push_back(wi);
    for (const auto& g : grads_of(out, w.to(dtype), inputs)) results.push_back(g.to(torch::kFloat64));
    return results;
  };
  for (const auto& [x_grad, weight_grad] :
       std::vector<std::pair<bool, bool>>{{true, true}, {true, false}, {false, true}}) {
    const auto what = fmt::format("x grad {}, weight grad {}", x_grad, weight_grad);
    const auto kernel = run(true, torch::kFloat32, x_grad, weight_grad);
    const auto hf = run(false, torch::kFloat32, x_grad, weight_grad);
    const auto exact = run(false, torch::kFloat64, x_grad, weight_grad);
    ASSERT_EQ(kernel.size(), exact.size()) << what;
    for (size_t i = 0; i < kernel.size(); ++i) {
      const double largest = exact[i].abs().max().item<double>();
      const double kernel_error = (kernel[i] - exact[i]).abs().max().item<double>();
      const double hf_error = (hf[i] - exact[i]).abs().max().item<double>();
      EXPECT_LE(kernel_error, std::max(4 * hf_error, 8 * 1.2e-7 * largest)) << what << ", result " << i;
    }
  }
}

// The weight's gradient is summed over fixed chunks of rows: the same bits on one thread as on two.
TEST(LeanBackward, RmsNormKernelWeightGradientDoesNotDependOnThreads) {
  torch::manual_seed(8);
  const auto x = torch::randn({3, 100, 24}), weight = torch::rand({24}) + 0.5, w = torch::randn({3, 100, 24});
  auto weight_grad = [&](int threads) {
    const int before = at::get_num_threads();
    at::set_num_threads(threads);
    auto wi = leaf(weight), xi = leaf(x);
    const auto grads = grads_of(rms_norm_float32(xi, wi, 1e-6), w, {xi, wi});
    at::set_num_threads(before);
    return grads;
  };
  expect_same_bits(weight_grad(1), weight_grad(2), "one thread against two");
}

TEST(LeanBackward, SwigluLinearMatchesLinearOfSiluTimesUpBitForBit) {
  torch::manual_seed(5);
  const auto gate = torch::randn({2, 7, 24}) * 3, up = torch::randn({2, 7, 24}), weight = torch::randn({16, 24}) * 0.2,
             w = torch::randn({2, 7, 16});
  auto g1 = leaf(gate), u1 = leaf(up), w1 = leaf(weight), g2 = leaf(gate), u2 = leaf(up), w2 = leaf(weight);
  const auto plain = torch::nn::functional::linear(swiglu(g1, u1), w1);
  const auto lean = swiglu_linear(g2, u2, w2);
  EXPECT_TRUE(torch::equal(plain, lean));
  expect_same_bits(grads_of(plain, w, {g1, u1, w1}), grads_of(lean, w, {g2, u2, w2}), "swiglu_linear");
  // a frozen weight (LoRA or stage 1): only the inputs' gradients
  auto g3 = leaf(gate), u3 = leaf(up);
  expect_same_bits(grads_of(torch::nn::functional::linear(torch::silu(g1) * u1, weight), w, {g1, u1}),
                   grads_of(swiglu_linear(g3, u3, weight), w, {g3, u3}), "swiglu_linear, frozen weight");
}

// Linears that keep the norm's recipe instead of its output (the LLaMA layers' q, k, v and gate,
// up projections): the same outputs and the same gradients, for x, the norm's weight and each
// linear's weight and bias, as linears of the kept output.
TEST(LeanBackward, LinearsOfARecomputedNormMatchThePlainLinearsBitForBit) {
  torch::manual_seed(9);
  const auto x = torch::randn({2, 5, 8}), norm_weight = torch::rand({8}) + 0.5;
  const auto w1 = torch::randn({6, 8}), w2 = torch::randn({4, 8}), b2 = torch::randn({4});
  const auto r1 = torch::randn({2, 5, 6}), r2 = torch::randn({2, 5, 4});
  auto run = [&](bool lean) {
    std::vector<torch::Tensor> in{leaf(x), leaf(norm_weight), leaf(w1), leaf(w2), leaf(b2)};
    torch::Tensor y1, y2;
    if (lean) {
      const auto [normed, norm] = rms_norm_float32_recomputable(in[0], in[1], 1e-5);
      EXPECT_TRUE(norm != nullptr);
      y1 = linear_of_norm(normed, norm, in[2], torch::Tensor());
      y2 = linear_of_norm(normed, norm, in[3], in[4]);
    } else {
      const auto normed = rms_norm_float32(in[0], in[1], 1e-5);
      y1 = torch::nn::functional::linear(normed, in[2]);
      y2 = torch::nn::functional::linear(normed, in[3], in[4]);
    }
    const auto loss = (y1 * r1).sum() + (y2 * r2).sum();
    // Twice: a graph kept for a second backward keeps what recomputes the norm.
    const auto first = torch::autograd::grad({loss}, in, {}, /*retain_graph=*/true);
    auto grads = torch::autograd::grad({loss}, in);
    expect_same_bits(first, grads, lean ? "lean, two backwards" : "plain, two backwards");
    grads.insert(grads.begin(), {y1.detach(), y2.detach()});
    return grads;
  };
  const auto plain = run(false), lean = run(true);
  expect_same_bits(lean, plain, "outputs y1, y2, then gradients of x, norm weight, w1, w2, b2:");
}

// Once the norm's backward has let go of x, a consumer asking for the output again gets an error
// that says why, not a crash on an undefined tensor.
TEST(LeanBackward, ARecomputableNormReleasedSaysSo) {
  RecomputableNorm norm(torch::randn({2, 3}), torch::ones({3}));
  norm.set_rstd(torch::ones({2, 1}));
  norm.add_consumer();
  EXPECT_EQ(norm.take().sizes(), (std::vector<int64_t>{2, 3}));
  norm.release();
  expect_error_containing([&] { norm.take(); }, {"after its backward let go of it", "retain_graph"});
}
