// Focused checks of the regression and probabilistic losses that the generic
// oracles cannot see: PyTorch's conventions on hand-computed values, the
// relations between the entries, inputs far outside the sample range, the
// optional inputs left out, every reduction over every tail length, and the
// value checks of the shape functions.
#include <map>
#include <string>
#include <vector>

#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Arg {
  std::string name;
  std::vector<float> data;
  Shape shape;
};

// One op evaluated by the kernels and by the float64 reference, with the
// gradients of sum(dy * out) (dy = 1 when empty).
struct Result {
  Status status;
  std::vector<float> y;
  std::vector<double> ref_y;
  std::map<std::string, std::vector<float>> grad;
  std::map<std::string, std::vector<double>> ref_grad;
};

Result Eval(const char* id, const std::vector<Arg>& args,
            const std::vector<NamedParam>& params, std::vector<float> dy = {}) {
  Result res;
  std::vector<NamedTensor> named;
  for (const Arg& a : args) named.push_back({a.name, {a.data.data(), a.shape}});
  Call call;
  res.status = Prepare(id, named, params, &call);
  if (!res.status.ok()) return res;
  const OpInfo& op = *call.op;
  const size_t no = call.out.numel();
  if (dy.empty()) dy.assign(no, 1.0f);
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  res.y.assign(ev.y.data(), ev.y.data() + no);
  Gradients g;
  REQUIRE(RunBackward(call, &ev, dy.data(), &g).ok());

  RefBuffers rb = RefInputs(call);
  GenCall<double> rc = RefForward(call, &rb);
  res.ref_y = rb.y;
  const std::vector<double> dyd(dy.begin(), dy.end());
  std::vector<std::vector<double>> din(op.num_inputs());
  double* dptr[kMaxInputs] = {};
  for (int k = 0; k < op.num_inputs(); ++k) {
    din[k].assign(rb.in[k].size(), 0);
    if (op.inputs[k].diff && call.in[k].data) dptr[k] = din[k].data();
  }
  std::vector<double> dp(kMaxParams, 0);
  rc.dy = dyd.data();
  rc.din = dptr;
  rc.dp = dp.data();
  op.impl.gen_ref_bwd(rc);
  for (int k = 0; k < op.num_inputs(); ++k) {
    if (!dptr[k]) continue;
    const float* d = g.din[k].data();
    res.grad[op.inputs[k].name].assign(d, d + din[k].size());
    res.ref_grad[op.inputs[k].name] = din[k];
  }
  return res;
}

// Kernels against the reference, values and gradients, within `tol`
// (relative to max(1, |ref|), as the generic oracle).
void RequireMatchesRef(const Result& r, double tol = 2e-6,
                       double grad_tol = 1e-5) {
  REQUIRE(r.status.ok());
  for (size_t i = 0; i < r.y.size(); ++i) {
    INFO("out[" << i << "] got " << r.y[i] << " ref " << r.ref_y[i]);
    REQUIRE(Close(r.y[i], r.ref_y[i], tol));
  }
  for (const auto& [name, g] : r.grad) {
    const auto& ref = r.ref_grad.at(name);
    for (size_t i = 0; i < g.size(); ++i) {
      INFO("d" << name << "[" << i << "] got " << g[i] << " ref " << ref[i]);
      REQUIRE(Close(g[i], ref[i], grad_tol));
    }
  }
}

