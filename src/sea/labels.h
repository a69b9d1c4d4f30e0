#pragma once
// SEA's labels (docs/method.md, SEA): how CLIP's patch and word embeddings become, per patch, a
// short list of weighted label words, the windows patches are drawn from, and a word's embedding
// in the LLM's input space. Pure functions of tensors.
#include <torch/torch.h>

#include <cstdint>

namespace vista::sea {

// [B,N,Q] sign * cos(patch_i, word_j). The paper negates the cosine (sign = -1): raw CLIP
// patch-to-text similarity is inverted (the CLIP-Surgery observation).
torch::Tensor patch_word_scores(const torch::Tensor& patch_BNP, const torch::Tensor& words_QP, double sign = -1.0);

struct TopLabels {
  torch::Tensor ids_BNn;     // int64 word indices, descending score; n = min(top_n, Q)
  torch::Tensor scores_BNn;  // their scores
  torch::Tensor keep_BNn;    // bool: score >= 0 (a kept label)
};

TopLabels top_labels(const torch::Tensor& scores_BNQ, int64_t top_n);

// [.., n] probability of drawing each label: score / sum of the kept scores, 0 for dropped ones;
// an all-zero row when nothing is kept (that patch is never drawn).
torch::Tensor sample_probabilities(const torch::Tensor& scores_Xn, const torch::Tensor& keep_Xn);

// [W, k*k] row-major patch ids of each k x k window tiling a rows x cols grid, windows in
// row-major order; partial windows at the bottom and right edges are padded with -1.
torch::Tensor window_patch_ids(int64_t rows, int64_t cols, int64_t k);

// [Q,D] label embeddings: word w's is the mean of embedding_VD's rows token_ids[offsets[w] ..
// offsets[w+1]) (its LLM tokens). A word without tokens or an id outside the table is an error.
torch::Tensor label_embeddings(const torch::Tensor& embedding_VD, const torch::Tensor& token_ids_M,
                               const torch::Tensor& offsets_Q1);

}  // namespace vista::sea
