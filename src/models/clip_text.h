#pragma once
// CLIP text transformer (HF CLIPTextModel): token + absolute position embeddings, the shared
// pre-LN blocks under a causal + padding mask, final_layer_norm, and pooling at the end-of-text
// token.
#include <torch/torch.h>

#include "io/clip_config.h"
#include "models/clip_vision.h"
#include "models/layers.h"

namespace vista::models {

class ClipTextEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit ClipTextEmbeddingsImpl(const io::ClipTextConfig& config);
  torch::Tensor forward(const torch::Tensor& input_ids_QS);
  torch::nn::Embedding token_embedding{nullptr}, position_embedding{nullptr};
};
TORCH_MODULE(ClipTextEmbeddings);

struct ClipTextOutput {
  torch::Tensor last_hidden_state_QSD;  // after final_layer_norm
  torch::Tensor pooled_QD;              // last_hidden_state at each row's end-of-text position
};

// Module tree = HF's text_model.*: embeddings, encoder.layers, final_layer_norm.
class ClipTextTransformerImpl : public torch::nn::Module {
 public:
  explicit ClipTextTransformerImpl(const io::ClipTextConfig& config);
  // input_ids_QS: int64 token ids; attention_mask_QS: 1 = real token (undefined = all real).
  ClipTextOutput forward(const torch::Tensor& input_ids_QS, const torch::Tensor& attention_mask_QS = {},
                         const HiddenStateObserver& observer = nullptr);
  const io::ClipTextConfig& config() const { return config_; }

  ClipTextEmbeddings embeddings{nullptr};
  ClipEncoder encoder{nullptr};  // the vision tower's encoder type: the blocks are the same
  torch::nn::LayerNorm final_layer_norm{nullptr};

 private:
  io::ClipTextConfig config_;
};
TORCH_MODULE(ClipTextTransformer);

// The pooled position of each row, as transformers 4.40 picks it: argmax(input_ids) when
// eos_token_id == 2 (configs written before the eos field was honoured), else the first position
// holding eos_token_id. A row without that token is an error naming the row.
torch::Tensor end_of_text_positions(const torch::Tensor& input_ids_QS, int64_t eos_token_id);

}  // namespace vista::models