TEST_CASE("every reduction and tail length matches the reference", "[losses]") {
  struct Case {
    const char* id;
    std::vector<std::string> names;  // per-element inputs, input first
    std::vector<std::pair<float, float>> ranges;
    std::vector<std::vector<NamedParam>> params;
    int reductions = 3;
  };
  const std::vector<Case> cases = {
      {"mse", {"input", "target"}, {{-3, 3}, {-3, 3}}, {{}}},
      {"l1", {"input", "target"}, {{-3, 3}, {-3, 3}}, {{}}},
      {"huber",
       {"input", "target"},
       {{-3, 3}, {-3, 3}},
       {{}, {{"delta", 0.3}}}},
      {"smooth_l1",
       {"input", "target"},
       {{-3, 3}, {-3, 3}},
       {{}, {{"beta", 0}}, {{"beta", 2.5}}}},
      {"bce", {"input", "target"}, {{0.01f, 0.99f}, {0, 1}}, {{}}},
      {"bce", {"input", "target", "weight"}, {{0, 1}, {0, 1}, {0, 2}}, {{}}},
      {"bce_with_logits", {"input", "target"}, {{-30, 30}, {0, 1}}, {{}}},
      {"bce_with_logits",
       {"input", "target", "weight"},
       {{-8, 8}, {0, 1}, {0, 2}},
       {{}}},
      {"kl_div",
       {"input", "target"},
       {{-5, 0}, {0, 1}},
       {{}, {{"log_target", 1}}},
       4},
      {"poisson_nll",
       {"input", "target"},
       {{-2, 3}, {0, 6}},
       {{}, {{"full", 1}}}},
      {"poisson_nll",
       {"input", "target"},
       {{0.01f, 4}, {0, 6}},
       {{{"log_input", 0}}, {{"log_input", 0}, {"full", 1}}}},
      {"gaussian_nll",
       {"input", "target", "var"},
       {{-3, 3}, {-3, 3}, {0.05f, 2}},
       {{}, {{"full", 1}, {"eps", 0.1}}}},
  };
  // On every compiled target: each has its own vector width, so its own
  // whole-vector loops and remainders.
  ForEachTarget([&](const char* target) {
    for (const Case& c : cases) {
      for (size_t n : SweepLengths(1037)) {
        if (n == 0) continue;  // empty tensors are refused by Prepare
        std::vector<Arg> args;
        for (size_t k = 0; k < c.names.size(); ++k)
          args.push_back(
              {c.names[k],
               RandomData(n, 11 * n + k, c.ranges[k].first, c.ranges[k].second),
               Shape{static_cast<int64_t>(n)}});
        for (const auto& base : c.params) {
          for (int red = 0; red < c.reductions; ++red) {
            auto params = base;
            params.push_back({"reduction", static_cast<double>(red)});
            const auto dy = RandomData(red == 2 ? n : 1, 5 + n, -2, 2);
            INFO(target << " " << c.id << " n " << n << " reduction " << red
                        << " params " << params.size());
            const Result r = Eval(c.id, args, params, dy);
            // Long sums: the float kernel's block sums against double.
            RequireMatchesRef(r);
          }
        }
      }
    }
  });
}

TEST_CASE("l1: mean absolute error, subgradient 0 where input == target",
          "[losses]") {
  const Result r = Eval("l1",
                        {{"input", {1, -2, 3, 0.5f}, Shape{4}},
                         {"target", {0, 0, 3, 1}, Shape{4}}},
                        {});
  REQUIRE(r.y[0] == Approx(3.5 / 4));
  const std::vector<float> dx = {0.25f, -0.25f, 0, -0.25f};
  REQUIRE(r.grad.at("input") == dx);
  REQUIRE(r.grad.at("target")[2] == 0);
  REQUIRE(r.grad.at("target")[0] == -0.25f);
}

TEST_CASE("huber = beta * smooth_l1 when delta = beta; beta = 0 is l1",
          "[losses]") {
  const std::vector<float> x = RandomData(37, 3, -4, 4),
                           t = RandomData(37, 4, -4, 4);
  const std::vector<Arg> args = {{"input", x, Shape{37}},
                                 {"target", t, Shape{37}}};
  for (double beta : {0.25, 1.0, 2.5}) {
    const Result h = Eval("huber", args, {{"delta", beta}, {"reduction", 2}});
    const Result s =
        Eval("smooth_l1", args, {{"beta", beta}, {"reduction", 2}});
    for (size_t i = 0; i < x.size(); ++i) {
      REQUIRE(h.y[i] == Approx(beta * s.y[i]).epsilon(1e-6).margin(1e-6));
      REQUIRE(h.grad.at("input")[i] ==
              Approx(beta * s.grad.at("input")[i]).epsilon(1e-6).margin(1e-6));
    }
  }
  // Hand values: a = 3, delta = 1: 1 * (3 - 0.5); a = 0.5: 0.125.
  const Result h = Eval(
      "huber", {{"input", {3, 0.5f}, Shape{2}}, {"target", {0, 0}, Shape{2}}},
      {{"reduction", 2}});
  REQUIRE(h.y[0] == 2.5f);
  REQUIRE(h.y[1] == 0.125f);
  REQUIRE(h.grad.at("input")[0] == 1.0f);
  REQUIRE(h.grad.at("input")[1] == 0.5f);
  const Result l1 = Eval("l1", args, {{"reduction", 1}});
  const Result s0 = Eval("smooth_l1", args, {{"reduction", 1}, {"beta", 0}});
  REQUIRE(s0.y[0] == l1.y[0]);
  REQUIRE(s0.grad.at("input") == l1.grad.at("input"));
}

