#pragma once
// LLaMA-family decoder (LLaMA 2 / Vicuna, and Qwen2 = the same blocks with q/k/v biases):
// RMSNorm, rotate-half RoPE, grouped-query attention, SwiGLU MLP. Submodule names equal the
// Hugging Face state-dict keys (model.layers.N.self_attn...).
#include <torch/torch.h>

#include "io/hf_config.h"
#include "models/adapted_linear.h"
#include "models/causal_lm.h"
#include "models/layers.h"

namespace vista::models {

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  explicit LlamaAttentionImpl(const io::DecoderConfig& config);
  // queries_BN: the positions whose outputs are wanted ([B, N], models/query_positions.h); all
  // positions when undefined. Keys and values always cover every position.
  // norm: x_BTD's recipe when x_BTD is an RMSNorm's output (keys and values then keep it instead).
  torch::Tensor forward(const torch::Tensor& x_BTD, const RotaryTables& rope, const torch::Tensor& mask_B1TT,
                        LayerCache* cache = nullptr, const torch::Tensor& queries_BN = {},
                        const std::shared_ptr<RecomputableNorm>& norm = nullptr);

  AdaptedLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  int64_t num_heads_, num_kv_heads_, head_dim_;
};
TORCH_MODULE(LlamaAttention);

class LlamaMLPImpl : public torch::nn::Module {
 public:
  explicit LlamaMLPImpl(const io::DecoderConfig& config);
  torch::Tensor forward(const torch::Tensor& x_BTD, const std::shared_ptr<RecomputableNorm>& norm = nullptr);
  AdaptedLinear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(LlamaMLP);

class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  explicit LlamaDecoderLayerImpl(const io::DecoderConfig& config);
  // Returns [B, N, D] at queries_BN when given, else [B, T, D].
  torch::Tensor forward(const torch::Tensor& x_BTD, const RotaryTables& rope, const torch::Tensor& mask_B1TT,
                        LayerCache* cache = nullptr, const torch::Tensor& queries_BN = {});

  LlamaAttention self_attn{nullptr};
  LlamaMLP mlp{nullptr};
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

class LlamaModelImpl : public torch::nn::Module {
 public:
  explicit LlamaModelImpl(const io::DecoderConfig& config);
  // inputs_embeds_BTD: token (and spliced image) embeddings; attention_mask_BT: 1 = real token;
  // position_ids_BT: absolute positions. Returns the final-norm hidden states.
  // attention_mask_BT covers the cached positions too (B x (past + T)). With output_positions_BN
  // the result is [B, N, D] at those positions, and the last layer queries only there.
  torch::Tensor forward(const torch::Tensor& inputs_embeds_BTD, const torch::Tensor& attention_mask_BT,
                        const torch::Tensor& position_ids_BT, const HiddenStateObserver& observer = nullptr,
                        KVCache* cache = nullptr, const torch::Tensor& output_positions_BN = {});

  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};
  bool gradient_checkpointing = false;  // recompute each layer's activations in backward

 private:
  io::DecoderConfig config_;
};
TORCH_MODULE(LlamaModel);

class LlamaForCausalLMImpl : public CausalLM {
 public:
  explicit LlamaForCausalLMImpl(const io::DecoderConfig& config);

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

  LlamaModel model{nullptr};
  torch::nn::Linear lm_head{nullptr};  // absent when tie_word_embeddings

 private:
  io::DecoderConfig config_;
};
TORCH_MODULE(LlamaForCausalLM);

}  // namespace vista::models
