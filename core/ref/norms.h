// Float64 references of the normalization ops, written from the definitions
// with torch.nn.functional's conventions; the oracle for
// core/src/ops/norms.cc. Backward functions accumulate like the kernels and
// recompute what they need (ws is not used). Legend: N batch, C channels, S
// spatial size, D last dimension.
#ifndef DLMATH_REF_NORMS_H_
#define DLMATH_REF_NORMS_H_

#include <cmath>
#include <cstdint>
#include <vector>

#include "dlmath/registry.h"

namespace dlmath::ref {

namespace norms_detail {

inline int64_t Spatial(const Shape& x) {
  int64_t s = 1;
  for (int i = 2; i < x.rank; ++i) s *= x.dim[i];
  return s;
}

// A normalized block: `idx` lists its elements, `ch` each one's affine index
// (-1 for no affine). mean/var over the block (biased); center = 0 for rms.
struct Block {
  std::vector<int64_t> idx, ch;
};

// y[idx] = (x - mean) rstd w[ch] + b[ch].
inline void BlockForward(const Block& bl, const double* x, const double* w,
                         const double* b, double* y, double mean, double rstd) {
  for (size_t j = 0; j < bl.idx.size(); ++j) {
    const int64_t i = bl.idx[j], c = bl.ch[j];
    y[i] = (x[i] - mean) * rstd * (w ? w[c] : 1.0) + (b ? b[c] : 0.0);
  }
}

inline void Stats(const Block& bl, const double* x, bool center, double* mean,
                  double* var) {
  const double n = static_cast<double>(bl.idx.size());
  double s = 0;
  if (center)
    for (int64_t i : bl.idx) s += x[i];
  *mean = s / n;
  double q = 0;
  for (int64_t i : bl.idx) q += (x[i] - *mean) * (x[i] - *mean);
  *var = q / n;
}

// Backward of a block whose statistics depend on x (stats_const = false) or
// are constants (batch_norm eval).
inline void BlockBackward(const Block& bl, const double* x, const double* w,
                          const double* dy, double* dx, double* dw, double* db,
                          double mean, double rstd, bool center,
                          bool stats_const) {
  const double n = static_cast<double>(bl.idx.size());
  double m1 = 0, m2 = 0;
  for (size_t j = 0; j < bl.idx.size(); ++j) {
    const int64_t i = bl.idx[j], c = bl.ch[j];
    const double dn = dy[i] * (w ? w[c] : 1.0);
    m1 += dn;
    m2 += dn * (x[i] - mean) * rstd;
  }
  m1 = center ? m1 / n : 0;
  m2 /= n;
  if (stats_const) m1 = m2 = 0;
  for (size_t j = 0; j < bl.idx.size(); ++j) {
    const int64_t i = bl.idx[j], c = bl.ch[j];
    const double xh = (x[i] - mean) * rstd;
    const double dn = dy[i] * (w ? w[c] : 1.0);
    if (dx) dx[i] += rstd * (dn - m1 - xh * m2);
    if (dw) dw[c] += dy[i] * xh;
    if (db) db[c] += dy[i];
  }
}

// Blocks of [R, D] rows (layer_norm, rms_norm): affine index = column.
inline std::vector<Block> RowBlocks(const Shape& x) {
  std::vector<Block> out(x.rows());
  const int64_t d = x.cols();
  for (int64_t r = 0; r < x.rows(); ++r)
    for (int64_t j = 0; j < d; ++j) {
      out[r].idx.push_back(r * d + j);
      out[r].ch.push_back(j);
    }
  return out;
}

// Blocks of [N, C, S] with G groups (group_norm; instance_norm: G = C).
inline std::vector<Block> GroupBlocks(const Shape& x, int64_t groups) {
  const int64_t n = x.dim[0], ch = x.dim[1], s = Spatial(x), cpg = ch / groups;
  std::vector<Block> out(n * groups);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < ch; ++c)
      for (int64_t k = 0; k < s; ++k) {
        Block& bl = out[i * groups + c / cpg];
        bl.idx.push_back((i * ch + c) * s + k);
        bl.ch.push_back(c);
      }
  return out;
}

// One block per channel over N and S (batch_norm).
inline std::vector<Block> ChannelBlocks(const Shape& x) {
  const int64_t n = x.dim[0], ch = x.dim[1], s = Spatial(x);
  std::vector<Block> out(ch);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < ch; ++c)
      for (int64_t k = 0; k < s; ++k) {
        out[c].idx.push_back((i * ch + c) * s + k);
        out[c].ch.push_back(c);
      }
  return out;
}

