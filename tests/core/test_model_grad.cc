// The engine's gradients against central finite differences of a float64
// reference model: the same layers evaluated by the registry's float64
// references (core/ref/, through each op's Impl) on double copies of the
// parameters. Every layer kind, every registry activation, every training
// loss, and a model with all of them (residual blocks nested); the input
// gradient (eval mode) and the output gradient likewise.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tests/core/model_testing.h"
#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

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
    return Block(-1, x, rows, training);
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

  // The children of `parent` (-1: the model) in order, from x.
  Vec Block(int parent, Vec x, int64_t rows, bool training) const {
    const auto& layers = m_.layers();
    for (int i = 0; i < static_cast<int>(layers.size()); ++i) {
      if (layers[i].parent != parent) continue;
      if (layers[i].type == LayerType::kResidual) {
        const Vec f = Block(i, x, rows, training);
        for (size_t k = 0; k < x.size(); ++k) x[k] += f[k];
      } else {
        x = Layer(i, x, rows, training);
      }
    }
    return x;
  }

  Vec Layer(int i, const Vec& x, int64_t rows, bool training) const {
    const LayerInfo& l = m_.layers()[i];
    const int64_t in = l.in_width, out = l.out_width;
    Vec y(rows * out, 0.0);
    if (l.type == LayerType::kLinear) {
      const double* w = Tensor(l.path + ".weight");
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
};

Vec Doubles(const std::vector<float>& v) { return Vec(v.begin(), v.end()); }

// Central difference of f at v[j], step h, in double.
template <class F>
double CentralDiff(Vec* v, size_t j, double h, F f) {
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
void CheckClose(const std::vector<float>& got, const Vec& fd,
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

struct Case {
  std::string layers;  // the layer list's JSON, inside [...]
  int64_t input = 3;
  const char* loss = "mse";
  std::string loss_json = "";  // extra keys of the loss
  std::vector<NamedParam> loss_p = {};
  std::vector<float> loss_vector = {};
  const char* vector_input = nullptr;  // the loss input loss_vector fills
  double l1 = 0, l2 = 0;
};

// Every parameter's gradient (training mode) against the reference.
void CheckModel(const Case& c, uint32_t seed) {
  const std::string spec =
      R"({"input":)" + std::to_string(c.input) + R"(,"layers":[)" + c.layers +
      R"(],"loss":{"id":")" + c.loss + "\"" + c.loss_json +
      R"(},"optimizer":{"id":"sgd"},"l1":)" + std::to_string(c.l1) +
      ",\"l2\":" + std::to_string(c.l2) + ",\"seed\":" + std::to_string(seed) +
      "}";
  INFO(spec);
  auto m = MakeModel(spec);
  const int64_t rows = 6, o = m->outputs();
  const std::vector<float> x = RandomData(rows * c.input, seed + 1, -2, 2);
  std::vector<float> y;
  const std::string_view loss = c.loss;
  if (m->ClassTargets()) {
    for (int64_t r = 0; r < rows; ++r) y.push_back(static_cast<float>(r % o));
  } else if (loss == "hinge") {
    for (int64_t k = 0; k < rows * o; ++k) y.push_back(k % 3 ? 1.0f : -1.0f);
  } else if (loss == "mse" || loss == "l1" || loss == "huber" ||
             loss == "smooth_l1") {
    y = RandomData(rows * o, seed + 2, -1, 1);
  } else {  // probabilities, counts or log-targets: values in (0, 1)
    y = RandomData(rows * o, seed + 2, 0.05f, 0.95f);
  }
  REQUIRE(m->ComputeGradients(x.data(), y.data(), rows).ok());
  const std::vector<float> got(m->gradients(),
                               m->gradients() + m->num_parameters());
  Reference ref(*m, c.loss, c.loss_p, c.loss_vector, c.vector_input);
  const Vec xd = Doubles(x), yd = Doubles(y);
  Vec fd(m->num_parameters());
  for (size_t j = 0; j < fd.size(); ++j)
    fd[j] = CentralDiff(&ref.params(), j, 1e-6, [&] {
      return ref.Loss(xd, yd, rows, true, c.l1, c.l2);
    });
  CheckClose(got, fd, "parameter gradient");
  // The reference's loss is the engine's (the step's seeds are this step's).
  const double want = ref.Loss(xd, yd, rows, true, c.l1, c.l2);
  REQUIRE(m->Step(x.data(), y.data(), rows).ok());
  CHECK(m->Diagnostics()[kDiagLoss] == Approx(want).epsilon(1e-5));
}

TEST_CASE("every registry activation's layer backward", "[model][grad]") {
  int count = 0;
  for (const OpInfo& op : Ops()) {
    const bool activation =
        op.kind == Kind::kOp &&
        (op.form == Form::Elementwise || op.form == Form::Rowwise);
    if (!activation) continue;
    INFO(op.id);
    const std::string act =
        R"({"type":"activation","id":")" + std::string(op.id) + "\"}";
    CheckModel({R"({"type":"linear","units":6},)" + act +
                R"(,{"type":"linear","units":2})"},
               3);
    ++count;
  }
  CHECK(count >= 30);
  // prelu: one slope per unit and one shared; swish_beta's learnable beta.
  CheckModel({R"({"type":"linear","units":6},
      {"type":"activation","id":"prelu","num_parameters":6,"init":-0.3},
      {"type":"linear","units":2})"},
             4);
  CheckModel({R"({"type":"linear","units":6},
      {"type":"activation","id":"prelu"},{"type":"linear","units":2})"},
             5);
  CheckModel({R"({"type":"linear","units":6},
      {"type":"activation","id":"swish_beta","beta":0.7},
      {"type":"linear","units":2})"},
             6);
}

TEST_CASE("dropout, the norms and residual blocks: layer backward",
          "[model][grad]") {
  const char* layers[] = {
      R"({"type":"dropout","p":0.3})",
      R"({"type":"batch_norm"})",
      R"({"type":"batch_norm","affine":false,"momentum":0.5})",
      R"({"type":"layer_norm"})",
      R"({"type":"layer_norm","affine":false,"eps":0.01})",
      R"({"type":"rms_norm"})",
      R"({"type":"group_norm","num_groups":3})",
      R"({"type":"group_norm","num_groups":2,"affine":false})",
      R"({"type":"residual","layers":[{"type":"activation","id":"tanh"},
          {"type":"linear","units":6}]})",
      R"({"type":"residual","layers":[{"type":"linear","units":6},
          {"type":"residual","layers":[{"type":"layer_norm"}]}]})",
  };
  uint32_t seed = 10;
  for (const char* l : layers)
    CheckModel({R"({"type":"linear","units":6},)" + std::string(l) +
                R"(,{"type":"activation","id":"gelu_tanh"},
                   {"type":"linear","units":2})"},
               seed++);
}

