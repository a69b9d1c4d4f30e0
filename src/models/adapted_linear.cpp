#include "models/adapted_linear.h"

#include "models/split_linear.h"
#include "util/error.h"

namespace vista::models {

AdaptedLinearImpl::AdaptedLinearImpl(int64_t in_features, int64_t out_features, bool with_bias) {
  // Linear's own initialisation, so a model's random init does not change with this class.
  torch::nn::Linear init(torch::nn::LinearOptions(in_features, out_features).bias(with_bias));
  weight = register_parameter("weight", init->weight);
  if (with_bias) bias = register_parameter("bias", init->bias);
}

torch::Tensor AdaptedLinearImpl::forward(const torch::Tensor& x) {
  auto y = split_linear(x, weight, bias);
  if (!lora_A.defined()) return y;
  const auto dropped = dropout_ > 0 && is_training() ? torch::dropout(x, dropout_, true) : x;
  return y + torch::nn::functional::linear(torch::nn::functional::linear(dropped, lora_A), lora_B) * scale_;
}

torch::Tensor AdaptedLinearImpl::forward_of_norm(const torch::Tensor& normed,
                                                 const std::shared_ptr<RecomputableNorm>& norm) {
  if (lora_A.defined() || !norm) return forward(normed);
  return linear_of_norm(normed, norm, weight, bias);
}

void AdaptedLinearImpl::add_adapter(int64_t r, double alpha, double dropout) {
  if (has_adapter()) fail("this layer already carries a LoRA adapter");
  if (r < 1) fail("LoRA rank must be >= 1, got {}", r);
  torch::nn::Linear a(torch::nn::LinearOptions(weight.size(1), r).bias(false));
  lora_A = register_parameter("lora_A", a->weight.detach().to(weight.options()));
  lora_B = register_parameter("lora_B", torch::zeros({weight.size(0), r}, weight.options()));
  scale_ = alpha / static_cast<double>(r);
  dropout_ = dropout;
}

}  // namespace vista::models
