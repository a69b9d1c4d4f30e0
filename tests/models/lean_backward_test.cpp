// The decoder pieces that keep less for backward (lean_elementwise.h, the recomputed attention core
// of checkpointing.h) against the plain expressions written out here: the forward output and every
// gradient must be the same bits, because the demo's weights and the fixtures' gradients depend on it.
#include <fmt/format.h>

#include <array>

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
// residual), so x's gradient is the sum of three terms and their order decides its rounding.
TEST(LeanBackward, RmsNormMatchesTheHfExpressionBitForBit) {
  torch::manual_seed(4);
  const auto x = torch::randn({2, 7, 16}) * 2, weight = torch::rand({16}) + 0.5, proj = torch::randn({16, 16}) / 4;
  const auto w = torch::randn({2, 7, 16});
  auto x1 = leaf(x), w1 = leaf(weight), x2 = leaf(x), w2 = leaf(weight);
  auto hf_rms_norm = [](const torch::Tensor& h, const torch::Tensor& g) {
    return g * (h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + 1e-5));
  };
  const auto plain = x1 + torch::matmul(hf_rms_norm(x1, w1), proj);
  const auto lean = x2 + torch::matmul(rms_norm_float32(x2, w2, 1e-5), proj);
  EXPECT_TRUE(torch::equal(plain, lean));
  expect_same_bits(grads_of(plain, w, {x1, w1}), grads_of(lean, w, {x2, w2}), "rms norm");
  // A frozen weight (stage 1, LoRA) and a frozen input.
  auto x3 = leaf(x), x4 = leaf(x);
  expect_same_bits(grads_of(hf_rms_norm(x3, weight), w, {x3}), grads_of(rms_norm_float32(x4, weight, 1e-5), w, {x4}),
                   "rms norm, frozen weight");
  auto w3 = leaf(weight), w4 = leaf(weight);
  expect_same_bits(grads_of(hf_rms_norm(x, w3), w, {w3}), grads_of(rms_norm_float32(x, w4, 1e-5), w, {w4}),
                   "rms norm, frozen input");
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
