// PyTorch-convention spot values for the optimizers, schedules and
// initializers, computed by hand (the derivation is in each comment): the
// generic oracles compare kernels with references written by the same
// hand, so they cannot catch a convention both got wrong.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/src/steps.h"
#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

// Runs `id` on params [n] and grads [steps, n]; returns the [steps, n] rows.
std::vector<float> Optimize(const char* id, std::vector<float> params,
                            std::vector<float> grads,
                            std::vector<NamedParam> hyper) {
  const int64_t n = static_cast<int64_t>(params.size());
  const int64_t steps = static_cast<int64_t>(grads.size()) / n;
  std::vector<NamedTensor> in = {{"params", {params.data(), Shape{n}}},
                                 {"grads", {grads.data(), Shape{steps, n}}}};
  Call call;
  const Status s = Prepare(id, in, hyper, &call);
  INFO(s.message());
  REQUIRE(s.ok());
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  return std::vector<float>(ev.y.data(), ev.y.data() + steps * n);
}

std::vector<float> Schedule(const char* id, int64_t steps,
                            std::vector<NamedParam> hyper) {
  hyper.push_back({"steps", static_cast<double>(steps)});
  Call call;
  const Status s = Prepare(id, {}, hyper, &call);
  INFO(s.message());
  REQUIRE(s.ok());
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  REQUIRE(ev.shape == Shape{steps});
  return std::vector<float>(ev.y.data(), ev.y.data() + steps);
}

bool Near(float got, double want, double tol = 1e-6) {
  return std::fabs(got - want) <= tol * std::max(1.0, std::fabs(want));
}

TEST_CASE("sgd_momentum: buffer mu*b + g, no (1 - mu)", "[optim]") {
  // lr 1, mu 0.9, g = 1 each step: b = 1, 1.9, 2.71; p = -1, -2.9, -5.61.
  // With an EMA (1 - mu) factor the first steps would be -0.1, -0.29, ...
  auto p =
      Optimize("sgd_momentum", {0}, {1, 1, 1}, {{"lr", 1}, {"momentum", 0.9}});
  CHECK(Near(p[0], -1));
  CHECK(Near(p[1], -2.9));
  CHECK(Near(p[2], -5.61));
  // dampening 0.5: the first buffer is g undamped, then 0.9 + 0.5 = 1.4.
  p = Optimize("sgd_momentum", {0}, {1, 1},
               {{"lr", 1}, {"momentum", 0.9}, {"dampening", 0.5}});
  CHECK(Near(p[0], -1));
  CHECK(Near(p[1], -2.4));
  // weight_decay joins the gradient before the buffer: d = 1 + 0.5 * 2.
  p = Optimize("sgd_momentum", {2}, {1},
               {{"lr", 0.1}, {"momentum", 0.9}, {"weight_decay", 0.5}});
  CHECK(Near(p[0], 1.8));
}

TEST_CASE("sgd and sgd_nesterov: first steps", "[optim]") {
  auto p = Optimize("sgd", {1, -1}, {2, -4, 1, 1}, {{"lr", 0.1}});
  CHECK(Near(p[0], 0.8));
  CHECK(Near(p[1], -0.6));
  CHECK(Near(p[2], 0.7));
  CHECK(Near(p[3], -0.7));
  // lr 1, mu 0.9, g = 1: b = 1, step 1 + 0.9 b = 1.9; b = 1.9, step 2.71.
  p = Optimize("sgd_nesterov", {0}, {1, 1}, {{"lr", 1}, {"momentum", 0.9}});
  CHECK(Near(p[0], -1.9));
  CHECK(Near(p[1], -4.61));
}

