#include "models/swiglu_kernel.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <cmath>

#include "models/float_lanes.h"
#include "util/error.h"

namespace vista::models {

namespace {

// Elements per task: 128 KB of each operand.
constexpr int64_t kGrain = 32768;

// 1 + exp(-x): silu(x) is x over it, sigmoid(x) one over it.
inline __attribute__((always_inline)) lanes::Floats8 one_plus_exp_minus8(lanes::Floats8 x) {
  return 1.0f + lanes::exp(-x);
}
inline __attribute__((always_inline)) float one_plus_exp_minus1(float x) {
  return one_plus_exp_minus8(lanes::broadcast(x))[0];
}

__attribute__((target_clones("avx2", "default"))) void swiglu_elements(const float* gate, const float* up, int64_t n,
                                                                       float* out) {
  const int64_t full = n / lanes::kWidth * lanes::kWidth;
  for (int64_t i = 0; i < full; i += lanes::kWidth) {
    const lanes::Floats8 g = lanes::load(gate + i);
    lanes::store(out + i, g / one_plus_exp_minus8(g) * lanes::load(up + i));
  }
  for (int64_t i = full; i < n; ++i) out[i] = gate[i] / one_plus_exp_minus1(gate[i]) * up[i];
}

// grad_up may be null; grad_gate (null when not asked for) may be grad_product itself.
__attribute__((target_clones("avx2", "default"))) void swiglu_elements_backward(const float* grad_product,
                                                                                const float* gate, const float* up,
                                                                                int64_t n, float* grad_gate,
                                                                                float* grad_up) {
  const int64_t full = n / lanes::kWidth * lanes::kWidth;
  for (int64_t i = 0; i < full; i += lanes::kWidth) {
    const lanes::Floats8 g = lanes::load(gate + i), d = lanes::load(grad_product + i);
    const lanes::Floats8 e = one_plus_exp_minus8(g), s = 1.0f / e;
    if (grad_up) lanes::store(grad_up + i, d * (g / e));
    if (grad_gate) lanes::store(grad_gate + i, d * lanes::load(up + i) * (s * (1.0f + g * (1.0f - s))));
  }
  for (int64_t i = full; i < n; ++i) {
    const float g = gate[i], d = grad_product[i], e = one_plus_exp_minus1(g), s = 1.0f / e;
    if (grad_up) grad_up[i] = d * (g / e);
    if (grad_gate) grad_gate[i] = d * up[i] * (s * (1.0f + g * (1.0f - s)));
  }
}

}  // namespace

bool swiglu_kernel_applies(const torch::Tensor& gate, const torch::Tensor& up) {
  return gate.scalar_type() == torch::kFloat32 && up.scalar_type() == torch::kFloat32 && gate.device().is_cpu() &&
         up.device().is_cpu() && gate.sizes() == up.sizes();
}

torch::Tensor swiglu_forward_kernel(const torch::Tensor& gate_in, const torch::Tensor& up_in) {
  RECORD_FUNCTION("vista_kernel::swiglu", std::vector<c10::IValue>());
  const auto gate = gate_in.contiguous(), up = up_in.contiguous();
  auto out = torch::empty(gate.sizes(), gate.options());
  const float* g = gate.data_ptr<float>();
  const float* u = up.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, gate.numel(), kGrain,
                   [&](int64_t begin, int64_t end) { swiglu_elements(g + begin, u + begin, end - begin, o + begin); });
  return out;
}

SwigluGrads swiglu_backward_kernel_into(torch::Tensor grad_product, const torch::Tensor& gate_in,
                                        const torch::Tensor& up_in, bool need_gate, bool need_up) {
  RECORD_FUNCTION("vista_kernel::swiglu_backward", std::vector<c10::IValue>());
  if (!grad_product.is_contiguous() || grad_product.sizes() != gate_in.sizes())
    fail("swiglu_backward_kernel_into: the product's gradient must be contiguous and of gate's shape {}",
         shape_string(gate_in.sizes().vec()));
  const auto gate = gate_in.contiguous(), up = up_in.contiguous();
  SwigluGrads grads;
  if (need_up) grads.up = torch::empty(gate.sizes(), gate.options());
  if (need_gate) grads.gate = grad_product;
  const float* d = grad_product.data_ptr<float>();
  const float* g = gate.data_ptr<float>();
  const float* u = up.data_ptr<float>();
  float* grad_gate = need_gate ? grads.gate.data_ptr<float>() : nullptr;
  float* grad_up = need_up ? grads.up.data_ptr<float>() : nullptr;
  at::parallel_for(0, gate.numel(), kGrain, [&](int64_t begin, int64_t end) {
    swiglu_elements_backward(d + begin, g + begin, u + begin, end - begin, grad_gate ? grad_gate + begin : nullptr,
                             grad_up ? grad_up + begin : nullptr);
  });
  return grads;
}

}  // namespace vista::models
