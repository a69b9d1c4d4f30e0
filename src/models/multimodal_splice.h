#pragma once
// LLaVA's multimodal splicing (prepare_inputs_labels_for_multimodal), vectorised: one gather over a
// table of [text embeddings; image features; a zero row] instead of a Python loop over samples.
#include <torch/torch.h>

namespace vista::models {

constexpr int64_t kImageTokenIndex = -200;  // placeholder id in input_ids, one per image
constexpr int64_t kIgnoreIndex = -100;

struct SpliceInputs {
  torch::Tensor input_ids_BL;        // int64, right padded, kImageTokenIndex marks an image
  torch::Tensor attention_mask_BL;   // 1 = real token
  torch::Tensor labels_BL;           // optional; undefined -> labels of the output are all ignored
  torch::Tensor token_embeds_BLD;    // embed_tokens(input_ids with placeholders clamped to 0)
  torch::Tensor image_features_KND;  // projected features, consumed in batch order
  int64_t max_length = 0;            // truncate spliced rows to this many positions; 0 = never
  // LLaVA collates one (possibly dummy) image per sample, so a text-only sample consumes and
  // discards one feature row. Set false when image_features holds real images only.
  bool text_only_sample_consumes_image = true;
};

struct SplicedBatch {
  torch::Tensor inputs_embeds_BTD;   // right padded with zero vectors
  torch::Tensor attention_mask_BT;   // int64, 1 on [0, len_b)
  torch::Tensor labels_BT;           // kIgnoreIndex on image positions and padding
  torch::Tensor position_ids_BT;     // arange(T) per row (right padding)
  torch::Tensor image_mask_BT;       // bool, true on spliced image positions
  torch::Tensor last_image_pos_B;    // int64, position of the sample's last image token, -1 if none
  // VISTA side outputs: every non-image, non-pad token's input embedding, packed in order
  // (BOS, prompt, answer, EOS), not truncated by max_length, as the official code keeps them.
  torch::Tensor text_embeds_PD;
  torch::Tensor text_offsets_B1;     // int64 [B+1]: sample b owns rows [off[b], off[b+1])
  torch::Tensor text_positions_P;    // int64, position in T of each packed text token, -1 if truncated
};

SplicedBatch splice_multimodal(const SpliceInputs& in);

}  // namespace vista::models
