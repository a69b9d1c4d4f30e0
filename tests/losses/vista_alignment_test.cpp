#include "losses/vista_alignment.h"

#include <functional>

#include "io/safetensors.h"
#include "objectives/llava_objective.h"
#include "test_util.h"

using namespace vista::losses;

namespace {

// docs/method.md §3.2: D=2, one image sample, s=(1,0), X=[(0,0),(1,1)], m=2, weights 0.5, 1.0.
struct SpecExample {
  torch::Tensor hidden = torch::tensor({1.0, 0.0}, torch::kFloat64).view({1, 1, 2});
  torch::Tensor last = torch::tensor({0});
  torch::Tensor text = torch::tensor({0.0, 0.0, 1.0, 1.0}, torch::kFloat64).view({2, 2});
  torch::Tensor offsets = torch::tensor({0, 2});
};

VistaOptions options(VistaMethod method, VistaReduce reduce, VistaWeight weight) {
  VistaOptions o;
  o.method = method;
  o.reduce = reduce;
  o.weight = weight;
  return o;
}

}  // namespace

TEST(VistaAlignment, MethodSpecVectors) {
  SpecExample ex;
  auto run = [&](VistaOptions o) { return vista_alignment(ex.hidden, ex.last, ex.text, ex.offsets, o); };
  const auto l2_mean = run(options(VistaMethod::kL2, VistaReduce::kMean, VistaWeight::kTOverM));
  EXPECT_NEAR(l2_mean.term.item<double>(), 0.375, 1e-12);
  EXPECT_NEAR(l2_mean.similarity.item<double>(), 0.5, 1e-12);
  EXPECT_NEAR(run(options(VistaMethod::kL2, VistaReduce::kSum, VistaWeight::kTOverM)).term.item<double>(), 0.75, 1e-12);
  EXPECT_NEAR(run(options(VistaMethod::kCosine, VistaReduce::kMean, VistaWeight::kTOverM)).term.item<double>(),
              std::sqrt(0.5) / 2, 1e-9);
  EXPECT_NEAR(run(options(VistaMethod::kCosine, VistaReduce::kMean, VistaWeight::kT)).term.item<double>(),
              std::sqrt(0.5), 1e-9);
  // uniform: mean of e = 0.5
  EXPECT_NEAR(run(options(VistaMethod::kL2, VistaReduce::kMean, VistaWeight::kUniform)).term.item<double>(), 0.5, 1e-12);
}

TEST(VistaAlignment, MethodSpecGradient) {
  SpecExample ex;
  ex.hidden.requires_grad_(true);
  ex.text.requires_grad_(true);
  const auto r = vista_alignment(ex.hidden, ex.last, ex.text, ex.offsets, VistaOptions{});
  r.term.backward();
  const auto ds = ex.hidden.grad().view({2});
  EXPECT_NEAR(ds[0].item<double>(), 0.25, 1e-12);
  EXPECT_NEAR(ds[1].item<double>(), -0.5, 1e-12);
  // dL/dX_t = -(1/m) w_t (2/D) (s - X_t): t=1: -(1/2)(1/2)(1)(1,0) ; t=2: -(1/2)(1)(1)(0,-1)
  EXPECT_TRUE(torch::allclose(ex.text.grad(), torch::tensor({-0.25, 0.0, 0.0, 0.5}, torch::kFloat64).view({2, 2})));
}

TEST(VistaAlignment, TotalsCombineWithSignOfMethod) {
  SpecExample ex;
  const auto ce = torch::tensor(2.0, torch::kFloat64);
  auto l2 = options(VistaMethod::kL2, VistaReduce::kMean, VistaWeight::kTOverM);
  l2.lambda = 2.0;
  EXPECT_NEAR(combine_with_ce(ce, vista_alignment(ex.hidden, ex.last, ex.text, ex.offsets, l2), l2).item<double>(),
              2.0 + 2 * 0.375, 1e-12);
  auto cos = options(VistaMethod::kCosine, VistaReduce::kMean, VistaWeight::kTOverM);
  EXPECT_NEAR(combine_with_ce(ce, vista_alignment(ex.hidden, ex.last, ex.text, ex.offsets, cos), cos).item<double>(),
              2.0 - std::sqrt(0.5) / 2, 1e-9);
}