TEST_CASE("bce: PyTorch's clamp of each log at -100, input checked",
          "[losses]") {
  // x = 0 with t = 1 and x = 1 with t = 0 cost exactly 100; 0 log 0 is 0.
  const Result r = Eval("bce",
                        {{"input", {0, 1, 0.5f, 0, 1}, Shape{5}},
                         {"target", {1, 0, 1, 0, 1}, Shape{5}}},
                        {{"reduction", 2}});
  REQUIRE(r.y[0] == 100.0f);
  REQUIRE(r.y[1] == 100.0f);
  REQUIRE(r.y[2] == Approx(std::log(2.0)).epsilon(1e-6));
  REQUIRE(r.y[3] == 0.0f);
  REQUIRE(r.y[4] == 0.0f);
  for (float g : r.grad.at("input")) REQUIRE(std::isfinite(g));
  // PyTorch's input gradient: (x - t) / max(x (1 - x), 1e-12).
  REQUIRE(r.grad.at("input")[0] == Approx(-1e12).epsilon(1e-5));
  REQUIRE(r.grad.at("input")[2] == Approx(-2.0).epsilon(1e-6));
  // target's gradient is -logit(x) (clamped logs): 0 at x = 1/2.
  REQUIRE(r.grad.at("target")[2] == Approx(0).margin(1e-6));
  RequireMatchesRef(r, 2e-6, 1e-5);
  // Weight scales each element.
  const Result w = Eval("bce",
                        {{"input", {0.25f, 0.5f}, Shape{2}},
                         {"target", {1, 1}, Shape{2}},
                         {"weight", {2, 0}, Shape{2}}},
                        {{"reduction", 1}});
  REQUIRE(w.y[0] == Approx(2 * std::log(4.0)).epsilon(1e-6));
  // Probabilities outside [0, 1] (and NaN) are refused, naming the element.
  for (float bad : {1.5f, -0.25f, NAN}) {
    const Result e = Eval(
        "bce", {{"input", {0.5f, bad}, Shape{2}}, {"target", {1, 1}, Shape{2}}},
        {});
    REQUIRE(e.status.code() == ErrorCode::kBadValue);
    REQUIRE(e.status.what() == "input");
    INFO(e.status.message());
    REQUIRE(e.status.message().find("input[1]") != std::string::npos);
  }
  const Result shape = Eval("bce",
                            {{"input", {0.5f, 0.5f}, Shape{2}},
                             {"target", {1, 1}, Shape{2}},
                             {"weight", {1, 1, 1}, Shape{3}}},
                            {});
  REQUIRE(shape.status.code() == ErrorCode::kBadShape);
  REQUIRE(shape.status.what() == "weight");
}