TEST_CASE("adam: first two steps by hand", "[optim]") {
  // p = 1, g = 0.5 then -1, lr 0.1, betas (0.9, 0.999), eps 1e-8.
  // Step 1: m = 0.05, v = 2.5e-4, m^ = 0.5, sqrt(v^) = 0.5:
  //   p = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.900000002.
  // Step 2: m = 0.045 - 0.1 = -0.055, v = 2.4975e-4 + 1e-3 = 1.24975e-3,
  //   m^ = -0.055 / 0.19, sqrt(v^) = sqrt(1.24975e-3 / 0.001999):
  //   p = 0.9 + 0.1 * 0.2894736842 / 0.7906880509 = 0.9366103542.
  const auto p = Optimize("adam", {1}, {0.5f, -1}, {{"lr", 0.1}});
  CHECK(Near(p[0], 0.900000002));
  CHECK(Near(p[1], 0.9366103542));
  // amsgrad keeps max(v): identical while v grows, as here.
  const auto q =
      Optimize("adam", {1}, {0.5f, -1}, {{"lr", 0.1}, {"amsgrad", 1}});
  CHECK(Near(q[1], 0.9366103542));
  // The first step moves by ~lr whatever the gradient's scale.
  const auto r = Optimize("adam", {0, 0}, {1e-3f, -50}, {{"lr", 0.01}});
  CHECK(Near(r[0], -0.01, 1e-5));
  CHECK(Near(r[1], 0.01, 1e-5));
}

TEST_CASE("adam: eps is added after the bias correction", "[optim]") {
  // p = 0, g = 1e-4, eps = 1e-4, lr 1: sqrt(v^) = 1e-4 exactly, so the step
  // is 1e-4 / (1e-4 + 1e-4) = 0.5. With eps inside the correction
  // (sqrt(v) + eps) / sqrt(bc2) it would be 1e-4 / (1e-4 + 3.16e-3).
  const auto p = Optimize("adam", {0}, {1e-4f}, {{"lr", 1}, {"eps", 1e-4}});
  CHECK(Near(p[0], -0.5, 1e-5));
}

TEST_CASE("adamw: decay BEFORE the Adam step; adam's L2 differs", "[optim]") {
  // p = 2, g = 1, lr 0.1, wd 0.5: p' = 2 (1 - 0.05) = 1.9, then the Adam
  // step of ~lr: 1.8. Decaying after the step would give 1.805.
  auto p = Optimize("adamw", {2}, {1}, {{"lr", 0.1}, {"weight_decay", 0.5}});
  CHECK(Near(p[0], 1.8, 1e-6));
  // g = 0: only the decay acts, 2 (1 - 0.1 * 0.1) = 1.98.
  p = Optimize("adamw", {2}, {0}, {{"lr", 0.1}, {"weight_decay", 0.1}});
  CHECK(Near(p[0], 1.98));
  // Adam's weight_decay is an L2 gradient 0.1 * 2 = 0.2, normalised to a
  // step of ~lr: 1.9.
  p = Optimize("adam", {2}, {0}, {{"lr", 0.1}, {"weight_decay", 0.1}});
  CHECK(Near(p[0], 1.9, 1e-6));
}

TEST_CASE("rmsprop and adagrad: first steps by hand", "[optim]") {
  // RMSprop, p = 1, g = 2, lr 0.01, alpha 0.99: v = 0.04, p = 1 - 0.02/0.2.
  auto p = Optimize("rmsprop", {1}, {2}, {});
  CHECK(Near(p[0], 0.9));
  // centered: mean g = 0.02, p = 1 - 0.02 / sqrt(0.04 - 0.0004).
  p = Optimize("rmsprop", {1}, {2}, {{"centered", 1}});
  CHECK(Near(p[0], 1 - 0.02 / std::sqrt(0.0396)));
  // momentum 0.5 with g = 2, 2: v = 0.04, 0.0796; b = 10, 5 + 2/sqrt(0.0796).
  p = Optimize("rmsprop", {1}, {2, 2}, {{"momentum", 0.5}});
  CHECK(Near(p[0], 0.9));
  CHECK(Near(p[1], 0.9 - 0.01 * (5 + 2 / std::sqrt(0.0796))));
  // Adagrad, lr 0.1, g = 3, 4: s = 9, 25: p = 1 - 0.1, 0.9 - 0.1 * 4/5.
  p = Optimize("adagrad", {1}, {3, 4}, {{"lr", 0.1}});
  CHECK(Near(p[0], 0.9));
  CHECK(Near(p[1], 0.82));
  // initial_accumulator_value 16: s = 25, p = 1 - 0.1 * 3/5; lr_decay 1
  // halves the second step's lr: 0.9 - 0.05 * 4/5.
  p = Optimize("adagrad", {1}, {3},
               {{"lr", 0.1}, {"initial_accumulator_value", 16}});
  CHECK(Near(p[0], 0.94));
  p = Optimize("adagrad", {1}, {3, 4}, {{"lr", 0.1}, {"lr_decay", 1}});
  CHECK(Near(p[1], 0.86));
}

