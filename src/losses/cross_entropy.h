#pragma once
// Next-token cross-entropy as HF computes it: logits[:, :-1] predict labels[:, 1:], ignore -100,
// mean over every supervised token of the batch (token-level, not per-sample).
#include <torch/torch.h>

namespace vista::losses {

struct CrossEntropyTerms {
  torch::Tensor loss;         // float32 scalar
  torch::Tensor num_targets;  // int64 scalar: supervised tokens in the batch
};

// A batch with no supervised token yields loss 0 (sum 0 over max(count, 1)), with a zero
// gradient, by rule rather than by replacing a NaN.
CrossEntropyTerms shifted_cross_entropy(const torch::Tensor& logits_BTV, const torch::Tensor& labels_BT,
                                        int64_t ignore_index = -100);

}  // namespace vista::losses
