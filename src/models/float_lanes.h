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
using Ints8 = int32_t __attribute__((vector_size(32)));  // what comparing two Floats8 gives
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

// Where take_a is all ones, a's lane, else b's.
inline __attribute__((always_inline)) Floats8 select(Ints8 take_a, Floats8 a, Floats8 b) {
  return reinterpret_cast<Floats8>((reinterpret_cast<Ints8>(a) & take_a) | (reinterpret_cast<Ints8>(b) & ~take_a));
}

// exp(x): Cephes' expf, a degree-6 polynomial after splitting off a power of two (the rounding by
// adding 1.5 * 2^23, which needs no libm call), within a few float32 ulps of libm's. Below
// log(smallest normal float) it returns 0, where libm returns a subnormal; above 88 it returns
// exp(88) (2^127 times at most 1.3), where libm overflows to infinity.
inline __attribute__((always_inline)) Floats8 exp(Floats8 x) {
  const float lowest_log = -87.33654f;
  const Ints8 underflow = x < lowest_log;
  x = select(underflow, broadcast(lowest_log), x);
  x = select(x > 88.0f, broadcast(88.0f), x);
  const float round_magic = 12582912.0f;
  const Floats8 n = (x * 1.44269504088896341f + round_magic) - round_magic;
  const Floats8 r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  Floats8 p = broadcast(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const Floats8 y = p * (r * r) + r + 1.0f;
  const Ints8 two_to_n = (__builtin_convertvector(n, Ints8) + 127) << 23;
  return select(underflow, Floats8{}, y * reinterpret_cast<Floats8>(two_to_n));
}

}  // namespace vista::models::lanes
