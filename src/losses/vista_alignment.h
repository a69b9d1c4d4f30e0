#pragma once
// The VISTA alignment term (docs/method.md §3.2): pulls every text-token input embedding x_t of
// a sample toward s, the final-norm hidden state at the sample's last image token, weighted by
// position. Pure function of tensors; computed in float32 (float64 if given float64) whatever
// the model dtype; one
// vectorised pass over the packed text tokens.
#include <torch/torch.h>

#include <string>

namespace vista::losses {

enum class VistaMethod { kL2, kCosine };
enum class VistaReduce { kMean, kSum };              // over the hidden dim, l2 only
enum class VistaWeight { kTOverM, kT, kUniform };    // w_t

struct VistaOptions {
  VistaMethod method = VistaMethod::kL2;
  VistaReduce reduce = VistaReduce::kMean;
  VistaWeight weight = VistaWeight::kTOverM;
  double lambda = 1.0;
  bool detach_text = false;
};

VistaMethod parse_vista_method(const std::string& name);
VistaReduce parse_vista_reduce(const std::string& name);
VistaWeight parse_vista_weight(const std::string& name);

struct VistaTerms {
  torch::Tensor term;                // L_VISTA: mean over valid samples of L_b (scalar, >= float32)
  torch::Tensor per_sample_B;        // L_b, 0 where the sample has no image or no text
  torch::Tensor similarity;          // logged: mean_b mean_t e_t (l2) or cos (cosine), unweighted
  torch::Tensor valid_B;             // bool: sample counted (has an image and >= 1 text token)
};

// hidden_BTD: final-norm hidden states (any float dtype).
// last_image_pos_B: int64, -1 for samples without an image.
// text_embeds_PD / text_offsets_B1: packed text-token input embeddings, sample b owns rows
// [off[b], off[b+1]).
VistaTerms vista_alignment(const torch::Tensor& hidden_BTD, const torch::Tensor& last_image_pos_B,
                           const torch::Tensor& text_embeds_PD, const torch::Tensor& text_offsets_B1,
                           const VistaOptions& options);

// CE + lambda*L (l2) or CE - lambda*L (cosine).
torch::Tensor combine_with_ce(const torch::Tensor& ce, const VistaTerms& vista, const VistaOptions& options);

}  // namespace vista::losses
