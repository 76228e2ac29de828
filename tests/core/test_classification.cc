// Classification, ranking and sequence losses: what the generic oracles
// cannot see from one sample. The other target form of cross_entropy (class
// indices, with ignore_index and label smoothing), mixed -1/+1 labels, spot
// values worked out by hand with PyTorch's conventions, logits of size 1e4,
// and the validation errors.
#include <cstring>

#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

struct Arg {
  std::string name;
  Shape shape;
  std::vector<float> v;
};

Call MakeCall(const std::string& id, std::vector<Arg>& in,
              const std::vector<NamedParam>& p) {
  std::vector<NamedTensor> named;
  for (Arg& x : in) named.push_back({x.name, {x.v.data(), x.shape}});
  Call call;
  const Status st = Prepare(id, named, p, &call);
  INFO(st.message());
  REQUIRE(st.ok());
  return call;
}

std::vector<float> Eval(const std::string& id, std::vector<Arg> in,
                        const std::vector<NamedParam>& p = {}) {
  const Call call = MakeCall(id, in, p);
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  return std::vector<float>(ev.y.data(), ev.y.data() + call.out.numel());
}

// Gradient of sum(out) with respect to input k.
std::vector<float> Grad(const std::string& id, std::vector<Arg> in, int k,
                        const std::vector<NamedParam>& p = {}) {
  const Call call = MakeCall(id, in, p);
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  Gradients g;
  REQUIRE(RunBackward(call, &ev, nullptr, &g).ok());
  return std::vector<float>(g.din[k].data(),
                            g.din[k].data() + call.in[k].shape.numel());
}

Status Try(const std::string& id, std::vector<Arg> in,
           const std::vector<NamedParam>& p = {}) {
  std::vector<NamedTensor> named;
  for (Arg& x : in) named.push_back({x.name, {x.v.data(), x.shape}});
  Call call;
  return Prepare(id, named, p, &call);
}

// The two generic oracles on a call of our choosing: the SIMD kernels
// against the float64 reference on every target, and the reference backward
// against 4-point central differences (points near a kink skipped).
void CheckCall(const std::string& id, std::vector<Arg> in,
               const std::vector<NamedParam>& p = {}) {
  const Call call = MakeCall(id, in, p);
  const OpInfo& op = *call.op;
  const int ni = op.num_inputs();
  RefBuffers rb = RefInputs(call);
  GenCall<double> rc = RefForward(call, &rb);
  const size_t no = call.out.numel();
  const std::vector<float> dy = RandomData(no, 9, -2, 2);
  const std::vector<double> dyd(dy.begin(), dy.end());
  std::vector<std::vector<double>> dind(ni);
  double* dinp[kMaxInputs] = {};
  for (int k = 0; k < ni; ++k) {
    dind[k].assign(rb.in[k].size(), 0.0);
    if (op.inputs[k].diff && call.in[k].data) dinp[k] = dind[k].data();
  }
  std::vector<double> rdp(kMaxParams, 0);
  rc.dy = dyd.data();
  rc.din = dinp;
  rc.dp = rdp.data();
  op.impl.gen_ref_bwd(rc);
  ForEachTarget([&](const char* target) {
    INFO("op " << id << ", target " << target);
    Evaluation ev;
    REQUIRE(Run(call, &ev).ok());
    for (size_t i = 0; i < no; ++i) {
      INFO("out " << i << " got " << ev.y.data()[i] << " ref " << rb.y[i]);
      REQUIRE(Close(ev.y.data()[i], rb.y[i], op.tol.value));
    }
    std::vector<std::vector<float>> din(ni);
    float* dptr[kMaxInputs] = {};
    for (int k = 0; k < ni; ++k) {
      din[k].assign(rb.in[k].size(), 0.0f);
      if (dinp[k]) dptr[k] = din[k].data();
    }
    std::vector<double> dp(kMaxParams, 0);
    Backward(call, ev.y.data(), ev.ws.data(), dy.data(), dptr, dp.data());
    for (int k = 0; k < ni; ++k)
      for (size_t i = 0; dptr[k] && i < din[k].size(); ++i) {
        INFO("d" << op.inputs[k].name << "[" << i << "] got " << din[k][i]
                 << " ref " << dind[k][i]);
        REQUIRE(Close(din[k][i], dind[k][i], op.tol.grad));
      }
  });
  // Finite differences of the reference (skipped where it is not finite).
  auto loss = [&](const std::vector<std::vector<double>>& xs) {
    RefBuffers b = rb;
    b.in = xs;
    RefForward(call, &b);
    double s = 0;
    for (size_t i = 0; i < no; ++i) s += dyd[i] * b.y[i];
    return s;
  };
  for (int k = 0; k < ni; ++k) {
    // Class indices have no gradient to check (and moved by h they index
    // nothing).
    if (!dinp[k] || op.inputs[k].index_rank == call.in[k].shape.rank) continue;
    for (size_t j = 0; j < rb.in[k].size(); ++j) {
      const double h = 1e-4 * std::max(1.0, std::fabs(rb.in[k][j]));
      auto at = [&](double t) {
        auto xs = rb.in;
        xs[k][j] += t;
        return loss(xs);
      };
      const double f1 = at(h), fm1 = at(-h), f2 = at(2 * h), fm2 = at(-2 * h);
      const double fd = (-f2 + 8 * f1 - 8 * fm1 + fm2) / (12 * h);
      const double right = (-3 * at(0) + 4 * f1 - f2) / (2 * h);
      const double left = (3 * at(0) - 4 * fm1 + fm2) / (2 * h);
      if (!std::isfinite(fd) ||
          std::fabs(right - left) > 1e-3 * std::max(1.0, std::fabs(fd)))
        continue;  // a kink nearby
      INFO("op " << id << " d" << op.inputs[k].name << "[" << j << "] analytic "
                 << dind[k][j] << " fd " << fd);
      REQUIRE(std::fabs(dind[k][j] - fd) <=
              1e-5 * std::max(1.0, std::fabs(fd)));
    }
  }
}

