// The registry's promises (every row complete) and the runtime's validation:
// bad calls fail with an error naming the op, the input or param and the
// problem, and never touch a kernel.
#include <cctype>
#include <set>
#include <string>

#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

// Input names may also be capitalised matrix names (W, V, S, X, Y), as in
// the formulas and in PyTorch's argument names.
bool IsInputName(const std::string& s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0])))
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

bool IsSnakeCase(const std::string& s) {
  if (s.empty() || !std::islower(static_cast<unsigned char>(s[0])))
    return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

TEST_CASE("every registry row is complete", "[registry]") {
  std::set<std::string> ids;
  REQUIRE(Ops().size() == static_cast<size_t>(kNumOps));
  for (const OpInfo& op : Ops()) {
    INFO("op " << op.id);
    REQUIRE(IsSnakeCase(op.id));
    REQUIRE(ids.insert(op.id).second);
    REQUIRE(FindOp(op.id) == &op);
    REQUIRE(std::string(op.title_en).size() > 0);
    REQUIRE(std::string(op.title_zh).size() > 0);
    REQUIRE(std::string(op.latex).size() > 0);
    REQUIRE(std::string(op.dlatex).size() > 0);
    // Explanations say what, where and the pitfall: more than a phrase.
    REQUIRE(std::string(op.en).size() > 120);
    REQUIRE(std::string(op.zh).size() > 120);
    // Only schedules (learning rate from step numbers) take no tensor.
    REQUIRE((op.num_inputs() >= 1 || op.kind == Kind::kSchedule));
    if (op.form == Form::Elementwise || op.form == Form::Rowwise)
      REQUIRE(op.num_inputs() >= 1);
    for (int k = 0; k < op.num_inputs(); ++k)
      REQUIRE(IsInputName(op.inputs[k].name));
    for (int k = 0; k < op.num_params(); ++k) {
      const ParamSpec& s = op.params[k];
      INFO("param " << s.name);
      REQUIRE(IsSnakeCase(s.name));
      REQUIRE(s.lo <= s.def);
      REQUIRE(s.def <= s.hi);
    }
    const bool default_tol = op.tol.value == 2e-6 && op.tol.grad == 1e-5;
    REQUIRE(
        (default_tol || (op.tol.why && std::string(op.tol.why).size() > 10)));
    if (op.form == Form::General ||
        (op.form == Form::NoGrad && op.kind != Kind::kSchedule))
      REQUIRE(!ParseSample(op.sample).empty());
  }
}

float kData[6] = {1, 2, 3, 4, 5, 6};

Status TryCall(std::string_view id, std::vector<NamedTensor> in,
               std::vector<NamedParam> p = {}) {
  Call call;
  return Prepare(id, in, p, &call);
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST_CASE("unknown op names the nearest ids", "[runtime]") {
  const Status s = TryCall("sigmoit", {{"x", {kData, {6}}}});
  REQUIRE(s.code() == ErrorCode::kUnknownOp);
  INFO(s.message());
  REQUIRE(Contains(s.message(), "'sigmoit'"));
  REQUIRE(Contains(s.message(), "did you mean 'sigmoid'"));
  const Status far = TryCall("qqqqqqqqqqqqqq", {});
  REQUIRE(far.code() == ErrorCode::kUnknownOp);
  REQUIRE(Contains(far.message(), "dl.ops()"));
}

TEST_CASE("inputs: unknown, missing, rank, negative, absurd", "[runtime]") {
  Status s = TryCall("sigmoid", {{"y", {kData, {6}}}});
  REQUIRE(s.code() == ErrorCode::kUnknownInput);
  REQUIRE(s.what() == "y");
  REQUIRE(Contains(s.message(), "its inputs: x"));

  s = TryCall("sigmoid", {});
  REQUIRE(s.code() == ErrorCode::kMissingInput);
  REQUIRE(s.what() == "x");

  s = TryCall("softmax", {{"x", {kData, {}}}});  // scalar: needs rank >= 1
  REQUIRE(s.code() == ErrorCode::kBadRank);
  REQUIRE(Contains(s.message(), "rank >= 1, got rank 0"));

  s = TryCall("sigmoid", {{"x", {kData, {0}}}});
  REQUIRE(s.code() == ErrorCode::kBadShape);
  REQUIRE(Contains(s.message(), "is empty"));

  Shape neg{2, -3};
  s = TryCall("sigmoid", {{"x", {kData, neg}}});
  REQUIRE(s.code() == ErrorCode::kBadShape);

  Shape huge{1 << 20, 1 << 20, 1 << 20};
  s = TryCall("sigmoid", {{"x", {kData, huge}}});
  REQUIRE(s.code() == ErrorCode::kTooLarge);
  REQUIRE(Contains(s.message(), "exceeds the limit"));
}

TEST_CASE("params: unknown, NaN, out of range, non-integer", "[runtime]") {
  // Find ops with each kind of param from the registry, so the test follows it.
  for (const OpInfo& op : Ops()) {
    INFO("op " << op.id);
    // Valid inputs: the sample's for General ops, [2, 4] otherwise.
    SampleCall sc;
    std::vector<NamedTensor> in;
    std::vector<float> filler(8, 0.5f);
    if (op.form == Form::General || op.form == Form::NoGrad) {
      sc = MakeSampleCall(op, ParamSets(op)[0], 1);
      for (int k = 0; k < op.num_inputs(); ++k)
        if (sc.call.in[k].data)
          in.push_back({op.inputs[k].name, sc.call.in[k]});
    } else {
      in.push_back({op.inputs[0].name, {filler.data(), Shape{2, 4}}});
    }
    Status s = TryCall(op.id, in, {{"no_such_param", 1}});
    REQUIRE(s.code() == ErrorCode::kUnknownParam);
    REQUIRE(s.what() == "no_such_param");
    for (int k = 0; k < op.num_params(); ++k) {
      const ParamSpec& spec = op.params[k];
      s = TryCall(op.id, in, {{spec.name, NAN}});
      REQUIRE(s.code() == ErrorCode::kBadParam);
      REQUIRE(Contains(s.message(), "NaN"));
      if (std::isfinite(spec.hi)) {
        s = TryCall(op.id, in, {{spec.name, spec.hi + 1}});
        REQUIRE(s.code() == ErrorCode::kBadParam);
        REQUIRE(s.what() == spec.name);
      }
      if (spec.type != ParamType::kReal && spec.hi > spec.lo) {
        s = TryCall(op.id, in, {{spec.name, spec.lo + 0.5}});
        REQUIRE(s.code() == ErrorCode::kBadParam);
      }
      s = TryCall(op.id, in, {{spec.name, spec.def}});
      REQUIRE(s.ok());
    }
  }
}

TEST_CASE("Run and RunBackward give values and accumulate-free gradients",
          "[runtime]") {
  Call call;
  NamedTensor in[] = {{"x", {kData, {2, 3}}}};
  REQUIRE(Prepare("softmax", in, {}, &call).ok());
  REQUIRE(call.out == Shape({2, 3}));
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  double row = 0;
  for (int i = 0; i < 3; ++i) row += ev.y.data()[i];
  REQUIRE(row == Approx(1.0).epsilon(1e-6));
  Gradients g;
  REQUIRE(RunBackward(call, &ev, nullptr, &g).ok());
  // d/dx sum(softmax(x)) = 0: the rows always sum to one.
  for (int i = 0; i < 6; ++i) REQUIRE(std::fabs(g.din[0].data()[i]) < 1e-6);
}

}  // namespace
}  // namespace dlmath::testing

