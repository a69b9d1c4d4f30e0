#pragma once
// Greedy decoding with a KV cache, batched with left padding, as transformers 4.40's
// GenerationMixin does it (do_sample=False, num_beams=1): prefill the prompt, then feed one
// token per step at position (real tokens so far) - 1.
#include <torch/torch.h>

#include "models/causal_lm.h"
#include "models/multimodal_lm.h"

namespace vista::models {

struct GenerationOptions {
  int64_t max_new_tokens = 64;
  int64_t eos_token_id = -1;   // < 0: never stop early
  int64_t pad_token_id = 0;    // written after a row has finished
  int64_t record_logit_steps = 0;  // keep the raw logits of the first K steps
};

struct GenerationResult {
  torch::Tensor ids_BN;         // new tokens only; pad_token_id after a row's EOS
  torch::Tensor step_logits_KBV;  // float32, K = min(record_logit_steps, steps run)
  torch::Tensor lengths_B;      // new tokens per row up to and including its EOS
};

// The vocabulary projection of each row's last position only, [B, V] float32: nothing reads a
// prompt's other positions, and projecting all of them onto a 32k vocabulary was most of a
// prefill's work.
torch::Tensor last_position_logits(CausalLM& lm, const torch::Tensor& hidden_BTD);

// inputs_embeds_BTD must be LEFT padded (attention_mask_BT 0 on the left).
GenerationResult greedy_generate(CausalLM& lm, const torch::Tensor& inputs_embeds_BTD,
                                 const torch::Tensor& attention_mask_BT, const GenerationOptions& options);

// Moves each right-padded row's content to the right end (left padding), as generation needs.
torch::Tensor right_to_left_padding(const torch::Tensor& x_BT_or_BTD, const torch::Tensor& attention_mask_BT);

// Splices prompts (-200 / image_token_index placeholders, RIGHT padded like training batches)
// with their images, converts to left padding and decodes.
GenerationResult generate_multimodal(MultimodalLMImpl& model, const torch::Tensor& input_ids_BL,
                                     const torch::Tensor& attention_mask_BL, const torch::Tensor& pixel_values_BCHW,
                                     const GenerationOptions& options);

}  // namespace vista::models