std::vector<float> Labels(size_t n, uint32_t seed) {  // -1 / +1
  std::vector<float> v = RandomData(n, seed, -1, 1);
  for (float& x : v) x = x < 0 ? -1.0f : 1.0f;
  return v;
}

std::vector<float> Indices(size_t n, int classes, uint32_t seed) {
  std::vector<float> v = RandomData(n, seed, 0, static_cast<float>(classes));
  for (float& x : v) x = std::min<float>(std::floor(x), classes - 1);
  return v;
}

// ----- cross_entropy ---------------------------------------------------------

TEST_CASE("cross_entropy: class indices, weights, ignore_index, smoothing",
          "[classification]") {
  const Shape x{7, 5};
  std::vector<float> t = Indices(7, 5, 3);
  t[2] = -100;  // ignored
  t[5] = 4;
  const std::vector<float> w = RandomData(5, 4, 0.5f, 2.0f);
  for (double r : {0.0, 1.0, 2.0})
    for (double eps : {0.0, 0.2})
      for (bool weighted : {false, true}) {
        INFO("reduction " << r << " eps " << eps << " weighted " << weighted);
        std::vector<Arg> in = {{"input", x, RandomData(35, 5, -4, 4)},
                               {"target", {7}, t}};
        if (weighted) in.push_back({"weight", {5}, w});
        CheckCall("cross_entropy", in,
                  {{"reduction", r}, {"label_smoothing", eps}});
      }
  // ignore_index may also be a valid class: those rows are skipped.
  t[2] = 1;
  CheckCall("cross_entropy",
            {{"input", x, RandomData(35, 6, -4, 4)}, {"target", {7}, t}},
            {{"ignore_index", 4}, {"reduction", 2}});
}

