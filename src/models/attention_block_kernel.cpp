#include "models/attention_block_kernel.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "models/softmax_rows.h"
#include "runtime/blas.h"
#include "util/error.h"

namespace vista::models {

namespace {

// A [B, H, rows, cols] float32 operand as BLAS reads it: one row-major matrix per (sample, head).
struct Matrices {
  const float* data = nullptr;
  int64_t sample_stride = 0, head_stride = 0, row_stride = 0;
  const float* at(int64_t b, int64_t h) const { return data + b * sample_stride + h * head_stride; }
};

// The operand itself where BLAS can read it in place (unit stride along a row, rows apart), else a
// contiguous copy.
torch::Tensor blas_readable(const torch::Tensor& t) {
  const bool unit_columns = t.size(-1) == 1 || t.stride(-1) == 1;
  const bool rows_apart = t.size(-2) == 1 || t.stride(-2) >= t.size(-1);
  return unit_columns && rows_apart ? t : t.contiguous();
}

Matrices matrices_of(const torch::Tensor& t) {
  // A single row's stride never moves a pointer, but BLAS asks for at least the row's length.
  const int64_t row_stride = t.size(-2) == 1 ? std::max<int64_t>(t.size(-1), 1) : t.stride(-2);
  return {t.data_ptr<float>(), t.size(0) == 1 ? 0 : t.stride(0), t.size(1) == 1 ? 0 : t.stride(1), row_stride};
}

// The operands of one call, BLAS-readable.
struct Operands {
  torch::Tensor q, k, v, mask;
  Matrices q_m, k_m, v_m, mask_m;
  int64_t B, H, T, S, D, Dv;
  float divisor;
  const std::vector<QueryBlock>& blocks;

  Operands(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD, const torch::Tensor& v_BHSD,
           const torch::Tensor& mask_B1TS, float d, const std::vector<QueryBlock>& b)
      : q(blas_readable(q_BHTD)),
        k(blas_readable(k_BHSD)),
        v(blas_readable(v_BHSD)),
        mask(blas_readable(mask_B1TS)),
        q_m(matrices_of(q)),
        k_m(matrices_of(k)),
        v_m(matrices_of(v)),
        mask_m(matrices_of(mask)),
        B(q.size(0)),
        H(q.size(1)),
        T(q.size(2)),
        S(k.size(2)),
        D(q.size(3)),
        Dv(v.size(3)),
        divisor(d),
        blocks(b) {}

  int64_t largest_block() const {
    int64_t most = 0;
    for (const auto& block : blocks) most = std::max(most, block.rows * block.keys);
    return most;
  }

  // One block's probabilities for pair (b, h) into probs_RK (rows x keys, row stride keys).
  void probabilities(int64_t b, int64_t h, const QueryBlock& block, float* probs_RK) const {
    sgemm_row_major(false, true, block.rows, block.keys, D, 1.0f, q_m.at(b, h) + block.first_row * q_m.row_stride,
                    q_m.row_stride, k_m.at(b, h), k_m.row_stride, 0.0f, probs_RK, block.keys);
    masked_softmax_rows(probs_RK, block.rows, block.keys, block.keys,
                        mask_m.at(b, 0) + block.first_row * mask_m.row_stride, mask_m.row_stride, divisor);
  }
};

// Runs pair(b, h, scratch) for every (sample, head) pair, a share of them per thread; scratch holds
// `floats` per buffer asked for, reused across the thread's pairs.
template <typename PairFn>
void for_each_pair(const Operands& o, int64_t buffers, PairFn pair) {
  const int64_t floats = o.largest_block();
  at::parallel_for(0, o.B * o.H, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(buffers * floats));
    for (int64_t x = begin; x < end; ++x) pair(x / o.H, x % o.H, scratch.data(), floats);
  });
}

// An uninitialised [B, rows, H, cols] tensor seen as [B, H, rows, cols]: the layout the caller
// merges the heads of with a view.
torch::Tensor heads_outer_view(int64_t B, int64_t rows, int64_t H, int64_t cols, const torch::TensorOptions& options) {
  return torch::empty({B, rows, H, cols}, options).permute({0, 2, 1, 3});
}
float* mutable_at(const torch::Tensor& t, int64_t b, int64_t h) {
  return t.data_ptr<float>() + b * t.stride(0) + h * t.stride(1);
}

}  // namespace

int64_t block_probability_floats(const std::vector<QueryBlock>& blocks) {
  int64_t floats = 0;
  for (const auto& block : blocks) floats += block.rows * block.keys;
  return floats;
}

BlockedAttentionForward blocked_attention_forward_kernel(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD,
                                                         const torch::Tensor& v_BHSD, const torch::Tensor& mask_B1TS,
                                                         float divisor, const std::vector<QueryBlock>& blocks,
                                                         bool keep_probabilities) {
  RECORD_FUNCTION("vista_kernel::attention_blocks_forward", std::vector<c10::IValue>());
  const Operands o(q_BHTD, k_BHSD, v_BHSD, mask_B1TS, divisor, blocks);
  BlockedAttentionForward result;
  result.out_BTHD = torch::empty({o.B, o.T, o.H, o.Dv}, o.v.options());
  const int64_t per_pair = block_probability_floats(blocks);
  if (keep_probabilities) result.probabilities = torch::empty({o.B * o.H * per_pair}, o.v.options());
  const int64_t out_row_stride = o.H * o.Dv;
  for_each_pair(o, keep_probabilities ? 0 : 1, [&](int64_t b, int64_t h, float* scratch, int64_t) {
    float* out = result.out_BTHD.data_ptr<float>() + b * o.T * out_row_stride + h * o.Dv;
    float* probs_RK = keep_probabilities ? result.probabilities.data_ptr<float>() + (b * o.H + h) * per_pair : scratch;
    for (const auto& block : o.blocks) {
      o.probabilities(b, h, block, probs_RK);
      sgemm_row_major(false, false, block.rows, o.Dv, block.keys, 1.0f, probs_RK, block.keys, o.v_m.at(b, h),
                      o.v_m.row_stride, 0.0f, out + block.first_row * out_row_stride, out_row_stride);
      if (keep_probabilities) probs_RK += block.rows * block.keys;
    }
  });
  return result;
}

