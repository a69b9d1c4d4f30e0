#pragma once
// A linear layer with torch::nn::Linear's parameter names and initialisation (weight, bias) that
// can carry a LoRA adapter: y = x W^T + b + dropout(x) A^T B^T * alpha / r. The LLM's projections
// are of this kind, so adapters attach by module path without a second model class; the vision
// tower and projector keep plain Linear layers and can never get one by accident.
#include <torch/torch.h>

#include <memory>

#include "models/lean_elementwise.h"

namespace vista::models {

class AdaptedLinearImpl : public torch::nn::Module {
 public:
  AdaptedLinearImpl(int64_t in_features, int64_t out_features, bool bias);
  torch::Tensor forward(const torch::Tensor& x);
  // forward(normed) for the output of an RMSNorm that can be recomputed: without an adapter the
  // layer keeps `norm` rather than `normed` for backward (lean_elementwise.h).
  torch::Tensor forward_of_norm(const torch::Tensor& normed, const std::shared_ptr<RecomputableNorm>& norm);

  // lora_A [r, in] with Linear's default init (PEFT's), lora_B [out, r] zeros: the output is
  // unchanged until training moves B.
  void add_adapter(int64_t r, double alpha, double dropout);
  bool has_adapter() const { return lora_A.defined(); }
  double scale() const { return scale_; }

  torch::Tensor weight, bias, lora_A, lora_B;

 private:
  double scale_ = 0, dropout_ = 0;
};
TORCH_MODULE(AdaptedLinear);

}  // namespace vista::models
