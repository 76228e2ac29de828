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
  REQUIRE(Contains(s.message(), "must hold integers"));
  REQUIRE(Contains(s.message(), "element [0] is 1.5"));
  float inf[2] = {INFINITY, 0}, huge[2] = {3e9f, 0};
  s = TryCall("nll", {{"input", {logp, x}}, {"target", {inf, t}}});
  REQUIRE(s.code() == ErrorCode::kBadType);
  s = TryCall("nll", {{"input", {logp, x}}, {"target", {huge, t}}});
  REQUIRE(s.code() == ErrorCode::kTooLarge);  // never converted to int32
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

// ---- the hardened call path: errors, memory, aliasing, limits -------------

namespace dlmath::testing {
namespace {

TEST_CASE("error codes come from one table", "[runtime]") {
  std::set<std::string> names;
  for (int k = 0; k < kNumErrorCodes; ++k) {
    const std::string name = ErrorCodeName(static_cast<ErrorCode>(k));
    INFO("code " << k << " " << name);
    REQUIRE(IsSnakeCase(name));
    REQUIRE(names.insert(name).second);
  }
  REQUIRE(std::string(ErrorCodeName(ErrorCode::kOk)) == "ok");
  REQUIRE(std::string(ErrorCodeName(ErrorCode::kAliasedOutput)) ==
          "aliased_output");
  REQUIRE(std::string(ErrorCodeName(static_cast<ErrorCode>(-1))) == "unknown");
}

TEST_CASE("a failed allocation is a failed Buffer", "[memory]") {
  const int64_t before = AllocationCount();
  Buffer ok(10);
  REQUIRE(ok.ok());
  REQUIRE(ok.data() != nullptr);
  REQUIRE(AllocationCount() == before + 1);
  FailAllocationAfter(1);  // the second allocation from now
  Buffer first(10), second(10), third(10);
  FailAllocationAfter(-1);
  REQUIRE(first.ok());
  REQUIRE(!second.ok());
  REQUIRE(second.data() == nullptr);
  REQUIRE(second.size() == 0);
  REQUIRE(third.ok());
  REQUIRE(Buffer(0).ok());
  REQUIRE(!Buffer(-1).ok());
  REQUIRE(!Buffer(kMaxCallElements + 1).ok());  // refused, never attempted
  Buffer moved = std::move(second);
  REQUIRE(!moved.ok());
}

// A valid request for any op: its sample inputs (General ops) or a [2, 4]
// block, forward and, where there is one, backward.
struct SampleRequest {
  SampleCall sc;
  std::vector<float> filler = std::vector<float>(8, 0.5f);
  std::vector<NamedTensor> in;
  Request req;
};
void MakeSampleRequest(const OpInfo& op, SampleRequest* s) {
  if (op.form == Form::General || op.form == Form::NoGrad) {
    s->sc = MakeSampleCall(op, ParamSets(op)[0], 1);
    for (int k = 0; k < op.num_inputs(); ++k)
      if (s->sc.call.in[k].data)
        s->in.push_back({op.inputs[k].name, s->sc.call.in[k]});
  } else {
    s->in.push_back({op.inputs[0].name, {s->filler.data(), Shape{2, 4}}});
  }
  s->req = Request{.id = op.id, .inputs = s->in};
  s->req.backward = op.differentiable();
}

TEST_CASE("every allocation failure of every op is out_of_memory", "[memory]") {
  for (const OpInfo& op : Ops()) {
    INFO("op " << op.id);
    SampleRequest s;
    MakeSampleRequest(op, &s);
    const int64_t before = AllocationCount();
    {
      Response res;
      const Status st = Execute(s.req, &res);
      INFO(st.message());
      REQUIRE(st.ok());
    }
    const int64_t allocations = AllocationCount() - before;
    REQUIRE(allocations >= 1);
    for (int64_t k = 0; k < allocations; ++k) {
      INFO("allocation " << k << " of " << allocations << " fails");
      FailAllocationAfter(k);
      Response res;
      const Status st = Execute(s.req, &res);
      FailAllocationAfter(-1);
      REQUIRE(st.code() == ErrorCode::kOutOfMemory);
      REQUIRE(Contains(st.message(), "out of memory"));
    }
    Response res;
    REQUIRE(Execute(s.req, &res).ok());  // and everything works again
  }
}

TEST_CASE("an optional input left out gets no gradient", "[runtime]") {
  // layer_norm without weight and bias, at a size where a one-float
  // gradient buffer for the missing inputs would be overrun: the input's
  // gradient equals the one with weight = 1 and bias = 0 given.
  std::vector<float> x = RandomData(4 * 100, 3), ones(100, 1.0f),
                     zeros(100, 0.0f);
  const NamedTensor bare[] = {{"input", {x.data(), {4, 100}}}};
  const NamedTensor full[] = {{"input", {x.data(), {4, 100}}},
                              {"weight", {ones.data(), {100}}},
                              {"bias", {zeros.data(), {100}}}};
  Response a, b;
  REQUIRE(
      Execute({.id = "layer_norm", .inputs = bare, .backward = true}, &a).ok());
  REQUIRE(
      Execute({.id = "layer_norm", .inputs = full, .backward = true}, &b).ok());
  REQUIRE(!HasGradient(a.call, 1));
  REQUIRE(!HasGradient(a.call, 2));
  REQUIRE(a.grads.din[1].size() == 0);
  REQUIRE(a.grads.din[2].size() == 0);
  REQUIRE(b.grads.din[1].size() == 100);
  for (int i = 0; i < 400; ++i)
    REQUIRE(a.grads.din[0].data()[i] == b.grads.din[0].data()[i]);

  // Every op: gradients exist exactly for the differentiable inputs given.
  for (const OpInfo& op : Ops()) {
    if (!op.differentiable()) continue;
    INFO("op " << op.id);
    SampleRequest s;
    MakeSampleRequest(op, &s);
    Response res;
    REQUIRE(Execute(s.req, &res).ok());
    for (int k = 0; k < op.num_inputs(); ++k) {
      const bool given = res.call.in[k].data != nullptr;
      REQUIRE(HasGradient(res.call, k) == (given && op.inputs[k].diff));
      REQUIRE(res.grads.din[k].size() ==
              (HasGradient(res.call, k) ? res.call.in[k].shape.numel() : 0));
    }
  }
}

TEST_CASE("aliasing is decided by the op's form, in one place", "[runtime]") {
  float x[6] = {-1, 0.5f, 2, 3, -4, 0}, y[6], dx[6], up[6] = {1, 1, 1, 1, 1, 1};
  const NamedTensor in[] = {{"x", {x, {2, 3}}}};
  Response ref;
  REQUIRE(Execute({.id = "sigmoid", .inputs = in}, &ref).ok());

  SECTION("element-wise and row-wise ops may run in place") {
    for (const char* id : {"sigmoid", "softmax"}) {
      INFO(id);
      float z[6];
      std::copy(x, x + 6, z);
      const NamedTensor zin[] = {{"x", {z, {2, 3}}}};
      Response want, got;
      REQUIRE(Execute({.id = id, .inputs = zin}, &want).ok());
      REQUIRE(Execute({.id = id, .inputs = zin, .out = OutBuffer{z, 6}}, &got)
                  .ok());
      for (int i = 0; i < 6; ++i) REQUIRE(z[i] == want.ev.y.data()[i]);
    }
  }
  SECTION("anything else that overlaps is refused") {
    Response res;
    // Partly over the input.
    const NamedTensor five[] = {{"x", {x, {5}}}};
    Status s = Execute(
        {.id = "sigmoid", .inputs = five, .out = OutBuffer{x + 1, 5}}, &res);
    REQUIRE(s.code() == ErrorCode::kAliasedOutput);
    REQUIRE(s.what() == "out");
    REQUIRE(Contains(s.message(), "overlaps input 'x'"));
    // A row-wise op that drops the row: its result overlaps its input.
    s = Execute({.id = "logsumexp", .inputs = in, .out = OutBuffer{x, 2}},
                &res);
    REQUIRE(s.code() == ErrorCode::kAliasedOutput);
    // A General op never writes over its input (laplacian reads A twice).
    float a[4] = {0, 1, 1, 0};
    const NamedTensor ain[] = {{"A", {a, {2, 2}}}};
    s = Execute({.id = "laplacian", .inputs = ain, .out = OutBuffer{a, 4}},
                &res);
    REQUIRE(s.code() == ErrorCode::kAliasedOutput);
    REQUIRE(Contains(s.message(), "only element-wise ops"));
    // In place is forward-only: backward reads the input afterwards.
    s = Execute({.id = "sigmoid",
                 .inputs = in,
                 .backward = true,
                 .out = OutBuffer{x, 6}},
                &res);
    REQUIRE(s.code() == ErrorCode::kAliasedOutput);
    REQUIRE(Contains(s.message(), "backward pass"));
  }
  SECTION("gradient buffers: not over inputs, the upstream or each other") {
    Response res;
    const NamedOut over_x[] = {{"x", {x, 6}}};
    Status s = Execute(
        {.id = "sigmoid", .inputs = in, .backward = true, .grad_out = over_x},
        &res);
    REQUIRE(s.code() == ErrorCode::kAliasedOutput);
    REQUIRE(s.what() == "x");
    const NamedOut over_up[] = {{"x", {up, 6}}};
    s = Execute({.id = "sigmoid",
                 .inputs = in,
                 .backward = true,
                 .upstream = ConstTensor{up, {2, 3}},
                 .grad_out = over_up},
                &res);
    REQUIRE(s.code() == ErrorCode::kAliasedOutput);
    REQUIRE(Contains(s.message(), "the upstream"));
    float p[6] = {1, 2, 3, 4, 5, 6}, t[6] = {0, 0, 0, 1, 1, 1};
    const NamedTensor mse[] = {{"input", {p, {6}}}, {"target", {t, {6}}}};
    const NamedOut both[] = {{"input", {dx, 6}}, {"target", {dx, 6}}};
    s = Execute(
        {.id = "mse", .inputs = mse, .backward = true, .grad_out = both}, &res);
    REQUIRE(s.code() == ErrorCode::kAliasedOutput);
    REQUIRE(Contains(s.message(), "its own buffer"));
    const NamedOut apart[] = {{"input", {dx, 6}}, {"target", {y, 6}}};
    REQUIRE(
        Execute(
            {.id = "mse", .inputs = mse, .backward = true, .grad_out = apart},
            &res)
            .ok());
    REQUIRE(dx[0] == Approx(2.0 * (1 - 0) / 6));
    REQUIRE(y[0] == Approx(-dx[0]));
  }
}

TEST_CASE("the gradient buffers and upstream are checked", "[runtime]") {
  float x[6] = {1, 2, 3, 4, 5, 6}, g[6];
  const NamedTensor in[] = {{"x", {x, {2, 3}}}};
  Response res;
  auto into = [&](const char* id, std::span<const NamedTensor> inputs,
                  NamedOut out, bool backward = true) {
    return Execute({.id = id,
                    .inputs = inputs,
                    .backward = backward,
                    .grad_out = std::span(&out, 1)},
                   &res);
  };
  REQUIRE(into("sigmoid", in, {"y", {g, 6}}).code() ==
          ErrorCode::kUnknownInput);
  Status s = into("sigmoid", in, {"x", {g, 5}});
  REQUIRE(s.code() == ErrorCode::kBadShape);
  REQUIRE(Contains(s.message(), "holds 5 values"));
  REQUIRE(into("sigmoid", in, {"x", {g, 6}}, false).code() ==
          ErrorCode::kNotDifferentiable);
  float logp[6] = {-1, -2, -3, -1, -2, -3}, tgt[2] = {0, 1}, gt[2];
  const NamedTensor nll[] = {{"input", {logp, {2, 3}}}, {"target", {tgt, {2}}}};
  REQUIRE(into("nll", nll, {"target", {gt, 2}}).code() ==
          ErrorCode::kNotDifferentiable);
  REQUIRE(into("nll", nll, {"weight", {g, 3}}).code() ==
          ErrorCode::kNotDifferentiable);
  s = Execute({.id = "sigmoid",
               .inputs = in,
               .backward = true,
               .upstream = ConstTensor{x, {6}}},
              &res);
  REQUIRE(s.code() == ErrorCode::kBadShape);
  REQUIRE(s.what() == "upstream");
  s = Execute({.id = "laplacian", .inputs = {}, .backward = true}, &res);
  REQUIRE(s.code() == ErrorCode::kMissingInput);
  float a[4] = {0, 1, 1, 0};
  const NamedTensor ain[] = {{"A", {a, {2, 2}}}};
  s = Execute({.id = "laplacian", .inputs = ain, .backward = true}, &res);
  REQUIRE(s.code() == ErrorCode::kNotDifferentiable);
}

TEST_CASE("params are checked as the float32 the kernels see", "[runtime]") {
  float x[2] = {-1, 1};
  const NamedTensor in[] = {{"x", {x, {2}}}};
  for (double alpha : {3.5e38, 1e300}) {
    const NamedParam p[] = {{"alpha", alpha}};
    const Status s = TryCall("elu", {in[0]}, {p[0]});
    REQUIRE(s.code() == ErrorCode::kBadParam);
    REQUIRE(s.what() == "alpha");
    REQUIRE(Contains(s.message(), "float32"));
  }
  REQUIRE(TryCall("elu", {in[0]}, {{"alpha", 3e38}}).ok());
  // Every real param that must stay above 0: a value that is 0 in float32.
  int checked = 0;
  for (const OpInfo& op : Ops())
    for (int k = 0; k < op.num_params(); ++k) {
      const ParamSpec& s = op.params[k];
      if (s.type != ParamType::kReal || s.lo != 0 || !s.lo_open) continue;
      INFO(op.id << "." << s.name);
      SampleRequest r;
      MakeSampleRequest(op, &r);
      const NamedParam tiny[] = {{s.name, 1e-50}};
      Call call;
      const Status st = Prepare(op.id, r.in, tiny, &call);
      REQUIRE(st.code() == ErrorCode::kBadParam);
      REQUIRE(Contains(st.message(), "in float32"));
      ++checked;
    }
  REQUIRE(checked > 5);
  // Enum params by name; a name is no number.
  float logp[6] = {-1, -2, -3, -1, -2, -3}, tgt[2] = {0, 1};
  const NamedTensor nll[] = {{"input", {logp, {2, 3}}}, {"target", {tgt, {2}}}};
  Call call;
  const NamedParam sum[] = {{.name = "reduction", .choice = "sum"}};
  REQUIRE(Prepare("nll", nll, sum, &call).ok());
  REQUIRE(call.p[0] == 1);
  const NamedParam avg[] = {{.name = "reduction", .choice = "avg"}};
  Status s = Prepare("nll", nll, avg, &call);
  REQUIRE(s.code() == ErrorCode::kBadParam);
  REQUIRE(Contains(s.message(), "one of 'mean', 'sum', 'none', got 'avg'"));
  const NamedParam named_alpha[] = {{.name = "alpha", .choice = "big"}};
  s = Prepare("elu", in, named_alpha, &call);
  REQUIRE(s.code() == ErrorCode::kBadType);
}

TEST_CASE("sizes are refused before anything is allocated", "[runtime]") {
  Shape s;
  REQUIRE(ShapeFromNumbers(std::vector<double>{2, 3}, 6, "", "", &s).ok());
  REQUIRE(s == Shape({2, 3}));
  REQUIRE(ShapeFromNumbers(std::vector<double>{0}, -1, "", "", &s).ok());
  REQUIRE(ShapeFromNumbers(std::vector<double>{double(kMaxElements)}, -1, "",
                           "", &s)
              .ok());
  auto code = [&](std::vector<double> dims, int64_t values = -1) {
    return ShapeFromNumbers(dims, values, "sigmoid", "x", &s).code();
  };
  REQUIRE(code({double(kMaxElements) + 1}) == ErrorCode::kTooLarge);
  REQUIRE(code({65536, 65536, 65536}) == ErrorCode::kTooLarge);
  REQUIRE(code({1e300}) == ErrorCode::kTooLarge);
  REQUIRE(code(std::vector<double>(kMaxRank + 1, 1)) == ErrorCode::kBadRank);
  REQUIRE(code({-1}) == ErrorCode::kBadShape);
  REQUIRE(code({1.5}) == ErrorCode::kBadShape);
  REQUIRE(code({NAN}) == ErrorCode::kBadShape);
  REQUIRE(code({2, 2}, 3) == ErrorCode::kBadShape);
  const Status st =
      ShapeFromNumbers(std::vector<double>{2, 2}, 3, "sigmoid", "x", &s);
  REQUIRE(st.message() ==
          "op 'sigmoid': input 'x' has 3 values but shape [2, 2] needs 4");

  // An input past the limit is refused without reading its data; a result
  // past it is refused before anything is allocated.
  float one = 1;
  Response res;
  const NamedTensor huge[] = {{"x", {&one, {kMaxElements + 1}}}};
  REQUIRE(Execute({.id = "sigmoid", .inputs = huge}, &res).code() ==
          ErrorCode::kTooLarge);
  float dims[2] = {8194, 8192};  // sinusoidal: [max_len, d_model]
  const NamedTensor shape[] = {{"shape", {dims, {2}}}};
  const int64_t before = AllocationCount();
  const Status big = Execute({.id = "sinusoidal", .inputs = shape}, &res);
  REQUIRE(big.code() == ErrorCode::kTooLarge);
  REQUIRE(Contains(big.message(), "the result [8194, 8192]"));
  REQUIRE(AllocationCount() == before);
}

}  // namespace
}  // namespace dlmath::testing