TEST_CASE("every training loss", "[model][grad]") {
  const std::string mlp = R"({"type":"linear","units":5},
      {"type":"activation","id":"tanh"},{"type":"linear","units":3})";
  const std::vector<Case> cases = {
      {mlp, 3, "mse"},
      {mlp, 3, "mse", R"(,"reduction":"sum")", {{"reduction", 1}}},
      {mlp, 3, "l1"},
      {mlp, 3, "huber", R"(,"delta":0.5)", {{"delta", 0.5}}},
      {mlp, 3, "smooth_l1", R"(,"beta":0.5)", {{"beta", 0.5}}},
      {mlp + R"(,{"type":"activation","id":"sigmoid"})", 3, "bce"},
      {mlp,
       3,
       "bce_with_logits",
       R"(,"pos_weight":[1,2,0.5])",
       {},
       {1, 2, 0.5f},
       "pos_weight"},
      {mlp, 3, "kl_div"},
      {mlp, 3, "poisson_nll"},
      {mlp + R"(,{"type":"activation","id":"log_softmax"})", 3, "nll"},
      {mlp,
       3,
       "cross_entropy",
       R"(,"label_smoothing":0.2,"weight":[1,2,3])",
       {{"label_smoothing", 0.2}},
       {1, 2, 3},
       "weight"},
      {mlp, 3, "hinge", R"(,"margin":0.5)", {{"margin", 0.5}}},
      {mlp, 3, "multi_margin", R"(,"p":2)", {{"p", 2}}},
      {mlp, 3, "focal", R"(,"gamma":1.5)", {{"gamma", 1.5}, {"reduction", 0}}},
      {mlp,
       3,
       "focal_multiclass",
       R"(,"alpha":[0.5,1,0.25])",
       {},
       {0.5f, 1, 0.25f},
       "alpha"},
  };
  uint32_t seed = 30;
  for (const Case& c : cases) CheckModel(c, seed++);
}

