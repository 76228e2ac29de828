// Focused checks of the numerics, metrics, graph and regression entries that
// the generic oracles cannot see: the overflow the naive ops exist to show,
// hand-computed values (clip_grad_norm as torch, entropy of a uniform row,
// a rank-deficient least-squares problem), the second input form of
// perplexity, and the value checks of the shape functions.
#include <string>
#include <vector>

#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

struct Arg {
  std::string name;
  std::vector<float> data;
  Shape shape;
};

struct Out {
  Status status;
  std::vector<float> y;
  std::vector<std::vector<float>> aux;
  std::vector<std::vector<float>> grad;  // per input (empty if none)
  Call call;
};

// Runs an op (forward, and backward with dy = 1 when differentiable).
Out Eval(const char* id, const std::vector<Arg>& args,
         const std::vector<NamedParam>& params = {}) {
  Out o;
  std::vector<NamedTensor> named;
  for (const Arg& a : args) named.push_back({a.name, {a.data.data(), a.shape}});
  o.status = Prepare(id, named, params, &o.call);
  if (!o.status.ok()) return o;
  const Call& call = o.call;
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  o.y.assign(ev.y.data(), ev.y.data() + call.out.numel());
  for (int k = 0; k < call.op->num_aux(); ++k)
    o.aux.emplace_back(ev.aux[k].data(),
                       ev.aux[k].data() + call.aux[k].numel());
  if (!call.op->differentiable()) return o;
  Gradients g;
  REQUIRE(RunBackward(call, &ev, nullptr, &g).ok());
  for (int k = 0; k < call.op->num_inputs(); ++k) {
    o.grad.emplace_back();
    if (g.din[k].data())
      o.grad[k].assign(g.din[k].data(),
                       g.din[k].data() + call.in[k].shape.numel());
  }
  return o;
}

TEST_CASE("naive softmax/logsumexp overflow where the stable ones do not",
          "[numerics]") {
  const std::vector<float> x = {100, 0};
  Out naive = Eval("softmax_naive", {{"x", x, {2}}});
  REQUIRE(naive.status.ok());
  CHECK(std::isnan(naive.y[0]));  // inf / inf
  CHECK(naive.y[1] == 0);         // 1 / inf
  Out stable = Eval("softmax", {{"x", x, {2}}});
  CHECK(stable.y[0] == Approx(1.0f));
  CHECK(stable.y[1] == Approx(std::exp(-100.0)).margin(1e-30));

  Out lse = Eval("logsumexp_naive", {{"x", x, {2}}});
  CHECK(std::isinf(lse.y[0]));
  CHECK(lse.y[0] > 0);
  CHECK(std::isnan(lse.grad[0][0]));  // inf / inf in the backward
  Out lse_low = Eval("logsumexp_naive", {{"x", {-200, -200}, {2}}});
  CHECK(std::isinf(lse_low.y[0]));
  CHECK(lse_low.y[0] < 0);
  CHECK(Eval("logsumexp", {{"x", x, {2}}}).y[0] == Approx(100.0f));

  // Below the thresholds the naive and stable forms agree.
  const std::vector<float> mid = {1, -2, 3.5f, 0.25f};
  Out a = Eval("softmax_naive", {{"x", mid, {4}}});
  Out b = Eval("softmax", {{"x", mid, {4}}});
  for (int i = 0; i < 4; ++i) CHECK(a.y[i] == Approx(b.y[i]).epsilon(1e-6));
}

TEST_CASE("bce_naive: log of zero for confident logits", "[numerics]") {
  const std::vector<NamedParam> none = {{"reduction", 2}};
  // x = -100: e^100 overflows, sigma = 0, and t log 0 with t = 0 is NaN.
  Out o =
      Eval("bce_naive",
           {{"input", {-100, 20, 1}, {3}}, {"target", {0, 0, 1}, {3}}}, none);
  REQUIRE(o.status.ok());
  CHECK(std::isnan(o.y[0]));
  CHECK(std::isinf(o.y[1]));  // 1 + e^-20 rounds to 1: -log(0)
  CHECK(o.y[2] == Approx(std::log1p(std::exp(-1.0))).epsilon(1e-6));
}

