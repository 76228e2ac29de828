// Distances: what the generic oracles cannot see. mahalanobis with a real
// (symmetric positive definite) S, which random sample data never is; the
// pair rule; PyTorch's conventions checked on values worked out by hand.
#include <string>

#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

struct Result {
  Status status;
  Shape shape;
  std::vector<float> y;
  std::vector<std::vector<float>> grads;  // per input (empty if none)
};

// Runs op on named inputs (forward, then backward with dy = ones).
Result Eval(const char* id, std::vector<NamedTensor> in,
            std::vector<NamedParam> p = {}) {
  Result r;
  Call call;
  r.status = Prepare(id, in, p, &call);
  if (!r.status.ok()) return r;
  r.shape = call.out;
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  r.y.assign(ev.y.data(), ev.y.data() + call.out.numel());
  Gradients g;
  REQUIRE(RunBackward(call, &ev, nullptr, &g).ok());
  r.grads.resize(call.op->num_inputs());
  for (int k = 0; k < call.op->num_inputs(); ++k)
    if (g.din[k].ok() && g.din[k].size())
      r.grads[k].assign(g.din[k].data(), g.din[k].data() + g.din[k].size());
  return r;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A random symmetric positive definite [d, d]: A A^T + d I.
std::vector<float> RandomSpd(int d, uint32_t seed) {
  const std::vector<float> a = RandomData(d * d, seed, -1, 1);
  std::vector<float> s(d * d);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) {
      double v = i == j ? d : 0;
      for (int k = 0; k < d; ++k) v += double{a[i * d + k]} * a[j * d + k];
      s[i * d + j] = static_cast<float>(v);
    }
  return s;
}

TEST_CASE("mahalanobis with an SPD S: kernels, reference, gradients",
          "[distances]") {
  const int n = 5, d = 4;
  const std::vector<float> x1 = RandomData(n * d, 1), x2 = RandomData(n * d, 2),
                           x3 = RandomData(3 * d, 3), s = RandomSpd(d, 4);
  for (int pairs = 0; pairs < 3; ++pairs) {  // rows, all_pairs, N != M
    const std::vector<float>& b = pairs == 2 ? x3 : x2;
    const int m = pairs == 2 ? 3 : n;
    NamedTensor in[] = {{"x1", {x1.data(), Shape{n, d}}},
                        {"x2", {b.data(), Shape{m, d}}},
                        {"S", {s.data(), Shape{d, d}}}};
    NamedParam p[] = {{"all_pairs", pairs == 1 ? 1.0 : 0.0}};
    Call call;
    REQUIRE(Prepare("mahalanobis", in, p, &call).ok());
    REQUIRE(call.out == (pairs ? Shape{n, m} : Shape{n}));
    const size_t no = call.out.numel();
    const std::vector<float> dy = RandomData(no, 9, -2, 2);
    // Reference forward and backward in double.
    RefBuffers rb = RefInputs(call);
    GenCall<double> rc = RefForward(call, &rb);
    const std::vector<double> dyd(dy.begin(), dy.end());
    std::vector<double> r1(n * d, 0), r2(m * d, 0);
    double* rd[kMaxInputs] = {r1.data(), r2.data()};
    std::vector<double> rdp(kMaxParams, 0);
    rc.dy = dyd.data();
    rc.din = rd;
    rc.dp = rdp.data();
    call.op->impl.gen_ref_bwd(rc);
    // The reference against central differences of itself.
    for (int k = 0; k < 2; ++k)
      for (size_t j = 0; j < rb.in[k].size(); ++j) {
        const double fd = RefCentralDiff(call, rb, dyd, k, j);
        REQUIRE(std::fabs(fd - (k ? r2 : r1)[j]) < 1e-6);
      }
    // The kernels against the reference on every target.
    ForEachTarget([&](const char* target) {
      INFO("target " << target << " pairs " << pairs);
      Evaluation ev;
      REQUIRE(Run(call, &ev).ok());
      for (size_t i = 0; i < no; ++i)
        REQUIRE(Close(ev.y.data()[i], rb.y[i], 2e-6));
      std::vector<float> g1(n * d, 0), g2(m * d, 0);
      float* din[kMaxInputs] = {g1.data(), g2.data()};
      std::vector<double> dp(kMaxParams, 0);
      Backward(call, ev.y.data(), ev.ws.data(), dy.data(), din, dp.data());
      for (int i = 0; i < n * d; ++i) REQUIRE(Close(g1[i], r1[i], 1e-5));
      for (int i = 0; i < m * d; ++i) REQUIRE(Close(g2[i], r2[i], 1e-5));
    });
  }
}

