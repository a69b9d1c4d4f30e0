#pragma once
// How close an image's tokens sit to a text's tokens in the LLM's input space: the quantity the
// VISTA paper draws in its Figures 2 and 3. Pure functions of tensors.
#include <torch/torch.h>

namespace vista::analysis {

// [N] float64: for each image token (as the projector outputs it), the mean over the T text-token
// input embeddings of cos(image token, text token).
torch::Tensor image_text_similarity(const torch::Tensor& image_tokens_ND, const torch::Tensor& text_TD);

}  // namespace vista::analysis
