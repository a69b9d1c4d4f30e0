#pragma once
// Building blocks shared by the decoders and vision towers. Each mirrors the Hugging Face
// transformers 4.40 computation order, because float32 parity with the reference fixtures
// depends on doing the same operations in the same order.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <utility>

#include "models/lean_elementwise.h"

namespace vista::models {

// Observes internals without editing forward code: index 0 = embeddings (after any pre-norm),
// index i = output of block i, and for decoders index L = the final-norm output (HF semantics).
using HiddenStateObserver = std::function<void(int64_t index, const torch::Tensor& hidden_BTD)>;

// Keys and values of every position seen so far, per decoder layer (before GQA repetition).
struct LayerCache {
  torch::Tensor key_BHSD, value_BHSD;
  // Appends this step's keys/values and returns the full ones.
  std::pair<torch::Tensor, torch::Tensor> append(const torch::Tensor& key_BHTD, const torch::Tensor& value_BHTD);
};

struct KVCache {
  std::vector<LayerCache> layers;
  int64_t length() const { return layers.empty() || !layers[0].key_BHSD.defined() ? 0 : layers[0].key_BHSD.size(2); }
  LayerCache* layer(size_t i) {
    if (layers.size() <= i) layers.resize(i + 1);
    return &layers[i];
  }
};

class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x_BTD);
  // forward() and, for float32 in training, what lets its consumers recompute the output
  // (lean_elementwise.h); null otherwise.
  std::pair<torch::Tensor, std::shared_ptr<RecomputableNorm>> forward_recomputable(const torch::Tensor& x_BTD);
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

// Rotary position embedding, HF "rotate_half" layout (halves, not interleaved pairs).
struct RotaryTables {
  torch::Tensor cos_B1TH;  // [B, 1, T, head_dim], float32 then cast to the activation dtype
  torch::Tensor sin_B1TH;
};
RotaryTables rotary_tables(const torch::Tensor& position_ids_BT, int64_t rotary_dim, double theta,
                           torch::ScalarType dtype);
// [B, H, X, Y] as the [B*H, X, Y] matrices bmm multiplies: what at::matmul does with its
// operands (a view, or a contiguous copy where the heads interleave).
torch::Tensor as_batched_matrices(const torch::Tensor& t_BHXY);

// hidden weight^T + bias onto the vocabulary, torch::nn::functional::linear's expression. A single
// row without a graph on the CPU (a decoding step) is a matrix-vector product: linear runs it as a
// GEMM, which packs the whole [V, D] matrix on every call (0.50 against 0.13 ms for 32k x 64 on 2
// cores). In float32 it is vista's own (row_dots.h, both threads); other dtypes take torch::mv. The
// sums run in another order, so such logits may differ from linear's in the last bits.
torch::Tensor vocabulary_logits(const torch::Tensor& hidden_BTD, const torch::Tensor& weight_VD,
                                const torch::Tensor& bias_V = {});

// Applies RoPE to the first rotary_dim features of each head (all of them for LLaMA).
torch::Tensor apply_rotary(const torch::Tensor& x_BHTD, const RotaryTables& rope);

// Additive mask [B, 1, Tq, Tk]: 0 where a query may attend, the dtype's lowest value elsewhere
// (HF's eager-attention convention, so fully masked rows behave exactly as there).
// key_valid_BT: 1 for real tokens. query_offset: absolute position of the first query (KV cache).
// sliding_window > 0 also masks keys before query - sliding_window: query i sees keys
// i-sliding_window..i (transformers 4.40 eager Qwen2 semantics).
torch::Tensor causal_padding_mask(const torch::Tensor& key_valid_BT, int64_t num_queries,
                                  int64_t query_offset, torch::ScalarType dtype, int64_t sliding_window = 0);

// kv heads -> query heads (kv head j serves query heads j*n_rep .. j*n_rep+n_rep-1).
torch::Tensor repeat_kv(const torch::Tensor& x_BHTD, int64_t n_rep);

// While one is alive on this thread, every decoder attention runs the eager path and hands its
// probabilities [B,H,T,S] to `record`, layer after layer (analysis: where the answer looks).
class AttentionRecording {
 public:
  explicit AttentionRecording(std::function<void(const torch::Tensor& probs_BHTS)> record);
  ~AttentionRecording();
  AttentionRecording(const AttentionRecording&) = delete;
  AttentionRecording& operator=(const AttentionRecording&) = delete;
  // The active recorder of this thread, or null.
  static const std::function<void(const torch::Tensor&)>* active();

 private:
  std::function<void(const torch::Tensor&)> record_;
  const std::function<void(const torch::Tensor&)>* previous_;
};

// softmax(q k^T / sqrt(d) + mask) v with the softmax in float32, as HF eager attention.
torch::Tensor attention_scores_after_matmul(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD,
                                            const torch::Tensor& v_BHSD, const torch::Tensor& mask_B1TS);

// nn.LayerNorm(dim, eps) with weight and bias, as every HF LayerNorm here is.
torch::nn::LayerNorm layer_norm(int64_t dim, double eps);

torch::Tensor quick_gelu(const torch::Tensor& x);
// Activation by HF name: quick_gelu, gelu (erf), gelu_new / gelu_pytorch_tanh (tanh), silu.
torch::Tensor activation(const std::string& name, const torch::Tensor& x);

}  // namespace vista::models