TEST_CASE("cross_entropy: spot values by hand (PyTorch conventions)",
          "[classification]") {
  // Two rows, three classes. Row 0 logits (0, ln 2, ln 5) -> p = (1/8, 2/8,
  // 5/8); row 1 all equal -> p = 1/3 each.
  const float l2 = std::log(2.0f), l5 = std::log(5.0f);
  const std::vector<float> x = {0, l2, l5, 1, 1, 1};
  const Shape xs{2, 3};
  // Plain mean: (-log(5/8) - log(1/3)) / 2.
  auto y = Eval("cross_entropy", {{"input", xs, x}, {"target", {2}, {2, 0}}});
  REQUIRE(y[0] == Approx((std::log(8.0 / 5) + std::log(3.0)) / 2));
  // Weighted mean divides by w_2 + w_0 = 3 + 1, not by N = 2.
  y = Eval(
      "cross_entropy",
      {{"input", xs, x}, {"target", {2}, {2, 0}}, {"weight", {3}, {1, 2, 3}}});
  REQUIRE(y[0] == Approx((3 * std::log(8.0 / 5) + std::log(3.0)) / 4));
  // All rows ignored: 0 / 0 = NaN, as PyTorch.
  y = Eval("cross_entropy", {{"input", xs, x}, {"target", {2}, {-100, -100}}});
  REQUIRE(std::isnan(y[0]));
  // Label smoothing 0.3 on row 0, target 2: t' = (0.1, 0.1, 0.8).
  y = Eval("cross_entropy",
           {{"input", {1, 3}, {0, l2, l5}}, {"target", {1}, {2}}},
           {{"label_smoothing", 0.3}});
  REQUIRE(y[0] == Approx(0.1 * std::log(8.0) + 0.1 * std::log(4.0) +
                         0.8 * std::log(8.0 / 5)));
  // Its gradient is softmax - t'.
  const auto g = Grad("cross_entropy",
                      {{"input", {1, 3}, {0, l2, l5}}, {"target", {1}, {2}}}, 0,
                      {{"label_smoothing", 0.3}});
  REQUIRE(g[0] == Approx(0.125 - 0.1));
  REQUIRE(g[1] == Approx(0.25 - 0.1));
  REQUIRE(g[2] == Approx(0.625 - 0.8));
  // Probability targets give the same as the one-hot index form; 'mean'
  // divides by N even with weights.
  y = Eval("cross_entropy", {{"input", xs, x},
                             {"target", xs, {0, 0, 1, 1, 0, 0}},
                             {"weight", {3}, {1, 2, 3}}});
  REQUIRE(y[0] == Approx((3 * std::log(8.0 / 5) + std::log(3.0)) / 2));
}

TEST_CASE("cross_entropy: logits of size 1e4 stay finite and exact",
          "[classification]") {
  const std::vector<float> x = {1e4f, -1e4f, 9999.0f, 0.0f};
  auto y = Eval("cross_entropy", {{"input", {1, 4}, x}, {"target", {1}, {2}}});
  REQUIRE(y[0] == Approx(1 + std::log1p(std::exp(-1.0))).epsilon(1e-6));
  y = Eval("cross_entropy", {{"input", {1, 4}, x}, {"target", {1}, {1}}});
  REQUIRE(y[0] == Approx(2e4 + std::log1p(std::exp(-1.0))).epsilon(1e-6));
  const auto g =
      Grad("cross_entropy", {{"input", {1, 4}, x}, {"target", {1}, {1}}}, 0);
  REQUIRE(std::isfinite(g[0]));
  REQUIRE(g[1] == Approx(-1));
  REQUIRE(g[3] == 0);
  CheckCall("cross_entropy",
            {{"input", {3, 9}, RandomData(27, 8, -1e4f, 1e4f)},
             {"target", {3, 9}, RandomData(27, 9, 0, 1)}},
            {{"label_smoothing", 0.1}});
}

TEST_CASE("cross_entropy: bad targets are rejected with a named error",
          "[classification]") {
  const std::vector<float> x(6, 0.5f);
  Status s =
      Try("cross_entropy", {{"input", {2, 3}, x}, {"target", {2}, {0, 1.5f}}});
  REQUIRE(s.code() == ErrorCode::kBadType);
  REQUIRE(s.message().find("[1]") != std::string::npos);
  s = Try("cross_entropy", {{"input", {2, 3}, x}, {"target", {2}, {0, 3}}});
  REQUIRE(s.code() == ErrorCode::kBadValue);
  s = Try("cross_entropy", {{"input", {2, 3}, x}, {"target", {3}, {0, 1, 2}}});
  REQUIRE(s.code() == ErrorCode::kBadShape);
  s = Try("cross_entropy",
          {{"input", {2, 3}, x}, {"target", {2, 2}, {0, 1, 0, 1}}});
  REQUIRE(s.code() == ErrorCode::kBadShape);
  s = Try(
      "cross_entropy",
      {{"input", {2, 3}, x}, {"target", {2}, {0, 1}}, {"weight", {2}, {1, 1}}});
  REQUIRE(s.code() == ErrorCode::kBadShape);
}

