// The decoder pieces that keep less for backward (lean_elementwise.h, the recomputed attention core
// of checkpointing.h) against the plain expressions written out here: the forward output and every
// gradient must be the same bits, because the demo's weights and the fixtures' gradients depend on it;
// the CPU kernels of the RMS norm and of silu(gate) * up, which sum in another order or
// approximate exp, to float32 rounding.
#include <fmt/format.h>

#include <ATen/Parallel.h>

#include <array>
#include <utility>
#include <vector>

#include "models/checkpointing.h"
#include "models/layers.h"
#include "models/lean_elementwise.h"
#include "models/swiglu_kernel.h"
#include "test_util.h"

using namespace vista::models;

namespace {

torch::Tensor leaf(const torch::Tensor& t) { return t.detach().clone().requires_grad_(true); }
// A fresh copy of t in dtype, asking for a gradient or not.
torch::Tensor leaf_as(const torch::Tensor& t, torch::ScalarType dtype, bool grad) {
  return t.detach().to(dtype).clone().requires_grad_(grad);
}

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

// The CPU kernels that sum or approximate in another order than libtorch (rms_norm_kernel.h,
// swiglu_kernel.h): each result as close to the float64 expression as the float32 plain expression
// is (4x its error), or within 8 float32 ulps of the largest value.
void expect_float32_rounding(const std::vector<torch::Tensor>& kernel, const std::vector<torch::Tensor>& plain,
                             const std::vector<torch::Tensor>& exact, const std::string& what) {
  ASSERT_EQ(kernel.size(), exact.size()) << what;
  ASSERT_EQ(plain.size(), exact.size()) << what;
  for (size_t i = 0; i < kernel.size(); ++i) {
    const auto reference = exact[i].to(torch::kFloat64);
    const double largest = reference.abs().max().item<double>();
    const double kernel_error = (kernel[i].to(torch::kFloat64) - reference).abs().max().item<double>();
    const double plain_error = (plain[i].to(torch::kFloat64) - reference).abs().max().item<double>();
    EXPECT_LE(kernel_error, std::max(4 * plain_error, 8 * 1.2e-7 * largest)) << what << ", result " << i;
  }
}

}  // namespace

// silu(gate) * up on the CPU is swiglu_kernel.h's pass; gates out to +-100, where exp(-gate)
// overflows or underflows, included.
TEST(LeanBackward, SwigluKernelMatchesSiluTimesUpToFloat32Rounding) {
  torch::manual_seed(3);
  const auto gate =
      torch::cat({torch::randn({2, 5, 11}) * 3,
                  torch::tensor({-100.f, -90.f, -30.f, 30.f, 90.f, 100.f}).view({1, 1, 6}).expand({2, 5, 6})},
                 -1);
  const auto up = torch::randn({2, 5, 17}), w = torch::randn({2, 5, 17});
  auto run = [&](bool kernel, torch::ScalarType dtype, bool gate_grad) {
    auto g = leaf_as(gate, dtype, gate_grad), u = leaf_as(up, dtype, true);
    const auto out = kernel ? swiglu(g, u) : torch::silu(g) * u;
    std::vector<torch::Tensor> inputs{u}, results{out.detach()};
    if (gate_grad) inputs.insert(inputs.begin(), g);
    for (const auto& grad : grads_of(out, w.to(dtype), inputs)) results.push_back(grad);
    return results;
  };
  for (const bool gate_grad : {true, false}) {
    const auto kernel = run(true, torch::kFloat32, gate_grad);
    for (const auto& t : kernel) EXPECT_TRUE(torch::isfinite(t).all().item<bool>());
    expect_float32_rounding(kernel, run(false, torch::kFloat32, gate_grad), run(false, torch::kFloat64, gate_grad),
                            gate_grad ? "swiglu" : "swiglu, up only");
  }
}

// The backward kernel writes gate's gradient over the product's gradient: a buffer it cannot write
// in place is refused with the reason, not written past.
TEST(LeanBackward, SwigluBackwardKernelRefusesABufferItCannotWriteInPlace) {
  const auto gate = torch::randn({3, 4}), up = torch::randn({3, 4});
  expect_error_containing(
      [&] {
        swiglu_backward_kernel_into(torch::randn({4, 3}).t(), gate, up, true, true);
      },
      {"swiglu_backward_kernel_into", "contiguous", "[3, 4]"});
  expect_error_containing(
      [&] {
        swiglu_backward_kernel_into(torch::randn({3, 5}), gate, up, true, true);
      },
      {"gate's shape [3, 4]"});
}

