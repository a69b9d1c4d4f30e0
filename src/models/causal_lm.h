#pragma once
// What the multimodal assembly, objectives and generation need from any decoder LLM.
#include <torch/torch.h>

#include "io/hf_config.h"
#include "models/layers.h"

namespace vista::models {

class CausalLM : public torch::nn::Module {
 public:
  virtual torch::Tensor embed(const torch::Tensor& input_ids_BT) = 0;
  // Final-norm hidden states (the tensor lm_head reads). attention_mask_BT: 1 = real token. With a
  // cache, inputs are only the new positions, attention_mask_BT covers past + new keys, and the
  // new keys/values are appended to the cache.
  virtual torch::Tensor hidden(const torch::Tensor& inputs_embeds_BTD, const torch::Tensor& attention_mask_BT,
                               const torch::Tensor& position_ids_BT, const HiddenStateObserver& observer = nullptr,
                               KVCache* cache = nullptr) = 0;
  // The same final-norm hidden states at output_positions_BN only (int64 [B, N]), [B, N, D]: the
  // last layer computes its queries, MLP and norm just there (models/query_positions.h). For
  // training losses that read a few positions.
  virtual torch::Tensor hidden_at(const torch::Tensor& inputs_embeds_BTD, const torch::Tensor& attention_mask_BT,
                                  const torch::Tensor& position_ids_BT, const torch::Tensor& output_positions_BN) = 0;
  // Logits in float32, as HF casts them (`logits.float()`).
  virtual torch::Tensor logits(const torch::Tensor& hidden_BTD) = 0;
  virtual const io::DecoderConfig& config() const = 0;
  virtual torch::Tensor embedding_weight() = 0;
  // Recompute each decoder layer's activations in backward instead of keeping them (training
  // memory for compute). Both families (LLaMA/Qwen2, Phi) support it.
  virtual void set_gradient_checkpointing(bool) {}
};

// Builds the decoder for config.family (llama, qwen2, phi).
std::shared_ptr<CausalLM> make_causal_lm(const io::DecoderConfig& config);

// Default position ids for right padding: arange(T) on every row.
torch::Tensor default_position_ids(int64_t batch, int64_t length, torch::Device device);
// HF's rule when positions follow the attention mask: cumsum(mask) - 1, and 1 at padding.
torch::Tensor position_ids_from_mask(const torch::Tensor& attention_mask_BT);

}  // namespace vista::models
