#include "analysis/token_similarity.h"

#include "util/error.h"

namespace vista::analysis {

torch::Tensor image_text_similarity(const torch::Tensor& image_tokens_ND, const torch::Tensor& text_TD) {
  if (image_tokens_ND.dim() != 2 || text_TD.dim() != 2 || image_tokens_ND.size(1) != text_TD.size(1) ||
      text_TD.size(0) == 0)
    fail("image-text similarity: image tokens {} and text tokens {} must be [N,D] and [T,D] with T > 0",
         shape_string(image_tokens_ND.sizes().vec()), shape_string(text_TD.sizes().vec()));
  auto unit = [](const torch::Tensor& x) {
    const auto x64 = x.to(torch::kDouble);
    return x64 / x64.norm(2, -1, true).clamp_min(1e-12);
  };
  return torch::matmul(unit(image_tokens_ND), unit(text_TD).t()).mean(1);
}

}  // namespace vista::analysis