// As in a decoder layer: the normalised x feeds a projection and x also goes round it (the
// residual). On the CPU the norm is rms_norm_kernel.h's one pass each way. 13 channels (a tail
// after the eight-lane pieces) and 2 x 70 rows (three chunks of the weight's gradient).
TEST(LeanBackward, RmsNormKernelMatchesTheHfExpressionToFloat32Rounding) {
  torch::manual_seed(4);
  const auto x = torch::randn({2, 70, 13}) * 2, weight = torch::rand({13}) + 0.5, proj = torch::randn({13, 13}) / 4;
  const auto w = torch::randn({2, 70, 13});
  auto hf_rms_norm = [](const torch::Tensor& h, const torch::Tensor& g) {
    return g * (h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + 1e-5));
  };
  auto run = [&](bool kernel, torch::ScalarType dtype, bool x_grad, bool weight_grad) {
    auto xi = leaf_as(x, dtype, x_grad), wi = leaf_as(weight, dtype, weight_grad);
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
    expect_float32_rounding(run(true, torch::kFloat32, x_grad, weight_grad),
                            run(false, torch::kFloat32, x_grad, weight_grad),
                            run(false, torch::kFloat64, x_grad, weight_grad), what);
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

TEST(LeanBackward, AttentionRecomputedInBackwardMatchesThePlainCoreBitForBit) {
  torch::manual_seed(5);
  const auto q = torch::randn({2, 3, 6, 8}), k = torch::randn({2, 3, 6, 8}), v = torch::randn({2, 3, 6, 8});
  const auto w = torch::randn({2, 3, 6, 8});
  const auto mask = causal_padding_mask(torch::tensor({{1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1}}), 6, 0, torch::kFloat32);
  auto q1 = leaf(q), k1 = leaf(k), v1 = leaf(v), q2 = leaf(q), k2 = leaf(k), v2 = leaf(v);
  auto scores = torch::matmul(q1, k1.transpose(2, 3)) / std::sqrt(8.0) + mask;
  const auto plain = torch::matmul(torch::softmax(scores, -1, torch::kFloat32), v1);
  const int64_t before = recomputed_attention_cores();
  const auto lean = attention_scores_after_matmul(q2, k2, v2, mask);
  EXPECT_TRUE(torch::equal(plain, lean));
  expect_same_bits(grads_of(plain, w, {q1, k1, v1}), grads_of(lean, w, {q2, k2, v2}), "attention");
  // The probabilities were recomputed in backward, not kept from the forward.
  EXPECT_EQ(recomputed_attention_cores() - before, 1);
  // Without a graph to build there is nothing to recompute.
  {
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(attention_scores_after_matmul(q, k, v, mask), plain.detach()));
  }
  EXPECT_EQ(recomputed_attention_cores() - before, 1);
}

