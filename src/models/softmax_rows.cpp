#include "models/softmax_rows.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "models/float_lanes.h"

namespace vista::models {

// Inlined into the target_clones functions, as float_lanes.h's helpers are.
#define VISTA_LANES_INLINE inline __attribute__((always_inline))

namespace {

using lanes::Floats8;
constexpr int64_t kLanes = lanes::kWidth;

VISTA_LANES_INLINE float exp1(float x) { return lanes::exp(lanes::broadcast(x))[0]; }

VISTA_LANES_INLINE float lane_max(Floats8 v) {
  float m = v[0];
  for (int l = 1; l < kLanes; ++l) m = std::max(m, v[l]);
  return m;
}

}  // namespace

__attribute__((target_clones("avx2", "default"))) void masked_softmax_rows(float* scores, int64_t rows, int64_t cols,
                                                                           int64_t ld, const float* mask,
                                                                           int64_t mask_ld, float divisor) {
  const int64_t full = cols / kLanes * kLanes;
  for (int64_t i = 0; i < rows; ++i) {
    float* s = scores + i * ld;
    const float* m = mask + i * mask_ld;
    Floats8 max8 = lanes::broadcast(-std::numeric_limits<float>::infinity());
    for (int64_t j = 0; j < full; j += kLanes) {
      const Floats8 v = lanes::load(s + j) / divisor + lanes::load(m + j);
      lanes::store(s + j, v);
      max8 = lanes::select(v > max8, v, max8);
    }
    float max = lane_max(max8);
    for (int64_t j = full; j < cols; ++j) {
      s[j] = s[j] / divisor + m[j];
      max = std::max(max, s[j]);
    }
    Floats8 sum8{};
    for (int64_t j = 0; j < full; j += kLanes) {
      const Floats8 e = lanes::exp(lanes::load(s + j) - max);
      lanes::store(s + j, e);
      sum8 += e;
    }
    float sum = lanes::sum(sum8);
    for (int64_t j = full; j < cols; ++j) {
      s[j] = exp1(s[j] - max);
      sum += s[j];
    }
    const float inverse = 1.0f / sum;
    for (int64_t j = 0; j < full; j += kLanes) lanes::store(s + j, lanes::load(s + j) * inverse);
    for (int64_t j = full; j < cols; ++j) s[j] *= inverse;
  }
}

__attribute__((target_clones("avx2", "default"))) void softmax_backward_rows(float* grad, const float* probs,
                                                                             int64_t rows, int64_t cols, int64_t ld,
                                                                             float divisor) {
  const int64_t full = cols / kLanes * kLanes;
  for (int64_t i = 0; i < rows; ++i) {
    float* g = grad + i * ld;
    const float* p = probs + i * ld;
    Floats8 dot8{};
    for (int64_t j = 0; j < full; j += kLanes) dot8 += lanes::load(g + j) * lanes::load(p + j);
    float dot = lanes::sum(dot8);
    for (int64_t j = full; j < cols; ++j) dot += g[j] * p[j];
    for (int64_t j = 0; j < full; j += kLanes)
      lanes::store(g + j, lanes::load(p + j) * (lanes::load(g + j) - dot) / divisor);
    for (int64_t j = full; j < cols; ++j) g[j] = p[j] * (g[j] - dot) / divisor;
  }
}

}  // namespace vista::models
