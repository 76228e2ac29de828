// The engine's attention layer: batched multi-head self-attention over
// [R = B*T, C] rows grouped in sequences of T positions, with the causal
// and key-padding masks. Every product runs through Gemm (gemm.h): the
// input projection as one [R, 3C] product, then per (sequence, head) QKᵀ
// and PV on strided views of it (leading dimensions, no copies), the output
// projection as one product. Legend: B sequences, T positions, C width, H
// heads, d = C / H, R the rows of the pass (B * T when every sequence runs
// the whole block).
//
// Sequence b is rows [offsets[b], offsets[b + 1]) of the pass: T positions,
// the block or fewer (a packed pass keeps the positions each sequence
// needs), T per sequence. The weights keep the block's layout [B, H, block,
// block], zero outside each sequence's T x T (what AttentionWeights shows).
//
// Forward saves qkv [R, 3C], the weights P [B, H, T, T] and the heads'
// outputs O [R, C]. Backward:
//   dWo += dyᵀ O, dbo += Σ dy, dO = dy Wo;
//   per head: dV = Pᵀ dO, dP = dO Vᵀ, dS = s P ⊙ (dP - rowsum(dP ⊙ P)),
//   dQ = dS K, dK = dSᵀ Q (s = 1/sqrt(d));
//   dWqkv += dqkvᵀ x, dbqkv += Σ dqkv, dx += dqkv Wqkv.
#include "core/src/ops/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/src/gemm.h"
#include "core/src/model/layers.h"
#include "core/src/model/stats.h"

namespace dlmath::model {
namespace {

// Softmax of row s[0, n) in place after scaling by `scale`, hiding the
// keys where hide[j] != 0 (hide may be null); entries [n, cols) are zeroed
// (the causal part). A row with every key hidden becomes zeros.
void MaskedSoftmaxRow(float* s, int64_t n, int64_t cols, float scale,
                      const float* hide) {
  AttentionSoftmaxRow(s, nullptr, hide, n, cols, scale, kHideNonzero);
}

// g = scale * y ⊙ (g - <g, y>) over a row (g: dL/dP in, dL/dS out).
void SoftmaxBackwardRow(const float* y, float* g, int64_t n, float scale) {
  AttentionSoftmaxBackwardRow(y, g, n, scale);
}

class AttentionLayer : public Layer {
 public:
  using Layer::Layer;

  void Declare(AddTensor add, void* ctx) override {
    const int64_t c = spec_.in_width;
    const std::string& p = spec_.path;
    const auto param = TensorKind::kParameter;
    w_in_ = {add(ctx, p + ".in_proj_weight", Shape{3 * c, c}, param),
             3 * c * c};
    if (spec_.bias)
      b_in_ = {add(ctx, p + ".in_proj_bias", Shape{3 * c}, param), 3 * c};
    w_out_ = {add(ctx, p + ".out_proj.weight", Shape{c, c}, param), c * c};
    if (spec_.bias)
      b_out_ = {add(ctx, p + ".out_proj.bias", Shape{c}, param), c};
  }

  Status Init(float* params, float* buffers, uint32_t seed) override {
    const int64_t c = spec_.in_width;
    InitSpec in = spec_.init, out = spec_.init;
    if (spec_.init.is_default) {
      // nn.MultiheadAttention's: xavier_uniform in_proj; out_proj keeps
      // nn.Linear's init (kaiming_uniform, a = sqrt(5)).
      const OpInfo& xu = Op(OpId::xavier_uniform);
      in = InitSpec{&xu, false, {}};
      for (int k = 0; k < xu.num_params(); ++k) in.p[k] = xu.params[k].def;
    }
    if (Status s = InitWeight(in, ParamSeed(seed, w_in_.offset), 3 * c, c,
                              params + w_in_.offset);
        !s.ok())
      return s;
    if (Status s = InitWeight(out, ParamSeed(seed, w_out_.offset), c, c,
                              params + w_out_.offset);
        !s.ok())
      return s;
    if (spec_.bias) {
      std::fill(params + b_in_.offset, params + b_in_.offset + 3 * c, 0.0f);
      std::fill(params + b_out_.offset, params + b_out_.offset + c, 0.0f);
    }
    return {};
  }

  void Plan(ActivationArena* acts) override {
    const int64_t c = spec_.in_width, t = spec_.block, h = spec_.heads;
    qkv_ = acts->Add(3 * c, 0);
    weights_ = acts->Add(h * t, 0);
    heads_ = acts->Add(c, 0);
    dqkv_ = acts->Add(3 * c, 0);
    dheads_ = acts->Add(c, 0);
    dscores_ = acts->Add(0, t * t);
  }

  Status Resize(int64_t rows) override {
    const size_t c = spec_.in_width, t = spec_.block, d = c / spec_.heads;
    const size_t r = rows;
    const bool ok = GemmReserve(r, 3 * c, c) && GemmReserve(3 * c, c, r) &&
                    GemmReserve(r, c, 3 * c) && GemmReserve(r, c, c) &&
                    GemmReserve(c, c, r) && GemmReserve(t, t, d) &&
                    GemmReserve(t, d, t);
    if (ok) return {};
    return Status(ErrorCode::kOutOfMemory, "", spec_.where,
                  spec_.where + ": out of memory for the matrix products of " +
                      std::to_string(rows) + " rows");
  }

