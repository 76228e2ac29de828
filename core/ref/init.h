// Float64 references of the initializers: the same counter-based generator
// as core/src/ops/init-inl.h (bit for bit), the transforms in double, and
// orthogonal by modified Gram-Schmidt, which yields the unique QR with a
// positive diagonal of R, i.e. exactly PyTorch's sign-corrected Q, by a
// different algorithm from the kernel's Householder QR.
#ifndef DLMATH_REF_INIT_H_
#define DLMATH_REF_INIT_H_

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/src/random.h"
#include "dlmath/registry.h"

namespace dlmath::ref {

inline uint32_t InitKey(double seed) {
  return Mix32Scalar(static_cast<uint32_t>(seed) ^ 0xa511e9b3u);
}
inline uint32_t InitBits(uint32_t key, uint32_t ctr) {
  return Mix32Scalar(Mix32Scalar(ctr + key) ^ key);
}
// Uniform on [-1, 1): 2 u - 1 with u the top 24 bits / 2^24.
inline double InitUniform(uint32_t key, uint64_t i) {
  return 2 * ((InitBits(key, static_cast<uint32_t>(i)) >> 8) * 0x1p-24) - 1;
}
// Standard normal, Box-Muller on the pair (2k, 2k+1), k = i / 2.
inline double InitNormal(uint32_t key, uint64_t i) {
  const uint32_t c1 = static_cast<uint32_t>(i) & ~1u;
  const double u1 = ((InitBits(key, c1) >> 8) + 1.0) * 0x1p-24;
  const double u2 = (InitBits(key, c1 | 1u) >> 8) * 0x1p-24 - 0.5;
  const double pi = 3.14159265358979323846;
  const double r = std::sqrt(-2 * std::log(u1));
  return i % 2 ? r * std::sin(2 * pi * u2) : r * std::cos(2 * pi * u2);
}

// fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:]).
inline void InitFans(const Shape& s, double* fan_in, double* fan_out) {
  double receptive = 1;
  for (int k = 2; k < s.rank; ++k) receptive *= s.dim[k];
  *fan_in = s.dim[1] * receptive;
  *fan_out = s.dim[0] * receptive;
}
// calculate_gain over leaky_relu|relu|tanh|sigmoid|linear|selu.
inline double InitGain(int nonlinearity, double slope) {
  const double gains[] = {std::sqrt(2 / (1 + slope * slope)),
                          std::sqrt(2.0),
                          5.0 / 3,
                          1,
                          1,
                          3.0 / 4};
  return gains[nonlinearity];
}

inline void XavierUniformForward(const GenCall<double>& c) {
  double fi, fo;
  InitFans(c.out_shape, &fi, &fo);
  const double a =
      c.p[DLMATH_PARAM(xavier_uniform, gain)] * std::sqrt(6 / (fi + fo));
  const uint32_t key = InitKey(c.p[DLMATH_PARAM(xavier_uniform, seed)]);
  for (int64_t i = 0; i < c.out_shape.numel(); ++i)
    c.out[i] = a * InitUniform(key, i);
}
inline void XavierNormalForward(const GenCall<double>& c) {
  double fi, fo;
  InitFans(c.out_shape, &fi, &fo);
  const double sigma =
      c.p[DLMATH_PARAM(xavier_normal, gain)] * std::sqrt(2 / (fi + fo));
  const uint32_t key = InitKey(c.p[DLMATH_PARAM(xavier_normal, seed)]);
  for (int64_t i = 0; i < c.out_shape.numel(); ++i)
    c.out[i] = sigma * InitNormal(key, i);
}

// kOp: kaiming_uniform or kaiming_normal (the same params: a, mode
// fan_in|fan_out, nonlinearity, seed).
template <OpId kOp>
double KaimingStdRef(const GenCall<double>& c) {
  double fi, fo;
  InitFans(c.out_shape, &fi, &fo);
  return InitGain(static_cast<int>(c.p[DLMATH_PARAM_OF(kOp, nonlinearity)]),
                  c.p[DLMATH_PARAM_OF(kOp, a)]) /
         std::sqrt(c.p[DLMATH_PARAM_OF(kOp, mode)] == 0 ? fi : fo);
}
inline void KaimingUniformForward(const GenCall<double>& c) {
  const double bound = std::sqrt(3.0) * KaimingStdRef<OpId::kaiming_uniform>(c);
  const uint32_t key = InitKey(c.p[DLMATH_PARAM(kaiming_uniform, seed)]);
  for (int64_t i = 0; i < c.out_shape.numel(); ++i)
    c.out[i] = bound * InitUniform(key, i);
}
inline void KaimingNormalForward(const GenCall<double>& c) {
  const double sigma = KaimingStdRef<OpId::kaiming_normal>(c);
  const uint32_t key = InitKey(c.p[DLMATH_PARAM(kaiming_normal, seed)]);
  for (int64_t i = 0; i < c.out_shape.numel(); ++i)
    c.out[i] = sigma * InitNormal(key, i);
}

// Gram-Schmidt on the columns of the tall matrix (the flattened normals,
// transposed when rows < cols), then transposed back and scaled by gain.
inline void OrthogonalForward(const GenCall<double>& c) {
  const int64_t rows = c.out_shape[0], cols = c.out_shape.numel() / rows;
  const bool wide = rows < cols;
  const int64_t m = wide ? cols : rows, k = wide ? rows : cols;
  const uint32_t key = InitKey(c.p[DLMATH_PARAM(orthogonal, seed)]);
  // a[j][i]: column j of the tall matrix.
  std::vector<std::vector<double>> a(k, std::vector<double>(m));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t q = 0; q < cols; ++q) {
      const double z = InitNormal(key, r * cols + q);
      if (wide) {
        a[r][q] = z;
      } else {
        a[q][r] = z;
      }
    }
  for (int64_t j = 0; j < k; ++j) {
    for (int64_t l = 0; l < j; ++l) {
      double dot = 0;
      for (int64_t i = 0; i < m; ++i) dot += a[l][i] * a[j][i];
      for (int64_t i = 0; i < m; ++i) a[j][i] -= dot * a[l][i];
    }
    double norm = 0;
    for (int64_t i = 0; i < m; ++i) norm += a[j][i] * a[j][i];
    norm = std::sqrt(norm);
    for (int64_t i = 0; i < m; ++i) a[j][i] /= norm;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t q = 0; q < cols; ++q)
      c.out[r * cols + q] =
          c.p[DLMATH_PARAM(orthogonal, gain)] * (wide ? a[r][q] : a[q][r]);
}

inline void CalculateGainForward(const GenCall<double>& c) {
  c.out[0] = InitGain(
      static_cast<int>(c.p[DLMATH_PARAM(calculate_gain, nonlinearity)]),
      c.p[DLMATH_PARAM(calculate_gain, param)]);
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_INIT_H_
