// Releasing gradients between steps (instead of zeroing them) must leave AdamW doing exactly what
// it did after zero_grad() on libtorch 1.13: a parameter updated before and without a gradient in
// this step still moves with its moments; one never updated stays untouched.
#include <torch/torch.h>

#include "test_util.h"
#include "train/optimizer_setup.h"

using namespace vista;

namespace {

struct Params {
  torch::Tensor a, b, never;
};

Params make_params() {
  torch::manual_seed(3);
  return {torch::randn({4, 3}).requires_grad_(true), torch::randn({5}).requires_grad_(true),
          torch::randn({2}).requires_grad_(true)};
}

// Step 1 gives a and b gradients, step 2 only a, step 3 both; `never` gets none.
torch::Tensor loss_at(const Params& p, int step) {
  auto loss = (p.a * p.a).sum() * (0.5 + step);
  if (step != 2) loss = loss + (p.b.sin() * step).sum();
  return loss;
}

torch::optim::AdamW make_adamw(const Params& p) {
  return torch::optim::AdamW({p.a, p.b, p.never}, torch::optim::AdamWOptions(0.1).weight_decay(0.01));
}

// What zero_grad() did on libtorch 1.13: defined gradients set to zero, undefined ones left.
void zero_defined_gradients(const Params& p) {
  for (const auto& t : {p.a, p.b, p.never})
    if (t.grad().defined()) t.grad().zero_();
}

}  // namespace

TEST(GradientRelease, AdamWUpdatesAsAfterZeroingAndTheGradientsAreFreedBetweenSteps) {
  const auto zeroed = make_params();
  const auto released = make_params();
  auto zeroed_adamw = make_adamw(zeroed);
  auto released_adamw = make_adamw(released);
  for (int step = 1; step <= 3; ++step) {
    zero_defined_gradients(zeroed);
    loss_at(zeroed, step).backward();
    zeroed_adamw.step();

    train::release_gradients(released_adamw);
    EXPECT_FALSE(released.a.grad().defined());
    EXPECT_FALSE(released.b.grad().defined());
    loss_at(released, step).backward();
    EXPECT_EQ(released.b.grad().defined(), step != 2);
    train::zero_missing_gradients(released_adamw);
    EXPECT_TRUE(released.b.grad().defined());
    EXPECT_FALSE(released.never.grad().defined());
    released_adamw.step();
  }
  // b moved in step 2 with its moments only: plain AdamW on a released gradient would have left it.
  EXPECT_TRUE(torch::equal(zeroed.a, released.a));
  EXPECT_TRUE(torch::equal(zeroed.b, released.b));
  EXPECT_TRUE(torch::equal(zeroed.never, released.never));
  EXPECT_TRUE(torch::equal(released.never, make_params().never));
}

TEST(GradientRelease, AParameterWithoutAGradientInItsFirstStepIsNotUpdated) {
  const auto p = make_params();
  auto adamw = make_adamw(p);
  const auto b_before = p.b.detach().clone();
  loss_at(p, 2).backward();  // a only
  train::zero_missing_gradients(adamw);
  EXPECT_FALSE(p.b.grad().defined());
  adamw.step();
  EXPECT_TRUE(torch::equal(p.b, b_before));
}