TEST_CASE("cross_entropy: soft targets get PyTorch's gradient",
          "[classification]") {
  // F.cross_entropy(x, t, weight=w, label_smoothing=0.2) and its gradients
  // with respect to x and t (tests/fixtures/torch_values.py).
  const std::vector<Arg> in = {{"input", {3, 4}, Floats(torch::kCeInput)},
                               {"target", {3, 4}, Floats(torch::kCeTarget)},
                               {"weight", {4}, Floats(torch::kCeWeight)}};
  const std::vector<NamedParam> p = {{"label_smoothing", 0.2}};
  RequireTorch(Eval("cross_entropy", in, p), torch::kCeLoss, 2e-6);
  RequireTorch(Grad("cross_entropy", in, 0, p), torch::kCeDInput, 1e-5);
  RequireTorch(Grad("cross_entropy", in, 1, p), torch::kCeDTarget, 1e-5);
  // Both gradients on every target and against finite differences, for
  // every reduction, with and without weights and smoothing.
  for (double r : {0.0, 1.0, 2.0})
    for (double eps : {0.0, 0.3}) {
      INFO("reduction " << r << " label_smoothing " << eps);
      CheckCall("cross_entropy", in,
                {{"reduction", r}, {"label_smoothing", eps}});
      CheckCall("cross_entropy",
                {{"input", {5, 37}, RandomData(185, 61, -5, 5)},
                 {"target", {5, 37}, RandomData(185, 62, 0, 1)}},
                {{"reduction", r}, {"label_smoothing", eps}});
    }
  // Class indices are labels: their gradient stays zero.
  const auto dt = Grad(
      "cross_entropy",
      {{"input", {3, 4}, Floats(torch::kCeInput)}, {"target", {3}, {0, 3, 1}}},
      1, p);
  REQUIRE(dt == std::vector<float>(3, 0.0f));
}

// ----- margin losses -------------------------------------------------------

TEST_CASE("hinge, margin_ranking, cosine_embedding: mixed labels",
          "[classification]") {
  for (double r : {0.0, 1.0, 2.0}) {
    CheckCall("hinge",
              {{"input", {4, 9}, RandomData(36, 1, -3, 3)},
               {"target", {4, 9}, Labels(36, 2)}},
              {{"reduction", r}, {"margin", 0.5}});
    CheckCall("margin_ranking",
              {{"input1", {37}, RandomData(37, 3, -3, 3)},
               {"input2", {37}, RandomData(37, 4, -3, 3)},
               {"target", {37}, Labels(37, 5)}},
              {{"reduction", r}, {"margin", 0.3}});
    for (double m : {0.0, -0.3, 0.4})
      CheckCall("cosine_embedding",
                {{"input1", {9, 13}, RandomData(117, 6, -3, 3)},
                 {"input2", {9, 13}, RandomData(117, 7, -3, 3)},
                 {"target", {9}, Labels(9, 8)}},
                {{"reduction", r}, {"margin", m}});
  }
  // By hand: hinge mean of max(0, 1 - (2)(1)), max(0, 1 - (-1)(0.5)).
  auto y = Eval("hinge", {{"input", {2}, {2, 0.5f}}, {"target", {2}, {1, -1}}});
  REQUIRE(y[0] == Approx(0.75));
  // margin_ranking: y = 1 wants input1 > input2.
  y = Eval("margin_ranking",
           {{"input1", {2}, {1, 1}},
            {"input2", {2}, {2, 0}},
            {"target", {2}, {1, 1}}},
           {{"reduction", 2}});
  REQUIRE(y[0] == Approx(1));
  REQUIRE(y[1] == 0);
  // cosine_embedding: a zero row gives cos = 0 (epsilon on the squares).
  y = Eval("cosine_embedding",
           {{"input1", {2, 2}, {0, 0, 1, 0}},
            {"input2", {2, 2}, {1, 1, 0, 1}},
            {"target", {2}, {1, -1}}},
           {{"reduction", 2}});
  REQUIRE(y[0] == Approx(1));
  REQUIRE(y[1] == 0);
  const Status s =
      Try("hinge", {{"input", {2}, {1, 2}}, {"target", {2}, {1, 0}}});
  REQUIRE(s.code() == ErrorCode::kBadValue);
  REQUIRE(s.message().find("target") != std::string::npos);
}

TEST_CASE("multi_margin: p = 1 and 2, weights, spot value",
          "[classification]") {
  for (double pw : {1.0, 2.0})
    for (double r : {0.0, 2.0}) {
      CheckCall("multi_margin",
                {{"input", {8, 6}, RandomData(48, 11, -2, 2)},
                 {"target", {8}, Indices(8, 6, 12)},
                 {"weight", {6}, RandomData(6, 13, 0.5f, 2)}},
                {{"p", pw}, {"reduction", r}});
    }
  // PyTorch's doc example: x = (0.1, 0.2, 0.4, 0.8), y = 3 -> 0.3257.
  const auto y =
      Eval("multi_margin",
           {{"input", {1, 4}, {0.1f, 0.2f, 0.4f, 0.8f}}, {"target", {1}, {3}}});
  REQUIRE(y[0] == Approx((1 - 0.8 + 0.1 + 1 - 0.8 + 0.2 + 1 - 0.8 + 0.4) / 4));
}

