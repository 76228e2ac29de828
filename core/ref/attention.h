// Float64 references of attention and positional encoding, written from the
// definitions with PyTorch's conventions; the oracle for
// core/src/ops/attention.cc. Backward functions accumulate like the kernels
// and recompute everything from the inputs (no saved state).
#ifndef DLMATH_REF_ATTENTION_H_
#define DLMATH_REF_ATTENTION_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "dlmath/registry.h"

namespace dlmath::ref {

namespace attention {

// One attention block over row-major operands with leading dimensions (so a
// head can be a column slice): q [l, e] (row stride ldq), k [s, e] (ldk),
// v [s, ev] (ldv). p [l, s] = softmax(scale q k^T + masks), masked entries
// -inf; a row with every entry -inf gives zeros (PyTorch >= 2.5). mask
// [l, s] and key_mask [s] (null: none) are additive (kind 0) or boolean:
// kind 1 hides entries equal to 0 (scaled_dot_product_attention), kind 2
// entries not equal to 0 (nn.MultiheadAttention).
struct Block {
  const double *q, *k, *v;
  int64_t ldq, ldk, ldv, l, s, e, ev;
  double scale;
  const double* mask = nullptr;
  const double* key_mask = nullptr;
  int kind = 0;
  bool causal = false;
};

// Score t with mask value m applied.
inline double Masked(double t, double m, int kind) {
  const double inf = std::numeric_limits<double>::infinity();
  if (kind == 0) return t + m;
  const bool hide = kind == 1 ? m == 0 : m != 0;
  return hide ? -inf : t;
}

inline std::vector<double> Probs(const Block& b) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> p(b.l * b.s);
  for (int64_t i = 0; i < b.l; ++i) {
    double m = -inf;
    for (int64_t j = 0; j < b.s; ++j) {
      double t = 0;
      for (int64_t x = 0; x < b.e; ++x)
        t += b.q[i * b.ldq + x] * b.k[j * b.ldk + x];
      t *= b.scale;
      if (b.mask) t = Masked(t, b.mask[i * b.s + j], b.kind);
      if (b.key_mask) t = Masked(t, b.key_mask[j], b.kind);
      if (b.causal && j > i) t = -inf;
      p[i * b.s + j] = t;
      m = std::max(m, t);
    }
    double sum = 0;
    for (int64_t j = 0; j < b.s; ++j) {
      double& t = p[i * b.s + j];
      t = m == -inf ? 0 : std::exp(t - m);
      sum += t;
    }
    for (int64_t j = 0; j < b.s; ++j)
      if (m != -inf) p[i * b.s + j] /= sum;
  }
  return p;
}

// out [l, ev] (row stride ldo) = p v.
inline void Output(const Block& b, const std::vector<double>& p, double* out,
                   int64_t ldo) {
  for (int64_t i = 0; i < b.l; ++i)
    for (int64_t y = 0; y < b.ev; ++y) {
      double t = 0;
      for (int64_t j = 0; j < b.s; ++j)
        t += p[i * b.s + j] * b.v[j * b.ldv + y];
      out[i * ldo + y] = t;
    }
}

// Given dout [l, ev] (stride ldo): dq += scale dS k, dk += scale dS^T q,
// dv += p^T dout, dS = p (dP - sum_j p dP), dP = dout v^T. Any of dq, dk,
// dv may be null; strides as q, k, v.
inline void Backward(const Block& b, const std::vector<double>& p,
                     const double* dout, int64_t ldo, double* dq, double* dk,
                     double* dv) {
  std::vector<double> ds(b.l * b.s);
  for (int64_t i = 0; i < b.l; ++i) {
    double dot = 0;
    for (int64_t j = 0; j < b.s; ++j) {
      double t = 0;
      for (int64_t y = 0; y < b.ev; ++y)
        t += dout[i * ldo + y] * b.v[j * b.ldv + y];
      ds[i * b.s + j] = t;
      dot += t * p[i * b.s + j];
    }
    for (int64_t j = 0; j < b.s; ++j)
      ds[i * b.s + j] = p[i * b.s + j] * (ds[i * b.s + j] - dot);
  }
  for (int64_t i = 0; i < b.l; ++i)
    for (int64_t j = 0; j < b.s; ++j) {
      const double g = b.scale * ds[i * b.s + j];
      for (int64_t x = 0; x < b.e; ++x) {
        if (dq) dq[i * b.ldq + x] += g * b.k[j * b.ldk + x];
        if (dk) dk[j * b.ldk + x] += g * b.q[i * b.ldq + x];
      }
      if (dv)
        for (int64_t y = 0; y < b.ev; ++y)
          dv[j * b.ldv + y] += p[i * b.s + j] * dout[i * ldo + y];
    }
}

// The block of batch bi of a scaled_dot_product_attention call.
inline Block SdpaBlock(const GenCall<double>& c, int64_t bi) {
  const Shape* sh = c.in_shape;
  const int o = sh[0].rank == 3 ? 1 : 0;
  const int64_t l = sh[0].dim[o], e = sh[0].dim[o + 1], s = sh[1].dim[o],
                ev = sh[2].dim[o + 1];
  Block b{.q = c.in[0] + bi * l * e,
          .k = c.in[1] + bi * s * e,
          .v = c.in[2] + bi * s * ev,
          .ldq = e,
          .ldk = e,
          .ldv = ev,
          .l = l,
          .s = s,
          .e = e,
          .ev = ev,
          .scale = 1 / std::sqrt(double(e))};
  const double scale = c.p[DLMATH_PARAM(scaled_dot_product_attention, scale)];
  if (scale > 0) b.scale = scale;
  if (c.in[3]) b.mask = c.in[3] + (sh[3].rank == 3 ? bi * l * s : 0);
  b.kind = static_cast<int>(
      c.p[DLMATH_PARAM(scaled_dot_product_attention, mask_kind)]);
  b.causal = c.p[DLMATH_PARAM(scaled_dot_product_attention, is_causal)] != 0;
  return b;
}

// Linear map y [rows, n] = x [rows, n] W^T + bias (W [n, n] a row block of
// a stacked weight, bias may be null).
inline std::vector<double> Linear(const double* x, const double* w,
                                  const double* bias, int64_t rows, int64_t n) {
  std::vector<double> y(rows * n);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t a = 0; a < n; ++a) {
      double t = bias ? bias[a] : 0;
      for (int64_t x2 = 0; x2 < n; ++x2) t += x[r * n + x2] * w[a * n + x2];
      y[r * n + a] = t;
    }
  return y;
}