// A model with every layer kind but formulas (they have no float64
// reference; test_model compares them with the registry op they spell).
const char* kAll = R"({"type":"linear","units":8},{"type":"batch_norm"},
    {"type":"activation","id":"relu"},{"type":"dropout","p":0.25},
    {"type":"residual","layers":[
      {"type":"layer_norm"},{"type":"linear","units":8},
      {"type":"activation","id":"prelu","num_parameters":8},
      {"type":"rms_norm"},{"type":"group_norm","num_groups":4},
      {"type":"activation","id":"swish_beta"},
      {"type":"residual","layers":[{"type":"activation","id":"elu"},
                                   {"type":"linear","units":8}]}]},
    {"type":"linear","units":3})";

TEST_CASE("a model with every layer kind, penalties on", "[model][grad]") {
  CheckModel({kAll,
              4,
              "cross_entropy",
              R"(,"label_smoothing":0.1)",
              {{"label_smoothing", 0.1}},
              {},
              nullptr,
              0.01,
              0.05},
             50);
}

TEST_CASE("input and output gradients (eval mode)", "[model][grad]") {
  auto m = MakeModel(std::string(R"({"input":4,"layers":[)") + kAll +
                     R"(],"loss":{"id":"cross_entropy"},
                       "optimizer":{"id":"sgd"},"seed":9})");
  const int64_t rows = 5;
  const std::vector<float> x = RandomData(rows * 4, 3, -2, 2);
  const std::vector<float> y = {0, 1, 2, 1, 0};
  // Running statistics away from their start, so eval mode uses them.
  for (int i = 0; i < 3; ++i)
    REQUIRE(m->ComputeGradients(x.data(), y.data(), rows).ok());
  std::vector<float> dx(rows * 4);
  REQUIRE(m->InputGradient(x.data(), y.data(), rows, dx.data()).ok());
  Reference ref(*m, "cross_entropy", {});
  Vec xd = Doubles(x);
  const Vec yd = Doubles(y);
  Vec fd(xd.size());
  for (size_t j = 0; j < xd.size(); ++j)
    fd[j] = CentralDiff(&xd, j, 1e-6, [&] {
      return rows * ref.Loss(xd, yd, rows, false);  // the summed loss
    });
  CheckClose(dx, fd, "input gradient");
  // d output[:, 1] / dx, row by row.
  REQUIRE(m->OutputGradient(x.data(), rows, 1, dx.data()).ok());
  for (size_t j = 0; j < xd.size(); ++j)
    fd[j] = CentralDiff(&xd, j, 1e-6, [&] {
      const Vec out = ref.Output(xd, rows, false);
      double s = 0;
      for (int64_t r = 0; r < rows; ++r) s += out[r * 3 + 1];
      return s;
    });
  CheckClose(dx, fd, "output gradient");
  CHECK(m->OutputGradient(x.data(), rows, 3, dx.data()).message() ==
        "unit: must be in [0, 3), got 3");
}

}  // namespace
}  // namespace dlmath::testing
