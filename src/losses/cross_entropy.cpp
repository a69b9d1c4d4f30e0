#include "losses/cross_entropy.h"

#include "util/error.h"

namespace vista::losses {

CrossEntropyTerms shifted_cross_entropy(const torch::Tensor& logits_BTV, const torch::Tensor& labels_BT,
                                        int64_t ignore_index) {
  if (logits_BTV.dim() != 3 || labels_BT.dim() != 2 || logits_BTV.size(0) != labels_BT.size(0) ||
      logits_BTV.size(1) != labels_BT.size(1))
    fail("cross-entropy: logits {} and labels {} must be [B,T,V] and [B,T]", shape_string(logits_BTV.sizes().vec()),
         shape_string(labels_BT.sizes().vec()));
  const int64_t T = logits_BTV.size(1), V = logits_BTV.size(2);
  CrossEntropyTerms out;
  if (T < 2) {
    out.loss = out.sum = logits_BTV.sum().to(torch::kFloat32) * 0.0;
    out.num_targets = torch::zeros({}, labels_BT.options().dtype(torch::kInt64));
    return out;
  }
  auto logits = logits_BTV.narrow(1, 0, T - 1).reshape({-1, V}).to(torch::kFloat32);
  auto targets = labels_BT.narrow(1, 1, T - 1).reshape({-1});
  namespace F = torch::nn::functional;
  auto per_token = F::cross_entropy(logits, targets,
                                    F::CrossEntropyFuncOptions().ignore_index(ignore_index).reduction(torch::kNone));
  out.num_targets = (targets != ignore_index).sum();
  out.sum = per_token.sum();
  out.loss = out.sum / out.num_targets.clamp_min(1).to(torch::kFloat32);
  return out;
}

CrossEntropyTerms cross_entropy_rows(const torch::Tensor& logits_NV, const torch::Tensor& targets_N) {
  CrossEntropyTerms out;
  out.num_targets = torch::full({}, targets_N.size(0), targets_N.options().dtype(torch::kInt64));
  if (targets_N.size(0) == 0) {
    out.loss = out.sum = logits_NV.sum().to(torch::kFloat32) * 0.0;
    return out;
  }
  namespace F = torch::nn::functional;
  out.sum = F::cross_entropy(logits_NV.to(torch::kFloat32), targets_N, F::CrossEntropyFuncOptions().reduction(torch::kSum));
  out.loss = out.sum / static_cast<double>(targets_N.size(0));
  return out;
}

torch::Tensor supervised_positions(const torch::Tensor& labels_BT, int64_t ignore_index) {
  const int64_t T = labels_BT.size(1);
  if (T < 2) return torch::zeros({0}, labels_BT.options().dtype(torch::kInt64));
  const auto targets = labels_BT.narrow(1, 1, T - 1);
  return (targets != ignore_index).reshape({-1}).nonzero().squeeze(1);
}

}  // namespace vista::losses
