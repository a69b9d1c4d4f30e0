#pragma once
// Phi (phi-1/1.5/2, HF-native format): a parallel block (attention and MLP read the same
// LayerNorm output), partial rotary embedding, gelu_new MLP, biases everywhere, final LayerNorm
// and an lm_head with bias.
#include <torch/torch.h>

#include "models/adapted_linear.h"
#include "models/causal_lm.h"

namespace vista::models {

class PhiAttentionImpl : public torch::nn::Module {
 public:
  explicit PhiAttentionImpl(const io::DecoderConfig& config);
  // queries_BN as in LlamaAttentionImpl::forward.
  torch::Tensor forward(const torch::Tensor& x_BTD, const RotaryTables& rope, const torch::Tensor& mask_B1TT,
                        LayerCache* cache = nullptr, const torch::Tensor& queries_BN = {});
  AdaptedLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, dense{nullptr};

 private:
  int64_t num_heads_, num_kv_heads_, head_dim_;
};
TORCH_MODULE(PhiAttention);

class PhiMLPImpl : public torch::nn::Module {
 public:
  explicit PhiMLPImpl(const io::DecoderConfig& config);
  torch::Tensor forward(const torch::Tensor& x_BTD);
  AdaptedLinear fc1{nullptr}, fc2{nullptr};

 private:
  std::string act_;
};
TORCH_MODULE(PhiMLP);

class PhiDecoderLayerImpl : public torch::nn::Module {
 public:
  explicit PhiDecoderLayerImpl(const io::DecoderConfig& config);
  torch::Tensor forward(const torch::Tensor& x_BTD, const RotaryTables& rope, const torch::Tensor& mask_B1TT,
                        LayerCache* cache = nullptr, const torch::Tensor& queries_BN = {});
  PhiAttention self_attn{nullptr};
  PhiMLP mlp{nullptr};
  torch::nn::LayerNorm input_layernorm{nullptr};
};
TORCH_MODULE(PhiDecoderLayer);

class PhiModelImpl : public torch::nn::Module {
 public:
  explicit PhiModelImpl(const io::DecoderConfig& config);
  // attention_mask_BT covers the cached positions too (B x (past + T)); output_positions_BN as
  // in LlamaModelImpl::forward.
  torch::Tensor forward(const torch::Tensor& inputs_embeds_BTD, const torch::Tensor& attention_mask_BT,
                        const torch::Tensor& position_ids_BT, const HiddenStateObserver& observer = nullptr,
                        KVCache* cache = nullptr, const torch::Tensor& output_positions_BN = {});
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm final_layernorm{nullptr};
  bool gradient_checkpointing = false;

 private:
  io::DecoderConfig config_;
};
TORCH_MODULE(PhiModel);

// lm_head when tie_word_embeddings: the weight is embed_tokens', only the bias is its own.
class BiasOnlyImpl : public torch::nn::Module {
 public:
  explicit BiasOnlyImpl(int64_t size) { bias = register_parameter("bias", torch::zeros({size})); }
  torch::Tensor bias;
};
TORCH_MODULE(BiasOnly);

class PhiForCausalLMImpl : public CausalLM {
 public:
  explicit PhiForCausalLMImpl(const io::DecoderConfig& config);
  torch::Tensor embed(const torch::Tensor& input_ids_BT) override { return model->embed_tokens->forward(input_ids_BT); }
  torch::Tensor hidden(const torch::Tensor& inputs_embeds_BTD, const torch::Tensor& attention_mask_BT,
                       const torch::Tensor& position_ids_BT, const HiddenStateObserver& observer = nullptr,
                       KVCache* cache = nullptr) override {
    return model->forward(inputs_embeds_BTD, attention_mask_BT, position_ids_BT, observer, cache);
  }
  torch::Tensor hidden_at(const torch::Tensor& inputs_embeds_BTD, const torch::Tensor& attention_mask_BT,
                          const torch::Tensor& position_ids_BT, const torch::Tensor& output_positions_BN) override {
    return model->forward(inputs_embeds_BTD, attention_mask_BT, position_ids_BT, nullptr, nullptr, output_positions_BN);
  }
  torch::Tensor logits(const torch::Tensor& hidden_BTD) override;
  const io::DecoderConfig& config() const override { return config_; }
  torch::Tensor embedding_weight() override { return model->embed_tokens->weight; }
  void set_gradient_checkpointing(bool on) override { model->gradient_checkpointing = on; }

  PhiModel model{nullptr};
  torch::nn::Linear lm_head{nullptr};   // untied
  BiasOnly tied_lm_head{nullptr};       // tied: registered as "lm_head" too

 private:
  io::DecoderConfig config_;
};
TORCH_MODULE(PhiForCausalLM);

}  // namespace vista::models