// Kernels against the float64 reference on a prepared call (every target).
void CheckCall(const Call& call, double tol, double gtol) {
  const int ni = call.op->num_inputs();
  const size_t no = call.out.numel();
  const std::vector<float> dy = RandomData(no, 21, -2, 2);
  const std::vector<double> dyd(dy.begin(), dy.end());
  RefBuffers rb = RefInputs(call);
  GenCall<double> rc = RefForward(call, &rb);
  std::vector<std::vector<double>> rg(ni);
  double* rd[kMaxInputs] = {};
  for (int k = 0; k < ni; ++k) {
    rg[k].assign(rb.in[k].size(), 0);
    if (call.op->inputs[k].diff && call.in[k].data) rd[k] = rg[k].data();
  }
  std::vector<double> rdp(kMaxParams, 0);
  rc.dy = dyd.data();
  rc.din = rd;
  rc.dp = rdp.data();
  call.op->impl.gen_ref_bwd(rc);
  ForEachTarget([&](const char* target) {
    INFO("op " << call.op->id << " target " << target << " shape "
               << call.in[0].shape.str());
    Evaluation ev;
    REQUIRE(Run(call, &ev).ok());
    for (size_t i = 0; i < no; ++i) {
      INFO("y[" << i << "] got " << ev.y.data()[i] << " ref " << rb.y[i]);
      REQUIRE(Close(ev.y.data()[i], rb.y[i], tol));
    }
    std::vector<std::vector<float>> g(ni);
    float* din[kMaxInputs] = {};
    for (int k = 0; k < ni; ++k) {
      g[k].assign(rb.in[k].size(), 0);
      if (rd[k]) din[k] = g[k].data();
    }
    std::vector<double> dp(kMaxParams, 0);
    Backward(call, ev.y.data(), ev.ws.data(), dy.data(), din, dp.data());
    for (int k = 0; k < ni; ++k)
      for (size_t i = 0; din[k] && i < g[k].size(); ++i) {
        INFO("d" << call.op->inputs[k].name << "[" << i << "] got " << g[k][i]
                 << " ref " << rg[k][i]);
        REQUIRE(Close(g[k][i], rg[k][i], gtol));
      }
  });
}

TEST_CASE("distances: every row length, both pair modes, odd p",
          "[distances]") {
  struct Case {
    const char* id;
    std::vector<NamedParam> p;
    bool rows_only = false;
  };
  const Case cases[] = {{"dot", {}},
                        {"cosine_similarity", {}},
                        {"euclidean", {}},
                        {"manhattan", {}},
                        {"mahalanobis", {}},
                        {"pairwise_distance", {}},
                        {"pairwise_distance", {{"p", 1}}},
                        // p < 1: |u|^(p-1) reaches 1e4 near u = 0, so the terms
                        // of two pairs that meet in one dx1 element can cancel
                        // far below float's rounding of them: rows only.
                        {"pairwise_distance", {{"p", 0.5}}, true},
                        {"pairwise_distance", {{"p", 3.25}, {"eps", 0.1}}}};
  for (const Case& cs : cases)
    for (int d : {1, 3, 4, 8, 9, 17, 33, 1030}) {
      const std::vector<float> a = RandomData(3 * d, d, -1, 1),
                               b = RandomData(3 * d, d + 1, -1, 1),
                               b2 = RandomData(2 * d, d + 2, -1, 1);
      for (int m : {3, 2}) {
        if (cs.rows_only && m == 2) continue;
        NamedTensor in[] = {{"x1", {a.data(), Shape{3, d}}},
                            {"x2", {(m == 3 ? b : b2).data(), Shape{m, d}}}};
        Call call;
        REQUIRE(Prepare(cs.id, in, cs.p, &call).ok());
        // Long rows: dot products of 1030 terms that cancel (the GEMM
        // rounds each one); everything else sums in double blocks.
        CheckCall(call, d > 100 ? 2e-5 : 2e-6, d > 100 ? 2e-5 : 1e-5);
      }
    }
}

