#include "models/row_dots.h"

#include "models/float_lanes.h"

namespace vista::models {

namespace {

// Rows at a time: each eight-lane piece of the vector is loaded once for all of them.
constexpr int64_t kRows = 4;

}  // namespace

__attribute__((target_clones("avx2", "default"))) void row_dots(const float* matrix, int64_t ld, int64_t cols,
                                                                const float* vector, int64_t begin, int64_t end,
                                                                float* out) {
  const int64_t full = cols / lanes::kWidth * lanes::kWidth;
  int64_t i = begin;
  for (; i + kRows <= end; i += kRows) {
    const float* r = matrix + i * ld;
    lanes::Floats8 a0{}, a1{}, a2{}, a3{};
    for (int64_t j = 0; j < full; j += lanes::kWidth) {
      const lanes::Floats8 x = lanes::load(vector + j);
      a0 += lanes::load(r + j) * x;
      a1 += lanes::load(r + ld + j) * x;
      a2 += lanes::load(r + 2 * ld + j) * x;
      a3 += lanes::load(r + 3 * ld + j) * x;
    }
    float s[kRows] = {lanes::sum(a0), lanes::sum(a1), lanes::sum(a2), lanes::sum(a3)};
    for (int64_t j = full; j < cols; ++j)
      for (int64_t k = 0; k < kRows; ++k) s[k] += r[k * ld + j] * vector[j];
    for (int64_t k = 0; k < kRows; ++k) out[i + k] = s[k];
  }
  for (; i < end; ++i) {
    const float* r = matrix + i * ld;
    lanes::Floats8 a{};
    for (int64_t j = 0; j < full; j += lanes::kWidth) a += lanes::load(r + j) * lanes::load(vector + j);
    float s = lanes::sum(a);
    for (int64_t j = full; j < cols; ++j) s += r[j] * vector[j];
    out[i] = s;
  }
}

}  // namespace vista::models
