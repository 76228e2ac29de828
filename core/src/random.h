// The counter-based generator behind every seeded op (rrelu, dropout, the
// initializers): lowbias32, C. Wellons' integer hash, a bijection of 32-bit
// words with good avalanche in two multiplies. Stateless, so a kernel and
// its float64 reference draw the same bits for (seed, i) and backward can
// recompute what forward drew. The vector form is Mix32 in simd-inl.h.
#ifndef DLMATH_SRC_RANDOM_H_
#define DLMATH_SRC_RANDOM_H_

#include <cstdint>

namespace dlmath {

inline constexpr uint32_t Mix32Scalar(uint32_t h) {
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  h *= 0x846ca68bu;
  return h ^ (h >> 16);
}

}  // namespace dlmath

#endif  // DLMATH_SRC_RANDOM_H_