TEST_CASE("mahalanobis: hand values and S validation", "[distances]") {
  // S = diag(4, 1): e = (2, 2), e^T S^-1 e = 4/4 + 4/1 = 5.
  float a[2] = {2, 3}, b[2] = {0, 1}, s[4] = {4, 0, 0, 1};
  const Shape row{1, 2}, sq{2, 2};
  Result r =
      Eval("mahalanobis", {{"x1", {a, row}}, {"x2", {b, row}}, {"S", {s, sq}}});
  REQUIRE(r.status.ok());
  const double y = std::sqrt(5.0);
  REQUIRE(r.y[0] == Approx(y).epsilon(1e-6));
  // dy/dx1 = S^-1 e / y = (0.5, 2) / sqrt(5) = -dy/dx2.
  REQUIRE(r.grads[0][0] == Approx(0.5 / y).epsilon(1e-6));
  REQUIRE(r.grads[0][1] == Approx(2 / y).epsilon(1e-6));
  REQUIRE(r.grads[1][1] == Approx(-2 / y).epsilon(1e-6));
  REQUIRE(r.grads[2].empty());  // S is a constant
  // Without S: the euclidean distance, sqrt(8).
  r = Eval("mahalanobis", {{"x1", {a, row}}, {"x2", {b, row}}});
  REQUIRE(r.y[0] == Approx(std::sqrt(8.0)).epsilon(1e-6));

  float asym[4] = {4, 1, 0, 1}, indef[4] = {1, 2, 2, 1};
  Status st = Eval("mahalanobis",
                   {{"x1", {a, row}}, {"x2", {b, row}}, {"S", {asym, sq}}})
                  .status;
  REQUIRE(st.code() == ErrorCode::kBadValue);
  REQUIRE(st.what() == "S");
  REQUIRE(Contains(st.message(), "symmetric"));
  st = Eval("mahalanobis",
            {{"x1", {a, row}}, {"x2", {b, row}}, {"S", {indef, sq}}})
           .status;
  REQUIRE(st.code() == ErrorCode::kBadValue);
  REQUIRE(Contains(st.message(), "positive definite"));
  st = Eval("mahalanobis",
            {{"x1", {a, row}}, {"x2", {b, row}}, {"S", {s, Shape{1, 4}}}})
           .status;
  REQUIRE(st.code() == ErrorCode::kBadShape);
  REQUIRE(Contains(st.message(), "input 'S' must have shape [2, 2]"));
  REQUIRE(Contains(st.message(), "got [1, 4]"));
}

TEST_CASE("the pair rule: rows, all pairs, mismatched widths", "[distances]") {
  float x[6] = {0, 0, 3, 4, 1, 1}, z[4] = {0, 0, 0, 1};
  // N == M: row against row.
  Result r =
      Eval("euclidean", {{"x1", {x, Shape{2, 2}}}, {"x2", {z, Shape{2, 2}}}});
  REQUIRE(r.shape == Shape{2});
  REQUIRE(r.y[0] == 0.0f);
  REQUIRE(r.y[1] == Approx(std::sqrt(18.0)));
  // Equal rows: the subgradient 0 (torch.cdist), never NaN.
  REQUIRE(r.grads[0][0] == 0.0f);
  REQUIRE(r.grads[0][1] == 0.0f);
  // all_pairs: [N, N].
  r = Eval("euclidean", {{"x1", {x, Shape{2, 2}}}, {"x2", {z, Shape{2, 2}}}},
           {{"all_pairs", 1}});
  REQUIRE(r.shape == Shape({2, 2}));
  REQUIRE(r.y[1] == 1.0f);
  REQUIRE(r.y[2] == 5.0f);
  // N != M: all pairs, [3, 2].
  r = Eval("manhattan", {{"x1", {x, Shape{3, 2}}}, {"x2", {z, Shape{2, 2}}}});
  REQUIRE(r.shape == Shape({3, 2}));
  REQUIRE(r.y[2] == 7.0f);
  REQUIRE(r.y[3] == 6.0f);
  r = Eval("dot", {{"x1", {x, Shape{3, 2}}}, {"x2", {z, Shape{2, 2}}}});
  REQUIRE(r.y[3] == 4.0f);
  REQUIRE(r.grads[0][0] == 0.0f);  // sum_j x2_j = (0, 1)
  REQUIRE(r.grads[0][1] == 1.0f);
  REQUIRE(r.grads[1][1] == 5.0f);  // sum_i x1_i = (4, 5)
  // Rows of different lengths.
  const Status st =
      Eval("dot", {{"x1", {x, Shape{2, 3}}}, {"x2", {z, Shape{2, 2}}}}).status;
  REQUIRE(st.code() == ErrorCode::kBadShape);
  REQUIRE(st.what() == "x2");
  REQUIRE(Contains(st.message(), "must have shape [M, 3]"));
  REQUIRE(Contains(st.message(), "got [2, 2]"));
}