// Backward of Linear: dx += dy W, dw += dy^T x, db += colsum(dy).
inline void LinearBackward(const double* x, const double* w,
                           const std::vector<double>& dy, int64_t rows,
                           int64_t n, double* dx, double* dw, double* db) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t a = 0; a < n; ++a) {
      const double g = dy[r * n + a];
      if (db) db[a] += g;
      for (int64_t x2 = 0; x2 < n; ++x2) {
        if (dx) dx[r * n + x2] += g * w[a * n + x2];
        if (dw) dw[a * n + x2] += g * x[r * n + x2];
      }
    }
}

// The forward of multi_head_attention for batch element bi (query [B?, L,
// E]: B = 1 when unbatched): projections, per-head probabilities and the
// concatenated head outputs. Masks: attn_mask [l, s] or [B h, l, s]
// (input 7), key_padding_mask [B?, s] (input 8); boolean ones hide nonzero
// entries, as nn.MultiheadAttention.
struct Mha {
  int64_t l, s, e, h, hd;
  const double *query, *key, *value;  // this batch element's rows
  std::vector<double> q, k, v, o;
  std::vector<std::vector<double>> p;  // per head [l, s]
  const double* attn_mask = nullptr;
  bool mask_per_head = false;
  const double* key_padding_mask = nullptr;
  int kind = 0;
  bool causal = false;
  Block Head(int64_t hh) const {
    Block b{.q = q.data() + hh * hd,
            .k = k.data() + hh * hd,
            .v = v.data() + hh * hd,
            .ldq = e,
            .ldk = e,
            .ldv = e,
            .l = l,
            .s = s,
            .e = hd,
            .ev = hd,
            .scale = 1 / std::sqrt(double(hd))};
    if (attn_mask) b.mask = attn_mask + (mask_per_head ? hh * l * s : 0);
    b.key_mask = key_padding_mask;
    b.kind = kind;
    b.causal = causal;
    return b;
  }
};
// Batch size of a multi_head_attention call (1 when unbatched).
inline int64_t MhaBatch(const GenCall<double>& c) {
  return c.in_shape[0].rank == 3 ? c.in_shape[0].dim[0] : 1;
}
inline Mha MhaForward(const GenCall<double>& c, int64_t bi) {
  Mha m;
  const int o = c.in_shape[0].rank == 3 ? 1 : 0;
  m.l = c.in_shape[0][o];
  m.e = c.in_shape[0][o + 1];
  m.s = c.in_shape[1][o];
  m.h =
      static_cast<int64_t>(c.p[DLMATH_PARAM(multi_head_attention, num_heads)]);
  m.mask_per_head = c.in[7] && c.in_shape[7].rank == 3;
  if (c.in[7])
    m.attn_mask = c.in[7] + (m.mask_per_head ? bi * m.h * m.l * m.s : 0);
  if (c.in[8]) m.key_padding_mask = c.in[8] + bi * m.s;
  m.kind = c.p[DLMATH_PARAM(multi_head_attention, mask_kind)] == 0 ? 0 : 2;
  m.causal = c.p[DLMATH_PARAM(multi_head_attention, is_causal)] != 0;
  m.hd = m.e / m.h;
  const int64_t e = m.e;
  m.query = c.in[0] + bi * m.l * e;
  m.key = c.in[1] + bi * m.s * e;
  m.value = c.in[2] + bi * m.s * e;
  const double* w = c.in[3];
  const double* bias = c.in[4];
  m.q = Linear(m.query, w, bias, m.l, e);
  m.k = Linear(m.key, w + e * e, bias ? bias + e : nullptr, m.s, e);
  m.v = Linear(m.value, w + 2 * e * e, bias ? bias + 2 * e : nullptr, m.s, e);
  m.o.assign(m.l * e, 0);
  for (int64_t hh = 0; hh < m.h; ++hh) {
    const Block b = m.Head(hh);
    m.p.push_back(Probs(b));
    Output(b, m.p.back(), m.o.data() + hh * m.hd, e);
  }
  return m;
}

}  // namespace attention

