#pragma once
// Eight float32 lanes as GCC's vector extension, for the row kernels that are compiled twice
// (target_clones("avx2", "default")): one AVX register in the AVX2 clone, two SSE registers in the
// other. The helpers are always inlined into the cloned functions, so no call passes a vector
// across the two calling conventions (GCC's -Wpsabi note, silenced where this is included).
#include <cstdint>
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace vista::models::lanes {

using Floats8 = float __attribute__((vector_size(32)));
constexpr int64_t kWidth = 8;

inline __attribute__((always_inline)) Floats8 load(const float* p) {
  Floats8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline __attribute__((always_inline)) void store(float* p, Floats8 v) { std::memcpy(p, &v, sizeof(v)); }
inline __attribute__((always_inline)) Floats8 broadcast(float x) { return Floats8{} + x; }
// The lanes added from the first to the last: a fixed order, so a row's sum does not depend on
// anything but the row.
inline __attribute__((always_inline)) float sum(Floats8 v) {
  float s = 0;
  for (int64_t l = 0; l < kWidth; ++l) s += v[l];
  return s;
}

}  // namespace vista::models::lanes
