#pragma once
// SEA's alignment term (docs/method.md, SEA): a symmetric InfoNCE between N visual tokens (adapter
// outputs at sampled patches) and the LLM-space embeddings of their label words, the i-th pair
// being the positive and every other row of the batch a negative. Pure function of tensors.
#include <torch/torch.h>

namespace vista::losses {

struct SeaLossOptions {
  double tau_min = 0.01;  // tau = exp(theta) is clamped from below; theta gets no gradient there
};

struct SeaTerms {
  torch::Tensor loss;  // scalar: (CE(rows) + CE(columns)) / 2, each the mean over the N pairs; 0 when N <= 1
  torch::Tensor tau;   // the temperature used (detached)
  int64_t pairs = 0;   // N
};

// visual_ND: any float dtype (computed in float32, or float64 when given float64);
// label_ND: label embeddings, treated as given (the caller detaches them when they are constants);
// theta_1: the learnable log-temperature, shape [1] or [].
SeaTerms sea_infonce(const torch::Tensor& visual_ND, const torch::Tensor& label_ND, const torch::Tensor& theta_1,
                     const SeaLossOptions& options = {});

}  // namespace vista::losses
