// A float64 reference of a training-engine model, for gradient checks by
// central differences: the same layers evaluated by the registry's float64
// references (core/ref/, through each op's Impl) on double copies of the
// parameters, reading the model's structure (layers(), the parameter
// table). Sequence models too: the embedding, positional tables and
// attention written out here in double, the classifier head and the
// combined loss L2 + lambda L1.
#ifndef DLMATH_TESTS_CORE_MODEL_REFERENCE_H_
#define DLMATH_TESTS_CORE_MODEL_REFERENCE_H_

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "tests/core/model_testing.h"
#include "tests/core/testing.h"

namespace dlmath::testing {

using Vec = std::vector<double>;

// Float64 forward of a model, reading its structure (layers(), the
// parameter table) and its parameter values as double copies.
class Reference {
 public:
  // loss_vector: the values of the loss's per-class input `vector_input`.
  Reference(const Model& m, const char* loss, std::vector<NamedParam> loss_p,
            std::vector<float> loss_vector = {},
            const char* vector_input = nullptr)
      : m_(m),
        loss_(FindOp(loss)),
        loss_named_(std::move(loss_p)),
        loss_vector_(std::move(loss_vector)),
        vector_input_(vector_input ? loss_->InputIndex(vector_input) : -1) {
    params_.assign(m.parameters(), m.parameters() + m.num_parameters());
    buffers_.assign(m.buffers(), m.buffers() + m.num_buffers());
  }

  Vec& params() { return params_; }

  // The model output [rows, outputs] for x.
  Vec Output(const Vec& x, int64_t rows, bool training) const {
    if (m_.IsSequence()) return Top(x, rows, training, nullptr);
    return Block(-1, x, rows, training);
  }

  // Sequence models: L2 + lm_weight * L1 (or L1 alone without a classifier)
  // for x [seqs, T] token ids, y [seqs, TargetWidth()]; the token loss is
  // the model's loss op with loss_p_, the class loss cross_entropy's mean.
  double SequenceLoss(const Vec& x, const Vec& y, int64_t seqs, bool training,
                      double lm_weight) const {
    const int64_t t = m_.block(), v = m_.vocab(), rows = seqs * t;
    const int64_t width = m_.TargetWidth();
    Vec hidden;
    const Vec out = Top(x, seqs, training, &hidden);
    Vec targets(rows), classes(seqs);
    for (int64_t b = 0; b < seqs; ++b) {
      for (int64_t j = 0; j < t; ++j) targets[b * t + j] = y[b * width + j];
      if (m_.classes() > 0) classes[b] = y[b * width + t];
    }
    const double lm = General(*loss_, loss_named_, {out, targets},
                              {Shape{rows, v}, Shape{rows}}, nullptr)[0];
    if (m_.classes() == 0) return lm;
    // The classifier at each sequence's last real position.
    const int64_t k = m_.classes(),
                  c = static_cast<int64_t>(hidden.size()) / rows;
    std::vector<int64_t> last(seqs);
    std::vector<float> xf(x.begin(), x.end());
    REQUIRE(m_.LastPositions(xf.data(), seqs, last.data()).ok());
    const double* w = Tensor("classifier.weight");
    const double* bias = Tensor("classifier.bias");
    Vec logits(seqs * k);
    for (int64_t b = 0; b < seqs; ++b)
      for (int64_t o = 0; o < k; ++o) {
        double s = bias ? bias[o] : 0.0;
        for (int64_t j = 0; j < c; ++j)
          s += hidden[(b * t + last[b]) * c + j] * w[o * c + j];
        logits[b * k + o] = s;
      }
    const double cl = General(Op(OpId::cross_entropy), {}, {logits, classes},
                              {Shape{seqs, k}, Shape{seqs}}, nullptr)[0];
    return cl + lm_weight * lm;
  }

  // Loss + penalties, as the step minimises it.
  double Loss(const Vec& x, const Vec& y, int64_t rows, bool training,
              double l1 = 0, double l2 = 0) const {
    const Vec out = Output(x, rows, training);
    const int64_t o = m_.outputs();
    std::vector<Vec> in(loss_->num_inputs());
    std::vector<Shape> shapes(loss_->num_inputs());
    in[0] = out;
    shapes[0] = Shape{rows, o};
    in[1] = y;
    shapes[1] = m_.ClassTargets() ? Shape{rows} : Shape{rows, o};
    if (vector_input_ >= 0) {
      in[vector_input_] = Vec(loss_vector_.begin(), loss_vector_.end());
      shapes[vector_input_] = Shape{o};
    }
    double loss = General(*loss_, loss_named_, in, shapes, nullptr)[0];
    for (const ParamEntry& e : m_.ParameterTable()) {
      if (m_.layers()[e.layer].type != LayerType::kLinear ||
          e.name.find(".weight") == std::string::npos)
        continue;
      for (int64_t i = 0; i < e.shape.numel(); ++i) {
        const double w = params_[e.offset + i];
        loss += l1 * std::fabs(w) + l2 * w * w;
      }
    }
    return loss;
  }

