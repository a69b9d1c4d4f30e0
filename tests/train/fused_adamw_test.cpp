// FusedAdamW against libtorch's torch::optim::AdamW fed the same gradients: parameters, moments and
// steps after several updates, with two groups (weight decay and none), a parameter that misses a
// gradient in one step, and parameters its one-pass kernel does not take (float64, amsgrad).
#include "train/fused_adamw.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "runtime/torch_compat.h"

namespace vista::train {
namespace {

struct Params {
  std::vector<torch::Tensor> decayed, plain;
  std::vector<torch::Tensor> all() const {
    auto out = decayed;
    out.insert(out.end(), plain.begin(), plain.end());
    return out;
  }
};

// 70k elements, more than one of the kernel's chunks; a small one; a float64 one.
Params make_params() {
  torch::manual_seed(3);
  Params p;
  p.decayed = {torch::randn({70000}), torch::randn({33, 7})};
  p.plain = {torch::randn({129}), torch::randn({5, 6}, torch::kFloat64)};
  for (auto* list : {&p.decayed, &p.plain})
    for (auto& t : *list) t.requires_grad_(true);
  return p;
}

template <typename Optimizer>
std::unique_ptr<torch::optim::AdamW> make(const Params& p, bool amsgrad) {
  auto options = [&](double lr, double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(lr).betas({0.9, 0.95}).eps(1e-6).weight_decay(wd).amsgrad(amsgrad));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(p.decayed, options(3e-2, 0.1));
  groups.emplace_back(p.plain, options(1e-2, 0.0));
  return std::make_unique<Optimizer>(groups, torch::optim::AdamWOptions(1e-3));
}

void expect_close(const torch::Tensor& fused, const torch::Tensor& reference, const std::string& what) {
  ASSERT_EQ(fused.sizes(), reference.sizes()) << what;
  const double scale = reference.abs().max().item<double>() + 1e-12;
  const double diff = (fused - reference).abs().max().item<double>();
  EXPECT_LE(diff, 1e-6 * scale) << what << ": max difference " << diff << " of " << scale;
}

void run_against_libtorch(bool amsgrad) {
  const auto fused_params = make_params(), reference_params = make_params();
  auto fused = make<FusedAdamW>(fused_params, amsgrad);
  auto reference = make<torch::optim::AdamW>(reference_params, amsgrad);
  const auto fused_all = fused_params.all(), reference_all = reference_params.all();
  torch::manual_seed(4);
  for (int step = 0; step < 5; ++step) {
    for (size_t i = 0; i < fused_all.size(); ++i) {
      // The small float32 parameter gets no gradient in step 2: it is left as it is.
      const bool skip = step == 2 && i == 1;
      const auto grad = skip ? torch::Tensor() : torch::randn_like(fused_all[i]) * static_cast<double>(i + 1);
      fused_all[i].mutable_grad() = grad.defined() ? grad.clone() : grad;
      reference_all[i].mutable_grad() = grad.defined() ? grad.clone() : grad;
    }
    fused->step();
    reference->step();
  }
  for (size_t i = 0; i < fused_all.size(); ++i) {
    const std::string what = fmt::format("parameter {} (amsgrad {})", i, amsgrad);
    expect_close(fused_all[i].detach(), reference_all[i].detach(), what);
    const auto& fs = static_cast<const torch::optim::AdamWParamState&>(
        *fused->state().at(compat::optimizer_state_key(fused_all[i])));
    const auto& rs = static_cast<const torch::optim::AdamWParamState&>(
        *reference->state().at(compat::optimizer_state_key(reference_all[i])));
    EXPECT_EQ(fs.step(), rs.step()) << what;
    EXPECT_EQ(fs.step(), i == 1 ? 4 : 5) << what;
    expect_close(fs.exp_avg(), rs.exp_avg(), what + " exp_avg");
    expect_close(fs.exp_avg_sq(), rs.exp_avg_sq(), what + " exp_avg_sq");
    if (amsgrad) expect_close(fs.max_exp_avg_sq(), rs.max_exp_avg_sq(), what + " max_exp_avg_sq");
  }
  // The parameters moved: a comparison of two optimizers that do nothing would pass as well.
  EXPECT_GT((fused_all[0].detach() - make_params().decayed[0].detach()).abs().max().item<double>(), 1e-2);
}

TEST(FusedAdamW, MatchesLibtorchAdamWOverSeveralSteps) { run_against_libtorch(false); }

TEST(FusedAdamW, MatchesLibtorchAdamWWithAmsgrad) { run_against_libtorch(true); }

TEST(FusedAdamW, RefusesSparseGradients) {
  auto p = torch::randn({4}).requires_grad_(true);
  FusedAdamW optimizer(std::vector<torch::Tensor>{p}, torch::optim::AdamWOptions(1e-3));
  p.mutable_grad() = torch::randn({4}).to_sparse();
  try {
    optimizer.step();
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("sparse gradients"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vista::train
