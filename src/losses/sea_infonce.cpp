#include "losses/sea_infonce.h"

#include <cmath>

#include "util/error.h"

namespace vista::losses {

SeaTerms sea_infonce(const torch::Tensor& visual_ND, const torch::Tensor& label_ND, const torch::Tensor& theta_1,
                     const SeaLossOptions& options) {
  if (visual_ND.dim() != 2 || label_ND.dim() != 2 || visual_ND.sizes() != label_ND.sizes())
    fail("sea: visual tokens {} and label embeddings {} must both be [N,D]", shape_string(visual_ND.sizes().vec()),
         shape_string(label_ND.sizes().vec()));
  if (theta_1.numel() != 1) fail("sea: theta must hold one value, got {}", shape_string(theta_1.sizes().vec()));
  if (!(options.tau_min > 0)) fail("sea: tau_min must be positive, got {}", options.tau_min);
  const auto dtype = visual_ND.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  const int64_t n = visual_ND.size(0);
  const auto theta = theta_1.reshape({}).to(dtype);
  const auto tau = theta.clamp_min(std::log(options.tau_min)).exp();
  SeaTerms terms;
  terms.pairs = n;
  terms.tau = tau.detach();
  if (n <= 1) {
    // One pair has no negative: both cross-entropies are exactly 0; keep the graph so that every
    // rank back-propagates through the same parameters.
    terms.loss = (visual_ND.to(dtype).sum() + theta) * 0;
    return terms;
  }
  // F.normalize's guard: a zero vector stays zero instead of becoming NaN.
  const auto x = visual_ND.to(dtype), t = label_ND.to(dtype);
  const auto x_hat = x / x.norm(2, -1, true).clamp_min(1e-12);
  const auto t_hat = t / t.norm(2, -1, true).clamp_min(1e-12);
  const auto logits_NN = torch::matmul(x_hat, t_hat.t()) / tau;
  const auto diagonal_N = logits_NN.diagonal();
  const auto rows = (torch::logsumexp(logits_NN, 1) - diagonal_N).mean();
  const auto columns = (torch::logsumexp(logits_NN, 0) - diagonal_N).mean();
  terms.loss = (rows + columns) * 0.5;
  return terms;
}

}  // namespace vista::losses