  void Forward(const Pass& p, const float* x, float* y) override {
    const int64_t c = spec_.in_width, h = spec_.heads, tb = spec_.block;
    const int64_t d = c / h, r = p.rows;
    float* qkv = p.acts->Ptr(qkv_);
    float* w = p.acts->Ptr(weights_);
    float* o = p.acts->Ptr(heads_);
    Gemm(Trans::kNo, Trans::kYes, r, 3 * c, c, x, c, p.params + w_in_.offset, c,
         qkv, 3 * c, false, spec_.bias ? p.params + b_in_.offset : nullptr);
    const float scale = static_cast<float>(1.0 / std::sqrt(double(d)));
    for (int64_t b = 0; b < p.seqs; ++b) {
      const int64_t at = p.offsets[b], t = p.offsets[b + 1] - at;
      const float* base = qkv + at * 3 * c;
      const float* hide =
          spec_.key_padding && p.key_padding ? p.key_padding + at : nullptr;
      for (int64_t head = 0; head < h; ++head) {
        const float* q = base + head * d;
        float* pw = w + (b * h + head) * tb * tb;
        Gemm(Trans::kNo, Trans::kYes, t, t, d, q, 3 * c, q + c, 3 * c, pw, tb,
             false);
        for (int64_t i = 0; i < t; ++i)
          MaskedSoftmaxRow(pw + i * tb, spec_.causal ? i + 1 : t, tb, scale,
                           hide);
        std::fill(pw + t * tb, pw + tb * tb, 0.0f);
        Gemm(Trans::kNo, Trans::kNo, t, d, t, pw, tb, q + 2 * c, 3 * c,
             o + at * c + head * d, c, false);
      }
    }
    Gemm(Trans::kNo, Trans::kYes, r, c, c, o, c, p.params + w_out_.offset, c, y,
         c, false, spec_.bias ? p.params + b_out_.offset : nullptr);
  }

  void Backward(const Pass& p, const float* x, const float* y, const float* dy,
                float* dx) override {
    const int64_t c = spec_.in_width, h = spec_.heads, tb = spec_.block;
    const int64_t d = c / h, r = p.rows;
    const float* qkv = p.acts->Ptr(qkv_);
    const float* w = p.acts->Ptr(weights_);
    const float* o = p.acts->Ptr(heads_);
    float* dqkv = p.acts->Ptr(dqkv_);
    float* dout = p.acts->Ptr(dheads_);
    float* ds = p.acts->Ptr(dscores_);
    Gemm(Trans::kYes, Trans::kNo, c, c, r, dy, c, o, c, p.grads + w_out_.offset,
         c, true);
    if (spec_.bias) AddColumnSums(dy, r, c, p.grads + b_out_.offset);
    Gemm(Trans::kNo, Trans::kNo, r, c, c, dy, c, p.params + w_out_.offset, c,
         dout, c, false);
    const float scale = static_cast<float>(1.0 / std::sqrt(double(d)));
    for (int64_t b = 0; b < p.seqs; ++b) {
      const int64_t at = p.offsets[b], t = p.offsets[b + 1] - at;
      const float* base = qkv + at * 3 * c;
      float* dbase = dqkv + at * 3 * c;
      for (int64_t head = 0; head < h; ++head) {
        const float* q = base + head * d;
        float* dq = dbase + head * d;
        const float* pw = w + (b * h + head) * tb * tb;
        const float* dob = dout + at * c + head * d;
        // dV = Pᵀ dO; dP = dO Vᵀ, then dS in place.
        Gemm(Trans::kYes, Trans::kNo, t, d, t, pw, tb, dob, c, dq + 2 * c,
             3 * c, false);
        Gemm(Trans::kNo, Trans::kYes, t, t, d, dob, c, q + 2 * c, 3 * c, ds, t,
             false);
        for (int64_t i = 0; i < t; ++i)
          SoftmaxBackwardRow(pw + i * tb, ds + i * t, spec_.causal ? i + 1 : t,
                             scale);
        if (spec_.causal)  // the hidden part of dP must not reach dQ, dK
          for (int64_t i = 0; i < t; ++i)
            std::fill(ds + i * t + i + 1, ds + (i + 1) * t, 0.0f);
        Gemm(Trans::kNo, Trans::kNo, t, d, t, ds, t, q + c, 3 * c, dq, 3 * c,
             false);
        Gemm(Trans::kYes, Trans::kNo, t, d, t, ds, t, q, 3 * c, dq + c, 3 * c,
             false);
      }
    }
    Gemm(Trans::kYes, Trans::kNo, 3 * c, c, r, dqkv, 3 * c, x, c,
         p.grads + w_in_.offset, c, true);
    if (spec_.bias) AddColumnSums(dqkv, r, 3 * c, p.grads + b_in_.offset);
    if (dx)
      Gemm(Trans::kNo, Trans::kNo, r, c, 3 * c, dqkv, 3 * c,
           p.params + w_in_.offset, c, dx, c, true);
  }

  const float* Weights(const Pass& p) const { return p.acts->Ptr(weights_); }

 private:
  TensorSlot w_in_, b_in_, w_out_, b_out_;
  int qkv_ = -1, weights_ = -1, heads_ = -1, dqkv_ = -1, dheads_ = -1,
      dscores_ = -1;
};

}  // namespace

std::unique_ptr<Layer> MakeAttentionLayer(const LayerSpec& spec, int index) {
  return std::make_unique<AttentionLayer>(spec, index);
}

const float* AttentionLayerWeights(const Layer& layer, const Pass& p) {
  return static_cast<const AttentionLayer&>(layer).Weights(p);
}

}  // namespace dlmath::model
