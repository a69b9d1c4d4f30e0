#include "models/rotary_kernel.h"

#include <ATen/Parallel.h>

#include <vector>

namespace vista::models {

namespace {

struct RowLayout {
  int64_t B, H, T, D, R;
  std::vector<int64_t> in, out, table;  // strides of the input, the output, the cos / sin tables
};

// Runs row(in_row, out_row, cos_row, sin_row) over every (b, h, t) row, split across threads.
template <typename RowFn>
void for_each_row(const RowLayout& l, const float* in, float* out, const float* cos, const float* sin, RowFn row) {
  const int64_t rows = l.B * l.H * l.T;
  const int64_t grain = std::max<int64_t>(1, 16384 / l.D);
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t b = r / (l.H * l.T), h = (r / l.T) % l.H, t = r % l.T;
      const int64_t table_offset = b * l.table[0] + t * l.table[2];
      row(in + b * l.in[0] + h * l.in[1] + t * l.in[2], out + b * l.out[0] + h * l.out[1] + t * l.out[2],
          cos + table_offset, sin + table_offset);
    }
  });
}

// HF's `x * cos + rotate_half(x) * sin`, rotate_half(x) = cat(-x[half:], x[:half]).
void rotate_forward(const RowLayout& l, const float* x, float* out, const float* cos, const float* sin) {
  const int64_t half = l.R / 2, R = l.R, D = l.D;
  for_each_row(l, x, out, cos, sin, [=](const float* x_row, float* o, const float* c, const float* s) {
    for (int64_t i = 0; i < half; ++i) o[i] = x_row[i] * c[i] + (-x_row[i + half]) * s[i];
    for (int64_t i = half; i < R; ++i) o[i] = x_row[i] * c[i] + x_row[i - half] * s[i];
    for (int64_t i = R; i < D; ++i) o[i] = x_row[i];
  });
}

// Autograd's gradient of that expression: g * cos, plus rotate_half's backward of g * sin
// (cat(g_s[half:], -g_s[:half])), the two terms added in this order.
void rotate_backward(const RowLayout& l, const float* grad, float* grad_x, const float* cos, const float* sin) {
  const int64_t half = l.R / 2, R = l.R, D = l.D;
  for_each_row(l, grad, grad_x, cos, sin, [=](const float* g, float* d, const float* c, const float* s) {
    for (int64_t i = 0; i < half; ++i) d[i] = g[i] * c[i] + g[i + half] * s[i + half];
    for (int64_t i = half; i < R; ++i) d[i] = g[i] * c[i] + (-(g[i - half] * s[i - half]));
    for (int64_t i = R; i < D; ++i) d[i] = g[i];
  });
}

RowLayout layout_of(const torch::Tensor& in, const torch::Tensor& out, const torch::Tensor& cos) {
  auto table = cos.strides().vec();
  if (cos.size(0) == 1) table[0] = 0;  // one table for every sample
  return {in.size(0), in.size(1), in.size(2), in.size(3), cos.size(3), in.strides().vec(), out.strides().vec(), table};
}

class RotaryFloat32 : public torch::autograd::Function<RotaryFloat32> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x_BHTD,
                               const torch::Tensor& cos_B1TR, const torch::Tensor& sin_B1TR) {
    auto out_BHTD = torch::empty(x_BHTD.sizes(), x_BHTD.options());
    rotate_forward(layout_of(x_BHTD, out_BHTD, cos_B1TR), x_BHTD.data_ptr<float>(), out_BHTD.data_ptr<float>(),
                   cos_B1TR.data_ptr<float>(), sin_B1TR.data_ptr<float>());
    ctx->save_for_backward({cos_B1TR, sin_B1TR});
    ctx->saved_data["x_strides"] =
        x_BHTD.is_non_overlapping_and_dense() ? x_BHTD.strides().vec() : x_BHTD.contiguous().strides().vec();
    return out_BHTD;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& cos_B1TR = saved[0];
    const auto& sin_B1TR = saved[1];
    const auto grad_BHTD = grad_outputs[0].stride(3) == 1 ? grad_outputs[0] : grad_outputs[0].contiguous();
    auto grad_x_BHTD =
        torch::empty_strided(grad_BHTD.sizes(), ctx->saved_data["x_strides"].toIntVector(), grad_BHTD.options());
    rotate_backward(layout_of(grad_BHTD, grad_x_BHTD, cos_B1TR), grad_BHTD.data_ptr<float>(),
                    grad_x_BHTD.data_ptr<float>(), cos_B1TR.data_ptr<float>(), sin_B1TR.data_ptr<float>());
    return {grad_x_BHTD, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool rotary_kernel_applies(const torch::Tensor& x_BHTD, const torch::Tensor& cos_B1TR, const torch::Tensor& sin_B1TR) {
  const auto f32 = torch::kFloat32;
  if (x_BHTD.scalar_type() != f32 || cos_B1TR.scalar_type() != f32 || sin_B1TR.scalar_type() != f32) return false;
  if (!x_BHTD.device().is_cpu() || !cos_B1TR.device().is_cpu() || !sin_B1TR.device().is_cpu()) return false;
  if (x_BHTD.dim() != 4 || cos_B1TR.dim() != 4 || cos_B1TR.sizes() != sin_B1TR.sizes() ||
      cos_B1TR.strides() != sin_B1TR.strides())
    return false;
  const int64_t R = cos_B1TR.size(3);
  const bool table_fits = (cos_B1TR.size(0) == 1 || cos_B1TR.size(0) == x_BHTD.size(0)) && cos_B1TR.size(1) == 1 &&
                          cos_B1TR.size(2) == x_BHTD.size(2) && R % 2 == 0 && R <= x_BHTD.size(3);
  return table_fits && x_BHTD.numel() > 0 && x_BHTD.stride(3) == 1 && cos_B1TR.stride(3) == 1;
}

torch::Tensor rotary_float32(const torch::Tensor& x_BHTD, const torch::Tensor& cos_B1TR,
                             const torch::Tensor& sin_B1TR) {
  return RotaryFloat32::apply(x_BHTD, cos_B1TR, sin_B1TR);
}

}  // namespace vista::models
