#include "models/blocked_attention.h"

#include <ATen/core/ivalue.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "models/attention_block_kernel.h"
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

namespace {

// Why the kernel (attention_block_kernel.h) cannot take these operands, or "" where it can.
std::string operand_mismatch(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD, const torch::Tensor& v_BHSD,
                             const torch::Tensor& mask_B1TS) {
  for (const auto* t : {&q_BHTD, &k_BHSD, &v_BHSD, &mask_B1TS})
    if (t->dim() != 4 || t->scalar_type() != torch::kFloat32 || !t->device().is_cpu())
      return fmt::format("expected float32 CPU tensors of 4 dimensions, got {} {} on {}",
                         std::string(c10::toString(t->scalar_type())), shape_string(t->sizes().vec()),
                         t->device().str());
  const int64_t B = q_BHTD.size(0), H = q_BHTD.size(1), T = q_BHTD.size(2), S = k_BHSD.size(2);
  const bool shapes = k_BHSD.size(0) == B && k_BHSD.size(1) == H && k_BHSD.size(3) == q_BHTD.size(3) &&
                      v_BHSD.size(0) == B && v_BHSD.size(1) == H && v_BHSD.size(2) == S &&
                      (mask_B1TS.size(0) == B || mask_B1TS.size(0) == 1) && mask_B1TS.size(1) == 1 &&
                      mask_B1TS.size(2) == T && mask_B1TS.size(3) == S;
  if (shapes) return "";
  return fmt::format("q {}, k {}, v {}, mask {}: expected [B, H, T, D], [B, H, S, D], [B, H, S, Dv], [B or 1, 1, T, S]",
                     shape_string(q_BHTD.sizes().vec()), shape_string(k_BHSD.sizes().vec()),
                     shape_string(v_BHSD.sizes().vec()), shape_string(mask_B1TS.sizes().vec()));
}

}  // namespace

std::vector<QueryBlock> worthwhile_query_blocks(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD,
                                                const torch::Tensor& v_BHSD, const torch::Tensor& mask_B1TS) {
  // Measured with the kernel on 2 cores at 448 positions (OpenBLAS), one layer forward + backward:
  // 33-37 ms in 64-row blocks, 35-41 in 32-row ones (products too small), 35-38 in 96-row and
  // 39-40 in 128-row ones (fewer keys skipped).
  constexpr int64_t kRowsPerBlock = 64;
  if (!mask_B1TS.defined() || !operand_mismatch(q_BHTD, k_BHSD, v_BHSD, mask_B1TS).empty()) return {};
  const int64_t T = q_BHTD.size(2), S = k_BHSD.size(2);
  if (T < 2 * kRowsPerBlock || compat::autocast_enabled(c10::DeviceType::CPU)) return {};
  auto blocks = query_blocks(mask_B1TS, kRowsPerBlock);
  const bool skips = std::any_of(blocks.begin(), blocks.end(), [S](const QueryBlock& b) { return b.keys < S; });
  return skips ? blocks : std::vector<QueryBlock>{};
}

namespace {

struct BlockPlan : torch::CustomClassHolder {
  BlockPlan(torch::Tensor mask, double d, std::vector<QueryBlock> b)
      : mask_B1TS(std::move(mask)), divisor(static_cast<float>(d)), blocks(std::move(b)) {}
  torch::Tensor mask_B1TS;
  float divisor;  // the plain core divides its float32 scores by the scalar as a float
  std::vector<QueryBlock> blocks;
};

class BlockedAttention : public torch::autograd::Function<BlockedAttention> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& q_BHTD,
                               const torch::Tensor& k_BHSD, const torch::Tensor& v_BHSD,
                               c10::intrusive_ptr<BlockPlan> plan) {
    // Autograd records this call only where an operand asks for a gradient; else nothing is kept.
    const bool recorded = q_BHTD.requires_grad() || k_BHSD.requires_grad() || v_BHSD.requires_grad();
    // The output laid out [B, T, H, Dv], so that the caller's merge of the heads is a view.
    auto forward = blocked_attention_forward_kernel(q_BHTD, k_BHSD, v_BHSD, plan->mask_B1TS, plan->divisor,
                                                    plan->blocks, recorded);
    // The operands as they came, usually views of the rotary embedding's output: the kernel reads
    // them in place. The probabilities too: recomputing them was a fifth of the backward's
    // products and its second softmax pass (docs/performance.md). Saved as variables, so that
    // autograd frees them once the backward has run, not when the graph goes.
    ctx->save_for_backward({q_BHTD, k_BHSD, v_BHSD, recorded ? forward.probabilities : q_BHTD.new_empty({0})});
    ctx->saved_data["plan"] = c10::IValue::make_capsule(std::move(plan));
    return forward.out_BTHD.permute({0, 2, 1, 3});
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto plan = c10::static_intrusive_pointer_cast<BlockPlan>(ctx->saved_data["plan"].toCapsule());
    auto grads =
        blocked_attention_backward_kernel(saved[0], saved[1], saved[2], plan->mask_B1TS, plan->divisor, plan->blocks,
                                          grad_outputs[0], ctx->needs_input_grad(0), ctx->needs_input_grad(1),
                                          ctx->needs_input_grad(2), saved[3].numel() > 0 ? saved[3] : torch::Tensor());
    return {std::move(grads.q_BHTD), std::move(grads.k_BHSD), std::move(grads.v_BHSD), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor blocked_attention(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD, const torch::Tensor& v_BHSD,
                                const torch::Tensor& mask_B1TS, double divisor, const std::vector<QueryBlock>& blocks) {
  if (const auto why = operand_mismatch(q_BHTD, k_BHSD, v_BHSD, mask_B1TS); !why.empty())
    fail("blocked_attention: {}", why);
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