TEST_CASE("clip_grad_norm follows torch.nn.utils.clip_grad_norm_",
          "[numerics]") {
  Out o = Eval("clip_grad_norm", {{"grads", {3, 4, 0}, {3}}});
  REQUIRE(o.status.ok());
  const double coef = 1.0 / (5.0 + 1e-6);
  CHECK(o.y[0] == Approx(3 * coef));
  CHECK(o.y[1] == Approx(4 * coef));
  CHECK(o.aux[0][0] == Approx(5.0f));
  CHECK(o.aux[1][0] == Approx(coef));
  // Several tensors: concatenate and give their lengths.
  Out pieces = Eval("clip_grad_norm",
                    {{"grads", {3, 4, 0}, {3}}, {"sizes", {1, 2}, {2}}},
                    {{"max_norm", 10}});
  REQUIRE(pieces.status.ok());
  CHECK(pieces.aux[2][0] == Approx(3.0f));
  CHECK(pieces.aux[2][1] == Approx(4.0f));
  CHECK(pieces.y[1] == 4.0f);  // under max_norm: untouched
  CHECK(pieces.aux[1][0] == 1.0f);
  Out inf = Eval("clip_grad_norm", {{"grads", {3, -4, 0}, {3}}},
                 {{"inf_norm", 1}, {"max_norm", 2}});
  CHECK(inf.aux[0][0] == 4.0f);
  CHECK(inf.y[1] == Approx(-2.0f));
  Out bad = Eval("clip_grad_norm",
                 {{"grads", {3, 4, 0}, {3}}, {"sizes", {1, 1}, {2}}});
  CHECK(bad.status.code() == ErrorCode::kBadValue);
  CHECK(Eval("clip_grad_norm", {{"grads", {NAN, 1}, {2}}},
             {{"error_if_nonfinite", 1}})
            .status.code() == ErrorCode::kBadValue);
}

TEST_CASE("clip_grad_value passes the gradient on the bounds", "[numerics]") {
  Out o = Eval("clip_grad_value", {{"input", {-2, -1, 0.5f, 1, 3}, {5}}});
  REQUIRE(o.status.ok());
  CHECK(o.y == std::vector<float>{-1, -1, 0.5f, 1, 1});
  CHECK(o.grad[0] == std::vector<float>{0, 1, 1, 1, 0});
}

TEST_CASE("entropy, KL and cross-entropy on hand-made rows", "[metrics]") {
  const std::vector<float> u = {0.25f, 0.25f, 0.25f, 0.25f};
  CHECK(Eval("entropy", {{"p", u, {4}}}).y[0] == Approx(std::log(4.0)));
  CHECK(Eval("entropy", {{"p", u, {4}}}, {{"base", 2}}).y[0] == Approx(2.0));
  // 0 log 0 = 0; normalize rescales before the entropy.
  CHECK(Eval("entropy", {{"p", {2, 0, 2}, {3}}}, {{"normalize", 1}}).y[0] ==
        Approx(std::log(2.0)));
  const std::vector<float> p = {0.5f, 0.5f}, q = {0.25f, 0.75f};
  const double kl = 0.5 * std::log(2.0) + 0.5 * std::log(0.5 / 0.75);
  CHECK(Eval("kl_divergence", {{"p", p, {2}}, {"q", q, {2}}}).y[0] ==
        Approx(kl));
  CHECK(Eval("kl_divergence", {{"p", p, {2}}, {"q", p, {2}}}).y[0] == 0);
  // H(p, q) = H(p) + KL(p || q).
  CHECK(
      Eval("distribution_cross_entropy", {{"p", p, {2}}, {"q", q, {2}}}).y[0] ==
      Approx(std::log(2.0) + kl));
  CHECK(Eval("entropy", {{"p", {0.5f, -0.1f}, {2}}}).status.code() ==
        ErrorCode::kBadValue);
}

TEST_CASE("perplexity from logits and targets", "[metrics]") {
  const std::vector<float> logits = {2, 0.5f, -1, 0, 1, 3};
  const std::vector<float> targets = {0, 2};
  Out o = Eval("perplexity",
               {{"logits", logits, {2, 3}}, {"targets", targets, {2}}});
  REQUIRE(o.status.ok());
  // The same number from the log-probabilities of the observed tokens.
  auto log_softmax = [&](int row, int col) {
    double s = 0;
    for (int j = 0; j < 3; ++j) s += std::exp(double{logits[row * 3 + j]});
    return logits[row * 3 + col] - std::log(s);
  };
  const std::vector<float> lp = {static_cast<float>(log_softmax(0, 0)),
                                 static_cast<float>(log_softmax(1, 2))};
  Out from_lp = Eval("perplexity", {{"log_probs", lp, {2}}});
  CHECK(o.y[0] == Approx(from_lp.y[0]).epsilon(1e-6));
  CHECK(o.y[0] == Approx(std::exp(-(lp[0] + lp[1]) / 2)).epsilon(1e-6));
  // d ppl / d logits by central differences (in double on the reference).
  for (int i = 0; i < 6; ++i) {
    const double h = 1e-3;
    std::vector<float> a = logits, b = logits;
    a[i] += static_cast<float>(h);
    b[i] -= static_cast<float>(h);
    const double fd =
        (Eval("perplexity", {{"logits", a, {2, 3}}, {"targets", targets, {2}}})
             .y[0] -
         Eval("perplexity", {{"logits", b, {2, 3}}, {"targets", targets, {2}}})
             .y[0]) /
        (2 * h);
    CHECK(o.grad[1][i] == Approx(fd).epsilon(2e-3).margin(2e-3));
  }
  // Exactly one form.
  CHECK(Eval("perplexity", {}).status.code() == ErrorCode::kMissingInput);
  CHECK(Eval("perplexity", {{"logits", logits, {2, 3}}}).status.code() ==
        ErrorCode::kMissingInput);
  CHECK(!Eval("perplexity", {{"log_probs", lp, {2}},
                             {"logits", logits, {2, 3}},
                             {"targets", targets, {2}}})
             .status.ok());
  CHECK(
      Eval("perplexity", {{"logits", logits, {2, 3}}, {"targets", {0, 3}, {2}}})
          .status.code() == ErrorCode::kBadValue);
}