TEST_CASE("bce_with_logits: finite and exact for |x| up to 1e4", "[losses]") {
  const std::vector<float> x = {1e4f, -1e4f, 1e4f, -1e4f, 500, -500, 0, 88.f};
  const std::vector<float> y = {1, 1, 0, 0, 0.25f, 0.75f, 0.5f, 0.999f};
  const Result r =
      Eval("bce_with_logits", {{"input", x, Shape{8}}, {"target", y, Shape{8}}},
           {{"reduction", 2}});
  REQUIRE(r.y[0] == 0.0f);
  REQUIRE(r.y[1] == 1e4f);
  REQUIRE(r.y[2] == 1e4f);
  REQUIRE(r.y[3] == 0.0f);
  REQUIRE(r.y[4] == Approx(375).epsilon(1e-6));
  REQUIRE(r.y[5] == Approx(375).epsilon(1e-6));
  REQUIRE(r.y[6] == Approx(std::log(2.0)).epsilon(1e-6));
  for (const auto& [name, g] : r.grad)
    for (float v : g) REQUIRE(std::isfinite(v));
  REQUIRE(r.grad.at("input")[1] == -1.0f);  // sigma(x) - y
  REQUIRE(r.grad.at("input")[2] == 1.0f);
  RequireMatchesRef(r);

  // pos_weight along the last dimension, weight per element, both against
  // -w [p y log sigma(x) + (1 - y) log(1 - sigma(x))] written out by hand.
  const std::vector<float> xs = {-2, -0.5f, 0, 0.5f, 2, 7},
                           ys = {0.2f, 1, 0, 0.6f, 1, 0.1f},
                           ws = {1, 2, 0.5f, 1, 3, 1}, pw = {3, 0.5f, 2};
  const Result p = Eval("bce_with_logits",
                        {{"input", xs, Shape{2, 3}},
                         {"target", ys, Shape{2, 3}},
                         {"weight", ws, Shape{2, 3}},
                         {"pos_weight", pw, Shape{3}}},
                        {{"reduction", 2}});
  for (int i = 0; i < 6; ++i) {
    const double s = 1 / (1 + std::exp(-double{xs[i]}));
    const double want = -ws[i] * (pw[i % 3] * ys[i] * std::log(s) +
                                  (1 - ys[i]) * std::log(1 - s));
    REQUIRE(p.y[i] == Approx(want).epsilon(2e-6));
  }
  RequireMatchesRef(p);
  const Result bad = Eval("bce_with_logits",
                          {{"input", xs, Shape{2, 3}},
                           {"target", ys, Shape{2, 3}},
                           {"pos_weight", pw, Shape{2}}},
                          {});
  REQUIRE(bad.status.code() == ErrorCode::kBadShape);
  REQUIRE(bad.status.what() == "pos_weight");
  INFO(bad.status.message());
  REQUIRE(bad.status.message().find("must have shape [3]") !=
          std::string::npos);
}

TEST_CASE("kl_div: argument order, 0 log 0, batchmean, log_target",
          "[losses]") {
  // input = log q, target = p: KL(p || q) row by row.
  const std::vector<float> p = {0.5f, 0.5f, 0, 0.25f, 0.25f, 0.5f},
                           q = {0.25f, 0.25f, 0.5f, 0.5f, 0.25f, 0.25f};
  std::vector<float> logq, logp;
  for (float v : q) logq.push_back(std::log(v));
  for (float v : p) logp.push_back(v > 0 ? std::log(v) : -INFINITY);
  const double kl0 = std::log(2.0),
               kl1 = 0.25 * std::log(0.5) + 0.5 * std::log(2.0);
  const std::vector<Arg> args = {{"input", logq, Shape{2, 3}},
                                 {"target", p, Shape{2, 3}}};
  const Result sum = Eval("kl_div", args, {{"reduction", 1}});
  REQUIRE(sum.y[0] == Approx(kl0 + kl1).epsilon(1e-6));
  const Result bm = Eval("kl_div", args, {{"reduction", 3}});
  REQUIRE(bm.y[0] == Approx((kl0 + kl1) / 2).epsilon(1e-6));
  const Result mean = Eval("kl_div", args, {});
  REQUIRE(mean.y[0] == Approx((kl0 + kl1) / 6).epsilon(1e-6));
  // target 0: no loss and (PyTorch's masked_fill) no target gradient.
  const Result none = Eval("kl_div", args, {{"reduction", 2}});
  REQUIRE(none.y[2] == 0.0f);
  REQUIRE(none.grad.at("target")[2] == 0.0f);
  REQUIRE(none.grad.at("input")[0] == -0.5f);
  RequireMatchesRef(none);
  RequireMatchesRef(bm);
  // log_target = True on log p gives the same values where p > 0.
  const Result lt = Eval(
      "kl_div", {{"input", logq, Shape{2, 3}}, {"target", logp, Shape{2, 3}}},
      {{"reduction", 2}, {"log_target", 1}});
  for (int i = 0; i < 6; ++i)  // (p = 0: e^-inf (-inf - x) is NaN, as torch)
    if (p[i] > 0)
      REQUIRE(lt.y[i] == Approx(none.y[i]).epsilon(1e-6).margin(1e-7));
  // batchmean of a scalar is the sum (PyTorch divides only for rank >= 1).
  const Result scalar =
      Eval("kl_div",
           {{"input", {std::log(0.25f)}, Shape{}}, {"target", {0.5f}, Shape{}}},
           {{"reduction", 3}});
  REQUIRE(scalar.y[0] == Approx(0.5 * std::log(2.0)).epsilon(1e-6));
}

