#pragma once
// SEA's diagnostics of how close visual tokens sit to words in the LLM's input space
// (docs/method.md, SEA): nearest-word retrieval, the modality gap and TACS. Pure functions.
#include <torch/torch.h>

namespace vista::sea {

struct NearestWords {
  torch::Tensor word_N;    // int64 argmax_w cos(x_i, Psi(w))
  torch::Tensor cosine_N;  // that cosine
};

// visual_ND: visual tokens (adapter outputs); words_QD: the words' label embeddings Psi(w).
NearestWords nearest_words(const torch::Tensor& visual_ND, const torch::Tensor& words_QD);

// D = mean_i min_w ||x_i - Psi(w)||_2 (float64).
double modality_gap(const torch::Tensor& visual_ND, const torch::Tensor& words_QD);

// TACS of one sample: the mean of the top-K values over visual tokens i of max_j cos(x_i, t_j),
// t_j the input embeddings of the sample's caption tokens (K is capped at N).
double tacs(const torch::Tensor& visual_ND, const torch::Tensor& text_TD, int64_t k = 10);

}  // namespace vista::sea
