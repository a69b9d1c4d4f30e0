#include "models/llama.h"

#include "models/decoder_stack.h"
#include "models/lean_elementwise.h"
#include "models/query_positions.h"

namespace vista::models {

namespace {
AdaptedLinear linear(int64_t in, int64_t out, bool bias) { return AdaptedLinear(in, out, bias); }
}  // namespace

LlamaAttentionImpl::LlamaAttentionImpl(const io::DecoderConfig& c)
    : num_heads_(c.num_attention_heads), num_kv_heads_(c.num_key_value_heads), head_dim_(c.head_dim) {
  q_proj = register_module("q_proj", linear(c.hidden_size, num_heads_ * head_dim_, c.qkv_bias));
  k_proj = register_module("k_proj", linear(c.hidden_size, num_kv_heads_ * head_dim_, c.qkv_bias));
  v_proj = register_module("v_proj", linear(c.hidden_size, num_kv_heads_ * head_dim_, c.qkv_bias));
  o_proj = register_module("o_proj", linear(num_heads_ * head_dim_, c.hidden_size, c.output_bias));
}

torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor& x_BTD, const RotaryTables& rope,
                                          const torch::Tensor& mask_B1TT, LayerCache* cache,
                                          const torch::Tensor& queries_BN,
                                          const std::shared_ptr<RecomputableNorm>& norm) {
  const auto xq_BND = rows_at(x_BTD, queries_BN);
  const auto b = x_BTD.size(0), t = x_BTD.size(1), n = xq_BND.size(1);
  const auto q_all = queries_BN.defined() ? q_proj->forward(xq_BND) : q_proj->forward_of_norm(x_BTD, norm);
  auto q_BHND = q_all.view({b, n, num_heads_, head_dim_}).transpose(1, 2);
  auto k_BHTD = k_proj->forward_of_norm(x_BTD, norm).view({b, t, num_kv_heads_, head_dim_}).transpose(1, 2);
  auto v_BHTD = v_proj->forward_of_norm(x_BTD, norm).view({b, t, num_kv_heads_, head_dim_}).transpose(1, 2);
  q_BHND = apply_rotary(q_BHND, rotary_at(rope, queries_BN));
  k_BHTD = apply_rotary(k_BHTD, rope);
  if (cache) std::tie(k_BHTD, v_BHTD) = cache->append(k_BHTD, v_BHTD);
  const int64_t n_rep = num_heads_ / num_kv_heads_;
  auto out_BHND = attention_scores_after_matmul(q_BHND, repeat_kv(k_BHTD, n_rep), repeat_kv(v_BHTD, n_rep),
                                                mask_rows_at(mask_B1TT, queries_BN));
  auto out_BND = out_BHND.transpose(1, 2).contiguous().view({b, n, num_heads_ * head_dim_});
  return o_proj->forward(out_BND);
}

LlamaMLPImpl::LlamaMLPImpl(const io::DecoderConfig& c) {
  gate_proj = register_module("gate_proj", linear(c.hidden_size, c.intermediate_size, false));
  up_proj = register_module("up_proj", linear(c.hidden_size, c.intermediate_size, false));
  down_proj = register_module("down_proj", linear(c.intermediate_size, c.hidden_size, false));
}

torch::Tensor LlamaMLPImpl::forward(const torch::Tensor& x_BTD, const std::shared_ptr<RecomputableNorm>& norm) {
  // up before gate: the order g++ evaluated them in when they were two arguments of one call, which
  // sets the order of backward's float sums into x.
  const auto up_BTI = up_proj->forward_of_norm(x_BTD, norm);
  const auto gate_BTI = gate_proj->forward_of_norm(x_BTD, norm);
  if (down_proj->has_adapter() || down_proj->bias.defined()) return down_proj->forward(swiglu(gate_BTI, up_BTI));
  return swiglu_linear(gate_BTI, up_BTI, down_proj->weight);
}

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const io::DecoderConfig& c) {
  self_attn = register_module("self_attn", LlamaAttention(c));
  mlp = register_module("mlp", LlamaMLP(c));
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

torch::Tensor LlamaDecoderLayerImpl::forward(const torch::Tensor& x_BTD, const RotaryTables& rope,
                                             const torch::Tensor& mask_B1TT, LayerCache* cache,
                                             const torch::Tensor& queries_BN) {
  // One statement each: the order of the ops is the order of backward's float sums into x.
  const auto residual_BND = rows_at(x_BTD, queries_BN);
  const auto [normed_BTD, norm] = input_layernorm->forward_recomputable(x_BTD);
  auto h = residual_BND + self_attn->forward(normed_BTD, rope, mask_B1TT, cache, queries_BN, norm);
  const auto [normed_h, norm_h] = post_attention_layernorm->forward_recomputable(h);
  return h + mlp->forward(normed_h, norm_h);
}

LlamaModelImpl::LlamaModelImpl(const io::DecoderConfig& c) : config_(c) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(LlamaDecoderLayer(c));
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

torch::Tensor LlamaModelImpl::forward(const torch::Tensor& inputs_embeds_BTD, const torch::Tensor& attention_mask_BT,
                                      const torch::Tensor& position_ids_BT, const HiddenStateObserver& observer,
                                      KVCache* cache, const torch::Tensor& output_positions_BN) {
  const auto dtype = inputs_embeds_BTD.scalar_type();
  const auto rope = rotary_tables(position_ids_BT, config_.head_dim, config_.rope_theta, dtype);
  const int64_t past = cache ? cache->length() : 0;
  const auto mask_B1TT =
      causal_padding_mask(attention_mask_BT, inputs_embeds_BTD.size(1), past, dtype, config_.sliding_window);
  auto h = run_decoder_layers<LlamaDecoderLayerImpl>(layers, inputs_embeds_BTD, rope, mask_B1TT, observer, cache,
                                                     gradient_checkpointing, output_positions_BN);
  h = norm->forward(h);
  if (observer) observer(static_cast<int64_t>(layers->size()), h);
  return h;
}

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const io::DecoderConfig& c) : config_(c) {
  model = register_module("model", LlamaModel(c));
  if (!c.tie_word_embeddings)
    lm_head = register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(c.hidden_size, c.vocab_size).bias(false)));
}

torch::Tensor LlamaForCausalLMImpl::logits(const torch::Tensor& hidden_BTD) {
  auto out = vocabulary_logits(hidden_BTD, lm_head ? lm_head->weight : model->embed_tokens->weight);
  return out.to(torch::kFloat32);
}

}  // namespace vista::models