AttentionInputGrads blocked_attention_backward_kernel(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD,
                                                      const torch::Tensor& v_BHSD, const torch::Tensor& mask_B1TS,
                                                      float divisor, const std::vector<QueryBlock>& blocks,
                                                      const torch::Tensor& grad_out_BHTD, bool need_q, bool need_k,
                                                      bool need_v, const torch::Tensor& probabilities) {
  RECORD_FUNCTION("vista_kernel::attention_blocks_backward", std::vector<c10::IValue>());
  const Operands o(q_BHTD, k_BHSD, v_BHSD, mask_B1TS, divisor, blocks);
  const int64_t per_pair = block_probability_floats(blocks);
  if (probabilities.defined() && probabilities.numel() != o.B * o.H * per_pair)
    fail("attention blocks' backward: {} kept probabilities for {} pairs of {} each", probabilities.numel(), o.B * o.H,
         per_pair);
  // Where each block's probabilities start within a pair's share of `probabilities`.
  std::vector<int64_t> offsets(blocks.size(), 0);
  for (size_t i = 1; i < blocks.size(); ++i) offsets[i] = offsets[i - 1] + blocks[i - 1].rows * blocks[i - 1].keys;
  const auto grad_out = blas_readable(grad_out_BHTD);
  const Matrices grad_out_m = matrices_of(grad_out);
  const auto options = o.q.options();
  AttentionInputGrads grads;
  if (need_q) grads.q_BHTD = heads_outer_view(o.B, o.T, o.H, o.D, options);
  if (need_k) grads.k_BHSD = heads_outer_view(o.B, o.S, o.H, o.D, options);
  if (need_v) grads.v_BHSD = heads_outer_view(o.B, o.S, o.H, o.Dv, options);
  // The block with the most keys first: it writes the key and value gradients' rows it covers
  // (beta 0) and the others add to them, so only the rows past it need zeros.
  std::vector<size_t> order(blocks.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return blocks[a].keys > blocks[b].keys; });
  const int64_t covered_keys = order.empty() ? 0 : blocks[order.front()].keys;
  const int64_t q_rs = grads.q_BHTD.defined() ? grads.q_BHTD.stride(2) : 0;
  const int64_t k_rs = grads.k_BHSD.defined() ? grads.k_BHSD.stride(2) : 0;
  const int64_t v_rs = grads.v_BHSD.defined() ? grads.v_BHSD.stride(2) : 0;

  const bool kept = probabilities.defined();
  for_each_pair(o, kept ? 1 : 2, [&](int64_t b, int64_t h, float* scratch, int64_t floats) {
    float* grad_RK = scratch;
    const float* pair_probs = kept ? probabilities.data_ptr<float>() + (b * o.H + h) * per_pair : nullptr;
    float* grad_q = need_q ? mutable_at(grads.q_BHTD, b, h) : nullptr;
    float* grad_k = need_k ? mutable_at(grads.k_BHSD, b, h) : nullptr;
    float* grad_v = need_v ? mutable_at(grads.v_BHSD, b, h) : nullptr;
    for (size_t i = 0; i < order.size(); ++i) {
      const auto& block = o.blocks[order[i]];
      const float beta = i == 0 ? 0.0f : 1.0f;
      const float* probs_RK = kept ? pair_probs + offsets[order[i]] : scratch + floats;
      if (!kept) o.probabilities(b, h, block, scratch + floats);
      const float* grad_out_rows = grad_out_m.at(b, h) + block.first_row * grad_out_m.row_stride;
      if (need_v)
        sgemm_row_major(true, false, block.keys, o.Dv, block.rows, 1.0f, probs_RK, block.keys, grad_out_rows,
                        grad_out_m.row_stride, beta, grad_v, v_rs);
      if (!need_q && !need_k) continue;
      sgemm_row_major(false, true, block.rows, block.keys, o.Dv, 1.0f, grad_out_rows, grad_out_m.row_stride,
                      o.v_m.at(b, h), o.v_m.row_stride, 0.0f, grad_RK, block.keys);
      softmax_backward_rows(grad_RK, probs_RK, block.rows, block.keys, block.keys, o.divisor);
      if (need_q)
        sgemm_row_major(false, false, block.rows, o.D, block.keys, 1.0f, grad_RK, block.keys, o.k_m.at(b, h),
                        o.k_m.row_stride, 0.0f, grad_q + block.first_row * q_rs, q_rs);
      if (need_k)
        sgemm_row_major(true, false, block.keys, o.D, block.rows, 1.0f, grad_RK, block.keys,
                        o.q_m.at(b, h) + block.first_row * o.q_m.row_stride, o.q_m.row_stride, beta, grad_k, k_rs);
    }
    for (int64_t key = covered_keys; key < o.S; ++key) {
      if (need_k) std::memset(grad_k + key * k_rs, 0, sizeof(float) * o.D);
      if (need_v) std::memset(grad_v + key * v_rs, 0, sizeof(float) * o.Dv);
    }
  });
  return grads;
}

}  // namespace vista::models