// ----- focal ---------------------------------------------------------------

// torchvision's formula, written out in double.
double FocalByHand(double x, double t, double alpha, double gamma) {
  const double p = 1 / (1 + std::exp(-x));
  const double ce = -(t * std::log(p) + (1 - t) * std::log(1 - p));
  const double pt = p * t + (1 - p) * (1 - t);
  double loss = ce * std::pow(1 - pt, gamma);
  if (alpha >= 0) loss *= alpha * t + (1 - alpha) * (1 - t);
  return loss;
}

TEST_CASE("focal: torchvision values, every gamma path, large logits",
          "[classification]") {
  const std::vector<float> x = {-2.5f, -0.3f, 0, 0.7f, 3.1f, 1.2f};
  const std::vector<float> t = {0, 1, 0.5f, 1, 0, 0.25f};
  for (double alpha : {0.25, -1.0, 0.9})
    for (double gamma : {0.0, 1.0, 2.0, 0.5, 3.7}) {
      INFO("alpha " << alpha << " gamma " << gamma);
      const auto y = Eval("focal", {{"input", {6}, x}, {"target", {6}, t}},
                          {{"alpha", alpha}, {"gamma", gamma}});
      for (int i = 0; i < 6; ++i)
        REQUIRE(y[i] == Approx(FocalByHand(x[i], t[i], alpha, gamma)));
      for (double r : {0.0, 1.0, 2.0})
        CheckCall("focal",
                  {{"input", {5, 7}, RandomData(35, 21, -6, 6)},
                   {"target", {5, 7}, RandomData(35, 22, 0, 1)}},
                  {{"alpha", alpha}, {"gamma", gamma}, {"reduction", r}});
    }
  // Logits of size 1e4: confident and right costs 0, confident and wrong
  // costs (1 - alpha) |x|, with no NaN in the gradient.
  const std::vector<float> big = {1e4f, -1e4f, 1e4f};
  const std::vector<float> bt = {1, 0, 0};
  const auto y = Eval("focal", {{"input", {3}, big}, {"target", {3}, bt}});
  REQUIRE(y[0] == 0);
  REQUIRE(y[1] == 0);
  REQUIRE(y[2] == Approx(0.75 * 1e4));
  const auto g = Grad("focal", {{"input", {3}, big}, {"target", {3}, bt}}, 0);
  REQUIRE(g[0] == 0);
  REQUIRE(g[2] == Approx(0.75));
  REQUIRE(
      Try("focal", {{"input", {2}, {0, 0}}, {"target", {2}, {0, 2}}}).code() ==
      ErrorCode::kBadValue);
}

// ----- focal_multiclass ----------------------------------------------------

TEST_CASE("focal_multiclass: gamma 0 is cross-entropy; other gammas",
          "[classification]") {
  const std::vector<float> x = RandomData(40, 31, -4, 4);
  const std::vector<float> t = Indices(8, 5, 32);
  const auto ce =
      Eval("cross_entropy", {{"input", {8, 5}, x}, {"target", {8}, t}},
           {{"reduction", 2}});
  const auto fl =
      Eval("focal_multiclass", {{"input", {8, 5}, x}, {"target", {8}, t}},
           {{"gamma", 0}, {"reduction", 2}});
  for (int i = 0; i < 8; ++i) REQUIRE(fl[i] == Approx(ce[i]));
  // By hand: p_t = 5/8 with gamma 2 and alpha_t = 0.5.
  const float l2 = std::log(2.0f), l5 = std::log(5.0f);
  const auto y = Eval("focal_multiclass", {{"input", {1, 3}, {0, l2, l5}},
                                           {"target", {1}, {2}},
                                           {"alpha", {3}, {1, 1, 0.5f}}});
  REQUIRE(y[0] == Approx(0.5 * (3.0 / 8) * (3.0 / 8) * std::log(8.0 / 5)));
  for (double gamma : {0.0, 0.5, 2.0, 4.5})
    for (double r : {0.0, 2.0})
      CheckCall("focal_multiclass",
                {{"input", {8, 5}, x},
                 {"target", {8}, t},
                 {"alpha", {5}, RandomData(5, 33, 0.2f, 1)}},
                {{"gamma", gamma}, {"reduction", r}});
  // A confident right row (logit gap 1e4) keeps a finite, zero-ish loss.
  const auto z = Eval(
      "focal_multiclass",
      {{"input", {2, 2}, {1e4f, -1e4f, -1e4f, 1e4f}}, {"target", {2}, {0, 0}}},
      {{"reduction", 2}});
  REQUIRE(z[0] == 0);
  REQUIRE(z[1] == Approx(2e4));
}

