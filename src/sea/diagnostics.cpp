#include "sea/diagnostics.h"

#include <algorithm>

#include "util/error.h"

namespace vista::sea {

namespace {
torch::Tensor unit_rows(const torch::Tensor& x) {
  const auto x64 = x.to(torch::kDouble);
  return x64 / x64.norm(2, -1, true).clamp_min(1e-12);
}
void check(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(1) || b.size(0) == 0)
    fail("sea {}: {} and {} must be [N,D] and [M,D] with M > 0", what, shape_string(a.sizes().vec()),
         shape_string(b.sizes().vec()));
}
}  // namespace

NearestWords nearest_words(const torch::Tensor& visual_ND, const torch::Tensor& words_QD) {
  check(visual_ND, words_QD, "nearest words");
  const auto cos = torch::matmul(unit_rows(visual_ND), unit_rows(words_QD).t());
  const auto best = cos.max(1);
  return {std::get<1>(best), std::get<0>(best)};
}

double modality_gap(const torch::Tensor& visual_ND, const torch::Tensor& words_QD) {
  check(visual_ND, words_QD, "modality gap");
  const auto distances = torch::cdist(visual_ND.to(torch::kDouble), words_QD.to(torch::kDouble));
  return std::get<0>(distances.min(1)).mean().item<double>();
}

double tacs(const torch::Tensor& visual_ND, const torch::Tensor& text_TD, int64_t k) {
  check(visual_ND, text_TD, "TACS");
  if (k <= 0) fail("sea TACS: K must be positive, got {}", k);
  const auto best_N = std::get<0>(torch::matmul(unit_rows(visual_ND), unit_rows(text_TD).t()).max(1));
  return std::get<0>(best_N.topk(std::min<int64_t>(k, best_N.size(0)))).mean().item<double>();
}

}  // namespace vista::sea
