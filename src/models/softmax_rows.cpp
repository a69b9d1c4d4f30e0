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
using Ints8 = int32_t __attribute__((vector_size(32)));
constexpr int64_t kLanes = lanes::kWidth;

VISTA_LANES_INLINE Floats8 select8(Ints8 take_a, Floats8 a, Floats8 b) {
  return reinterpret_cast<Floats8>((reinterpret_cast<Ints8>(a) & take_a) | (reinterpret_cast<Ints8>(b) & ~take_a));
}

// exp(x) for x <= 0 (a score minus its row's maximum): Cephes' expf, a degree-6 polynomial after
// splitting off a power of two (the rounding by adding 1.5 * 2^23, which needs no libm call).
// Below log(smallest normal float) it returns 0, where libm returns a subnormal.
VISTA_LANES_INLINE Floats8 exp8(Floats8 x) {
  const float lowest_log = -87.33654f;
  const Ints8 underflow = x < lowest_log;
  x = select8(underflow, lanes::broadcast(lowest_log), x);
  const float round_magic = 12582912.0f;
  const Floats8 n = (x * 1.44269504088896341f + round_magic) - round_magic;
  const Floats8 r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  Floats8 p = lanes::broadcast(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const Floats8 y = p * (r * r) + r + 1.0f;
  const Ints8 two_to_n = (__builtin_convertvector(n, Ints8) + 127) << 23;
  return select8(underflow, Floats8{}, y * reinterpret_cast<Floats8>(two_to_n));
}

VISTA_LANES_INLINE float exp1(float x) { return exp8(lanes::broadcast(x))[0]; }

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
      max8 = select8(v > max8, v, max8);
    }
    float max = lane_max(max8);
    for (int64_t j = full; j < cols; ++j) {
      s[j] = s[j] / divisor + m[j];
      max = std::max(max, s[j]);
    }
    Floats8 sum8{};
    for (int64_t j = 0; j < full; j += kLanes) {
      const Floats8 e = exp8(lanes::load(s + j) - max);
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
