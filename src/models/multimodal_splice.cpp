#include "models/multimodal_splice.h"

#include "util/error.h"

namespace vista::models {

SplicedBatch splice_multimodal(const SpliceInputs& in) {
  const auto& ids = in.input_ids_BL;
  if (ids.dim() != 2) fail("splice: input_ids must be [B, L], got {}", shape_string(ids.sizes().vec()));
  if (in.attention_mask_BL.sizes() != ids.sizes())
    fail("splice: attention_mask {} does not match input_ids {}", shape_string(in.attention_mask_BL.sizes().vec()),
         shape_string(ids.sizes().vec()));
  if (in.labels_BL.defined() && in.labels_BL.sizes() != ids.sizes())
    fail("splice: labels {} do not match input_ids {}", shape_string(in.labels_BL.sizes().vec()),
         shape_string(ids.sizes().vec()));
  const auto device = ids.device();
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
  const int64_t B = ids.size(0), L = ids.size(1), D = in.token_embeds_BLD.size(2);
  const bool has_features = in.image_features_KND.defined() && in.image_features_KND.numel() > 0;
  const int64_t K = has_features ? in.image_features_KND.size(0) : 0;
  const int64_t N = has_features ? in.image_features_KND.size(1) : 0;

  const auto valid = in.attention_mask_BL.to(torch::kBool);
  const auto is_image = valid & (ids == kImageTokenIndex);
  const auto is_text = valid & ~is_image;
  const int64_t num_placeholders = is_image.sum().item<int64_t>();
  if (num_placeholders > 0 && !has_features)
    fail("splice: batch has {} image placeholders but no image features", num_placeholders);

  // Each token expands to 1 (text), N (image) or 0 (padding) output positions.
  const auto span_BL = is_image.to(torch::kInt64) * N + is_text.to(torch::kInt64);
  const auto end_BL = span_BL.cumsum(1);
  const auto start_BL = end_BL - span_BL;
  auto length_B = L > 0 ? end_BL.select(1, L - 1) : torch::zeros({B}, i64);
  if (in.max_length > 0) length_B = length_B.clamp_max(in.max_length);
  const int64_t T = B > 0 ? length_B.max().item<int64_t>() : 0;

  const int64_t image_base = B * L, zero_row = B * L + K * N;
  auto source_BT = torch::full({B * T}, zero_row, i64);

  // Text tokens: one output position each.
  {
    const auto where = is_text.nonzero();  // [P, 2] row-major
    const auto b = where.select(1, 0), j = where.select(1, 1);
    const auto dst = start_BL.index({b, j});
    const auto keep = dst < length_B.index({b});
    source_BT.index_put_({(b * T + dst).masked_select(keep)}, (b * L + j).masked_select(keep));
  }
  // Image placeholders: N positions each, fed from feature row k in batch order.
  if (num_placeholders > 0) {
    const auto per_sample = is_image.sum(1);
    const auto consumed = in.text_only_sample_consumes_image ? per_sample.clamp_min(1) : per_sample;
    const auto first_row_B = consumed.cumsum(0) - consumed;
    const auto rank_BL = is_image.to(torch::kInt64).cumsum(1) - 1;
    const auto where = is_image.nonzero();
    const auto b = where.select(1, 0), j = where.select(1, 1);
    const auto k = first_row_B.index({b}) + rank_BL.index({b, j});
    const int64_t needed = k.max().item<int64_t>() + 1;
    if (needed > K) fail("splice: the batch's image placeholders need {} image feature rows, {} given", needed, K);
    const auto offs = torch::arange(N, i64).unsqueeze(0);
    const auto dst = start_BL.index({b, j}).unsqueeze(1) + offs;           // [P, N]
    const auto src = image_base + k.unsqueeze(1) * N + offs;               // [P, N]
    const auto keep = dst < length_B.index({b}).unsqueeze(1);
    source_BT.index_put_({(b.unsqueeze(1) * T + dst).masked_select(keep)}, src.masked_select(keep));
  }

  const auto token_rows = in.token_embeds_BLD.reshape({B * L, D});
  std::vector<torch::Tensor> parts{token_rows};
  if (K > 0) parts.push_back(in.image_features_KND.reshape({K * N, D}).to(token_rows.scalar_type()));
  parts.push_back(torch::zeros({1, D}, token_rows.options()));
  const auto table = torch::cat(parts, 0);

  SplicedBatch out;
  out.inputs_embeds_BTD = table.index_select(0, source_BT).view({B, T, D});
  auto label_table = torch::full({zero_row + 1}, kIgnoreIndex, i64);
  if (in.labels_BL.defined())
    label_table.narrow(0, 0, B * L).copy_(torch::where(is_text, in.labels_BL, torch::full({}, kIgnoreIndex, i64)).reshape({B * L}));
  out.labels_BT = label_table.index_select(0, source_BT).view({B, T});
  const auto positions_T = torch::arange(T, i64);
  out.attention_mask_BT = (positions_T.unsqueeze(0) < length_B.unsqueeze(1)).to(torch::kInt64);
  out.position_ids_BT = positions_T.unsqueeze(0).expand({B, T});
  const auto source_view = source_BT.view({B, T});
  out.image_mask_BT = (source_view >= image_base) & (source_view < zero_row);
  out.last_image_pos_B =
      std::get<0>(torch::where(out.image_mask_BT, positions_T.unsqueeze(0), torch::full({}, -1, i64)).max(1));
  if (T == 0) out.last_image_pos_B = torch::full({B}, -1, i64);

  const auto text_flat = is_text.reshape({B * L});
  out.text_embeds_PD = token_rows.index({text_flat});
  out.text_offsets_B1 = torch::cat({torch::zeros({1}, i64), is_text.sum(1).cumsum(0)});
  const auto text_dst = start_BL.masked_select(is_text);
  const auto text_b = is_text.nonzero().select(1, 0);
  out.text_positions_P = torch::where(text_dst < length_B.index({text_b}), text_dst, torch::full({}, -1, i64));
  return out;
}

}  // namespace vista::models
