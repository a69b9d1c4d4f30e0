#include "models/row_dots.h"

#include <cstring>

namespace vista::models {

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

// Named apart from softmax_rows.cpp's helpers: the unity build compiles both files as one.
namespace {

using DotLanes = float __attribute__((vector_size(32)));
constexpr int64_t kDotLanes = 8;
// Rows at a time: each eight-lane piece of the vector is loaded once for all of them.
constexpr int64_t kRows = 4;

inline __attribute__((always_inline)) DotLanes load_lanes(const float* p) {
  DotLanes v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline __attribute__((always_inline)) float sum_lanes(DotLanes v) {
  float s = 0;
  for (int l = 0; l < kDotLanes; ++l) s += v[l];
  return s;
}

}  // namespace

__attribute__((target_clones("avx2", "default"))) void row_dots(const float* matrix, int64_t ld, int64_t cols,
                                                                const float* vector, int64_t begin, int64_t end,
                                                                float* out) {
  const int64_t full = cols / kDotLanes * kDotLanes;
  int64_t i = begin;
  for (; i + kRows <= end; i += kRows) {
    const float* r = matrix + i * ld;
    DotLanes a0{}, a1{}, a2{}, a3{};
    for (int64_t j = 0; j < full; j += kDotLanes) {
      const DotLanes x = load_lanes(vector + j);
      a0 += load_lanes(r + j) * x;
      a1 += load_lanes(r + ld + j) * x;
      a2 += load_lanes(r + 2 * ld + j) * x;
      a3 += load_lanes(r + 3 * ld + j) * x;
    }
    float s[kRows] = {sum_lanes(a0), sum_lanes(a1), sum_lanes(a2), sum_lanes(a3)};
    for (int64_t j = full; j < cols; ++j)
      for (int64_t k = 0; k < kRows; ++k) s[k] += r[k * ld + j] * vector[j];
    for (int64_t k = 0; k < kRows; ++k) out[i + k] = s[k];
  }
  for (; i < end; ++i) {
    const float* r = matrix + i * ld;
    DotLanes a{};
    for (int64_t j = 0; j < full; j += kDotLanes) a += load_lanes(r + j) * load_lanes(vector + j);
    float s = sum_lanes(a);
    for (int64_t j = full; j < cols; ++j) s += r[j] * vector[j];
    out[i] = s;
  }
}

}  // namespace vista::models
