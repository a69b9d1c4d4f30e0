#include "models/rms_norm_kernel.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>

#include "models/float_lanes.h"

namespace vista::models {

namespace {

// Rows of the weight's gradient summed together before the chunks are: fixed, so that the sum's
// order is the same on any number of threads.
constexpr int64_t kChunkRows = 64;

__attribute__((target_clones("avx2", "default"))) void normalise_rows(const float* x, const float* w, int64_t rows,
                                                                      int64_t D, float eps, float* out, float* rstd) {
  const int64_t full = D / lanes::kWidth * lanes::kWidth;
  for (int64_t i = 0; i < rows; ++i) {
    const float* xr = x + i * D;
    float* o = out + i * D;
    lanes::Floats8 squares{};
    for (int64_t j = 0; j < full; j += lanes::kWidth) {
      const lanes::Floats8 v = lanes::load(xr + j);
      squares += v * v;
    }
    float sum = lanes::sum(squares);
    for (int64_t j = full; j < D; ++j) sum += xr[j] * xr[j];
    const float r = 1.0f / std::sqrt(sum / static_cast<float>(D) + eps);
    rstd[i] = r;
    const lanes::Floats8 r8 = lanes::broadcast(r);
    for (int64_t j = 0; j < full; j += lanes::kWidth)
      lanes::store(o + j, lanes::load(w + j) * (lanes::load(xr + j) * r8));
    for (int64_t j = full; j < D; ++j) o[j] = w[j] * (xr[j] * r);
  }
}

// d x = (g w) r - x r^3 sum(g w x) / D: the normalised x's gradient through x * r directly and
// through r's mean of squares. The weight's gradient g (x r) is added into weight_sum (D floats).
__attribute__((target_clones("avx2", "default"))) void normalise_rows_backward(const float* g, const float* x,
                                                                               const float* w, const float* rstd,
                                                                               int64_t rows, int64_t D, float* grad_x,
                                                                               float* weight_sum) {
  const int64_t full = D / lanes::kWidth * lanes::kWidth;
  for (int64_t i = 0; i < rows; ++i) {
    const float* gr = g + i * D;
    const float* xr = x + i * D;
    const float r = rstd[i];
    if (grad_x) {
      lanes::Floats8 dots{};
      for (int64_t j = 0; j < full; j += lanes::kWidth)
        dots += lanes::load(gr + j) * lanes::load(w + j) * lanes::load(xr + j);
      float dot = lanes::sum(dots);
      for (int64_t j = full; j < D; ++j) dot += gr[j] * w[j] * xr[j];
      const float along_x = -dot * r * r * r / static_cast<float>(D);
      const lanes::Floats8 r8 = lanes::broadcast(r), c8 = lanes::broadcast(along_x);
      float* d = grad_x + i * D;
      for (int64_t j = 0; j < full; j += lanes::kWidth)
        lanes::store(d + j, lanes::load(gr + j) * lanes::load(w + j) * r8 + lanes::load(xr + j) * c8);
      for (int64_t j = full; j < D; ++j) d[j] = gr[j] * w[j] * r + xr[j] * along_x;
    }
    if (weight_sum) {
      const lanes::Floats8 r8 = lanes::broadcast(r);
      for (int64_t j = 0; j < full; j += lanes::kWidth)
        lanes::store(weight_sum + j, lanes::load(weight_sum + j) + lanes::load(gr + j) * (lanes::load(xr + j) * r8));
      for (int64_t j = full; j < D; ++j) weight_sum[j] += gr[j] * (xr[j] * r);
    }
  }
}

std::vector<int64_t> with_last(std::vector<int64_t> sizes, int64_t last) {
  sizes.back() = last;
  return sizes;
}

}  // namespace

bool rms_norm_kernel_applies(const torch::Tensor& x, const torch::Tensor& weight_D) {
  return x.dim() >= 1 && x.scalar_type() == torch::kFloat32 && x.device().is_cpu() && weight_D.dim() == 1 &&
         weight_D.scalar_type() == torch::kFloat32 && weight_D.device().is_cpu() && weight_D.size(0) == x.size(-1);
}

RmsNormForward rms_norm_forward_kernel(const torch::Tensor& x_in, const torch::Tensor& weight_in, double eps) {
  RECORD_FUNCTION("vista_kernel::rms_norm", std::vector<c10::IValue>());
  const auto x = x_in.contiguous(), weight = weight_in.contiguous();
  const int64_t D = x.size(-1), rows = D == 0 ? 0 : x.numel() / D;
  RmsNormForward result{torch::empty(x.sizes(), x.options()), torch::empty(with_last(x.sizes().vec(), 1), x.options())};
  const float* xp = x.data_ptr<float>();
  const float* wp = weight.data_ptr<float>();
  float* out = result.out.data_ptr<float>();
  float* rstd = result.rstd.data_ptr<float>();
  at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(D, 1)), [&](int64_t begin, int64_t end) {
    normalise_rows(xp + begin * D, wp, end - begin, D, static_cast<float>(eps), out + begin * D, rstd + begin);
  });
  return result;
}

RmsNormGrads rms_norm_backward_kernel(const torch::Tensor& grad_out, const torch::Tensor& x_in,
                                      const torch::Tensor& weight_in, const torch::Tensor& rstd_in, bool need_x,
                                      bool need_weight) {
  RECORD_FUNCTION("vista_kernel::rms_norm_backward", std::vector<c10::IValue>());
  const auto g = grad_out.contiguous(), x = x_in.contiguous(), weight = weight_in.contiguous(),
             rstd = rstd_in.contiguous();
  const int64_t D = x.size(-1), rows = D == 0 ? 0 : x.numel() / D;
  const int64_t chunks = (rows + kChunkRows - 1) / kChunkRows;
  RmsNormGrads grads;
  if (need_x) grads.x = torch::empty(x.sizes(), x.options());
  const auto chunk_sums = need_weight ? torch::zeros({chunks, D}, x.options()) : torch::Tensor();
  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const int64_t first = c * kChunkRows, count = std::min(kChunkRows, rows - first);
      normalise_rows_backward(g.data_ptr<float>() + first * D, x.data_ptr<float>() + first * D,
                              weight.data_ptr<float>(), rstd.data_ptr<float>() + first, count, D,
                              need_x ? grads.x.data_ptr<float>() + first * D : nullptr,
                              need_weight ? chunk_sums.data_ptr<float>() + c * D : nullptr);
    }
  });
  if (need_weight) {
    grads.weight_D = torch::zeros({D}, x.options());
    float* sum = grads.weight_D.data_ptr<float>();
    const float* parts = chunk_sums.data_ptr<float>();
    for (int64_t c = 0; c < chunks; ++c)
      for (int64_t j = 0; j < D; ++j) sum[j] += parts[c * D + j];
  }
  return grads;
}

}  // namespace vista::models