// ----- triplet_margin ------------------------------------------------------

TEST_CASE("triplet_margin: p, swap, eps added to the difference",
          "[classification]") {
  // By hand, eps = 0: d(a, p) = 5 (3-4-5), d(a, n) = 1; loss = 1 + 5 - 1.
  auto y = Eval("triplet_margin",
                {{"anchor", {1, 2}, {0, 0}},
                 {"positive", {1, 2}, {3, 4}},
                 {"negative", {1, 2}, {1, 0}}},
                {{"eps", 0}});
  REQUIRE(y[0] == Approx(5));
  // With swap, d(p, n) = sqrt(4 + 16) > 1: unchanged. Put n near p instead.
  y = Eval("triplet_margin",
           {{"anchor", {1, 2}, {0, 0}},
            {"positive", {1, 2}, {3, 4}},
            {"negative", {1, 2}, {3, 3}}},
           {{"eps", 0}, {"swap", 1}});
  REQUIRE(y[0] == Approx(1 + 5 - 1));
  // eps enters inside the norm: |(0 - 0 + 1e-6)| for each of D components.
  y = Eval("triplet_margin",
           {{"anchor", {1, 4}, {0, 0, 0, 0}},
            {"positive", {1, 4}, {0, 0, 0, 0}},
            {"negative", {1, 4}, {0, 0, 0, 0}}},
           {{"margin", 0.5}});
  REQUIRE(y[0] == Approx(0.5));
  for (double p : {1.0, 1.5, 2.0, 3.0})
    for (double swap : {0.0, 1.0})
      CheckCall("triplet_margin",
                {{"anchor", {9, 6}, RandomData(54, 41, -2, 2)},
                 {"positive", {9, 6}, RandomData(54, 42, -2, 2)},
                 {"negative", {9, 6}, RandomData(54, 43, -2, 2)}},
                {{"p", p}, {"swap", swap}, {"reduction", 2}});
}

// ----- info_nce ------------------------------------------------------------

TEST_CASE("info_nce: by hand, and gradients for both inputs",
          "[classification]") {
  // Orthonormal rows, tau = 1: logits = I, loss = log(1 + e^{-1}); scaling
  // the rows changes nothing when normalised.
  auto y =
      Eval("info_nce",
           {{"query", {2, 2}, {3, 0, 0, 2}}, {"key", {2, 2}, {1, 0, 0, 5}}},
           {{"temperature", 1}});
  REQUIRE(y[0] == Approx(std::log1p(std::exp(-1.0))));
  // Without normalize the raw dot products are the logits: rows (3, 0) and
  // (0, 10) against key row i.
  y = Eval("info_nce",
           {{"query", {2, 2}, {3, 0, 0, 2}}, {"key", {2, 2}, {1, 0, 0, 5}}},
           {{"temperature", 1}, {"normalize", 0}, {"reduction", 2}});
  REQUIRE(y[0] == Approx(std::log1p(std::exp(-3.0))));
  // log S with S = 1 + 4.5e-5 summed in float: absolute error ~1e-7.
  REQUIRE(y[1] == Approx(std::log1p(std::exp(-10.0))).margin(2e-7));
  for (double tau : {0.07, 0.5})
    for (double norm : {0.0, 1.0})
      for (double sym : {0.0, 1.0})
        CheckCall("info_nce",
                  {{"query", {7, 5}, RandomData(35, 51, -1, 1)},
                   {"key", {7, 5}, RandomData(35, 52, -1, 1)}},
                  {{"temperature", tau},
                   {"normalize", norm},
                   {"symmetric", sym},
                   {"reduction", 1}});
}