TEST_CASE("optimizers: grads must match params", "[optim]") {
  std::vector<float> params(3), grads(8);
  std::vector<NamedTensor> in = {{"params", {params.data(), Shape{3}}},
                                 {"grads", {grads.data(), Shape{2, 4}}}};
  Call call;
  const Status s = Prepare("adam", in, {}, &call);
  REQUIRE(s.code() == ErrorCode::kBadShape);
  REQUIRE(s.what() == "grads");
  INFO(s.message());
  REQUIRE(s.message().find("[steps, 3]") != std::string::npos);
}

// The engine's watched step (StepWatch) writes over theta the bits of the
// plain step, keeps theta, and sums the update per piece: on every target,
// for every optimizer and param set, around vector tails, a block edge
// (1024) and more than one block, pieces of any length (an empty one too).
TEST_CASE("optimizers: the watched step, in place", "[optim]") {
  auto same_bits = [](const std::vector<float>& a,
                      const std::vector<float>& b) {
    // (an optimizer without state has empty vectors, whose data() may be
    // null: memcmp must not see it)
    return a.size() == b.size() &&
           (a.empty() ||
            std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  };
  for (const OpInfo& op : Ops()) {
    if (op.kind != Kind::kOptimizer) continue;
    for (const std::vector<double>& p : ParamSets(op))
      for (size_t n : {1, 3, 4, 9, 17, 1023, 1030, 2500}) {
        const std::vector<float> theta0 = RandomData(n, 21, -2, 2),
                                 g = RandomData(n, 22, -1, 1);
        const int64_t ends[4] = {
            static_cast<int64_t>(n / 3), static_cast<int64_t>(n / 3),
            static_cast<int64_t>(n - n / 5), static_cast<int64_t>(n)};
        const int64_t size = OptimizerStateSize(op, static_cast<int64_t>(n));
        ForEachTarget([&](const char* target) {
          INFO(op.id << ", " << target << ", n " << n);
          std::vector<float> plain = theta0, watched = theta0, out(n);
          std::vector<float> plain_state(size), watched_state(size);
          OptimizerInit(op, p.data(), plain_state.data(), n);
          OptimizerInit(op, p.data(), watched_state.data(), n);
          for (int64_t t = 1; t <= 2; ++t) {  // the second from a state
            INFO("step " << t);
            OptimizerStep(op, p.data(), t, plain.data(), g.data(),
                          plain_state.data(), out.data(), n);
            std::vector<double> sums(16, 0.5);
            double* piece_sums[4] = {&sums[0], &sums[4], &sums[8], &sums[12]};
            std::vector<float> before(n, NAN);
            const StepWatch w{.pieces = 4,
                              .ends = ends,
                              .sums = piece_sums,
                              .before = before.data()};
            OptimizerStep(op, p.data(), t, watched.data(), g.data(),
                          watched_state.data(), watched.data(), n, &w);
            CHECK(same_bits(watched, out));
            CHECK(same_bits(watched_state, plain_state));
            CHECK(same_bits(before, plain));
            for (int k = 0; k < 4; ++k) {
              double want[4] = {0.5, 0.5, 0.5, 0.5};
              for (int64_t i = k > 0 ? ends[k - 1] : 0; i < ends[k]; ++i) {
                const double a = plain[i], b = out[i];
                want[0] += (b - a) * (b - a);
                want[1] += a * a;
                want[2] += b * b;
                want[3] += double{g[i]} * g[i];
              }
              INFO("piece " << k);
              for (int j = 0; j < 4; ++j)
                CHECK(sums[4 * k + j] == Approx(want[j]).epsilon(1e-6));
            }
            plain = out;
          }
        });
      }
  }
}

TEST_CASE("schedules: known values", "[schedules]") {
  // Cosine: half-way (t = T_max / 2) is (lr + eta_min) / 2; PyTorch's closed
  // form rises again past T_max.
  auto lr = Schedule("cosine_annealing_lr", 16, {});
  CHECK(Near(lr[0], 0.1));
  CHECK(Near(lr[5], 0.05));
  CHECK(Near(lr[10], 0));
  CHECK(Near(lr[15], 0.05));
  lr = Schedule("cosine_annealing_lr", 6, {{"eta_min", 0.02}});
  CHECK(Near(lr[5], 0.06));
  lr = Schedule("step_lr", 21, {});
  CHECK(Near(lr[9], 0.1));
  CHECK(Near(lr[10], 0.01));
  CHECK(Near(lr[20], 0.001));
  lr = Schedule("exponential_lr", 3, {});
  CHECK(Near(lr[2], 0.1 * 0.95 * 0.95));
  // LinearLR: factor 1/3 + (2/3) min(t, 5)/5.
  lr = Schedule("linear_lr", 8, {});
  CHECK(Near(lr[0], 0.1 / 3));
  CHECK(Near(lr[2], 0.06));
  CHECK(Near(lr[5], 0.1));
  CHECK(Near(lr[7], 0.1));
  // Warm restarts: back to lr at every t_0; t_mult 2: cycles 10, 20, 40.
  lr = Schedule("cosine_annealing_warm_restarts", 31, {});
  CHECK(Near(lr[5], 0.05));
  CHECK(Near(lr[10], 0.1));
  CHECK(Near(lr[25], 0.05));
  lr = Schedule("cosine_annealing_warm_restarts", 31, {{"t_mult", 2}});
  CHECK(Near(lr[10], 0.1));
  CHECK(Near(lr[20], 0.05));
  CHECK(Near(lr[30], 0.1));
  // OneCycle, defaults: starts at 0.1/25, peaks at step 0.3*100 - 1 = 29,
  // reaches 0.004/1e4 at step total_steps - 1 = 99; step 100 extrapolates
  // the cosine past its end (PyTorch: pct = 71/70), step 101 is its
  // ValueError.
  lr = Schedule("one_cycle_lr", 101, {});
  CHECK(Near(lr[0], 0.004));
  CHECK(Near(lr[29], 0.1));
  CHECK(lr[28] < lr[29]);
  CHECK(lr[30] < lr[29]);
  CHECK(Near(lr[99], 4e-7, 1e-9));
  CHECK(Near(lr[100], 4e-7 + (0.1 - 4e-7) / 2 * (std::cos(M_PI * 71 / 70) + 1),
             1e-9));
  // linear anneal: half-way up at step 14.5, so step 14 is just below.
  lr = Schedule("one_cycle_lr", 30, {{"anneal_strategy", 1}});
  CHECK(Near(lr[14], 0.004 + 0.096 * 14.0 / 29));
  Call call;
  const NamedParam too_far[] = {{"steps", 102}};
  const Status s = Prepare("one_cycle_lr", {}, too_far, &call);
  CHECK(s.code() == ErrorCode::kBadValue);
  CHECK(s.what() == "steps");
  // three_phase: up to step 29, back to the start at 2*30 - 2 = 58.
  lr = Schedule("one_cycle_lr", 101, {{"three_phase", 1}});
  CHECK(Near(lr[29], 0.1));
  CHECK(Near(lr[58], 0.004));
  CHECK(Near(lr[99], 4e-7, 1e-9));
  // Warmup from 0 to lr over 10 steps, cosine to 0 at 100, then flat.
  lr = Schedule("warmup_cosine", 151, {});
  CHECK(lr[0] == 0);
  CHECK(Near(lr[5], 0.05));
  CHECK(Near(lr[10], 0.1));
  CHECK(Near(lr[55], 0.05));
  CHECK(Near(lr[100], 0));
  CHECK(Near(lr[150], 0));
  // Noam: peak at s = warmup (t = 3999): 1/sqrt(512 * 4000).
  lr = Schedule("noam", 4001, {});
  CHECK(Near(lr[3999], 1 / std::sqrt(512.0 * 4000), 1e-6));
  CHECK(lr[3998] < lr[3999]);
  CHECK(lr[4000] < lr[3999]);
  CHECK(Near(lr[0], 1 / std::sqrt(512.0) / std::pow(4000.0, 1.5)));
}

// An initializer's values for `dims`.
std::vector<float> Init(const char* id, std::vector<float> dims,
                        std::vector<NamedParam> hyper = {}) {
  const int64_t rank = static_cast<int64_t>(dims.size());
  std::vector<NamedTensor> in = {{"shape", {dims.data(), Shape{rank}}}};
  Call call;
  const Status s = Prepare(id, in, hyper, &call);
  INFO(s.message());
  REQUIRE(s.ok());
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  return std::vector<float>(ev.y.data(), ev.y.data() + call.out.numel());
}

double Mean(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return s / v.size();
}
double Variance(const std::vector<float>& v) {
  const double m = Mean(v);
  double s = 0;
  for (float x : v) s += (x - m) * (x - m);
  return s / v.size();
}

TEST_CASE("xavier / kaiming: bounds and variances on a big draw", "[init]") {
  // [256, 128, 3, 3]: fan_in = 128 * 9 = 1152, fan_out = 256 * 9 = 2304.
  const double fi = 1152, fo = 2304;
  const std::vector<float> shape = {256, 128, 3, 3};
  auto w = Init("xavier_uniform", shape, {{"gain", 2}});
  REQUIRE(w.size() == 294912);
  const double a = 2 * std::sqrt(6 / (fi + fo));
  float lo = 0, hi = 0;
  for (float x : w) lo = std::min(lo, x), hi = std::max(hi, x);
  CHECK(lo >= -a);
  CHECK(hi <= a);
  CHECK(lo < -0.999 * a);  // the whole box is used
  CHECK(hi > 0.999 * a);
  CHECK(std::fabs(Variance(w) / (a * a / 3) - 1) < 0.02);
  CHECK(std::fabs(Mean(w)) < 0.01 * a);
  w = Init("xavier_normal", shape);
  CHECK(std::fabs(Variance(w) / (2 / (fi + fo)) - 1) < 0.02);
  // kaiming defaults: leaky_relu with a = 0, i.e. gain sqrt(2), fan_in.
  w = Init("kaiming_normal", shape);
  CHECK(std::fabs(Variance(w) / (2 / fi) - 1) < 0.02);
  w = Init("kaiming_uniform", shape, {{"mode", 1}, {"nonlinearity", 2}});
  const double b = 5.0 / 3 * std::sqrt(3 / fo);  // tanh, fan_out
  for (float x : w) lo = std::min(lo, x), hi = std::max(hi, x);
  CHECK(std::fabs(Variance(w) / (b * b / 3) - 1) < 0.02);
  w = Init("kaiming_uniform", shape, {{"a", 1}});  // gain sqrt(2 / 2) = 1
  CHECK(std::fabs(Variance(w) / (1 / fi) - 1) < 0.02);
  // Normal tails: about 0.27% beyond 3 sigma, and none beyond 5.8.
  w = Init("kaiming_normal", {1024, 1024}, {{"nonlinearity", 4}});
  size_t beyond3 = 0;
  float biggest = 0;
  for (float x : w) {
    beyond3 += std::fabs(x) * 32 > 3;
    biggest = std::max(biggest, std::fabs(x) * 32);
  }
  CHECK(biggest < 5.8f);
  CHECK(std::fabs(beyond3 / 1048576.0 / 0.0027 - 1) < 0.1);
}

TEST_CASE("initializers: seeded, reproducible, kernel = reference", "[init]") {
  const auto a = Init("xavier_normal", {64, 33}, {{"seed", 7}});
  const auto b = Init("xavier_normal", {64, 33}, {{"seed", 7}});
  const auto c = Init("xavier_normal", {64, 33}, {{"seed", 8}});
  CHECK(a == b);
  CHECK(a != c);
  // Element i depends on (seed, i) only: a longer tensor starts the same.
  const auto longer = Init("xavier_normal", {64, 33, 1}, {{"seed", 7}});
  CHECK(a == longer);
  // Every target against the float64 reference over 2^21 normals.
  std::vector<float> dims = {2048, 1024};
  std::vector<NamedTensor> in = {{"shape", {dims.data(), Shape{2}}}};
  const NamedParam p[] = {{"nonlinearity", 4}, {"mode", 1}};  // sigma 1/32
  Call call;
  REQUIRE(Prepare("kaiming_normal", in, p, &call).ok());
  RefBuffers rb = RefInputs(call);
  RefForward(call, &rb);
  ForEachTarget([&](const char* target) {
    INFO("target " << target);
    Evaluation ev;
    REQUIRE(Run(call, &ev).ok());
    double worst = 0;
    for (size_t i = 0; i < rb.y.size(); ++i)
      worst = std::max(worst, std::fabs(ev.y.data()[i] - rb.y[i]) * 32);
    INFO("max |z - z_ref| " << worst);
    CHECK(worst < 1e-6);
  });
}

TEST_CASE("orthogonal: W W^T = gain^2 I, sign-fixed QR", "[init]") {
  for (const std::vector<float>& dims :
       {std::vector<float>{20, 50}, std::vector<float>{50, 20},
        std::vector<float>{6, 2, 3, 4}, std::vector<float>{64, 64}}) {
    const int64_t rows = static_cast<int64_t>(dims[0]);
    int64_t cols = 1;
    for (size_t k = 1; k < dims.size(); ++k)
      cols *= static_cast<int64_t>(dims[k]);
    const auto w = Init("orthogonal", dims, {{"gain", 1.5}});
    const bool wide = rows <= cols;
    const int64_t k = wide ? rows : cols, len = wide ? cols : rows;
    auto at = [&](int64_t vec, int64_t j) {  // row (wide) or column (tall)
      return wide ? w[vec * cols + j] : w[j * cols + vec];
    };
    double worst = 0;
    for (int64_t u = 0; u < k; ++u)
      for (int64_t v = 0; v < k; ++v) {
        double dot = 0;
        for (int64_t j = 0; j < len; ++j) dot += at(u, j) * at(v, j);
        worst = std::max(worst, std::fabs(dot - (u == v ? 2.25 : 0)));
      }
    INFO("shape rows " << rows << " cols " << cols << " worst " << worst);
    CHECK(worst < 1e-5);
  }
}

TEST_CASE("calculate_gain and init errors", "[init]") {
  CHECK(Near(Init("calculate_gain", {1})[0], std::sqrt(2 / 1.0001)));
  CHECK(Near(Init("calculate_gain", {1}, {{"nonlinearity", 1}})[0],
             std::sqrt(2.0)));
  CHECK(Near(Init("calculate_gain", {1}, {{"nonlinearity", 2}})[0], 5.0 / 3));
  CHECK(Near(Init("calculate_gain", {1}, {{"nonlinearity", 5}})[0], 0.75));
  CHECK(Near(Init("calculate_gain", {1}, {{"param", 1}})[0], 1));
  auto status = [](const char* id, std::vector<float> dims) {
    std::vector<NamedTensor> in = {
        {"shape", {dims.data(), Shape{static_cast<int64_t>(dims.size())}}}};
    Call call;
    return Prepare(id, in, {}, &call);
  };
  Status s = status("kaiming_uniform", {10});
  CHECK(s.code() == ErrorCode::kBadShape);
  CHECK(s.what() == "shape");
  s = status("xavier_normal", {3, 0});
  CHECK(s.code() == ErrorCode::kBadValue);
  s = status("orthogonal", {65536, 65536});
  CHECK(s.code() == ErrorCode::kTooLarge);
  s = status("xavier_uniform", {1e20f, 1e20f, 1e20f});
  CHECK(s.code() == ErrorCode::kTooLarge);
  CHECK(status("xavier_uniform", {2, 1, 1, 1, 1, 1, 1, 1, 1}).code() ==
        ErrorCode::kBadShape);
}

}  // namespace
}  // namespace dlmath::testing