// A strided v (heads transposed out of [B, S, H, D], as the decoders make it) and each subset of
// inputs that needs a gradient: the backward multiplies the operands at::matmul multiplied.
TEST(LeanBackward, AttentionBackwardMatchesForStridedValuesAndPartialGradients) {
  torch::manual_seed(7);
  const auto q = torch::randn({2, 3, 5, 4}), k = torch::randn({2, 3, 5, 4});
  const auto v = torch::randn({2, 5, 3, 4}).transpose(1, 2);
  const auto w = torch::randn({2, 3, 5, 4});
  const auto mask = causal_padding_mask(torch::tensor({{1, 1, 1, 1, 1}, {0, 1, 1, 1, 1}}), 5, 0, torch::kFloat32);
  for (const auto& needs : std::vector<std::array<bool, 3>>{
           {true, true, true}, {false, false, true}, {true, false, false}, {false, true, true}}) {
    auto input = [&](const torch::Tensor& t, bool grad) { return grad ? leaf(t) : t; };
    std::vector<torch::Tensor> plain_in{input(q, needs[0]), input(k, needs[1]), input(v, needs[2])};
    std::vector<torch::Tensor> lean_in{input(q, needs[0]), input(k, needs[1]), input(v, needs[2])};
    auto scores = torch::matmul(plain_in[0], plain_in[1].transpose(2, 3)) / std::sqrt(4.0) + mask;
    const auto plain = torch::matmul(torch::softmax(scores, -1, torch::kFloat32), plain_in[2]);
    const auto lean = attention_scores_after_matmul(lean_in[0], lean_in[1], lean_in[2], mask);
    EXPECT_TRUE(torch::equal(plain, lean));
    std::vector<torch::Tensor> plain_wanted, lean_wanted;
    for (size_t i = 0; i < 3; ++i)
      if (needs[i]) plain_wanted.push_back(plain_in[i]), lean_wanted.push_back(lean_in[i]);
    expect_same_bits(
        grads_of(plain, w, plain_wanted), grads_of(lean, w, lean_wanted),
        fmt::format("attention, inputs needing a gradient (q k v) {:d}{:d}{:d}", needs[0], needs[1], needs[2]));
  }
}

// Under a checkpointed block the whole block is recomputed once in backward; the attention core
// inside it is not recomputed a second time.
TEST(LeanBackward, AttentionInsideACheckpointedBlockIsRecomputedOnce) {
  torch::manual_seed(6);
  const auto q = torch::randn({1, 2, 4, 8}), k = torch::randn({1, 2, 4, 8}), v = torch::randn({1, 2, 4, 8});
  const auto mask = causal_padding_mask(torch::ones({1, 4}), 4, 0, torch::kFloat32);
  auto x = leaf(q);
  const int64_t blocks = recomputed_blocks(), cores = recomputed_attention_cores();
  const auto out =
      checkpointed([&](const torch::Tensor& h) { return attention_scores_after_matmul(h, k, v, mask); }, x);
  out.sum().backward();
  EXPECT_EQ(recomputed_blocks() - blocks, 1);
  EXPECT_EQ(recomputed_attention_cores() - cores, 0);
  auto x2 = leaf(q);
  attention_scores_after_matmul(x2, k, v, mask).sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), x2.grad()));
}

TEST(LeanBackward, SwigluLinearMatchesLinearOfSiluTimesUpToFloat32Rounding) {
  torch::manual_seed(5);
  const auto gate = torch::randn({2, 7, 24}) * 3, up = torch::randn({2, 7, 24}), weight = torch::randn({16, 24}) * 0.2,
             w = torch::randn({2, 7, 16});
  auto run = [&](bool kernel, torch::ScalarType dtype, bool weight_grad) {
    auto g = leaf_as(gate, dtype, true), u = leaf_as(up, dtype, true), wt = leaf_as(weight, dtype, weight_grad);
    const auto out = kernel ? swiglu_linear(g, u, wt) : torch::nn::functional::linear(torch::silu(g) * u, wt);
    std::vector<torch::Tensor> inputs{g, u}, results{out.detach()};
    if (weight_grad) inputs.push_back(wt);
    for (const auto& grad : grads_of(out, w.to(dtype), inputs)) results.push_back(grad);
    return results;
  };
  // The down projection that recomputes its input is the linear of swiglu()'s output, bit for bit.
  auto g1 = leaf(gate), u1 = leaf(up), w1 = leaf(weight), g2 = leaf(gate), u2 = leaf(up), w2 = leaf(weight);
  const auto composed = torch::nn::functional::linear(swiglu(g1, u1), w1);
  const auto fused = swiglu_linear(g2, u2, w2);
  EXPECT_TRUE(torch::equal(composed, fused));
  expect_same_bits(grads_of(composed, w, {g1, u1, w1}), grads_of(fused, w, {g2, u2, w2}), "swiglu_linear");
  // A frozen weight (LoRA or stage 1): only the inputs' gradients.
  for (const bool weight_grad : {true, false})
    expect_float32_rounding(run(true, torch::kFloat32, weight_grad), run(false, torch::kFloat32, weight_grad),
                            run(false, torch::kFloat64, weight_grad),
                            weight_grad ? "swiglu_linear" : "swiglu_linear, frozen weight");
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
