#include "models/query_positions.h"

namespace vista::models {

namespace {
// x's dim 0 is the batch (or 1, a table every sample shares); gathers `dim` at positions_BN.
torch::Tensor gather_positions(const torch::Tensor& x, int64_t dim, const torch::Tensor& positions_BN) {
  const int64_t B = positions_BN.size(0), N = positions_BN.size(1);
  auto sizes = x.sizes().vec();
  sizes[0] = B;
  const auto source_x = x.expand(sizes);
  std::vector<int64_t> index_shape(x.dim(), 1);
  index_shape[0] = B;
  index_shape[dim] = N;
  sizes[dim] = N;
  return source_x.gather(dim, positions_BN.to(x.device()).view(index_shape).expand(sizes));
}
}  // namespace

torch::Tensor rows_at(const torch::Tensor& x_BTD, const torch::Tensor& positions_BN) {
  if (!positions_BN.defined()) return x_BTD;
  return gather_positions(x_BTD, 1, positions_BN);
}

RotaryTables rotary_at(const RotaryTables& rope, const torch::Tensor& positions_BN) {
  if (!positions_BN.defined()) return rope;
  return {gather_positions(rope.cos_B1TH, 2, positions_BN), gather_positions(rope.sin_B1TH, 2, positions_BN)};
}

torch::Tensor mask_rows_at(const torch::Tensor& mask_B1TS, const torch::Tensor& positions_BN) {
  if (!mask_B1TS.defined() || !positions_BN.defined()) return mask_B1TS;
  return gather_positions(mask_B1TS, 2, positions_BN);
}

}  // namespace vista::models