TEST(VistaAlignment, TextOnlySampleDoesNotChangeTheTerm) {
  SpecExample ex;
  const auto base = vista_alignment(ex.hidden, ex.last, ex.text, ex.offsets, VistaOptions{});
  // Second sample: no image (-1), three text tokens with a NaN-free but large embedding.
  auto hidden = torch::cat({ex.hidden, torch::full({1, 1, 2}, 50.0, torch::kFloat64)}, 0);
  auto text = torch::cat({ex.text, torch::full({3, 2}, 7.0, torch::kFloat64)}, 0);
  const auto mixed = vista_alignment(hidden, torch::tensor({0, -1}), text, torch::tensor({0, 2, 5}), VistaOptions{});
  EXPECT_DOUBLE_EQ(mixed.term.item<double>(), base.term.item<double>());
  EXPECT_DOUBLE_EQ(mixed.similarity.item<double>(), base.similarity.item<double>());
  EXPECT_FALSE(mixed.valid_B[1].item<bool>());
  EXPECT_EQ(mixed.per_sample_B[1].item<double>(), 0.0);
}

TEST(VistaAlignment, NoImageInBatchGivesZero) {
  auto hidden = torch::randn({2, 3, 4}, torch::requires_grad());
  const auto r = vista_alignment(hidden, torch::tensor({-1, -1}), torch::randn({5, 4}), torch::tensor({0, 2, 5}), VistaOptions{});
  EXPECT_EQ(r.term.item<float>(), 0.f);
  r.term.backward();
  EXPECT_TRUE(torch::all(hidden.grad() == 0).item<bool>());
}

TEST(VistaAlignment, Float64FiniteDifferenceGradientEveryVariant) {
  torch::manual_seed(1);
  const int64_t B = 3, T = 6, D = 5;
  const auto last = torch::tensor({2, -1, 4});
  const auto offsets = torch::tensor({0, 4, 6, 9});
  const auto hidden0 = torch::randn({B, T, D}, torch::kFloat64);
  const auto text0 = torch::randn({9, D}, torch::kFloat64);
  for (auto method : {VistaMethod::kL2, VistaMethod::kCosine})
    for (auto reduce : {VistaReduce::kMean, VistaReduce::kSum})
      for (auto weight : {VistaWeight::kTOverM, VistaWeight::kT, VistaWeight::kUniform}) {
        const auto o = options(method, reduce, weight);
        auto hidden = hidden0.clone().requires_grad_(true);
        auto text = text0.clone().requires_grad_(true);
        vista_alignment(hidden, last, text, offsets, o).term.backward();
        auto f = [&](const torch::Tensor& h, const torch::Tensor& x) {
          return vista_alignment(h, last, x, offsets, o).term.item<double>();
        };
        const double eps = 1e-6;
        auto check = [&](const torch::Tensor& base, const torch::Tensor& analytic, bool is_hidden) {
          auto flat = base.flatten();
          for (int64_t i = 0; i < flat.numel(); ++i) {
            auto plus = base.clone(), minus = base.clone();
            plus.view({-1})[i] += eps;
            minus.view({-1})[i] -= eps;
            const double numeric = is_hidden ? (f(plus, text0) - f(minus, text0)) / (2 * eps)
                                             : (f(hidden0, plus) - f(hidden0, minus)) / (2 * eps);
            ASSERT_NEAR(analytic.flatten()[i].item<double>(), numeric, 1e-7 + 1e-6 * std::abs(numeric))
                << "method " << int(method) << " reduce " << int(reduce) << " weight " << int(weight) << " index " << i;
          }
        };
        check(hidden0, hidden.grad(), true);
        check(text0, text.grad(), false);
      }
}

