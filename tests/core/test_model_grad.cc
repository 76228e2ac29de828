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

#include "tests/core/model_reference.h"
#include "tests/core/model_testing.h"
#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

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
