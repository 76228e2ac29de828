// Normalization and regularization: PyTorch conventions the generic oracles
// cannot see (they compare the kernels with a reference written by the same
// hand), checked on values worked out by hand.
#include <string>
#include <vector>

#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

struct Result {
  Status status;
  Call call;
  Evaluation ev;
  float y(int64_t i) const { return ev.y.data()[i]; }
  float aux(int k, int64_t i) const { return ev.aux[k].data()[i]; }
};

// Prepare + Run; status holds the first error.
Result Eval(std::string_view id, std::vector<NamedTensor> in,
            std::vector<NamedParam> p = {}) {
  Result r;
  r.status = Prepare(id, in, p, &r.call);
  if (r.status.ok()) r.status = Run(r.call, &r.ev);
  return r;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// The registry samples are small (rows of 7), so the kernels' four-
// accumulator main loops and 1024-value blocks never run there: compare
// kernels and reference on long rows too, forward, aux and backward, on
// every target.
void CompareLong(std::string_view id, std::vector<Shape> shapes,
                 std::vector<NamedParam> params = {}, float lo = -3,
                 float hi = 3) {
  const OpInfo& op = *FindOp(id);
  std::vector<std::vector<float>> data;
  std::vector<NamedTensor> in;
  for (size_t k = 0; k < shapes.size(); ++k) {
    // Variances must stay positive: running_var, and everything of
    // spectral_norm, come from [0.5, 2].
    const bool positive = std::string(op.inputs[k].name) == "running_var";
    data.push_back(RandomData(shapes[k].numel(), 300 + k, positive ? 0.5f : lo,
                              positive ? 2.0f : hi));
  }
  for (size_t k = 0; k < shapes.size(); ++k)
    in.push_back({op.inputs[k].name, {data[k].data(), shapes[k]}});
  Call call;
  const Status st = Prepare(id, in, params, &call);
  INFO(st.message());
  REQUIRE(st.ok());
  RefBuffers rb = RefInputs(call);
  GenCall<double> rc = RefForward(call, &rb);
  const std::vector<float> dy = RandomData(call.out.numel(), 9, -2, 2);
  const std::vector<double> dyd(dy.begin(), dy.end());
  std::vector<std::vector<double>> dind(shapes.size());
  double* dinp[kMaxInputs] = {};
  for (size_t k = 0; k < shapes.size(); ++k) {
    dind[k].assign(data[k].size(), 0);
    if (op.inputs[k].diff) dinp[k] = dind[k].data();
  }
  std::vector<double> ref_dp(kMaxParams, 0);
  rc.dy = dyd.data();
  rc.din = dinp;
  rc.dp = ref_dp.data();
  op.impl.gen_ref_bwd(rc);
  ForEachTarget([&](const char* target) {
    INFO("op " << id << ", target " << target);
    Evaluation ev;
    REQUIRE(Run(call, &ev).ok());
    for (int64_t i = 0; i < call.out.numel(); ++i) {
      INFO("out " << i << " got " << ev.y.data()[i] << " ref " << rb.y[i]);
      REQUIRE(Close(ev.y.data()[i], rb.y[i], op.tol.value));
    }
    for (int a = 0; a < op.num_aux(); ++a)
      for (size_t i = 0; i < rb.aux[a].size(); ++i)
        REQUIRE(Close(ev.aux[a].data()[i], rb.aux[a][i], op.tol.value));
    std::vector<std::vector<float>> din(shapes.size());
    float* dptr[kMaxInputs] = {};
    for (size_t k = 0; k < shapes.size(); ++k) {
      din[k].assign(data[k].size(), 0);
      if (op.inputs[k].diff) dptr[k] = din[k].data();
    }
    std::vector<double> dp(kMaxParams, 0);
    Backward(call, ev.y.data(), ev.ws.data(), dy.data(), dptr, dp.data());
    for (size_t k = 0; k < shapes.size(); ++k) {
      if (!dptr[k]) continue;
      // A gradient summed over a long reduction (dweight over 2000 rows):
      // compare relative to the largest entry.
      double scale = 1;
      for (double v : dind[k]) scale = std::max(scale, std::fabs(v));
      for (size_t i = 0; i < din[k].size(); ++i) {
        INFO("d" << op.inputs[k].name << "[" << i << "] got " << din[k][i]
                 << " ref " << dind[k][i]);
        REQUIRE(std::fabs(din[k][i] - dind[k][i]) <= op.tol.grad * scale);
      }
    }
  });
}

TEST_CASE("long rows: kernels match the reference", "[norms]") {
  CompareLong("layer_norm", {{3, 1029}, {1029}, {1029}});
  CompareLong("layer_norm", {{5, 37}});
  CompareLong("rms_norm", {{3, 2051}, {2051}});
  CompareLong("batch_norm", {{4, 3, 517}, {3}, {3}, {3}, {3}});
  CompareLong("batch_norm", {{4, 3, 517}, {3}, {3}, {3}, {3}},
              {{"training", 0}});
  CompareLong("batch_norm", {{600, 5}, {5}, {5}});
  CompareLong("group_norm", {{2, 6, 333}, {6}, {6}}, {{"num_groups", 3}});
  CompareLong("instance_norm", {{2, 3, 17, 41}, {3}, {3}});
  CompareLong("weight_norm", {{5, 3, 345}, {5}});
  CompareLong("weight_norm", {{5, 3, 345}, {1}}, {{"dim", -1}});
  CompareLong("l1_penalty", {{3001}});
  CompareLong("l2_penalty", {{3001}});
  CompareLong("dropout", {{3001}}, {{"p", 0.3}, {"seed", 5}});
  CompareLong("spectral_norm", {{40, 70}}, {}, 0.5f, 2.0f);
}

TEST_CASE("layer_norm and rms_norm by hand", "[norms]") {
  float x[3] = {1, 2, 3};
  Result r = Eval("layer_norm", {{"input", {x, {1, 3}}}});
  REQUIRE(r.status.ok());
  // mean 2, biased variance 2/3.
  const double s = 1 / std::sqrt(2.0 / 3 + 1e-5);
  REQUIRE(r.y(0) == Approx(-s).epsilon(1e-6));
  REQUIRE(r.y(1) == Approx(0).margin(1e-7));
  REQUIRE(r.y(2) == Approx(s).epsilon(1e-6));

  float v[2] = {3, 4}, w[2] = {2, 0.5f};
  r = Eval("rms_norm", {{"input", {v, {2}}}, {"weight", {w, {2}}}});
  REQUIRE(r.status.ok());
  const double rms = std::sqrt(12.5 + 1e-6);  // default eps 1e-6
  REQUIRE(r.y(0) == Approx(3 / rms * 2).epsilon(1e-6));
  REQUIRE(r.y(1) == Approx(4 / rms * 0.5).epsilon(1e-6));
}

TEST_CASE("batch_norm: running stats use the unbiased variance", "[norms]") {
  float x[4] = {1, 2, 3, 4};  // [N = 4, C = 1]
  Result r = Eval("batch_norm", {{"input", {x, {4, 1}}}});
  REQUIRE(r.status.ok());
  // Batch: mean 2.5, biased variance 1.25 (normalizes), unbiased 5/3.
  REQUIRE(r.y(0) == Approx(-1.5 / std::sqrt(1.25 + 1e-5)).epsilon(1e-6));
  // Absent running stats start at 0 and 1; momentum 0.1 weighs the batch.
  REQUIRE(r.aux(0, 0) == Approx(0.25).epsilon(1e-6));
  REQUIRE(r.aux(1, 0) == Approx(0.9 + 0.1 * 5.0 / 3).epsilon(1e-6));

  float rm[1] = {1}, rv[1] = {4};
  r = Eval("batch_norm",
           {{"input", {x, {4, 1}}},
            {"running_mean", {rm, {1}}},
            {"running_var", {rv, {1}}}},
           {{"momentum", 0.5}});
  REQUIRE(r.status.ok());
  REQUIRE(r.aux(0, 0) == Approx(0.5 * 1 + 0.5 * 2.5).epsilon(1e-6));
  REQUIRE(r.aux(1, 0) == Approx(0.5 * 4 + 0.5 * 5.0 / 3).epsilon(1e-6));

  // Eval: the running stats normalize and come back unchanged.
  r = Eval("batch_norm",
           {{"input", {x, {4, 1}}},
            {"running_mean", {rm, {1}}},
            {"running_var", {rv, {1}}}},
           {{"training", 0}});
  REQUIRE(r.status.ok());
  REQUIRE(r.y(3) == Approx(3 / std::sqrt(4 + 1e-5)).epsilon(1e-6));
  REQUIRE(r.aux(0, 0) == 1);
  REQUIRE(r.aux(1, 0) == 4);
  // Eval gradient: dx = dy w / sqrt(rv + eps), the stats are constants.
  Gradients g;
  REQUIRE(RunBackward(r.call, &r.ev, nullptr, &g).ok());
  REQUIRE(g.din[0].data()[0] == Approx(1 / std::sqrt(4 + 1e-5)).epsilon(1e-6));

  r = Eval("batch_norm", {{"input", {x, {4, 1}}}}, {{"training", 0}});
  REQUIRE(r.status.code() == ErrorCode::kMissingInput);
  REQUIRE(Contains(r.status.message(), "running_mean"));

  float one[1] = {5};
  r = Eval("batch_norm", {{"input", {one, {1, 1}}}});
  REQUIRE(r.status.code() == ErrorCode::kBadShape);
}

TEST_CASE("group_norm: num_groups must divide C", "[norms]") {
  std::vector<float> x(2 * 6 * 3, 1.0f);
  Result r = Eval("group_norm", {{"input", {x.data(), {2, 6, 3}}}},
                  {{"num_groups", 4}});
  REQUIRE(r.status.code() == ErrorCode::kBadParam);
  REQUIRE(r.status.what() == "num_groups");
  r = Eval("group_norm", {{"input", {x.data(), {2, 6, 3}}}},
           {{"num_groups", 3}});
  REQUIRE(r.status.ok());
}

TEST_CASE("weight_norm by hand", "[norms]") {
  float v[4] = {3, 4, 0, 2}, g[2] = {2, 1};
  Result r = Eval("weight_norm", {{"v", {v, {2, 2}}}, {"g", {g, {2, 1}}}});
  REQUIRE(r.status.ok());
  REQUIRE(r.y(0) == Approx(1.2).epsilon(1e-6));
  REQUIRE(r.y(1) == Approx(1.6).epsilon(1e-6));
  REQUIRE(r.y(3) == Approx(1).epsilon(1e-6));
  // dim = -1: one norm, sqrt(29), over the whole tensor.
  r = Eval("weight_norm", {{"v", {v, {2, 2}}}, {"g", {g, {1}}}}, {{"dim", -1}});
  REQUIRE(r.status.ok());
  REQUIRE(r.y(1) == Approx(2 * 4 / std::sqrt(29.0)).epsilon(1e-6));
  r = Eval("weight_norm", {{"v", {v, {2, 2}}}, {"g", {g, {1}}}});
  REQUIRE(r.status.code() == ErrorCode::kBadShape);
}

TEST_CASE("penalties: l2's lam is half of PyTorch's weight_decay",
          "[regularization]") {
  float w[3] = {1, -2, 0};
  Result r = Eval("l2_penalty", {{"input", {w, {3}}}}, {{"lam", 0.5}});
  REQUIRE(r.status.ok());
  REQUIRE(r.y(0) == Approx(2.5));
  Gradients g;
  REQUIRE(RunBackward(r.call, &r.ev, nullptr, &g).ok());
  // lam = 0.5 adds exactly w to the gradient, like weight_decay = 1.
  REQUIRE(g.din[0].data()[1] == Approx(-2));
  r = Eval("l1_penalty", {{"input", {w, {3}}}}, {{"lam", 0.5}});
  REQUIRE(r.y(0) == Approx(1.5));
  REQUIRE(RunBackward(r.call, &r.ev, nullptr, &g).ok());
  REQUIRE(g.din[0].data()[0] == Approx(0.5));
  REQUIRE(g.din[0].data()[1] == Approx(-0.5));
  REQUIRE(g.din[0].data()[2] == 0);  // subgradient 0 at 0
}

TEST_CASE("dropout: inverted scaling, seeded masks, explicit masks",
          "[regularization]") {
  std::vector<float> x(4000, 1.0f);
  Result a = Eval("dropout", {{"input", {x.data(), {4000}}}},
                  {{"p", 0.25}, {"seed", 7}});
  REQUIRE(a.status.ok());
  int kept = 0;
  for (int i = 0; i < 4000; ++i) {
    REQUIRE((a.y(i) == 0 || a.y(i) == Approx(1 / 0.75)));
    REQUIRE(a.aux(0, i) == (a.y(i) != 0 ? 1 : 0));
    kept += a.y(i) != 0;
  }
  REQUIRE(kept > 2850);  // about 3000 kept
  REQUIRE(kept < 3150);
  Result b = Eval("dropout", {{"input", {x.data(), {4000}}}},
                  {{"p", 0.25}, {"seed", 7}});
  Result c = Eval("dropout", {{"input", {x.data(), {4000}}}},
                  {{"p", 0.25}, {"seed", 8}});
  int same = 0, differ = 0;
  for (int i = 0; i < 4000; ++i) {
    same += a.y(i) == b.y(i);
    differ += a.y(i) != c.y(i);
  }
  REQUIRE(same == 4000);
  REQUIRE(differ > 1000);

  float v[4] = {1, 2, 3, 4}, m[4] = {1, 0, 0, 1}, bad[4] = {1, 2, 0, 1};
  Result e = Eval("dropout", {{"input", {v, {4}}}, {"mask", {m, {4}}}});
  REQUIRE(e.status.ok());
  REQUIRE(e.y(0) == 2);
  REQUIRE(e.y(1) == 0);
  REQUIRE(e.y(3) == 8);
  e = Eval("dropout", {{"input", {v, {4}}}, {"mask", {bad, {4}}}});
  REQUIRE(e.status.code() == ErrorCode::kBadValue);
  e = Eval("dropout", {{"input", {v, {4}}}}, {{"training", 0}});
  REQUIRE(e.y(2) == 3);
  REQUIRE(e.aux(0, 2) == 1);
}

TEST_CASE("label_smoothing spreads epsilon over all K classes",
          "[regularization]") {
  float t[2] = {1, 3}, big[2] = {1, 4};
  Result r = Eval("label_smoothing", {{"target", {t, {2}}}},
                  {{"num_classes", 4}, {"epsilon", 0.2}});
  REQUIRE(r.status.ok());
  REQUIRE(r.call.out == Shape({2, 4}));
  REQUIRE(r.y(0) == Approx(0.05));
  REQUIRE(r.y(1) == Approx(0.85));
  REQUIRE(r.y(7) == Approx(0.85));
  r = Eval("label_smoothing", {{"target", {big, {2}}}}, {{"num_classes", 4}});
  REQUIRE(r.status.code() == ErrorCode::kBadValue);
}

TEST_CASE("spectral_norm finds the top singular value", "[regularization]") {
  float w[6] = {3, 0, 0, 0, 1, 0};  // [2, 3]: singular values 3 and 1
  Result r = Eval("spectral_norm", {{"weight", {w, {2, 3}}}});
  REQUIRE(r.status.ok());
  REQUIRE(r.aux(0, 0) == Approx(3).epsilon(1e-6));
  REQUIRE(r.aux(1, 0) == 20);
  REQUIRE(r.y(0) == Approx(1).epsilon(1e-6));
  REQUIRE(r.y(4) == Approx(1.0 / 3).epsilon(1e-6));
}

TEST_CASE("spectral_norm: PyTorch's power iteration, u and v, gradient",
          "[regularization]") {
  // torch.nn.utils.parametrizations.spectral_norm in training mode, 2 steps
  // from the buffer v = v0 (tests/fixtures/torch_values.py).
  std::vector<float> w = Floats(torch::kSnWeight), v0 = Floats(torch::kSnV0),
                     g = Floats(torch::kSnGrad);
  std::vector<NamedTensor> in = {{"weight", {w.data(), {3, 4}}},
                                 {"v", {v0.data(), {4}}}};
  const std::vector<NamedParam> two = {{"n_power_iterations", 2}};
  Result r = Eval("spectral_norm", in, two);
  REQUIRE(r.status.ok());
  RequireTorch(r.ev.y.data(), 12, torch::kSnOut, 2e-6);
  RequireTorch(r.ev.aux[0].data(), 1, torch::kSnSigma, 2e-6);
  RequireTorch(r.ev.aux[2].data(), 3, torch::kSnU, 2e-6);
  RequireTorch(r.ev.aux[3].data(), 4, torch::kSnV, 2e-6);
  Gradients grad;
  REQUIRE(RunBackward(r.call, &r.ev, g.data(), &grad).ok());
  RequireTorch(grad.din[0].data(), 12, torch::kSnDWeight, 1e-5);
  // Feeding v back continues the iteration: 2 + 3 steps are 5 from v0.
  std::vector<float> v2(r.ev.aux[3].data(), r.ev.aux[3].data() + 4);
  in[1].tensor.data = v2.data();
  const Result more = Eval("spectral_norm", in, {{"n_power_iterations", 3}});
  in[1].tensor.data = v0.data();
  const Result five = Eval("spectral_norm", in, {{"n_power_iterations", 5}});
  REQUIRE(more.aux(0, 0) == Approx(five.aux(0, 0)).epsilon(1e-6));
  // Kernels against the reference with v given and few steps, every target.
  CompareLong("spectral_norm", {{40, 70}, {70}}, {{"n_power_iterations", 1}});
}

TEST_CASE("spectral_norm: u and v are constants of the gradient",
          "[regularization]") {
  // One step from a random start in [-3, 3], far from converged: the
  // gradient is still exact for W -> W / (u^T W v) with u and v held at the
  // values the forward found (PyTorch's semantics), by central differences.
  const Shape ws{4, 5};
  const std::vector<float> w = RandomData(20, 81, -3, 3);
  Result r = Eval("spectral_norm", {{"weight", {w.data(), ws}}},
                  {{"n_power_iterations", 1}});
  REQUIRE(r.status.ok());
  const std::vector<double> u(r.ev.aux[2].data(), r.ev.aux[2].data() + 4),
      v(r.ev.aux[3].data(), r.ev.aux[3].data() + 5);
  const std::vector<float> g = RandomData(20, 82, -2, 2);
  auto loss = [&](std::vector<double> wd) {  // sum g W / (u^T W v)
    double sigma = 0, s = 0;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 5; ++j) sigma += u[i] * wd[i * 5 + j] * v[j];
    for (int i = 0; i < 20; ++i) s += g[i] * wd[i] / sigma;
    return s;
  };
  Gradients grad;
  REQUIRE(RunBackward(r.call, &r.ev, g.data(), &grad).ok());
  const std::vector<double> w0(w.begin(), w.end());
  for (int i = 0; i < 20; ++i) {
    std::vector<double> hi = w0, lo = w0;
    hi[i] += 1e-4;
    lo[i] -= 1e-4;
    const double fd = (loss(hi) - loss(lo)) / 2e-4;
    INFO("dW[" << i << "] got " << grad.din[0].data()[i] << " fd " << fd);
    REQUIRE(grad.din[0].data()[i] == Approx(fd).epsilon(1e-4).margin(1e-5));
  }
}

TEST_CASE("spectral_norm: v must match the columns of the weight",
          "[regularization]") {
  std::vector<float> w(12, 1.0f), v(3, 1.0f);
  const Result r = Eval("spectral_norm", {{"weight", {w.data(), {3, 4}}},
                                          {"v", {v.data(), {3}}}});
  REQUIRE(r.status.code() == ErrorCode::kBadShape);
  REQUIRE(r.status.what() == "v");
  REQUIRE(Contains(r.status.message(), "must have shape [4]"));
}

}  // namespace
}  // namespace dlmath::testing
