#pragma once
// Where a LLaVA objective reads the LLM's final hidden states: positions whose next token is
// supervised (CE) and each sample's last image token (VISTA's s). The model computes its last
// layer only there (models::CausalLM::hidden_at): with short answers after long prompts and 576
// image tokens, most of that layer's rows are never read.
#include <torch/torch.h>

namespace vista::objectives {

struct ReadPositions {
  torch::Tensor positions_BN;    // int64 [B, N], N >= 1: a sample's positions ascending, then its first one repeated
  torch::Tensor ce_rows_R;       // rows of the flattened [B * N] states that predict targets_R, in (b, t) order
  torch::Tensor targets_R;       // labels_BT[b, t + 1] of those rows
  torch::Tensor last_image_n_B;  // n of sample b's last image token in positions_BN; -1 without an image
};

// labels_BT: spliced labels (ignore_index where nothing is supervised); last_image_pos_B: -1 for a
// sample without an image. The results live on labels_BT's device.
ReadPositions read_positions(const torch::Tensor& labels_BT, const torch::Tensor& last_image_pos_B,
                             int64_t ignore_index = -100);

}  // namespace vista::objectives
