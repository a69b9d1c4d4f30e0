#pragma once
// A decoder layer run with its queries at chosen positions only. Keys and values still come from
// every position, so the outputs at those positions equal the full layer's there. Training reads
// the last layer only where a loss does (supervised tokens, the last image token): its queries,
// output projection, MLP and norms then run on those rows alone.
#include <torch/torch.h>

#include "models/layers.h"

namespace vista::models {

// Each takes undefined positions_BN as every position and returns its input.

// x_BTD [B, T, D] at per-sample positions_BN (int64 [B, N]) -> [B, N, D].
torch::Tensor rows_at(const torch::Tensor& x_BTD, const torch::Tensor& positions_BN);

// The rotary tables of those positions' queries.
RotaryTables rotary_at(const RotaryTables& rope, const torch::Tensor& positions_BN);

// The rows of an additive mask [B or 1, 1, T, S] that those queries use: [B, 1, N, S].
torch::Tensor mask_rows_at(const torch::Tensor& mask_B1TS, const torch::Tensor& positions_BN);

}  // namespace vista::models