 private:
  // Runs op's float64 reference (forward) on double inputs; sizes and
  // validation come from Prepare on float copies.
  static Vec General(const OpInfo& op, const std::vector<NamedParam>& named,
                     const std::vector<Vec>& in,
                     const std::vector<Shape>& shapes, const double* p) {
    std::vector<std::vector<float>> floats;
    std::vector<NamedTensor> tensors;
    floats.reserve(in.size());
    for (size_t k = 0; k < in.size(); ++k) {
      floats.emplace_back(in[k].begin(), in[k].end());
      if (!in[k].empty())
        tensors.push_back({op.inputs[k].name, {floats[k].data(), shapes[k]}});
    }
    Call call;
    const Status s = Prepare(op.id, tensors, named, &call);
    INFO(s.message());
    REQUIRE(s.ok());
    RefBuffers rb;
    for (int k = 0; k < op.num_inputs(); ++k)
      rb.in.push_back(k < static_cast<int>(in.size()) ? in[k] : Vec{});
    RefForward(call, &rb, p);
    return rb.y;
  }

  const double* Tensor(const std::string& name) const {
    const ParamEntry* e = m_.FindParameter(name);
    if (!e) return nullptr;
    return (e->kind == TensorKind::kParameter ? params_.data()
                                              : buffers_.data()) +
           e->offset;
  }

  // A sequence model's top level over seqs sequences (rows: positions),
  // keeping the input of the last layer in *hidden when asked.
  Vec Top(const Vec& x, int64_t seqs, bool training, Vec* hidden) const {
    tokens_ = x;
    const auto& layers = m_.layers();
    int last = -1;
    for (int i = 0; i < static_cast<int>(layers.size()); ++i)
      if (layers[i].parent == -1 && !layers[i].head) last = i;
    Vec h = x;
    const int64_t rows = seqs * m_.block();
    for (int i = 0; i < static_cast<int>(layers.size()); ++i) {
      if (layers[i].parent != -1 || layers[i].head) continue;
      if (i == last && hidden) *hidden = h;
      h = Step(i, h, rows, training);
    }
    return h;
  }

  // One layer of a block: a residual's x + f(x), or the layer.
  Vec Step(int i, const Vec& x, int64_t rows, bool training) const {
    if (m_.layers()[i].type != LayerType::kResidual)
      return Layer(i, x, rows, training);
    Vec y = Block(i, x, rows, training);
    for (size_t k = 0; k < y.size(); ++k) y[k] += x[k];
    return y;
  }

