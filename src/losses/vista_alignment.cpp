#include "losses/vista_alignment.h"

#include "util/error.h"

namespace vista::losses {

VistaMethod parse_vista_method(const std::string& name) {
  if (name == "l2") return VistaMethod::kL2;
  if (name == "cosine") return VistaMethod::kCosine;
  fail("vista.method: '{}' is not a method (expected 'l2' or 'cosine')", name);
}

VistaReduce parse_vista_reduce(const std::string& name) {
  if (name == "mean") return VistaReduce::kMean;
  if (name == "sum") return VistaReduce::kSum;
  fail("vista.reduce: '{}' is not a reduction (expected 'mean' or 'sum')", name);
}

VistaWeight parse_vista_weight(const std::string& name) {
  if (name == "t_over_m") return VistaWeight::kTOverM;
  if (name == "t") return VistaWeight::kT;
  if (name == "uniform") return VistaWeight::kUniform;
  fail("vista.position_weight: '{}' is not a weighting (expected 't_over_m', 't' or 'uniform')", name);
}

VistaTerms vista_alignment(const torch::Tensor& hidden_BTD, const torch::Tensor& last_image_pos_B,
                           const torch::Tensor& text_embeds_PD, const torch::Tensor& text_offsets_B1,
                           const VistaOptions& options) {
  if (hidden_BTD.dim() != 3) fail("vista: hidden states must be [B,T,D], got {}", shape_string(hidden_BTD.sizes().vec()));
  const int64_t B = hidden_BTD.size(0), D = hidden_BTD.size(2);
  if (last_image_pos_B.numel() != B || text_offsets_B1.numel() != B + 1)
    fail("vista: last_image_pos {} and text_offsets {} must have B={} and B+1 entries",
         shape_string(last_image_pos_B.sizes().vec()), shape_string(text_offsets_B1.sizes().vec()), B);
  if (text_embeds_PD.dim() != 2 || text_embeds_PD.size(1) != D)
    fail("vista: text embeddings {} must be [P, {}]", shape_string(text_embeds_PD.sizes().vec()), D);
  const auto device = hidden_BTD.device();
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);

  const auto offsets = text_offsets_B1.to(i64);
  const auto counts_B = offsets.narrow(0, 1, B) - offsets.narrow(0, 0, B);
  const auto last_pos = last_image_pos_B.to(i64);
  const auto valid_B = (last_pos >= 0) & (counts_B > 0);
  const int64_t P = text_embeds_PD.size(0);

  // At least float32, and one dtype for both sides: the released code subtracts bf16/fp16
  // embeddings from a float32 state and its backward fails (docs/method.md §3.2). float64 inputs
  // stay float64 so gradients can be checked by finite differences.
  const auto compute = torch::promote_types(torch::promote_types(hidden_BTD.scalar_type(), text_embeds_PD.scalar_type()),
                                            torch::kFloat32);
  const auto opts = torch::TensorOptions().dtype(compute).device(device);
  const auto s_BD = hidden_BTD.index({torch::arange(B, i64), last_pos.clamp_min(0)}).to(compute);
  const auto sample_P = torch::repeat_interleave(counts_B);  // sample id of each packed row
  const auto s_PD = s_BD.index_select(0, sample_P);
  auto x_PD = text_embeds_PD.to(compute);
  if (options.detach_text) x_PD = x_PD.detach();

  torch::Tensor score_P;
  if (options.method == VistaMethod::kL2) {
    const auto sq = (s_PD - x_PD).pow(2);
    score_P = options.reduce == VistaReduce::kMean ? sq.mean(-1) : sq.sum(-1);
  } else {
    score_P = torch::cosine_similarity(s_PD, x_PD, /*dim=*/1, /*eps=*/1e-8);
  }
  const auto m_P = counts_B.index_select(0, sample_P).to(compute);
  const auto t_P = (torch::arange(P, i64) - offsets.index_select(0, sample_P) + 1).to(compute);
  torch::Tensor w_P;
  switch (options.weight) {
    case VistaWeight::kTOverM: w_P = t_P / m_P; break;
    case VistaWeight::kT: w_P = t_P; break;
    case VistaWeight::kUniform: w_P = torch::ones({P}, opts); break;
  }
  const auto m_B = counts_B.clamp_min(1).to(compute);
  const auto zero = torch::zeros({}, opts);
  const auto weighted_B = torch::zeros({B}, opts).index_add(0, sample_P, w_P * score_P) / m_B;
  const auto plain_B = torch::zeros({B}, opts).index_add(0, sample_P, score_P) / m_B;
  const auto n_valid = valid_B.sum().clamp_min(1).to(compute);

  VistaTerms out;
  out.valid_B = valid_B;
  // where() rather than multiplication so a non-finite value in an excluded sample cannot leak.
  out.per_sample_B = torch::where(valid_B, weighted_B, zero);
  out.term = out.per_sample_B.sum() / n_valid;
  out.similarity = torch::where(valid_B, plain_B, zero).sum().detach() / n_valid;
  return out;
}

torch::Tensor combine_with_ce(const torch::Tensor& ce, const VistaTerms& vista, const VistaOptions& options) {
  const double sign = options.method == VistaMethod::kL2 ? 1.0 : -1.0;
  return ce + (sign * options.lambda) * vista.term;
}

}  // namespace vista::losses
