#pragma once
// The loop every decoder LLM (LLaMA / Qwen2, Phi) runs over its layers: the observer after each
// layer in HF hidden_states indexing (0 = the embeddings; the caller reports the last entry, after
// its final norm), recomputation of each layer in backward when training with checkpointing, and
// the KV cache of each layer in generation. With last_layer_queries_BN the last layer runs its
// queries at those positions only and the result is [B, N, D] (models/query_positions.h).
#include <torch/torch.h>

#include "models/checkpointing.h"
#include "models/layers.h"

namespace vista::models {

template <typename LayerImpl>
torch::Tensor run_decoder_layers(torch::nn::ModuleList& layers, torch::Tensor h, const RotaryTables& rope,
                                 const torch::Tensor& mask_B1TT, const HiddenStateObserver& observer, KVCache* cache,
                                 bool gradient_checkpointing, const torch::Tensor& last_layer_queries_BN = {}) {
  if (observer) observer(0, h);
  for (size_t i = 0; i < layers->size(); ++i) {
    auto* layer = layers->ptr(i)->as<LayerImpl>();
    const auto queries_BN = i + 1 == layers->size() ? last_layer_queries_BN : torch::Tensor();
    if (gradient_checkpointing && !cache)
      h = checkpointed([layer, rope, mask_B1TT, queries_BN](
                           const torch::Tensor& x) { return layer->forward(x, rope, mask_B1TT, nullptr, queries_BN); },
                       h);
    else h = layer->forward(h, rope, mask_B1TT, cache ? cache->layer(i) : nullptr, queries_BN);
    if (observer && i + 1 < layers->size()) observer(static_cast<int64_t>(i) + 1, h);
  }
  return h;
}

}  // namespace vista::models