TEST_CASE("info_nce: symmetric is CLIP's loss (PyTorch values)",
          "[classification]") {
  // logits = normalize(q) normalize(k)^T / 0.5; CLIP's loss is the mean of
  // the row and column cross-entropies (tests/fixtures/torch_values.py).
  const std::vector<Arg> in = {{"query", {4, 3}, Floats(torch::kNceQuery)},
                               {"key", {4, 3}, Floats(torch::kNceKey)}};
  const std::vector<NamedParam> p = {{"temperature", 0.5}, {"symmetric", 1}};
  auto terms = Eval("info_nce", in, {p[0], p[1], {"reduction", 2}});
  RequireTorch(terms, torch::kNceTerms, 2e-6);
  RequireTorch(Grad("info_nce", in, 0, p), torch::kNceDQuery, 1e-5);
  RequireTorch(Grad("info_nce", in, 1, p), torch::kNceDKey, 1e-5);
  // Swapping query and key leaves the symmetric loss unchanged.
  const auto swapped = Eval("info_nce",
                            {{"query", {4, 3}, Floats(torch::kNceKey)},
                             {"key", {4, 3}, Floats(torch::kNceQuery)}},
                            p);
  const auto y = Eval("info_nce", in, p);
  REQUIRE(swapped[0] == Approx(y[0]).epsilon(1e-6));
  for (double r : {0.0, 2.0})
    CheckCall("info_nce",
              {{"query", {9, 6}, RandomData(54, 71, -1, 1)},
               {"key", {9, 6}, RandomData(54, 72, -1, 1)}},
              {{"symmetric", 1}, {"reduction", r}});
}

// ----- ctc -----------------------------------------------------------------

std::vector<float> LogSoftmaxRows(std::vector<float> x, int cols) {
  for (size_t r = 0; r < x.size() / cols; ++r) {
    double m = -INFINITY, s = 0;
    for (int c = 0; c < cols; ++c) m = std::max<double>(m, x[r * cols + c]);
    for (int c = 0; c < cols; ++c) s += std::exp(x[r * cols + c] - m);
    for (int c = 0; c < cols; ++c)
      x[r * cols + c] = static_cast<float>(x[r * cols + c] - m - std::log(s));
  }
  return x;
}

TEST_CASE("ctc: paths by hand, PyTorch's reductions and gradient",
          "[classification]") {
  // T = 2, one sample, C = 3 (blank 0), target (1): the paths 11, 01, 10.
  const std::vector<float> lp = LogSoftmaxRows({0.1f, 0.7f, -0.3f,  //
                                                0.5f, -0.2f, 0.4f},
                                               3);
  auto pr = [&](int t, int c) { return std::exp(double{lp[t * 3 + c]}); };
  const double p =
      pr(0, 1) * pr(1, 1) + pr(0, 0) * pr(1, 1) + pr(0, 1) * pr(1, 0);
  auto y = Eval("ctc",
                {{"log_probs", {2, 1, 3}, lp},
                 {"targets", {1, 2}, {1, 2}},
                 {"input_lengths", {1}, {2}},
                 {"target_lengths", {1}, {1}}},
                {{"reduction", 1}});
  REQUIRE(y[0] == Approx(-std::log(p)));
  // Target (1, 2) in two steps: the single path 12; 'mean' divides by 2.
  y = Eval("ctc", {{"log_probs", {2, 1, 3}, lp},
                   {"targets", {1, 2}, {1, 2}},
                   {"input_lengths", {1}, {2}},
                   {"target_lengths", {1}, {2}}});
  REQUIRE(y[0] == Approx(-std::log(pr(0, 1) * pr(1, 2)) / 2));
  // Target (1, 1) needs a blank between: impossible in two steps.
  std::vector<Arg> rep = {{"log_probs", {2, 1, 3}, lp},
                          {"targets", {1, 2}, {1, 1}},
                          {"input_lengths", {1}, {2}},
                          {"target_lengths", {1}, {2}}};
  y = Eval("ctc", rep);
  REQUIRE(std::isinf(y[0]));
  y = Eval("ctc", rep, {{"zero_infinity", 1}});
  REQUIRE(y[0] == 0);
  const auto gz = Grad("ctc", rep, 0, {{"zero_infinity", 1}});
  for (float v : gz) REQUIRE(v == 0);

  // On log_softmax outputs the gradient is PyTorch's exp(lp) - ..., whose
  // rows sum to 0; rows past input_length get nothing.
  const int T = 7, N = 3, C = 5;
  const std::vector<float> lps = LogSoftmaxRows(RandomData(T * N * C, 61), C);
  std::vector<Arg> args = {{"log_probs", {T, N, C}, lps},
                           {"targets", {N, 3}, {1, 2, 2, 3, 3, 0, 4, 1, 4}},
                           {"input_lengths", {N}, {7, 5, 6}},
                           {"target_lengths", {N}, {3, 2, 0}}};
  const auto g = Grad("ctc", args, 0, {{"reduction", 2}});
  for (int t = 0; t < T; ++t)
    for (int n = 0; n < N; ++n) {
      double s = 0;
      for (int c = 0; c < C; ++c) s += g[(t * N + n) * C + c];
      REQUIRE(std::fabs(s) < 1e-5);
      if (n == 1 && t >= 5)
        for (int c = 0; c < C; ++c) REQUIRE(g[(t * N + n) * C + c] == 0);
    }
  for (double r : {0.0, 1.0, 2.0})
    for (double blank : {0.0, 4.0}) {
      args[1].v = {1, 2, 2, 3, 3, 0, blank == 0 ? 4.0f : 0.0f, 1, 2};
      CheckCall("ctc", args, {{"reduction", r}, {"blank", blank}});
    }
  // Large logits: still finite (log space throughout).
  std::vector<float> big = RandomData(T * N * C, 62, -1e4f, 1e4f);
  args[0].v = big;
  args[1].v = {1, 2, 2, 3, 3, 0, 4, 1, 2};
  const auto yb = Eval("ctc", args, {{"reduction", 2}});
  for (float v : yb) REQUIRE(!std::isnan(v));
  REQUIRE(Try("ctc", {{"log_probs", {2, 1, 3}, lp},
                      {"targets", {1, 2}, {1, 3}},
                      {"input_lengths", {1}, {2}},
                      {"target_lengths", {1}, {2}}})
              .code() == ErrorCode::kBadValue);
  REQUIRE(Try("ctc", {{"log_probs", {2, 1, 3}, lp},
                      {"targets", {1, 2}, {1, 2}},
                      {"input_lengths", {1}, {3}},
                      {"target_lengths", {1}, {2}}})
              .code() == ErrorCode::kBadValue);
}