namespace dlmath::testing {
namespace {

TEST_CASE("integer inputs, optional inputs and enum params (nll)",
          "[runtime]") {
  float logp[6] = {-1, -2, -3, -0.5f, -1.5f, -2.5f};
  float good[2] = {2, 0}, frac[2] = {1.5f, 0}, big[2] = {3, 0};
  const Shape x{2, 3}, t{2};
  Status s = TryCall("nll", {{"input", {logp, x}}, {"target", {frac, t}}});
  REQUIRE(s.code() == ErrorCode::kBadType);
  REQUIRE(Contains(s.message(), "must hold integers; element [0] is 1.5"));
  s = TryCall("nll", {{"input", {logp, x}}, {"target", {big, t}}});
  REQUIRE(s.code() == ErrorCode::kBadValue);
  REQUIRE(
      Contains(s.message(), "target[0] = 3 is not a class index in [0, 3)"));
  // weight is optional; reduction 'none' (index 2) keeps one loss per row.
  Call call;
  NamedTensor in[] = {{"input", {logp, x}}, {"target", {good, t}}};
  NamedParam none[] = {{"reduction", 2}};
  REQUIRE(Prepare("nll", in, none, &call).ok());
  REQUIRE(call.out == Shape({2}));
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  REQUIRE(ev.y.data()[0] == 3.0f);
  REQUIRE(ev.y.data()[1] == 0.5f);
  NamedParam bad[] = {{"reduction", 3}};
  s = Prepare("nll", in, bad, &call);
  REQUIRE(s.code() == ErrorCode::kBadParam);
  REQUIRE(Contains(s.message(), "one of 'mean', 'sum', 'none'"));
}

}  // namespace
}  // namespace dlmath::testing
