#include "objectives/read_positions.h"

#include <algorithm>
#include <vector>

#include "util/error.h"

namespace vista::objectives {

ReadPositions read_positions(const torch::Tensor& labels_BT, const torch::Tensor& last_image_pos_B,
                             int64_t ignore_index) {
  if (labels_BT.dim() != 2 || last_image_pos_B.numel() != labels_BT.size(0))
    fail("read_positions: labels {} must be [B, T] with one last image position per sample, got {}",
         shape_string(labels_BT.sizes().vec()), shape_string(last_image_pos_B.sizes().vec()));
  const auto labels = labels_BT.to(torch::kCPU, torch::kInt64).contiguous();
  const auto last_image = last_image_pos_B.to(torch::kCPU, torch::kInt64).contiguous();
  const auto label = labels.accessor<int64_t, 2>();
  const auto last = last_image.accessor<int64_t, 1>();
  const int64_t B = labels.size(0), T = labels.size(1);
  const auto supervised = [&](int64_t b, int64_t t) { return t + 1 < T && label[b][t + 1] != ignore_index; };

  std::vector<std::vector<int64_t>> read(B);
  size_t N = 1;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t + 1 < T; ++t)
      if (supervised(b, t)) read[b].push_back(t);
    if (last[b] >= 0) {
      if (last[b] >= T) fail("read_positions: sample {} has its last image token at {}, past T={}", b, last[b], T);
      const auto at = std::lower_bound(read[b].begin(), read[b].end(), last[b]);
      if (at == read[b].end() || *at != last[b]) read[b].insert(at, last[b]);
    }
    N = std::max(N, read[b].size());
  }

  std::vector<int64_t> positions, ce_rows, targets, last_n(B, -1);
  positions.reserve(B * N);
  for (int64_t b = 0; b < B; ++b) {
    const auto& r = read[b];
    for (size_t n = 0; n < N; ++n) positions.push_back(n < r.size() ? r[n] : (r.empty() ? 0 : r[0]));
    for (size_t n = 0; n < r.size(); ++n) {
      if (supervised(b, r[n])) {
        ce_rows.push_back(b * static_cast<int64_t>(N) + static_cast<int64_t>(n));
        targets.push_back(label[b][r[n] + 1]);
      }
      if (r[n] == last[b]) last_n[b] = static_cast<int64_t>(n);
    }
  }
  const auto on_device = [&](const std::vector<int64_t>& v, std::vector<int64_t> shape) {
    return torch::tensor(v, torch::kInt64).view(shape).to(labels_BT.device());
  };
  return {on_device(positions, {B, static_cast<int64_t>(N)}), on_device(ce_rows, {-1}), on_device(targets, {-1}),
          on_device(last_n, {B})};
}

}  // namespace vista::objectives