TEST_CASE("poisson_nll: log_input, eps and Stirling's term only for t > 1",
          "[losses]") {
  const std::vector<float> x = {0.5f, 0.5f, 0.5f, 1.5f}, t = {0, 1, 2, 4};
  const std::vector<Arg> args = {{"input", x, Shape{4}},
                                 {"target", t, Shape{4}}};
  const Result r = Eval("poisson_nll", args, {{"reduction", 2}});
  for (int i = 0; i < 4; ++i)
    REQUIRE(r.y[i] == Approx(std::exp(x[i]) - t[i] * x[i]).epsilon(1e-6));
  const Result f = Eval("poisson_nll", args, {{"reduction", 2}, {"full", 1}});
  REQUIRE(f.y[1] == r.y[1]);  // t = 1 gets no Stirling term
  const double st2 = 2 * std::log(2.0) - 2 + 0.5 * std::log(4 * kPi);
  REQUIRE(f.y[2] == Approx(r.y[2] + st2).epsilon(1e-6));
  REQUIRE(f.grad.at("input") == r.grad.at("input"));
  RequireMatchesRef(f);
  const Result li =
      Eval("poisson_nll", args, {{"reduction", 2}, {"log_input", 0}});
  for (int i = 0; i < 4; ++i)
    REQUIRE(li.y[i] ==
            Approx(x[i] - t[i] * std::log(x[i] + 1e-8)).epsilon(1e-6));
  RequireMatchesRef(li);
  // Large log-rates: e^x overflows to inf exactly where it should.
  const Result big = Eval(
      "poisson_nll",
      {{"input", {80, 100, -1e4f}, Shape{3}}, {"target", {3, 3, 3}, Shape{3}}},
      {{"reduction", 2}});
  REQUIRE(big.y[0] == Approx(std::exp(80.0) - 240).epsilon(1e-6));
  REQUIRE(std::isinf(big.y[1]));
  REQUIRE(big.y[2] == 3e4f);
}

TEST_CASE("gaussian_nll: clamp at eps, gradient passed through it, full",
          "[losses]") {
  const std::vector<Arg> args = {{"input", {1, 1, 1}, Shape{3}},
                                 {"target", {0, 0, 3}, Shape{3}},
                                 {"var", {0.5f, 0.01f, 4}, Shape{3}}};
  const Result r = Eval("gaussian_nll", args, {{"reduction", 2}, {"eps", 0.1}});
  REQUIRE(r.y[0] == Approx(0.5 * (std::log(0.5) + 2)).epsilon(1e-6));
  REQUIRE(r.y[1] == Approx(0.5 * (std::log(0.1) + 10)).epsilon(1e-6));
  REQUIRE(r.y[2] == Approx(0.5 * (std::log(4.0) + 1)).epsilon(1e-6));
  // Clamped (0.01 -> eps 0.1): PyTorch passes the gradient at eps through,
  // 0.5 (1/v - e^2/v^2) = 0.5 (10 - 100).
  REQUIRE(r.grad.at("var")[1] == Approx(-45).epsilon(1e-6));
  REQUIRE(r.grad.at("var")[0] == Approx(0.5 * (2 - 4)).epsilon(1e-6));
  REQUIRE(r.grad.at("input")[1] == Approx(10).epsilon(1e-6));
  RequireMatchesRef(r);
  const Result f =
      Eval("gaussian_nll", args, {{"reduction", 2}, {"eps", 0.1}, {"full", 1}});
  for (int i = 0; i < 3; ++i)
    REQUIRE(f.y[i] == Approx(r.y[i] + 0.5 * std::log(2 * kPi)).epsilon(1e-6));
  const Result neg = Eval("gaussian_nll",
                          {{"input", {1, 1}, Shape{2}},
                           {"target", {0, 0}, Shape{2}},
                           {"var", {1, -0.5f}, Shape{2}}},
                          {});
  REQUIRE(neg.status.code() == ErrorCode::kBadValue);
  REQUIRE(neg.status.what() == "var");
  const Result shape = Eval("gaussian_nll",
                            {{"input", {1, 1}, Shape{2}},
                             {"target", {0, 0}, Shape{2}},
                             {"var", {1}, Shape{1}}},
                            {});
  REQUIRE(shape.status.code() == ErrorCode::kBadShape);
  REQUIRE(shape.status.what() == "var");
}

}  // namespace
}  // namespace dlmath::testing