// ----- stress (hidden: run with test_classification "[.stress]") -----------
// The worst kernel-vs-reference error, next to the tolerance, over many
// random samples of every entry of this file: how the tolerances were
// checked.
constexpr uint32_t kStressSeeds = 3000;
TEST_CASE("classification: worst error over 3000 random samples", "[.stress]") {
  for (const char* id :
       {"cross_entropy", "hinge", "margin_ranking", "cosine_embedding",
        "multi_margin", "focal", "focal_multiclass", "triplet_margin",
        "info_nce", "ctc"}) {
    const OpInfo& op = *FindOp(id);
    double worst_v = 0, worst_g = 0;
    for (const std::vector<double>& p : ParamSets(op))
      for (uint32_t seed = 0; seed < kStressSeeds; ++seed) {
        const SampleCall sc = MakeSampleCall(op, p, 1000 + seed);
        const Call& call = sc.call;
        RefBuffers rb = RefInputs(call);
        GenCall<double> rc = RefForward(call, &rb);
        const size_t no = call.out.numel();
        const std::vector<float> dy = RandomData(no, seed, -2, 2);
        const std::vector<double> dyd(dy.begin(), dy.end());
        const int ni = op.num_inputs();
        std::vector<std::vector<double>> dind(ni);
        double* dinp[kMaxInputs] = {};
        std::vector<std::vector<float>> din(ni);
        float* dptr[kMaxInputs] = {};
        for (int k = 0; k < ni; ++k) {
          dind[k].assign(rb.in[k].size(), 0.0);
          din[k].assign(rb.in[k].size(), 0.0f);
          if (op.inputs[k].diff && call.in[k].data) {
            dinp[k] = dind[k].data();
            dptr[k] = din[k].data();
          }
        }
        std::vector<double> rdp(kMaxParams, 0), dp(kMaxParams, 0);
        rc.dy = dyd.data();
        rc.din = dinp;
        rc.dp = rdp.data();
        op.impl.gen_ref_bwd(rc);
        Evaluation ev;
        REQUIRE(Run(call, &ev).ok());
        Backward(call, ev.y.data(), ev.ws.data(), dy.data(), dptr, dp.data());
        for (size_t i = 0; i < no; ++i)
          worst_v = std::max(worst_v, std::fabs(ev.y.data()[i] - rb.y[i]) /
                                          std::max(1.0, std::fabs(rb.y[i])));
        for (int k = 0; k < ni; ++k)
          for (size_t i = 0; dptr[k] && i < din[k].size(); ++i)
            worst_g =
                std::max(worst_g, std::fabs(din[k][i] - dind[k][i]) /
                                      std::max(1.0, std::fabs(dind[k][i])));
      }
    WARN(id << ": worst value error " << worst_v << " (tol " << op.tol.value
            << "), gradient " << worst_g << " (tol " << op.tol.grad << ")");
    CHECK(worst_v <= op.tol.value);
    CHECK(worst_g <= op.tol.grad);
  }
}

}  // namespace
}  // namespace dlmath::testing
