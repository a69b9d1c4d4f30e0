#pragma once
// Batches examples into right-padded tensors (docs/method.md §2.4).
#include <torch/torch.h>

#include <vector>

#include "data/dataset.h"

namespace vista::data {

struct Batch {
  torch::Tensor input_ids_BL;       // int64, right padded with pad_token_id
  torch::Tensor attention_mask_BL;  // int64, 1 on each sample's own tokens
  torch::Tensor labels_BL;          // int64, -100 on padding and unsupervised tokens
  torch::Tensor pixel_values_BCHW;  // one image per sample; text-only samples get zeros (LLaVA's dummy)
  std::vector<std::string> ids;
  std::vector<size_t> indices;
};

// Truncates to max_length, pads with pad_token_id. The attention mask comes from each sample's
// own length, not from `ids != pad`: that keeps a real EOS attended when pad == eos (TinyLLaVA's
// -300 trick has the same effect) and does not drop a genuine <unk> that equals the pad id
// (LLaVA's side effect, not reproduced).
Batch collate(const std::vector<Example>& examples, int64_t pad_token_id, int64_t max_length,
              int64_t image_channels, int64_t image_height, int64_t image_width);

}  // namespace vista::data
