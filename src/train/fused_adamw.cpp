#include "train/fused_adamw.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "runtime/torch_compat.h"
#include "util/error.h"

namespace vista::train {

namespace {

struct Coefficients {
  double decay;  // the parameter's factor before the update (1 - lr * weight_decay)
  double beta1, beta2;
  double bias2_sqrt;  // sqrt(1 - beta2^step)
  double eps;
  double step_size;  // lr / (1 - beta1^step)
};

bool one_pass(const torch::Tensor& p, const torch::Tensor& grad, const torch::optim::AdamWParamState& s,
              const torch::optim::AdamWOptions& o) {
  const auto f32 = torch::kFloat32;
  for (const auto* t : {&p, &grad, &s.exp_avg(), &s.exp_avg_sq()})
    if (t->scalar_type() != f32 || !t->device().is_cpu() || !t->is_contiguous() || t->numel() != p.numel())
      return false;
  return !o.amsgrad();
}

// The float32 kernel: AdamW's operations in its order, each rounded to float32, with its kernels'
// association (addcmul_: self + value * a * b; addcdiv_: self + value * a / b) and its scalars cast
// to float first. libtorch's vectorised add_ may fuse a multiply-add where this rounds twice.
void update_in_one_pass(torch::Tensor& p, const torch::Tensor& grad, torch::Tensor& exp_avg, torch::Tensor& exp_avg_sq,
                        const Coefficients& c, bool decays) {
  const float decay = static_cast<float>(c.decay), beta1 = static_cast<float>(c.beta1),
              beta2 = static_cast<float>(c.beta2), one_minus_beta1 = static_cast<float>(1 - c.beta1),
              one_minus_beta2 = static_cast<float>(1 - c.beta2), bias2_sqrt = static_cast<float>(c.bias2_sqrt),
              eps = static_cast<float>(c.eps), neg_step = static_cast<float>(-c.step_size);
  float* param = p.data_ptr<float>();
  const float* g = grad.data_ptr<float>();
  float* m = exp_avg.data_ptr<float>();
  float* v = exp_avg_sq.data_ptr<float>();
  // Chunks of 32k elements: large enough that a thread streams, small enough to share 2 threads
  // across the small parameters too. Captured by value: the OpenMP region reads captures through
  // its closure, and pointers read by reference there are reloaded after every store, which keeps
  // the loop from vectorising.
  at::parallel_for(0, p.numel(), 1 << 15, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float p_i = decays ? param[i] * decay : param[i];
      const float m_i = m[i] * beta1 + one_minus_beta1 * g[i];
      const float v_i = v[i] * beta2 + one_minus_beta2 * g[i] * g[i];
      const float denom = std::sqrt(v_i) / bias2_sqrt + eps;
      m[i] = m_i;
      v[i] = v_i;
      param[i] = p_i + neg_step * m_i / denom;
    }
  });
}

// torch::optim::AdamW's update of one parameter, operation for operation.
void update_with_tensor_ops(torch::Tensor& p, const torch::Tensor& grad, torch::optim::AdamWParamState& s,
                            const Coefficients& c, const torch::optim::AdamWOptions& o) {
  if (o.weight_decay() != 0) p.mul_(c.decay);
  auto& exp_avg = s.exp_avg();
  auto& exp_avg_sq = s.exp_avg_sq();
  exp_avg.mul_(c.beta1).add_(grad, 1 - c.beta1);
  exp_avg_sq.mul_(c.beta2).addcmul_(grad, grad, 1 - c.beta2);
  torch::Tensor denom;
  if (o.amsgrad()) {
    auto& max_exp_avg_sq = s.max_exp_avg_sq();
    torch::max_out(max_exp_avg_sq, exp_avg_sq, max_exp_avg_sq);
    denom = (max_exp_avg_sq.sqrt() / c.bias2_sqrt).add_(c.eps);
  } else {
    denom = (exp_avg_sq.sqrt() / c.bias2_sqrt).add_(c.eps);
  }
  p.addcdiv_(exp_avg, denom, -c.step_size);
}

}  // namespace

torch::Tensor FusedAdamW::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    for (auto& param : group.params()) {
      if (!param.grad().defined()) continue;
      const auto& grad = param.grad();
      if (grad.is_sparse()) fail("AdamW does not support sparse gradients");
      const auto key = compat::optimizer_state_key(param);
      auto found = state_.find(key);
      if (found == state_.end()) {
        auto fresh = std::make_unique<torch::optim::AdamWParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(param, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(param, torch::MemoryFormat::Preserve));
        if (o.amsgrad()) fresh->max_exp_avg_sq(torch::zeros_like(param, torch::MemoryFormat::Preserve));
        found = state_.emplace(key, std::move(fresh)).first;
      }
      auto& s = static_cast<torch::optim::AdamWParamState&>(*found->second);
      s.step(s.step() + 1);
      const auto [beta1, beta2] = o.betas();
      const double step = static_cast<double>(s.step());
      const Coefficients c{1 - o.lr() * o.weight_decay(),        beta1,   beta2,
                           std::sqrt(1 - std::pow(beta2, step)), o.eps(), o.lr() / (1 - std::pow(beta1, step))};
      auto p = param.detach();
      if (one_pass(p, grad, s, o)) update_in_one_pass(p, grad, s.exp_avg(), s.exp_avg_sq(), c, o.weight_decay() != 0);
      else update_with_tensor_ops(p, grad, s, c, o);
    }
  }
  return loss;
}

}  // namespace vista::train
