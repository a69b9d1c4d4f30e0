#include "models/blocked_attention.h"

#include <ATen/core/ivalue.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "models/layers.h"
#include "runtime/torch_compat.h"
#include "util/error.h"

namespace vista::models {

std::vector<QueryBlock> query_blocks(const torch::Tensor& mask_B1TS, int64_t rows_per_block) {
  if (mask_B1TS.dim() != 4 || mask_B1TS.size(1) != 1 || mask_B1TS.scalar_type() != torch::kFloat32)
    fail("query_blocks: expected a float32 mask [B, 1, T, S], got {} {}",
         std::string(c10::toString(mask_B1TS.scalar_type())), shape_string(mask_B1TS.sizes().vec()));
  if (rows_per_block < 1) fail("query_blocks: rows_per_block = {}: expected at least 1", rows_per_block);
  const auto mask = mask_B1TS.to(torch::kCPU).select(1, 0);
  const auto m = mask.accessor<float, 3>();
  const int64_t samples = mask.size(0), T = mask.size(1), S = mask.size(2);
  // Half the lowest float: a score that low leaves an exact zero after the softmax subtracts the
  // row's maximum from it, whatever q and k gave.
  const float hidden = std::numeric_limits<float>::lowest() / 2;
  auto visible = [&](int64_t b, int64_t i, int64_t j) { return m[b][i][j] > hidden; };
  std::vector<QueryBlock> blocks;
  for (int64_t first = 0; first < T; first += rows_per_block) {
    QueryBlock block{first, std::min(rows_per_block, T - first), 0};
    for (int64_t b = 0; b < samples && block.keys < S; ++b)
      for (int64_t i = first; i < first + block.rows && block.keys < S; ++i) {
        int64_t last = S - 1;
        while (last >= block.keys && !visible(b, i, last)) --last;
        if (last >= block.keys) {
          block.keys = last + 1;
          continue;
        }
        bool sees_some = false;
        for (int64_t j = 0; j < block.keys && !sees_some; ++j) sees_some = visible(b, i, j);
        if (!sees_some) block.keys = S;
      }
    blocks.push_back(block);
  }
  return blocks;
}

std::vector<QueryBlock> worthwhile_query_blocks(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD,
                                                const torch::Tensor& v_BHSD, const torch::Tensor& mask_B1TS) {
  // Measured on 2 cores at 448 positions (OpenBLAS): 64-row blocks ran as fast as 112-row ones and
  // faster than 32-row ones, whose products get too small; fewer, larger blocks skip less.
  constexpr int64_t kRowsPerBlock = 64;
  const auto f32 = torch::kFloat32;
  if (!mask_B1TS.defined() || q_BHTD.scalar_type() != f32 || k_BHSD.scalar_type() != f32 ||
      v_BHSD.scalar_type() != f32 || mask_B1TS.scalar_type() != f32 || !q_BHTD.device().is_cpu())
    return {};
  if (q_BHTD.dim() != 4 || k_BHSD.dim() != 4 || v_BHSD.dim() != 4 || mask_B1TS.dim() != 4) return {};
  const int64_t B = q_BHTD.size(0), H = q_BHTD.size(1), T = q_BHTD.size(2), S = k_BHSD.size(2);
  const bool shapes = k_BHSD.size(0) == B && k_BHSD.size(1) == H && k_BHSD.size(3) == q_BHTD.size(3) &&
                      v_BHSD.size(0) == B && v_BHSD.size(1) == H && v_BHSD.size(2) == S &&
                      (mask_B1TS.size(0) == B || mask_B1TS.size(0) == 1) && mask_B1TS.size(1) == 1 &&
                      mask_B1TS.size(2) == T && mask_B1TS.size(3) == S;
  if (!shapes || T < 2 * kRowsPerBlock || compat::autocast_enabled(c10::DeviceType::CPU)) return {};
  auto blocks = query_blocks(mask_B1TS, kRowsPerBlock);
  const bool skips = std::any_of(blocks.begin(), blocks.end(), [S](const QueryBlock& b) { return b.keys < S; });
  return skips ? blocks : std::vector<QueryBlock>{};
}

namespace {

struct BlockPlan : torch::CustomClassHolder {
  BlockPlan(torch::Tensor mask, double d, std::vector<QueryBlock> b)
      : mask_B1TS(std::move(mask)), divisor(d), blocks(std::move(b)) {}
  torch::Tensor mask_B1TS;
  double divisor;
  std::vector<QueryBlock> blocks;

