#include "data/collate.h"

#include <cstring>

#include "util/error.h"

namespace vista::data {

Batch collate(const std::vector<Example>& examples, int64_t pad_token_id, int64_t max_length, int64_t image_channels,
              int64_t image_height, int64_t image_width) {
  if (examples.empty()) fail("collate: empty batch");
  const int64_t B = static_cast<int64_t>(examples.size());
  int64_t L = 0;
  for (const auto& ex : examples)
    L = std::max<int64_t>(L, std::min<int64_t>(static_cast<int64_t>(ex.tokens.input_ids.size()), max_length));
  Batch batch;
  batch.input_ids_BL = torch::full({B, L}, pad_token_id, torch::kInt64);
  batch.attention_mask_BL = torch::zeros({B, L}, torch::kInt64);
  batch.labels_BL = torch::full({B, L}, int64_t{-100}, torch::kInt64);
  batch.pixel_values_BCHW = torch::zeros({B, image_channels, image_height, image_width}, torch::kFloat32);
  auto ids = batch.input_ids_BL.accessor<int64_t, 2>();
  auto mask = batch.attention_mask_BL.accessor<int64_t, 2>();
  auto labels = batch.labels_BL.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& ex = examples[b];
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(ex.tokens.input_ids.size()), L);
    for (int64_t t = 0; t < n; ++t) {
      ids[b][t] = ex.tokens.input_ids[t];
      labels[b][t] = ex.tokens.labels[t];
      mask[b][t] = 1;
    }
    if (ex.pixels) {
      const auto& px = *ex.pixels;
      if (px.channels != image_channels || px.height != image_height || px.width != image_width)
        fail("collate: record '{}' image is {}x{}x{}, the batch expects {}x{}x{}", ex.id, px.channels, px.height,
             px.width, image_channels, image_height, image_width);
      std::memcpy(batch.pixel_values_BCHW[b].data_ptr<float>(), px.values.data(), px.values.size() * sizeof(float));
    }
    batch.ids.push_back(ex.id);
    batch.indices.push_back(ex.index);
  }
  return batch;
}

}  // namespace vista::data