inline void BlocksForward(const GenCall<double>& c,
                          const std::vector<Block>& blocks, const double* w,
                          const double* b, double eps, bool center) {
  for (const Block& bl : blocks) {
    double mean, var;
    Stats(bl, c.in[0], center, &mean, &var);
    BlockForward(bl, c.in[0], w, b, c.out, mean, 1 / std::sqrt(var + eps));
  }
}
inline void BlocksBackward(const GenCall<double>& c,
                           const std::vector<Block>& blocks, const double* w,
                           double* dw, double* db, double eps, bool center) {
  for (const Block& bl : blocks) {
    double mean, var;
    Stats(bl, c.in[0], center, &mean, &var);
    BlockBackward(bl, c.in[0], w, c.dy, c.din[0], dw, db, mean,
                  1 / std::sqrt(var + eps), center, false);
  }
}

}  // namespace norms_detail

// layer_norm: in = {input, weight?, bias?}, params eps.
inline void LayerNormForward(const GenCall<double>& c) {
  norms_detail::BlocksForward(c, norms_detail::RowBlocks(c.in_shape[0]),
                              c.in[1], c.in[2],
                              c.p[DLMATH_PARAM(layer_norm, eps)], true);
}
inline void LayerNormBackward(const GenCall<double>& c) {
  norms_detail::BlocksBackward(c, norms_detail::RowBlocks(c.in_shape[0]),
                               c.in[1], c.din[1], c.din[2],
                               c.p[DLMATH_PARAM(layer_norm, eps)], true);
}

// rms_norm: in = {input, weight?}, params eps.
inline void RmsNormForward(const GenCall<double>& c) {
  norms_detail::BlocksForward(c, norms_detail::RowBlocks(c.in_shape[0]),
                              c.in[1], nullptr,
                              c.p[DLMATH_PARAM(rms_norm, eps)], false);
}
inline void RmsNormBackward(const GenCall<double>& c) {
  norms_detail::BlocksBackward(c, norms_detail::RowBlocks(c.in_shape[0]),
                               c.in[1], c.din[1], nullptr,
                               c.p[DLMATH_PARAM(rms_norm, eps)], false);
}

// batch_norm: in = {input, weight?, bias?, running_mean?, running_var?},
// params training, momentum, eps; aux = {running_mean, running_var}.
inline void BatchNormForward(const GenCall<double>& c) {
  using namespace norms_detail;
  const auto blocks = ChannelBlocks(c.in_shape[0]);
  const bool training = c.p[DLMATH_PARAM(batch_norm, training)] != 0;
  const double mom = c.p[DLMATH_PARAM(batch_norm, momentum)],
               eps = c.p[DLMATH_PARAM(batch_norm, eps)];
  for (size_t k = 0; k < blocks.size(); ++k) {
    double mean, var;
    if (training) {
      Stats(blocks[k], c.in[0], true, &mean, &var);
      const double n = static_cast<double>(blocks[k].idx.size());
      const double m0 = c.in[3] ? c.in[3][k] : 0.0;
      const double v0 = c.in[4] ? c.in[4][k] : 1.0;
      c.aux[0][k] = (1 - mom) * m0 + mom * mean;
      c.aux[1][k] = (1 - mom) * v0 + mom * var * n / (n - 1);  // unbiased
    } else {
      mean = c.in[3][k];
      var = c.in[4][k];
      c.aux[0][k] = mean;
      c.aux[1][k] = var;
    }
    BlockForward(blocks[k], c.in[0], c.in[1], c.in[2], c.out, mean,
                 1 / std::sqrt(var + eps));
  }
}
inline void BatchNormBackward(const GenCall<double>& c) {
  using namespace norms_detail;
  const auto blocks = ChannelBlocks(c.in_shape[0]);
  const bool training = c.p[DLMATH_PARAM(batch_norm, training)] != 0;
  for (size_t k = 0; k < blocks.size(); ++k) {
    double mean, var;
    if (training) {
      Stats(blocks[k], c.in[0], true, &mean, &var);
    } else {
      mean = c.in[3][k];
      var = c.in[4][k];
    }
    BlockBackward(blocks[k], c.in[0], c.in[1], c.dy, c.din[0], c.din[1],
                  c.din[2], mean,
                  1 / std::sqrt(var + c.p[DLMATH_PARAM(batch_norm, eps)]), true,
                  !training);
  }
}