  // The probabilities of one block's rows over its keys, [B*H, rows, keys], the plain core's
  // operations in its order: the product, the division, the mask, the float32 softmax.
  torch::Tensor probabilities(const torch::Tensor& q_XTD, const torch::Tensor& k_XSD, const QueryBlock& block,
                              int64_t B) const {
    auto scores = q_XTD.narrow(1, block.first_row, block.rows).bmm(k_XSD.narrow(1, 0, block.keys).transpose(1, 2));
    scores.div_(divisor);
    scores.view({B, -1, block.rows, block.keys})
        .add_(mask_B1TS.narrow(2, block.first_row, block.rows).narrow(3, 0, block.keys));
    return torch::softmax(scores, -1);
  }
};

class BlockedAttention : public torch::autograd::Function<BlockedAttention> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& q_BHTD,
                               const torch::Tensor& k_BHSD, const torch::Tensor& v_BHSD,
                               c10::intrusive_ptr<BlockPlan> plan) {
    const int64_t B = q_BHTD.size(0), H = q_BHTD.size(1), T = q_BHTD.size(2), Dv = v_BHSD.size(3);
    auto q_XTD = as_batched_matrices(q_BHTD), k_XSD = as_batched_matrices(k_BHSD), v_XSD = as_batched_matrices(v_BHSD);
    // Laid out [B, T, H, Dv], so that the caller's merge of the heads is a view.
    auto out_BTHD = torch::empty({B, T, H, Dv}, v_BHSD.options());
    for (const auto& block : plan->blocks) {
      const auto out_XRD = plan->probabilities(q_XTD, k_XSD, block, B).bmm(v_XSD.narrow(1, 0, block.keys));
      out_BTHD.narrow(1, block.first_row, block.rows).permute({0, 2, 1, 3}).copy_(out_XRD.view({B, H, block.rows, Dv}));
    }
    // The [B*H, ...] copies rather than the inputs: q and k are usually strided views whose copy
    // backward would otherwise make again. Saved as variables, so that autograd frees them once the
    // backward has run, not when the graph goes.
    ctx->save_for_backward({q_XTD, k_XSD, v_XSD});
    ctx->saved_data["plan"] = c10::IValue::make_capsule(std::move(plan));
    return out_BTHD.permute({0, 2, 1, 3});
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto &q_XTD = saved[0], &k_XSD = saved[1], &v_XSD = saved[2];
    const auto plan = c10::static_intrusive_pointer_cast<BlockPlan>(ctx->saved_data["plan"].toCapsule());
    const bool need_q = ctx->needs_input_grad(0), need_k = ctx->needs_input_grad(1), need_v = ctx->needs_input_grad(2);
    const auto& grad_out_BHTD = grad_outputs[0];
    const int64_t B = grad_out_BHTD.size(0), H = grad_out_BHTD.size(1);
    const auto grad_out_XTD = as_batched_matrices(grad_out_BHTD);
    // Zeros that every block adds its share to (baddbmm_ into the rows or keys it covers).
    auto grad_q_XTD = need_q ? torch::zeros_like(q_XTD) : torch::Tensor();
    auto grad_k_XSD = need_k ? torch::zeros_like(k_XSD) : torch::Tensor();
    auto grad_v_XSD = need_v ? torch::zeros_like(v_XSD) : torch::Tensor();
    for (const auto& block : plan->blocks) {
      const auto probs_XRK = plan->probabilities(q_XTD, k_XSD, block, B);
      const auto grad_out_XRD = grad_out_XTD.narrow(1, block.first_row, block.rows);
      if (need_v) grad_v_XSD.narrow(1, 0, block.keys).baddbmm_(probs_XRK.transpose(1, 2), grad_out_XRD);
      if (!need_q && !need_k) continue;
      const auto grad_probs_XRK = grad_out_XRD.bmm(v_XSD.narrow(1, 0, block.keys).transpose(1, 2));
      auto grad_scores_XRK = at::_softmax_backward_data(grad_probs_XRK, probs_XRK, -1, torch::kFloat32);
      grad_scores_XRK.div_(plan->divisor);
      if (need_q)
        grad_q_XTD.narrow(1, block.first_row, block.rows).baddbmm_(grad_scores_XRK, k_XSD.narrow(1, 0, block.keys));
      if (need_k)
        grad_k_XSD.narrow(1, 0, block.keys)
            .baddbmm_(grad_scores_XRK.transpose(1, 2), q_XTD.narrow(1, block.first_row, block.rows));
    }
    auto as_BH = [B, H](const torch::Tensor& t_XYD) {
      return t_XYD.defined() ? t_XYD.view({B, H, t_XYD.size(1), t_XYD.size(2)}) : t_XYD;
    };
    return {as_BH(grad_q_XTD), as_BH(grad_k_XSD), as_BH(grad_v_XSD), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor blocked_attention(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD, const torch::Tensor& v_BHSD,
                                const torch::Tensor& mask_B1TS, double divisor, const std::vector<QueryBlock>& blocks) {
  int64_t covered = 0;
  for (const auto& b : blocks) {
    if (b.first_row != covered || b.rows < 1 || b.keys < 1 || b.keys > k_BHSD.size(2))
      fail("blocked_attention: block (first row {}, {} rows, {} keys) does not continue rows [0, {}) within {} keys",
           b.first_row, b.rows, b.keys, covered, k_BHSD.size(2));
    covered += b.rows;
  }
  if (covered != q_BHTD.size(2)) fail("blocked_attention: blocks cover {} of {} query rows", covered, q_BHTD.size(2));
  return BlockedAttention::apply(q_BHTD, k_BHSD, v_BHSD, c10::make_intrusive<BlockPlan>(mask_B1TS, divisor, blocks));
}

}  // namespace vista::models
