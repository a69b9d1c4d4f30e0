#pragma once
// Next-token cross-entropy as HF computes it: logits[:, :-1] predict labels[:, 1:], ignore -100,
// mean over every supervised token of the batch (token-level, not per-sample).
#include <torch/torch.h>

namespace vista::losses {

struct CrossEntropyTerms {
  torch::Tensor loss;         // float32 scalar
  torch::Tensor sum;          // float32 scalar: the summed token losses (loss = sum / num_targets)
  torch::Tensor num_targets;  // int64 scalar: supervised tokens in the batch
};

// A batch with no supervised token yields loss 0 (sum 0 over max(count, 1)), with a zero
// gradient, by rule rather than by replacing a NaN.
CrossEntropyTerms shifted_cross_entropy(const torch::Tensor& logits_BTV, const torch::Tensor& labels_BT,
                                        int64_t ignore_index = -100);

// The same loss from logits of the supervised positions only (rows where the shifted label is
// not ignored): `logits_NV` row i predicts `targets_N[i]`. Computing the vocabulary projection
// only for these rows is what keeps long prompts with short answers cheap.
CrossEntropyTerms cross_entropy_rows(const torch::Tensor& logits_NV, const torch::Tensor& targets_N);

// Positions t (flattened over [B, T-1]) whose next-token label labels[:, t+1] is supervised.
torch::Tensor supervised_positions(const torch::Tensor& labels_BT, int64_t ignore_index = -100);

}  // namespace vista::losses