TEST(VistaAlignment, DetachTextStopsGradientIntoEmbeddings) {
  SpecExample ex;
  ex.text.requires_grad_(true);
  VistaOptions o;
  o.detach_text = true;
  const auto r = vista_alignment(ex.hidden, ex.last, ex.text, ex.offsets, o);
  EXPECT_FALSE(r.term.requires_grad());
}

TEST(VistaAlignment, Bf16HiddenWithFloat32EmbeddingsBackPropagates) {
  auto hidden = torch::randn({2, 4, 8}).to(torch::kBFloat16).requires_grad_(true);
  auto text = torch::randn({5, 8}, torch::requires_grad());
  for (auto method : {VistaMethod::kL2, VistaMethod::kCosine}) {
    VistaOptions o;
    o.method = method;
    const auto r = vista_alignment(hidden, torch::tensor({1, 3}), text, torch::tensor({0, 2, 5}), o);
    EXPECT_EQ(r.term.scalar_type(), torch::kFloat32);
    r.term.backward();
    EXPECT_EQ(hidden.grad().scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(torch::isfinite(text.grad()).all().item<bool>());
  }
  // and bf16 embeddings with a float32 state (the released code's crash)
  auto text_bf16 = torch::randn({5, 8}).to(torch::kBFloat16).requires_grad_(true);
  auto hidden_f32 = torch::randn({2, 4, 8}, torch::requires_grad());
  vista_alignment(hidden_f32, torch::tensor({1, 3}), text_bf16, torch::tensor({0, 2, 5}), VistaOptions{}).term.backward();
  EXPECT_TRUE(text_bf16.grad().defined());
}

TEST(VistaAlignment, RejectsInconsistentShapes) {
  expect_error_containing(
      [] { vista_alignment(torch::randn({2, 3, 4}), torch::tensor({0}), torch::randn({2, 4}), torch::tensor({0, 2}), VistaOptions{}); },
      {"last_image_pos", "B=2"});
  expect_error_containing(
      [] { vista_alignment(torch::randn({1, 3, 4}), torch::tensor({0}), torch::randn({2, 5}), torch::tensor({0, 2}), VistaOptions{}); },
      {"text embeddings", "[2, 5]"});
  expect_error_containing([] { parse_vista_method("l1"); }, {"vista.method", "'l1'"});
}

// End to end on the reference LLaVA model: right padding added to the batch changes no term.
TEST(VistaObjective, ExtraRightPaddingChangesNoTerm) {
  auto model = vista::models::load_multimodal(testdata("oracle_v1/llava_vista/model"),
                                         {testdata("oracle_v1/clip_vision/model")});
  const auto tensors = vista::io::load_safetensors(testdata("oracle_v1/llava_vista/tensors.safetensors"));
  vista::objectives::MultimodalBatch batch{tensors.at("input.input_ids"), tensors.at("input.attention_mask"),
                                           tensors.at("input.labels"), tensors.at("input.pixel_values")};
  auto pad = [](const torch::Tensor& t, int64_t value) {
    return torch::cat({t, torch::full({t.size(0), 5}, value, t.options())}, 1);
  };
  vista::objectives::MultimodalBatch padded{pad(batch.input_ids_BL, 0), pad(batch.attention_mask_BL, 0),
                                            pad(batch.labels_BL, -100), batch.pixel_values_BCHW};
  for (auto method : {VistaMethod::kL2, VistaMethod::kCosine}) {
    vista::objectives::ObjectiveOptions o;
    o.vista.method = method;
    const auto a = vista::objectives::llava_objective(*model, batch, o);
    const auto b = vista::objectives::llava_objective(*model, padded, o);
    EXPECT_NEAR(a.ce.item<double>(), b.ce.item<double>(), 1e-6);
    EXPECT_NEAR(a.vista.item<double>(), b.vista.item<double>(), 1e-6);
    EXPECT_NEAR(a.total.item<double>(), b.total.item<double>(), 1e-6);
    EXPECT_NEAR(a.similarity.item<double>(), b.similarity.item<double>(), 1e-6);
    EXPECT_EQ(a.num_aligned.item<int64_t>(), 2);
  }
}
