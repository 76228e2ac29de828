// Attention and positional encoding: General-form ops. Matrix products are
// Eigen (Eigen::Map over the caller's buffers, row-major, no copies); the
// row-wise masking, softmax and softmax backward between them are Highway
// kernels (attention-inl.h). Legend: B batch (absent at rank 2), L queries,
// S keys, E query/key width, Ev value width, H heads, hd = E / H.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/attention.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/attention-inl.h"
// clang-format on

#if HWY_ONCE
#include "core/src/ops/attention.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"

namespace dlmath {
#define DLMATH_IF_attention(...) __VA_ARGS__
#include "core/src/ops/export.h"

DLMATH_HWY_EXPORT(AttentionSoftmaxRow)
DLMATH_HWY_EXPORT(AttentionSoftmaxBackwardRow)

void AttentionSoftmaxRow(float* s, const float* mask, const float* key_mask,
                         size_t n, size_t cols, float scale, int kind) {
  DLMATH_DISPATCH(AttentionSoftmaxRow)(s, mask, key_mask, n, cols, scale, kind);
}
void AttentionSoftmaxBackwardRow(const float* y, float* g, size_t n,
                                 float scale) {
  DLMATH_DISPATCH(AttentionSoftmaxBackwardRow)(y, g, n, scale);
}

namespace {

// Row by row over a block of raw scores p [l, s] (= q k^T): P = softmax(
// scale p + masks), mask [l, s] and key_mask [s] may be null; causal:
// query i sees keys j <= i.
void SoftmaxRows(float* p, const float* mask, const float* key_mask, int64_t l,
                 int64_t s, float scale, int kind, bool causal) {
  for (int64_t i = 0; i < l; ++i)
    AttentionSoftmaxRow(p + i * s, mask ? mask + i * s : nullptr, key_mask,
                        causal ? std::min(i + 1, s) : s, s, scale, kind);
}
// g [l, s] = scale P * (g - rowsum(g * P)) in place: dL/dP in, dL/d(q k^T)
// out. Hidden entries have P = 0, so they get 0.
void SoftmaxBackwardRows(const float* p, float* g, int64_t l, int64_t s,
                         float scale) {
  for (int64_t i = 0; i < l; ++i)
    AttentionSoftmaxBackwardRow(p + i * s, g + i * s, s, scale);
}

using MatR =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Mat = Eigen::Map<MatR>;
using ConstMat = Eigen::Map<const MatR>;
using ConstRow = Eigen::Map<const Eigen::RowVectorXf>;
using Row = Eigen::Map<Eigen::RowVectorXf>;

std::string Num(int64_t v) { return std::to_string(v); }

Status BadShape(const std::string& op, const char* input,
                const std::string& want, const std::string& why,
                const Shape& got) {
  return Status(ErrorCode::kBadShape, op, input,
                "op '" + op + "': input '" + input + "' must have shape " +
                    want + " (" + why + "), got " + got.str());
}

// Dimensions of a scaled_dot_product_attention call.
struct SdpaDims {
  int64_t b, l, s, e, ev;
};
SdpaDims SdpaDimsOf(const Shape* in) {
  const int o = in[0].rank == 3 ? 1 : 0;
  return {o ? in[0].dim[0] : 1, in[0].dim[o], in[1].dim[o], in[0].dim[o + 1],
          in[2].dim[o + 1]};
}
// scale param 0 means 1 / sqrt(E), PyTorch's default.
float SdpaScale(const double* p, int64_t e) {
  const double scale = p[DLMATH_PARAM(scaled_dot_product_attention, scale)];
  return static_cast<float>(scale > 0 ? scale : 1.0 / std::sqrt(double(e)));
}

}  // namespace

// ---------------------------------------------------------------------------
// scaled_dot_product_attention. query [B?, L, E], key [B?, S, E], value
// [B?, S, Ev], attn_mask [L, S] or [B, L, S] (optional, constant) ->
// out [B?, L, Ev], aux weights [B?, L, S]. Per batch: P = softmax(scale q k^T
// + mask) row by row (Highway), out = P v (Eigen). Params: is_causal,
// scale (0: 1/sqrt(E)), mask_kind (additive, or boolean: 0 masks out).
// Error: the GEMMs' float rounding (~E ulp of sum |q k| in the scores, which
// the softmax passes on as a relative error of P) plus 3e-7 from the
// softmax. Workspace: P [B, L, S] (saved for backward) and dP [L, S].
// Backward: dv += P^T dy; dP = dy v^T; dS = P * (dP - <dP, P>);
// dq += scale dS k; dk += scale dS^T q.

Status ScaledDotProductAttentionShape(const ShapeCtx& c) {
  const std::string op(c.op);
  const Shape& q = c.in[0];
  const Shape& k = c.in[1];
  const Shape& v = c.in[2];
  const bool batched = q.rank == 3;
  const SdpaDims d = SdpaDimsOf(c.in);
  const std::string b = batched ? Num(d.b) + ", " : "";
  const std::string qs = "query " + q.str();
  if (k.rank != q.rank || (batched && k.dim[0] != d.b) ||
      k.dim[k.rank - 1] != d.e)
    return BadShape(op, "key", "[" + b + "S, " + Num(d.e) + "]",
                    "keys as wide as the queries of " + qs, k);
  if (v.rank != q.rank || (batched && v.dim[0] != d.b) ||
      v.dim[v.rank - 2] != d.s)
    return BadShape(op, "value", "[" + b + Num(d.s) + ", Ev]",
                    "one value per key of key " + k.str(), v);
  if (c.data[3]) {
    const Shape& m = c.in[3];
    const bool ok = (m.rank == 2 && m.dim[0] == d.l && m.dim[1] == d.s) ||
                    (m.rank == 3 && batched && m.dim[0] == d.b &&
                     m.dim[1] == d.l && m.dim[2] == d.s);
    if (!ok)
      return BadShape(
          op, "attn_mask",
          "[" + Num(d.l) + ", " + Num(d.s) + "]" +
              (batched ? " or [" + b + Num(d.l) + ", " + Num(d.s) + "]" : ""),
          "one entry per query and key", m);
  }
  *c.out = batched ? Shape{d.b, d.l, d.ev} : Shape{d.l, d.ev};
  c.aux[0] = batched ? Shape{d.b, d.l, d.s} : Shape{d.l, d.s};
  *c.workspace = (d.b + 1) * d.l * d.s;
  return {};
}

void ScaledDotProductAttentionForward(const GenCall<float>& c) {
  const SdpaDims d = SdpaDimsOf(c.in_shape);
  const float scale = SdpaScale(c.p, d.e);
  const bool causal =
      c.p[DLMATH_PARAM(scaled_dot_product_attention, is_causal)] != 0;
  const int kind =
      c.p[DLMATH_PARAM(scaled_dot_product_attention, mask_kind)] == 0
          ? kAddMask
          : kKeepNonzero;
  const float* mask = c.in[3];
  const bool mask_batched = mask && c.in_shape[3].rank == 3;
  for (int64_t b = 0; b < d.b; ++b) {
    const ConstMat q(c.in[0] + b * d.l * d.e, d.l, d.e);
    const ConstMat k(c.in[1] + b * d.s * d.e, d.s, d.e);
    const ConstMat v(c.in[2] + b * d.s * d.ev, d.s, d.ev);
    float* pb = c.ws + b * d.l * d.s;
    Mat p(pb, d.l, d.s);
    p.noalias() = q * k.transpose();
    SoftmaxRows(pb, mask ? mask + (mask_batched ? b * d.l * d.s : 0) : nullptr,
                nullptr, d.l, d.s, scale, kind, causal);
    Mat(c.out + b * d.l * d.ev, d.l, d.ev).noalias() = p * v;
  }
  if (c.aux && c.aux[0])
    std::memcpy(c.aux[0], c.ws, d.b * d.l * d.s * sizeof(float));
}

void ScaledDotProductAttentionBackward(const GenCall<float>& c) {
  const SdpaDims d = SdpaDimsOf(c.in_shape);
  const float scale = SdpaScale(c.p, d.e);
  float* dp = c.ws + d.b * d.l * d.s;
  for (int64_t b = 0; b < d.b; ++b) {
    const ConstMat q(c.in[0] + b * d.l * d.e, d.l, d.e);
    const ConstMat k(c.in[1] + b * d.s * d.e, d.s, d.e);
    const ConstMat v(c.in[2] + b * d.s * d.ev, d.s, d.ev);
    const float* pb = c.ws + b * d.l * d.s;
    const ConstMat p(pb, d.l, d.s);
    const ConstMat dy(c.dy + b * d.l * d.ev, d.l, d.ev);
    if (c.din[2])
      Mat(c.din[2] + b * d.s * d.ev, d.s, d.ev).noalias() += p.transpose() * dy;
    if (!c.din[0] && !c.din[1]) continue;
    Mat ds(dp, d.l, d.s);
    ds.noalias() = dy * v.transpose();
    SoftmaxBackwardRows(pb, dp, d.l, d.s, scale);
    if (c.din[0]) Mat(c.din[0] + b * d.l * d.e, d.l, d.e).noalias() += ds * k;
    if (c.din[1])
      Mat(c.din[1] + b * d.s * d.e, d.s, d.e).noalias() += ds.transpose() * q;
  }
}

// ---------------------------------------------------------------------------
// multi_head_attention (PyTorch's nn.MultiheadAttention with batch_first,
// no dropout). query [B?, L, E], key [B?, S, E], value [B?, S, E] (B absent:
// one unbatched sequence, B = 1 below), in_proj_weight [3E, E] (rows: W_q,
// W_k, W_v), in_proj_bias [3E]?, out_proj_weight [E, E], out_proj_bias
// [E]?, attn_mask [L, S] (shared by every batch and head) or [B H, L, S]
// (batch b, head h at b H + h; [H, L, S] unbatched)?, key_padding_mask
// [B?, S]? -> out [B?, L, E]; aux weights [B?, L, S] (averaged over heads),
// [B?, H, L, S] (average_attn_weights off) or [0] (need_weights off).
// Q = query W_q^T + b_q (K, V likewise) over all B L rows at once; head h
// of batch b works on columns [h hd, (h + 1) hd) of that batch's rows:
// P_bh = softmax(Q_bh K_bh^T / sqrt(hd) + masks), O_bh = P_bh V_bh;
// out = O W_o^T + b_o. The masks follow nn.MultiheadAttention: mask_kind
// 'additive' adds them to the scores, 'boolean' hides the keys where they
// are nonzero (True); is_causal hides key j > query i. A query with every
// key hidden gets P = 0 (so its output row is b_o). The masks are
// constants: backward is the unmasked one through the saved P, whose hidden
// entries are 0. Workspace: Q, K, V, O and P [B, H, L, S] (saved), then dO,
// dQ, dK, dV and dP [L, S] (backward scratch).

namespace {
struct MhaDims {
  int64_t b, l, s, e, h, hd;
};
MhaDims MhaDimsOf(const Shape* in, const double* p) {
  const int64_t h =
      static_cast<int64_t>(p[DLMATH_PARAM(multi_head_attention, num_heads)]);
  const int o = in[0].rank == 3 ? 1 : 0;
  const int64_t e = in[0].dim[o + 1];
  return {o ? in[0].dim[0] : 1, in[0].dim[o], in[1].dim[o], e, h, e / h};
}
// Offsets into the workspace.
struct MhaWs {
  float *q, *k, *v, *o, *p, *dout, *dq, *dk, *dv, *ds;
};
MhaWs MhaWsOf(float* ws, const MhaDims& d) {
  const int64_t bl = d.b * d.l, bs = d.b * d.s;
  MhaWs w;
  w.q = ws;
  w.k = w.q + bl * d.e;
  w.v = w.k + bs * d.e;
  w.o = w.v + bs * d.e;
  w.p = w.o + bl * d.e;
  w.dout = w.p + d.b * d.h * d.l * d.s;
  w.dq = w.dout + bl * d.e;
  w.dk = w.dq + bl * d.e;
  w.dv = w.dk + bs * d.e;
  w.ds = w.dv + bs * d.e;
  return w;
}
// Input slots of the masks (registry order).
constexpr int kMhaAttnMask = 7, kMhaKeyPadding = 8;
}  // namespace

Status MultiHeadAttentionShape(const ShapeCtx& c) {
  const std::string op(c.op);
  const Shape& q = c.in[0];
  const bool batched = q.rank == 3;
  const MhaDims d = MhaDimsOf(c.in, c.p);
  const int64_t l = d.l, s = d.s, e = d.e, h = d.h;
  // "[B, " before a batched shape, and that shape.
  const std::string b = batched ? Num(d.b) + ", " : "";
  const auto rows = [&](int64_t n, int64_t w) {
    return batched ? Shape{d.b, n, w} : Shape{n, w};
  };
  const std::string qs = "query " + q.str();
  const Shape& k = c.in[1];
  if (k.rank != q.rank || (batched && k.dim[0] != d.b) ||
      k.dim[k.rank - 1] != e)
    return BadShape(op, "key", "[" + b + "S, " + Num(e) + "]",
                    batched ? "as many sequences as, and rows as wide as, " + qs
                            : "rows as wide as those of " + qs,
                    k);
  if (!(c.in[2] == rows(s, e)))
    return BadShape(op, "value", "[" + b + Num(s) + ", " + Num(e) + "]",
                    "one row of width E per key of key " + k.str(), c.in[2]);
  if (!(c.in[3] == Shape{3 * e, e}))
    return BadShape(op, "in_proj_weight",
                    "[" + Num(3 * e) + ", " + Num(e) + "]",
                    "W_q, W_k, W_v stacked, E = " + Num(e), c.in[3]);
  if (c.data[4] && !(c.in[4] == Shape{3 * e}))
    return BadShape(op, "in_proj_bias", "[" + Num(3 * e) + "]",
                    "b_q, b_k, b_v stacked, E = " + Num(e), c.in[4]);
  if (!(c.in[5] == Shape{e, e}))
    return BadShape(op, "out_proj_weight", "[" + Num(e) + ", " + Num(e) + "]",
                    "E = " + Num(e), c.in[5]);
  if (c.data[6] && !(c.in[6] == Shape{e}))
    return BadShape(op, "out_proj_bias", "[" + Num(e) + "]", "E = " + Num(e),
                    c.in[6]);
  if (e % h != 0)
    return Status(ErrorCode::kBadValue, op, "num_heads",
                  "op '" + op + "': param 'num_heads' = " + Num(h) +
                      " must divide the embedding width E = " + Num(e) + " (" +
                      qs + ")");
  if (c.data[kMhaAttnMask]) {
    const Shape& m = c.in[kMhaAttnMask];
    if (!(m == Shape{l, s}) && !(m == Shape{d.b * h, l, s}))
      return BadShape(op, "attn_mask",
                      "[" + Num(l) + ", " + Num(s) + "] or [" + Num(d.b * h) +
                          ", " + Num(l) + ", " + Num(s) + "]",
                      batched ? "one entry per query and key, or per batch "
                                "and head (B * H), query and key"
                              : "one entry per query and key, or per head, "
                                "query and key",
                      m);
  }
  const Shape padding = batched ? Shape{d.b, s} : Shape{s};
  if (c.data[kMhaKeyPadding] && !(c.in[kMhaKeyPadding] == padding))
    return BadShape(op, "key_padding_mask", padding.str(),
                    batched ? "one entry per sequence and key of key " + k.str()
                            : "one entry per key of key " + k.str(),
                    c.in[kMhaKeyPadding]);
  *c.out = rows(l, e);
  c.aux[0] =
      c.p[DLMATH_PARAM(multi_head_attention, need_weights)] == 0 ? Shape{0}
      : c.p[DLMATH_PARAM(multi_head_attention, average_attn_weights)] != 0
          ? rows(l, s)
      : batched ? Shape{d.b, h, l, s}
                : Shape{h, l, s};
  *c.workspace = 4 * d.b * (l + s) * e + d.b * h * l * s + l * s;
  return {};
}

void MultiHeadAttentionForward(const GenCall<float>& c) {
  const MhaDims d = MhaDimsOf(c.in_shape, c.p);
  const MhaWs w = MhaWsOf(c.ws, d);
  const int64_t bl = d.b * d.l, bs = d.b * d.s, ls = d.l * d.s;
  const ConstMat wi(c.in[3], 3 * d.e, d.e);
  Mat q(w.q, bl, d.e), k(w.k, bs, d.e), v(w.v, bs, d.e), o(w.o, bl, d.e);
  q.noalias() = ConstMat(c.in[0], bl, d.e) * wi.topRows(d.e).transpose();
  k.noalias() =
      ConstMat(c.in[1], bs, d.e) * wi.middleRows(d.e, d.e).transpose();
  v.noalias() = ConstMat(c.in[2], bs, d.e) * wi.bottomRows(d.e).transpose();
  if (const float* bi = c.in[4]) {
    q.rowwise() += ConstRow(bi, d.e);
    k.rowwise() += ConstRow(bi + d.e, d.e);
    v.rowwise() += ConstRow(bi + 2 * d.e, d.e);
  }
  const bool causal = c.p[DLMATH_PARAM(multi_head_attention, is_causal)] != 0;
  const int kind = c.p[DLMATH_PARAM(multi_head_attention, mask_kind)] == 0
                       ? kAddMask
                       : kHideNonzero;
  const float* attn_mask = c.in[kMhaAttnMask];
  const float* key_padding = c.in[kMhaKeyPadding];
  const bool mask_per_head = attn_mask && c.in_shape[kMhaAttnMask].rank == 3;
  const float scale = static_cast<float>(1.0 / std::sqrt(double(d.hd)));
  for (int64_t b = 0; b < d.b; ++b)
    for (int64_t h = 0; h < d.h; ++h) {
      const int64_t bh = b * d.h + h, c0 = h * d.hd;
      float* ph = w.p + bh * ls;
      Mat p(ph, d.l, d.s);
      p.noalias() = q.block(b * d.l, c0, d.l, d.hd) *
                    k.block(b * d.s, c0, d.s, d.hd).transpose();
      SoftmaxRows(
          ph, attn_mask ? attn_mask + (mask_per_head ? bh * ls : 0) : nullptr,
          key_padding ? key_padding + b * d.s : nullptr, d.l, d.s, scale, kind,
          causal);
      o.block(b * d.l, c0, d.l, d.hd).noalias() =
          p * v.block(b * d.s, c0, d.s, d.hd);
    }
  Mat out(c.out, bl, d.e);
  out.noalias() = o * ConstMat(c.in[5], d.e, d.e).transpose();
  if (c.in[6]) out.rowwise() += ConstRow(c.in[6], d.e);
  if (!c.aux || !c.aux[0] ||
      c.p[DLMATH_PARAM(multi_head_attention, need_weights)] == 0)
    return;
  if (c.p[DLMATH_PARAM(multi_head_attention, average_attn_weights)] == 0) {
    std::memcpy(c.aux[0], w.p, d.b * d.h * ls * sizeof(float));
    return;
  }
  for (int64_t b = 0; b < d.b; ++b) {
    const float* pb = w.p + b * d.h * ls;
    Eigen::Map<Eigen::ArrayXf> avg(c.aux[0] + b * ls, ls);
    avg = Eigen::Map<const Eigen::ArrayXf>(pb, ls);
    for (int64_t h = 1; h < d.h; ++h)
      avg += Eigen::Map<const Eigen::ArrayXf>(pb + h * ls, ls);
    avg *= 1.0f / static_cast<float>(d.h);
  }
}

// Accumulates into din[0..6] (any may be null).
void MultiHeadAttentionBackward(const GenCall<float>& c) {
  const MhaDims d = MhaDimsOf(c.in_shape, c.p);
  const MhaWs w = MhaWsOf(c.ws, d);
  const int64_t bl = d.b * d.l, bs = d.b * d.s, ls = d.l * d.s;
  const ConstMat query(c.in[0], bl, d.e), key(c.in[1], bs, d.e),
      value(c.in[2], bs, d.e), wi(c.in[3], 3 * d.e, d.e), wo(c.in[5], d.e, d.e),
      dy(c.dy, bl, d.e);
  const ConstMat q(w.q, bl, d.e), k(w.k, bs, d.e), v(w.v, bs, d.e),
      o(w.o, bl, d.e);
  if (c.din[6]) Row(c.din[6], d.e) += dy.colwise().sum();
  if (c.din[5]) Mat(c.din[5], d.e, d.e).noalias() += dy.transpose() * o;
  Mat dout(w.dout, bl, d.e), dq(w.dq, bl, d.e), dk(w.dk, bs, d.e),
      dv(w.dv, bs, d.e), ds(w.ds, d.l, d.s);
  dout.noalias() = dy * wo;
  const float scale = static_cast<float>(1.0 / std::sqrt(double(d.hd)));
  for (int64_t b = 0; b < d.b; ++b)
    for (int64_t h = 0; h < d.h; ++h) {
      const int64_t c0 = h * d.hd;
      const float* ph = w.p + (b * d.h + h) * ls;
      const ConstMat p(ph, d.l, d.s);
      const auto dout_bh = dout.block(b * d.l, c0, d.l, d.hd);
      dv.block(b * d.s, c0, d.s, d.hd).noalias() = p.transpose() * dout_bh;
      ds.noalias() = dout_bh * v.block(b * d.s, c0, d.s, d.hd).transpose();
      SoftmaxBackwardRows(ph, w.ds, d.l, d.s, scale);
      dq.block(b * d.l, c0, d.l, d.hd).noalias() =
          ds * k.block(b * d.s, c0, d.s, d.hd);
      dk.block(b * d.s, c0, d.s, d.hd).noalias() =
          ds.transpose() * q.block(b * d.l, c0, d.l, d.hd);
    }
  if (c.din[0]) Mat(c.din[0], bl, d.e).noalias() += dq * wi.topRows(d.e);
  if (c.din[1])
    Mat(c.din[1], bs, d.e).noalias() += dk * wi.middleRows(d.e, d.e);
  if (c.din[2]) Mat(c.din[2], bs, d.e).noalias() += dv * wi.bottomRows(d.e);
  if (c.din[3]) {
    Mat dwi(c.din[3], 3 * d.e, d.e);
    dwi.topRows(d.e).noalias() += dq.transpose() * query;
    dwi.middleRows(d.e, d.e).noalias() += dk.transpose() * key;
    dwi.bottomRows(d.e).noalias() += dv.transpose() * value;
  }
  if (c.din[4]) {
    Row(c.din[4], d.e) += dq.colwise().sum();
    Row(c.din[4] + d.e, d.e) += dk.colwise().sum();
    Row(c.din[4] + 2 * d.e, d.e) += dv.colwise().sum();
  }
}

// ---------------------------------------------------------------------------
// sinusoidal. shape [2] = (max_len, d_model), integers >= 1 -> PE [max_len,
// d_model]: PE(pos, 2i) = sin(pos w_i), PE(pos, 2i + 1) = cos(pos w_i),
// w_i = base^(-2i / d_model); an odd d_model ends on a sine column. The
// angles and their sin / cos are taken in double, then rounded once: a
// float angle pos w_i would be off by ~pos * 6e-8 rad (PyTorch's float32
// recipe is, by 1e-4 at pos ~ 1000). Scalar: libm's double sin / cos, which
// Highway 1.0.3 has no vector form of (and wasm SIMD no double lanes).

Status SinusoidalShape(const ShapeCtx& c) {
  const std::string op(c.op);
  if (!(c.in[0] == Shape{2}))
    return BadShape(op, "shape", "[2]", "the table's [max_len, d_model]",
                    c.in[0]);
  const float* v = c.data[0];
  for (int k = 0; k < 2; ++k) {
    if (v[k] >= 1 && v[k] <= static_cast<float>(kMaxElements)) continue;
    char got[32];
    std::snprintf(got, sizeof got, "%.9g", v[k]);
    return Status(ErrorCode::kBadValue, op, "shape",
                  "op '" + op + "': input 'shape' must hold [max_len, " +
                      "d_model], each an integer from 1 to " +
                      Num(kMaxElements) + "; " + (k ? "d_model" : "max_len") +
                      " is " + got);
  }
  *c.out = Shape{static_cast<int64_t>(v[0]), static_cast<int64_t>(v[1])};
  return {};
}

void SinusoidalForward(const GenCall<float>& c) {
  const int64_t len = c.out_shape[0], dm = c.out_shape[1];
  const double log_base = std::log(c.p[DLMATH_PARAM(sinusoidal, base)]);
  for (int64_t j = 0; j < dm; ++j) {
    const double w = std::exp(-static_cast<double>(j - j % 2) / dm * log_base);
    for (int64_t pos = 0; pos < len; ++pos) {
      const double a = static_cast<double>(pos) * w;
      c.out[pos * dm + j] =
          static_cast<float>(j % 2 ? std::cos(a) : std::sin(a));
    }
  }
}

}  // namespace dlmath
#endif  // HWY_ONCE
