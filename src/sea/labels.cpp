#include "sea/labels.h"

#include <algorithm>

#include "util/error.h"

namespace vista::sea {

torch::Tensor patch_word_scores(const torch::Tensor& patch_BNP, const torch::Tensor& words_QP, double sign) {
  if (patch_BNP.dim() != 3 || words_QP.dim() != 2 || patch_BNP.size(2) != words_QP.size(1))
    fail("sea labels: patch embeddings {} and word embeddings {} must be [B,N,P] and [Q,P]",
         shape_string(patch_BNP.sizes().vec()), shape_string(words_QP.sizes().vec()));
  const auto p = patch_BNP / patch_BNP.norm(2, -1, true).clamp_min(1e-12);
  const auto w = words_QP.to(p.scalar_type()) / words_QP.norm(2, -1, true).clamp_min(1e-12).to(p.scalar_type());
  return torch::matmul(p, w.t()) * sign;
}

TopLabels top_labels(const torch::Tensor& scores_BNQ, int64_t top_n) {
  if (top_n <= 0) fail("sea labels: top_n must be positive, got {}", top_n);
  const int64_t n = std::min<int64_t>(top_n, scores_BNQ.size(-1));
  // Stable descending order, so that ties keep the word list's order on every platform.
  const auto order = scores_BNQ.sort(/*stable=*/true, -1, /*descending=*/true);
  TopLabels out;
  out.ids_BNn = std::get<1>(order).narrow(-1, 0, n).contiguous();
  out.scores_BNn = std::get<0>(order).narrow(-1, 0, n).contiguous();
  out.keep_BNn = out.scores_BNn >= 0;
  return out;
}

torch::Tensor sample_probabilities(const torch::Tensor& scores_Xn, const torch::Tensor& keep_Xn) {
  const auto kept = torch::where(keep_Xn, scores_Xn, torch::zeros_like(scores_Xn));
  const auto total = kept.sum(-1, true);
  return torch::where(total > 0, kept / total.clamp_min(1e-30), torch::zeros_like(kept));
}

torch::Tensor window_patch_ids(int64_t rows, int64_t cols, int64_t k) {
  if (rows <= 0 || cols <= 0 || k <= 0) fail("sea windows: grid {}x{} and window {} must be positive", rows, cols, k);
  const int64_t wr = (rows + k - 1) / k, wc = (cols + k - 1) / k;
  auto out = torch::full({wr * wc, k * k}, -1, torch::kLong);
  auto a = out.accessor<int64_t, 2>();
  for (int64_t i = 0; i < wr; ++i)
    for (int64_t j = 0; j < wc; ++j)
      for (int64_t di = 0; di < k; ++di)
        for (int64_t dj = 0; dj < k; ++dj) {
          const int64_t r = i * k + di, c = j * k + dj;
          if (r < rows && c < cols) a[i * wc + j][di * k + dj] = r * cols + c;
        }
  return out;
}

torch::Tensor label_embeddings(const torch::Tensor& embedding_VD, const torch::Tensor& token_ids_M,
                               const torch::Tensor& offsets_Q1) {
  if (embedding_VD.dim() != 2)
    fail("sea label embeddings: the table must be [V,D], got {}", shape_string(embedding_VD.sizes().vec()));
  const auto offsets = offsets_Q1.to(torch::kCPU, torch::kLong).contiguous();
  const auto ids = token_ids_M.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t q = offsets.numel() - 1, v = embedding_VD.size(0);
  if (q < 0 || offsets[0].item<int64_t>() != 0 || offsets[q].item<int64_t>() != ids.numel())
    fail("sea label embeddings: offsets must start at 0 and end at the {} token ids", ids.numel());
  const auto* off = offsets.data_ptr<int64_t>();
  for (int64_t w = 0; w < q; ++w)
    if (off[w + 1] <= off[w]) fail("sea label embeddings: word {} has no LLM tokens", w);
  if (ids.numel() > 0 && (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= v))
    fail("sea label embeddings: a token id is outside the embedding table of {} rows", v);
  const auto counts = (offsets.narrow(0, 1, q) - offsets.narrow(0, 0, q));
  const auto owner = torch::repeat_interleave(torch::arange(q, torch::kLong), counts);
  const auto device = embedding_VD.device();
  const auto rows_MD = embedding_VD.index_select(0, ids.to(device));
  auto sums_QD =
      torch::zeros({q, embedding_VD.size(1)}, embedding_VD.options()).index_add(0, owner.to(device), rows_MD);
  return sums_QD / counts.to(device, embedding_VD.scalar_type()).unsqueeze(1);
}

}  // namespace vista::sea