TEST_CASE("cosine_similarity clamps each norm (PyTorch >= 1.12)",
          "[distances]") {
  float a[4] = {1, 0, 1e-5f, 0}, b[4] = {1, 1, 1e-5f, 0};
  Result r = Eval("cosine_similarity",
                  {{"x1", {a, Shape{2, 2}}}, {"x2", {b, Shape{2, 2}}}});
  REQUIRE(r.y[0] == Approx(std::sqrt(0.5)).epsilon(1e-6));
  // Norms 1e-5 each: above eps, so 1. Clamping the product of the norms
  // (1e-10 < eps = 1e-8), as PyTorch < 1.12 did, would give 0.01.
  REQUIRE(r.y[1] == Approx(1.0).epsilon(1e-6));
  // A zero vector: 0 / eps^2... the dot is 0, so 0, with a finite gradient.
  float zero[2] = {0, 0};
  r = Eval("cosine_similarity",
           {{"x1", {zero, Shape{1, 2}}}, {"x2", {b, Shape{1, 2}}}});
  REQUIRE(r.y[0] == 0.0f);
  REQUIRE(std::isfinite(r.grads[0][0]));
  REQUIRE(std::isfinite(r.grads[1][0]));
  REQUIRE(r.grads[1][0] == 0.0f);  // x1 / (c1 c2) with x1 = 0
}

TEST_CASE("pairwise_distance adds eps to the difference (PyTorch)",
          "[distances]") {
  float a[2] = {1, 2}, b[4] = {1, 2, 4, 6};
  // Identical rows: ||(eps, eps)||_2 = sqrt(2) eps, not 0.
  Result r = Eval("pairwise_distance",
                  {{"x1", {a, Shape{1, 2}}}, {"x2", {b, Shape{1, 2}}}});
  REQUIRE(r.shape == Shape{1});
  REQUIRE(r.y[0] == Approx(std::sqrt(2.0) * 1e-6).epsilon(1e-5));
  // u = (-3, -4): p = 1 gives 7 (eps 0), p = 3 gives (27 + 64)^(1/3);
  // keepdim and M = 2 != N = 1 give [1, 2, 1].
  r = Eval("pairwise_distance",
           {{"x1", {a, Shape{1, 2}}}, {"x2", {b, Shape{2, 2}}}},
           {{"p", 3}, {"eps", 0}, {"keepdim", 1}});
  REQUIRE(r.shape == Shape({1, 2, 1}));
  REQUIRE(r.y[1] == Approx(std::cbrt(91.0)).epsilon(1e-6));
  // d/dx1 = sign(u) (|u| / y)^2, summed over the two pairs; the first pair
  // has u = 0 (gradient 0).
  const double y = std::cbrt(91.0);
  REQUIRE(r.grads[0][0] == Approx(-9 / (y * y)).epsilon(1e-5));
  REQUIRE(r.grads[0][1] == Approx(-16 / (y * y)).epsilon(1e-5));
  r = Eval("pairwise_distance",
           {{"x1", {a, Shape{1, 2}}}, {"x2", {b + 2, Shape{1, 2}}}},
           {{"p", 1}, {"eps", 0}});
  REQUIRE(r.y[0] == 7.0f);
  REQUIRE(r.grads[0][0] == -1.0f);
}

}  // namespace
}  // namespace dlmath::testing
