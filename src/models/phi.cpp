#include "models/phi.h"

#include <cmath>

#include "models/decoder_stack.h"
#include "models/llama.h"
#include "models/query_positions.h"

namespace vista::models {

PhiAttentionImpl::PhiAttentionImpl(const io::DecoderConfig& c)
    : num_heads_(c.num_attention_heads), num_kv_heads_(c.num_key_value_heads), head_dim_(c.head_dim) {
  q_proj = register_module("q_proj", AdaptedLinear(c.hidden_size, num_heads_ * head_dim_, true));
  k_proj = register_module("k_proj", AdaptedLinear(c.hidden_size, num_kv_heads_ * head_dim_, true));
  v_proj = register_module("v_proj", AdaptedLinear(c.hidden_size, num_kv_heads_ * head_dim_, true));
  dense = register_module("dense", AdaptedLinear(num_heads_ * head_dim_, c.hidden_size, true));
}

torch::Tensor PhiAttentionImpl::forward(const torch::Tensor& x_BTD, const RotaryTables& rope,
                                        const torch::Tensor& mask_B1TT, LayerCache* cache,
                                        const torch::Tensor& queries_BN) {
  const auto xq_BND = rows_at(x_BTD, queries_BN);
  const auto b = x_BTD.size(0), t = x_BTD.size(1), n = xq_BND.size(1);
  auto q = apply_rotary(q_proj->forward(xq_BND).view({b, n, num_heads_, head_dim_}).transpose(1, 2),
                        rotary_at(rope, queries_BN));
  auto k = apply_rotary(k_proj->forward(x_BTD).view({b, t, num_kv_heads_, head_dim_}).transpose(1, 2), rope);
  auto v = v_proj->forward(x_BTD).view({b, t, num_kv_heads_, head_dim_}).transpose(1, 2);
  if (cache) std::tie(k, v) = cache->append(k, v);
  const int64_t n_rep = num_heads_ / num_kv_heads_;
  k = repeat_kv(k, n_rep);
  v = repeat_kv(v, n_rep);
  // Kept until backward recomputes it: the mask by value.
  const auto mask_B1NT = mask_rows_at(mask_B1TT, queries_BN);
  const double scale = std::sqrt(static_cast<double>(head_dim_));
  auto scores_of = [mask_B1NT, scale](const torch::Tensor& q, const torch::Tensor& k) {
    // Phi upcasts q and k to float32 for the scores (a no-op in float32, essential in half precision).
    auto scores = torch::matmul(q.to(torch::kFloat32), k.to(torch::kFloat32).transpose(2, 3)) / scale;
    if (mask_B1NT.defined()) scores = scores + mask_B1NT.to(torch::kFloat32);
    return scores;
  };
  const auto out_BHTD = attention_recomputed_in_backward(scores_of, q, k, v, v.scalar_type(), {mask_B1NT, scale});
  return dense->forward(out_BHTD.transpose(1, 2).contiguous().view({b, n, num_heads_ * head_dim_}));
}

PhiMLPImpl::PhiMLPImpl(const io::DecoderConfig& c) : act_(c.hidden_act) {
  fc1 = register_module("fc1", AdaptedLinear(c.hidden_size, c.intermediate_size, true));
  fc2 = register_module("fc2", AdaptedLinear(c.intermediate_size, c.hidden_size, true));
}

torch::Tensor PhiMLPImpl::forward(const torch::Tensor& x_BTD) { return fc2->forward(activation(act_, fc1->forward(x_BTD))); }

PhiDecoderLayerImpl::PhiDecoderLayerImpl(const io::DecoderConfig& c) {
  self_attn = register_module("self_attn", PhiAttention(c));
  mlp = register_module("mlp", PhiMLP(c));
  input_layernorm = register_module("input_layernorm", layer_norm(c.hidden_size, c.layer_norm_eps));
}

torch::Tensor PhiDecoderLayerImpl::forward(const torch::Tensor& x_BTD, const RotaryTables& rope,
                                           const torch::Tensor& mask_B1TT, LayerCache* cache,
                                           const torch::Tensor& queries_BN) {
  const auto h = input_layernorm->forward(x_BTD);
  // One statement each: the order of the ops is the order of backward's float sums into x.
  const auto attn_BND = self_attn->forward(h, rope, mask_B1TT, cache, queries_BN);
  const auto mlp_BND = mlp->forward(rows_at(h, queries_BN));
  const auto residual_BND = rows_at(x_BTD, queries_BN);
  // HF order of the sum: attn + mlp + residual.
  return attn_BND + mlp_BND + residual_BND;
}

PhiModelImpl::PhiModelImpl(const io::DecoderConfig& c) : config_(c) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(PhiDecoderLayer(c));
  final_layernorm = register_module("final_layernorm", layer_norm(c.hidden_size, c.layer_norm_eps));
}

torch::Tensor PhiModelImpl::forward(const torch::Tensor& inputs_embeds_BTD, const torch::Tensor& attention_mask_BT,
                                    const torch::Tensor& position_ids_BT, const HiddenStateObserver& observer,
                                    KVCache* cache, const torch::Tensor& output_positions_BN) {
  const auto dtype = inputs_embeds_BTD.scalar_type();
  const auto rope = rotary_tables(position_ids_BT, config_.rotary_dim(), config_.rope_theta, dtype);
  const auto mask = causal_padding_mask(attention_mask_BT, inputs_embeds_BTD.size(1), cache ? cache->length() : 0, dtype);
  auto h = run_decoder_layers<PhiDecoderLayerImpl>(layers, inputs_embeds_BTD, rope, mask, observer, cache,
                                                   gradient_checkpointing, output_positions_BN);
  h = final_layernorm->forward(h);
  if (observer) observer(static_cast<int64_t>(layers->size()), h);
  return h;
}

PhiForCausalLMImpl::PhiForCausalLMImpl(const io::DecoderConfig& c) : config_(c) {
  model = register_module("model", PhiModel(c));
  if (c.tie_word_embeddings)
    tied_lm_head = register_module("lm_head", BiasOnly(c.vocab_size));
  else
    lm_head = register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(c.hidden_size, c.vocab_size).bias(c.lm_head_bias)));
}

torch::Tensor PhiForCausalLMImpl::logits(const torch::Tensor& hidden_BTD) {
  if (tied_lm_head)
    return vocabulary_logits(hidden_BTD, model->embed_tokens->weight, tied_lm_head->bias).to(torch::kFloat32);
  return vocabulary_logits(hidden_BTD, lm_head->weight, lm_head->bias).to(torch::kFloat32);
}

}  // namespace vista::models