// scaled_dot_product_attention: out = softmax(scale q k^T + mask) v per
// batch; aux weights = the probabilities.
inline void ScaledDotProductAttentionForward(const GenCall<double>& c) {
  const int64_t nb = c.in_shape[0].rank == 3 ? c.in_shape[0].dim[0] : 1;
  for (int64_t bi = 0; bi < nb; ++bi) {
    const attention::Block b = attention::SdpaBlock(c, bi);
    const std::vector<double> p = attention::Probs(b);
    attention::Output(b, p, c.out + bi * b.l * b.ev, b.ev);
    if (c.aux && c.aux[0])
      for (int64_t i = 0; i < b.l * b.s; ++i)
        c.aux[0][bi * b.l * b.s + i] = p[i];
  }
}
inline void ScaledDotProductAttentionBackward(const GenCall<double>& c) {
  const int64_t nb = c.in_shape[0].rank == 3 ? c.in_shape[0].dim[0] : 1;
  for (int64_t bi = 0; bi < nb; ++bi) {
    const attention::Block b = attention::SdpaBlock(c, bi);
    const std::vector<double> p = attention::Probs(b);
    attention::Backward(b, p, c.dy + bi * b.l * b.ev, b.ev,
                        c.din[0] ? c.din[0] + bi * b.l * b.e : nullptr,
                        c.din[1] ? c.din[1] + bi * b.s * b.e : nullptr,
                        c.din[2] ? c.din[2] + bi * b.s * b.ev : nullptr);
  }
}