  // Batched self-attention in double: per sequence and head, softmax of
  // the scaled scores over the visible keys (causal, key padding), zeros
  // for a query that sees none.
  Vec Attention(const LayerInfo& l, const Vec& x, int64_t rows) const {
    const int64_t c = l.in_width, t = m_.block(), h = l.heads, d = c / h;
    const double* wi = Tensor(l.path + ".in_proj_weight");
    const double* bi = Tensor(l.path + ".in_proj_bias");
    const double* wo = Tensor(l.path + ".out_proj.weight");
    const double* bo = Tensor(l.path + ".out_proj.bias");
    Vec qkv(rows * 3 * c), o(rows * c), y(rows * c);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < 3 * c; ++j) {
        double s = bi ? bi[j] : 0.0;
        for (int64_t k = 0; k < c; ++k) s += x[r * c + k] * wi[j * c + k];
        qkv[r * 3 * c + j] = s;
      }
    const bool padding = l.key_padding;
    for (int64_t b = 0; b < rows / t; ++b)
      for (int64_t head = 0; head < h; ++head)
        for (int64_t i = 0; i < t; ++i) {
          Vec s(t, -INFINITY);
          double mx = -INFINITY;
          for (int64_t j = 0; j < t; ++j) {
            const bool hidden =
                (l.causal && j > i) || (padding && j > 0 && IsPad(b * t + j));
            if (hidden) continue;
            double dot = 0;
            for (int64_t k = 0; k < d; ++k)
              dot += qkv[(b * t + i) * 3 * c + head * d + k] *
                     qkv[(b * t + j) * 3 * c + c + head * d + k];
            s[j] = dot / std::sqrt(static_cast<double>(d));
            mx = std::max(mx, s[j]);
          }
          double sum = 0;
          for (int64_t j = 0; j < t; ++j) {
            s[j] = mx == -INFINITY ? 0.0 : std::exp(s[j] - mx);
            sum += s[j];
          }
          for (int64_t k = 0; k < d; ++k) {
            double acc = 0;
            for (int64_t j = 0; j < t; ++j)
              if (sum > 0)
                acc += s[j] / sum *
                       qkv[(b * t + j) * 3 * c + 2 * c + head * d + k];
            o[(b * t + i) * c + head * d + k] = acc;
          }
        }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < c; ++j) {
        double s = bo ? bo[j] : 0.0;
        for (int64_t k = 0; k < c; ++k) s += o[r * c + k] * wo[j * c + k];
        y[r * c + j] = s;
      }
    return y;
  }

  bool IsPad(int64_t r) const {
    return m_.pad_token() >= 0 && tokens_[r] == m_.pad_token();
  }

  // The children of `parent` (-1: the model) in order, from x.
  Vec Block(int parent, Vec x, int64_t rows, bool training) const {
    const auto& layers = m_.layers();
    for (int i = 0; i < static_cast<int>(layers.size()); ++i) {
      if (layers[i].parent != parent || layers[i].head) continue;
      x = Step(i, x, rows, training);
    }
    return x;
  }

  Vec Layer(int i, const Vec& x, int64_t rows, bool training) const {
    const LayerInfo& l = m_.layers()[i];
    const int64_t in = l.in_width, out = l.out_width;
    Vec y(rows * out, 0.0);
    if (l.type == LayerType::kEmbedding) {
      const double* w = Tensor(l.path + ".weight");
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < out; ++j)
          y[r * out + j] = w[static_cast<int64_t>(x[r]) * out + j];
      return y;
    }
    if (l.type == LayerType::kPositional) {
      const double* p = Tensor(l.path + ".weight");
      if (!p) p = Tensor(l.path + ".pe");
      const int64_t n = m_.block() * out;
      for (int64_t k = 0; k < rows * out; ++k) y[k] = x[k] + p[k % n];
      return y;
    }
    if (l.type == LayerType::kAttention) return Attention(l, x, rows);
    if (l.type == LayerType::kLinear) {
      const double* w =
          Tensor(l.tied ? m_.layers()[0].path + ".weight" : l.path + ".weight");
      const double* b = Tensor(l.path + ".bias");
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < out; ++o) {
          double s = b ? b[o] : 0.0;
          for (int64_t k = 0; k < in; ++k) s += x[r * in + k] * w[o * in + k];
          y[r * out + o] = s;
        }
      return y;
    }
    REQUIRE(l.op);  // formula layers have no float64 reference
    const OpInfo& op = *l.op;
    double p[kMaxParams];
    std::copy(l.p, l.p + kMaxParams, p);
    for (int k = 0; k < op.num_params(); ++k) {
      const std::string name = op.params[k].name;
      if (op.params[k].learnable) p[k] = *Tensor(l.path + "." + name);
      if (name == "training") p[k] = training ? 1 : 0;
      if (name == "seed") p[k] = m_.LayerSeed(i, m_.step());
    }
    if (op.form == Form::Elementwise) {
      for (int64_t k = 0; k < rows * in; ++k)
        y[k] = op.impl.ew_ref_fwd(x[k], p, static_cast<uint64_t>(k));
      return y;
    }
    if (op.form == Form::Rowwise) {
      for (int64_t r = 0; r < rows; ++r)
        op.impl.row_ref_fwd(&x[r * in], &y[r * out], in, p);
      return y;
    }
    std::vector<Vec> ins = {x};
    std::vector<Shape> shapes = {Shape{rows, in}};
    for (int k = 1; k < op.num_inputs(); ++k) {
      const ParamEntry* e = m_.FindParameter(l.path + "." + op.inputs[k].name);
      const double* v = Tensor(l.path + "." + op.inputs[k].name);
      ins.push_back(e ? Vec(v, v + e->shape.numel()) : Vec{});
      shapes.push_back(e ? e->shape : Shape{});
    }
    std::vector<NamedParam> named;
    for (int k = 0; k < op.num_params(); ++k)
      named.push_back({op.params[k].name, p[k]});
    return General(op, named, ins, shapes, p);
  }

  const Model& m_;
  const OpInfo* loss_;
  std::vector<NamedParam> loss_named_;
  std::vector<float> loss_vector_;
  int vector_input_;
  Vec params_, buffers_;
  mutable Vec tokens_;  // a sequence model's input, for the padding mask
};

inline Vec Doubles(const std::vector<float>& v) {
  return Vec(v.begin(), v.end());
}

// Central difference of f at v[j], step h, in double.
template <class F>
inline double CentralDiff(Vec* v, size_t j, double h, F f) {
  const double keep = (*v)[j];
  (*v)[j] = keep + h;
  const double up = f();
  (*v)[j] = keep - h;
  const double down = f();
  (*v)[j] = keep;
  return (up - down) / (2 * h);
}

// float32 gradient vs float64 finite difference: the engine's rounding
// (float sums over the batch and the widths, about 1e-6 of the terms'
// size) dominates; 2e-4 of max(1, |fd|, the largest gradient / 10) holds
// it with a margin, while a wrong term would be off by its own size.
inline void CheckClose(const std::vector<float>& got, const Vec& fd,
                       const std::string& what) {
  double scale = 1;
  for (double v : fd) scale = std::max(scale, std::fabs(v) / 10);
  double worst = 0;
  for (size_t j = 0; j < fd.size(); ++j) {
    const double err = std::fabs(got[j] - fd[j]);
    worst = std::max(worst, err / std::max(scale, std::fabs(fd[j])));
    INFO(what << " [" << j << "]: engine " << got[j] << ", finite difference "
              << fd[j]);
    CHECK(err <= 2e-4 * std::max(scale, std::fabs(fd[j])));
  }
  INFO(what << ": worst relative error " << worst);
  CHECK(worst < 2e-4);
}

}  // namespace dlmath::testing

#endif  // DLMATH_TESTS_CORE_MODEL_REFERENCE_H_