TEST_CASE("Laplacians use the symmetric part; isolated nodes", "[graph]") {
  // A path 0 - 1 given one-sided (A[0][1] = 2 only): S has 1 on both sides.
  // Node 2 is isolated.
  const std::vector<float> a = {0, 2, 0, 0, 0, 0, 0, 0, 0};
  Out l = Eval("laplacian", {{"A", a, {3, 3}}});
  REQUIRE(l.status.ok());
  CHECK(l.y == std::vector<float>{1, -1, 0, -1, 1, 0, 0, 0, 0});
  CHECK(l.aux[0][0] == Approx(0).margin(1e-6));
  CHECK(l.aux[0][1] == Approx(0).margin(1e-6));  // two components
  CHECK(l.aux[0][2] == Approx(2));
  Out n = Eval("normalized_laplacian", {{"A", a, {3, 3}}});
  CHECK(n.y == std::vector<float>{1, -1, 0, -1, 1, 0, 0, 0, 0});
  Out rw = Eval("random_walk_laplacian", {{"A", a, {3, 3}}});
  CHECK(rw.y[8] == 0);  // isolated: zero row, no 1 on the diagonal
  CHECK(rw.aux[0][2] == Approx(2));
  CHECK(Eval("laplacian", {{"A", {0, -1, -1, 0}, {2, 2}}}).status.code() ==
        ErrorCode::kBadValue);
  CHECK(Eval("laplacian", {{"A", {0, 1, 1, 0, 1, 1}, {2, 3}}}).status.code() ==
        ErrorCode::kBadShape);
}

TEST_CASE("least_squares: minimum-norm solution when rank deficient",
          "[regression]") {
  // Two identical columns: every theta with theta_0 + theta_1 = 2 fits;
  // the minimum-norm one is (1, 1).
  const std::vector<float> x = {1, 1, 2, 2, 3, 3};
  Out o = Eval("least_squares", {{"X", x, {3, 2}}, {"Y", {2, 4, 6}, {3}}});
  REQUIRE(o.status.ok());
  CHECK(o.y[0] == Approx(1.0f).epsilon(1e-5));
  CHECK(o.y[1] == Approx(1.0f).epsilon(1e-5));
  CHECK(o.aux[0][0] == Approx(0).margin(1e-9));
  // An overdetermined fit: y = 1 + 2 t with one point off by +1.
  const std::vector<float> x2 = {1, 0, 1, 1, 1, 2, 1, 3};
  Out f = Eval("least_squares", {{"X", x2, {4, 2}}, {"Y", {1, 3, 6, 7}, {4}}});
  REQUIRE(f.status.ok());
  CHECK(f.y[0] == Approx(1.1f).epsilon(1e-5));
  CHECK(f.y[1] == Approx(2.1f).epsilon(1e-5));
  // residual = Y - X theta, loss = 1/2 sum residual^2.
  double loss = 0;
  for (float r : f.aux[1]) loss += 0.5 * r * r;
  CHECK(f.aux[0][0] == Approx(loss).epsilon(1e-5));
  CHECK(f.aux[1][2] == Approx(6 - (1.1 + 2 * 2.1)).margin(1e-5));
  // The loss at the solution, and its gradient there vanishes in theta.
  Out l =
      Eval("least_squares_loss",
           {{"X", x2, {4, 2}}, {"theta", f.y, {2}}, {"Y", {1, 3, 6, 7}, {4}}});
  CHECK(l.y[0] == Approx(f.aux[0][0]).epsilon(1e-5));
  CHECK(l.grad[1][0] == Approx(0).margin(1e-5));
  CHECK(l.grad[1][1] == Approx(0).margin(1e-5));
  CHECK(Eval("least_squares_loss",
             {{"X", x2, {4, 2}}, {"theta", {1, 2}, {2}}, {"Y", {1, 3, 6}, {3}}})
            .status.code() == ErrorCode::kBadShape);
}

}  // namespace
}  // namespace dlmath::testing
