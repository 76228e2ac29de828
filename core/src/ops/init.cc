// Initializers: NoGrad ops whose integer input `shape` (1-D, the dims) sets
// the output shape, filled as torch.nn.init does, from a seeded
// counter-based generator (init-inl.h; bits identical to core/ref/init.h).
// Fans as torch.nn.init._calculate_fan_in_and_fan_out: shape [out, in, k...]
// gives fan_in = in * prod(k), fan_out = out * prod(k).
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/init.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/init-inl.h"
// clang-format on

#if HWY_ONCE
#include <Eigen/Dense>
#include <cmath>
#include <cstdint>
#include <string>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"
#include "core/src/random.h"

namespace dlmath {
#define DLMATH_IF_initialization(...) __VA_ARGS__
#include "core/src/ops/export.h"

DLMATH_HWY_EXPORT(InitUniform)
DLMATH_HWY_EXPORT(InitNormal)

namespace {

constexpr double kPi = 3.14159265358979323846;

// The output shape from input `shape`: 1 to kMaxRank dims (at least
// min_rank), each >= 1, at most kMaxElements in all.
Status InitShape(const ShapeCtx& c, int min_rank) {
  const std::string op(c.op);
  const int64_t rank = c.in[0].dim[0];
  if (rank > kMaxRank || rank < min_rank)
    return Status(ErrorCode::kBadShape, op, "shape",
                  "op '" + op + "': input 'shape' must list " +
                      std::to_string(min_rank) + " to " +
                      std::to_string(kMaxRank) + " dimensions, got " +
                      std::to_string(rank) +
                      (min_rank == 2 ? " (fan_in and fan_out need a weight "
                                       "of at least 2 dimensions, as in "
                                       "PyTorch)"
                                     : ""));
  Shape out;
  int64_t total = 1;
  for (int64_t j = 0; j < rank; ++j) {
    const double v = c.data[0][j];
    if (v < 1)
      return Status(ErrorCode::kBadValue, op, "shape",
                    "op '" + op + "': dimension " + std::to_string(j) +
                        " of input 'shape' must be >= 1, got " +
                        std::to_string(static_cast<int64_t>(v)));
    if (v > static_cast<double>(kMaxElements / total))
      return Status(ErrorCode::kTooLarge, op, "shape",
                    "op '" + op + "': dimension " + std::to_string(j) +
                        " of input 'shape' (" +
                        std::to_string(static_cast<int64_t>(v)) +
                        ") takes the weight past the limit of " +
                        std::to_string(kMaxElements) + " elements");
    out.dim[out.rank++] = static_cast<int64_t>(v);
    total *= out.dim[out.rank - 1];
  }
  *c.out = out;
  return {};
}

struct Fans {
  double in, out;
};
Fans FansOf(const Shape& s) {
  double receptive = 1;
  for (int k = 2; k < s.rank; ++k) receptive *= static_cast<double>(s.dim[k]);
  return {static_cast<double>(s.dim[1]) * receptive,
          static_cast<double>(s.dim[0]) * receptive};
}

// torch.nn.init.calculate_gain; choices
// leaky_relu|relu|tanh|sigmoid|linear|selu, param = negative slope.
double Gain(int nonlinearity, double param) {
  switch (nonlinearity) {
    case 0:
      return std::sqrt(2.0 / (1 + param * param));
    case 1:
      return std::sqrt(2.0);
    case 2:
      return 5.0 / 3;
    case 5:
      return 0.75;
    default:
      return 1.0;
  }
}

// The generator's key for a seed (ref::InitKey).
uint32_t Key(double seed) {
  return Mix32Scalar(static_cast<uint32_t>(seed) ^ 0xa511e9b3u);
}

// kOp: kaiming_uniform or kaiming_normal (the same params).
template <OpId kOp>
double KaimingStd(const GenCall<float>& c) {
  const Fans f = FansOf(c.out_shape);
  const double fan = c.p[DLMATH_PARAM_OF(kOp, mode)] == 0 ? f.in : f.out;
  return Gain(static_cast<int>(c.p[DLMATH_PARAM_OF(kOp, nonlinearity)]),
              c.p[DLMATH_PARAM_OF(kOp, a)]) /
         std::sqrt(fan);
}

}  // namespace

// ----- xavier_uniform, xavier_normal -----------------------------------------
// Uniform on +-gain sqrt(6 / (fan_in + fan_out)); normal with sigma =
// gain sqrt(2 / (fan_in + fan_out)). Params gain, seed.

Status XavierUniformShape(const ShapeCtx& c) { return InitShape(c, 2); }
void XavierUniformForward(const GenCall<float>& c) {
  const Fans f = FansOf(c.out_shape);
  const double bound =
      c.p[DLMATH_PARAM(xavier_uniform, gain)] * std::sqrt(6.0 / (f.in + f.out));
  DLMATH_DISPATCH(InitUniform)
  (c.out, c.out_shape.numel(), Key(c.p[DLMATH_PARAM(xavier_uniform, seed)]),
   static_cast<float>(bound));
}

Status XavierNormalShape(const ShapeCtx& c) { return InitShape(c, 2); }
void XavierNormalForward(const GenCall<float>& c) {
  const Fans f = FansOf(c.out_shape);
  const double sigma =
      c.p[DLMATH_PARAM(xavier_normal, gain)] * std::sqrt(2.0 / (f.in + f.out));
  DLMATH_DISPATCH(InitNormal)
  (c.out, c.out_shape.numel(), Key(c.p[DLMATH_PARAM(xavier_normal, seed)]),
   static_cast<float>(sigma));
}

// ----- kaiming_uniform, kaiming_normal ---------------------------------------
// sigma = gain(nonlinearity, a) / sqrt(fan), the uniform bound sqrt(3) sigma.
// Params a, mode, nonlinearity, seed.

Status KaimingUniformShape(const ShapeCtx& c) { return InitShape(c, 2); }
void KaimingUniformForward(const GenCall<float>& c) {
  DLMATH_DISPATCH(InitUniform)
  (c.out, c.out_shape.numel(), Key(c.p[DLMATH_PARAM(kaiming_uniform, seed)]),
   static_cast<float>(std::sqrt(3.0) * KaimingStd<OpId::kaiming_uniform>(c)));
}

Status KaimingNormalShape(const ShapeCtx& c) { return InitShape(c, 2); }
void KaimingNormalForward(const GenCall<float>& c) {
  DLMATH_DISPATCH(InitNormal)
  (c.out, c.out_shape.numel(), Key(c.p[DLMATH_PARAM(kaiming_normal, seed)]),
   static_cast<float>(KaimingStd<OpId::kaiming_normal>(c)));
}

// ----- orthogonal
// --------------------------------------------------------------- PyTorch's
// recipe on a [rows, cols] view (cols = numel / rows): a standard normal matrix
// (the generator's z_i, row-major), transposed when rows < cols, Householder QR
// (Eigen), Q's column j times sign(R_jj), transposed back, times gain.
// Initialisation is one-off, so the normals and the QR are in double (PyTorch:
// float32), and the only error is the final rounding to float: orthogonality to
// ~1e-7 even for large matrices.

Status OrthogonalShape(const ShapeCtx& c) { return InitShape(c, 2); }
void OrthogonalForward(const GenCall<float>& c) {
  const int64_t rows = c.out_shape[0], cols = c.out_shape.numel() / rows;
  const bool wide = rows < cols;
  const int64_t m = wide ? cols : rows, k = wide ? rows : cols;
  const uint32_t key = Key(c.p[DLMATH_PARAM(orthogonal, seed)]);
  // The generator in double, as ref::InitNormal.
  auto bits = [key](uint32_t ctr) {
    return Mix32Scalar(Mix32Scalar(ctr + key) ^ key);
  };
  Eigen::MatrixXd a(m, k);  // a(i, j) = flat(i, j), or flat(j, i) if wide
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t q = 0; q < cols; ++q) {
      const uint32_t i = static_cast<uint32_t>(r * cols + q);
      const uint32_t c1 = i & ~1u;
      const double u1 = ((bits(c1) >> 8) + 1.0) * 0x1p-24;
      const double u2 = (bits(c1 | 1u) >> 8) * 0x1p-24 - 0.5;
      const double rad = std::sqrt(-2 * std::log(u1));
      const double z =
          rad * ((i & 1u) ? std::sin(2 * kPi * u2) : std::cos(2 * kPi * u2));
      if (wide) {
        a(q, r) = z;
      } else {
        a(r, q) = z;
      }
    }
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(m, k);
  const auto& packed = qr.matrixQR();
  for (int64_t j = 0; j < k; ++j) {
    const double r = packed(j, j);
    q.col(j) *= (r > 0) - (r < 0);  // torch.sign: 0 stays 0
  }
  const double gain = c.p[DLMATH_PARAM(orthogonal, gain)];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t col = 0; col < cols; ++col)
      c.out[r * cols + col] =
          static_cast<float>(gain * (wide ? q(col, r) : q(r, col)));
}

// ----- calculate_gain
// ------------------------------------------------------------- A number, not a
// tensor: `shape` is accepted and ignored, the result is [1]. Params
// nonlinearity, param.

Status CalculateGainShape(const ShapeCtx& c) {
  *c.out = Shape{1};
  return {};
}
void CalculateGainForward(const GenCall<float>& c) {
  c.out[0] = static_cast<float>(
      Gain(static_cast<int>(c.p[DLMATH_PARAM(calculate_gain, nonlinearity)]),
           c.p[DLMATH_PARAM(calculate_gain, param)]));
}

}  // namespace dlmath
#endif  // HWY_ONCE