// group_norm: in = {input, weight?, bias?}, params num_groups, eps.
inline void GroupNormForward(const GenCall<double>& c) {
  norms_detail::BlocksForward(
      c,
      norms_detail::GroupBlocks(
          c.in_shape[0],
          static_cast<int64_t>(c.p[DLMATH_PARAM(group_norm, num_groups)])),
      c.in[1], c.in[2], c.p[DLMATH_PARAM(group_norm, eps)], true);
}
inline void GroupNormBackward(const GenCall<double>& c) {
  norms_detail::BlocksBackward(
      c,
      norms_detail::GroupBlocks(
          c.in_shape[0],
          static_cast<int64_t>(c.p[DLMATH_PARAM(group_norm, num_groups)])),
      c.in[1], c.din[1], c.din[2], c.p[DLMATH_PARAM(group_norm, eps)], true);
}

// instance_norm: in = {input, weight?, bias?}, params eps.
inline void InstanceNormForward(const GenCall<double>& c) {
  norms_detail::BlocksForward(
      c, norms_detail::GroupBlocks(c.in_shape[0], c.in_shape[0].dim[1]),
      c.in[1], c.in[2], c.p[DLMATH_PARAM(instance_norm, eps)], true);
}
inline void InstanceNormBackward(const GenCall<double>& c) {
  norms_detail::BlocksBackward(
      c, norms_detail::GroupBlocks(c.in_shape[0], c.in_shape[0].dim[1]),
      c.in[1], c.din[1], c.din[2], c.p[DLMATH_PARAM(instance_norm, eps)], true);
}

// weight_norm: in = {v, g}, params dim. dim 0: w_i = g_i v_i / ||v_i|| per
// row i; dim -1: w_i = g_(i or 0) v_i / ||v||.
inline void WeightNormForward(const GenCall<double>& c) {
  const Shape& vs = c.in_shape[0];
  const int64_t out = vs.dim[0], k = vs.numel() / out;
  const bool all = c.p[DLMATH_PARAM(weight_norm, dim)] < 0,
             one_g = c.in_shape[1].numel() == 1;
  double total = 0;
  for (int64_t i = 0; i < vs.numel(); ++i) total += c.in[0][i] * c.in[0][i];
  for (int64_t i = 0; i < out; ++i) {
    double row = 0;
    for (int64_t j = 0; j < k; ++j)
      row += c.in[0][i * k + j] * c.in[0][i * k + j];
    const double nrm = std::sqrt(all ? total : row);
    const double g = c.in[1][one_g ? 0 : i];
    for (int64_t j = 0; j < k; ++j)
      c.out[i * k + j] = g * c.in[0][i * k + j] / nrm;
  }
}
inline void WeightNormBackward(const GenCall<double>& c) {
  const Shape& vs = c.in_shape[0];
  const int64_t out = vs.dim[0], k = vs.numel() / out;
  const bool all = c.p[DLMATH_PARAM(weight_norm, dim)] < 0,
             one_g = c.in_shape[1].numel() == 1;
  const double* v = c.in[0];
  double total = 0, t = 0;
  for (int64_t i = 0; i < vs.numel(); ++i) total += v[i] * v[i];
  std::vector<double> dots(out, 0), rows(out, 0);
  for (int64_t i = 0; i < out; ++i) {
    for (int64_t j = 0; j < k; ++j) {
      dots[i] += c.dy[i * k + j] * v[i * k + j];
      rows[i] += v[i * k + j] * v[i * k + j];
    }
    t += c.in[1][one_g ? 0 : i] * dots[i];
  }
  for (int64_t i = 0; i < out; ++i) {
    const double nrm = std::sqrt(all ? total : rows[i]);
    const double g = c.in[1][one_g ? 0 : i];
    if (c.din[1]) c.din[1][one_g ? 0 : i] += dots[i] / nrm;
    if (!c.din[0]) continue;
    // d/dv of g_i v_i / ||.||: the direct term minus the norm's dependence.
    const double proj = (all ? t : g * dots[i]) / (nrm * nrm * nrm);
    for (int64_t j = 0; j < k; ++j)
      c.din[0][i * k + j] += g / nrm * c.dy[i * k + j] - proj * v[i * k + j];
  }
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_NORMS_H_