// multi_head_attention: PyTorch's packed in-projection, per-head scaled
// dot-product attention with the masks, out-projection, for each batch
// element; params num_heads, need_weights, average_attn_weights, is_causal,
// mask_kind.
inline void MultiHeadAttentionForward(const GenCall<double>& c) {
  const bool average =
      c.p[DLMATH_PARAM(multi_head_attention, average_attn_weights)] != 0;
  const bool weights =
      c.aux && c.aux[0] &&
      c.p[DLMATH_PARAM(multi_head_attention, need_weights)] != 0;
  for (int64_t bi = 0; bi < attention::MhaBatch(c); ++bi) {
    const attention::Mha m = attention::MhaForward(c, bi);
    const int64_t ls = m.l * m.s;
    const std::vector<double> out =
        attention::Linear(m.o.data(), c.in[5], c.in[6], m.l, m.e);
    for (size_t i = 0; i < out.size(); ++i) c.out[bi * m.l * m.e + i] = out[i];
    if (!weights) continue;
    double* aux = c.aux[0] + bi * (average ? 1 : m.h) * ls;
    for (int64_t hh = 0; hh < m.h; ++hh)
      for (int64_t i = 0; i < ls; ++i) {
        if (!average)
          aux[hh * ls + i] = m.p[hh][i];
        else
          aux[i] = (hh ? aux[i] : 0) + m.p[hh][i] / m.h;
      }
  }
}
inline void MultiHeadAttentionBackward(const GenCall<double>& c) {
  for (int64_t bi = 0; bi < attention::MhaBatch(c); ++bi) {
    const attention::Mha m = attention::MhaForward(c, bi);
    const int64_t e = m.e;
    const std::vector<double> dy(c.dy + bi * m.l * e,
                                 c.dy + (bi + 1) * m.l * e);
    std::vector<double> dout(m.l * e, 0);
    attention::LinearBackward(m.o.data(), c.in[5], dy, m.l, e, dout.data(),
                              c.din[5], c.din[6]);
    std::vector<double> dq(m.l * e, 0), dk(m.s * e, 0), dv(m.s * e, 0);
    for (int64_t hh = 0; hh < m.h; ++hh) {
      const attention::Block b = m.Head(hh);
      attention::Backward(b, m.p[hh], dout.data() + hh * m.hd, e,
                          dq.data() + hh * m.hd, dk.data() + hh * m.hd,
                          dv.data() + hh * m.hd);
    }
    const auto at = [&](int k, int64_t offset) {
      return c.din[k] ? c.din[k] + offset : nullptr;
    };
    attention::LinearBackward(m.query, c.in[3], dq, m.l, e, at(0, bi * m.l * e),
                              at(3, 0), at(4, 0));
    attention::LinearBackward(m.key, c.in[3] + e * e, dk, m.s, e,
                              at(1, bi * m.s * e), at(3, e * e), at(4, e));
    attention::LinearBackward(m.value, c.in[3] + 2 * e * e, dv, m.s, e,
                              at(2, bi * m.s * e), at(3, 2 * e * e),
                              at(4, 2 * e));
  }
}

// sinusoidal: PE(pos, 2i) = sin(pos / base^(2i/d)), PE(pos, 2i+1) = cos(...).
inline void SinusoidalForward(const GenCall<double>& c) {
  const int64_t len = c.out_shape[0], dm = c.out_shape[1];
  for (int64_t pos = 0; pos < len; ++pos)
    for (int64_t j = 0; j < dm; ++j) {
      const double a = pos / std::pow(c.p[DLMATH_PARAM(sinusoidal, base)],
                                      double(j - j % 2) / dm);
      c.out[pos * dm + j] = j % 2 ? std::cos(a) : std::sin(a);
    }
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_ATTENTION_H_
