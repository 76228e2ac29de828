// Oracle 2: every float64 reference backward against central finite
// differences of its own forward, in double. Points next to a kink are found
// numerically (the one-sided slopes disagree) and skipped, so no list of
// kinks has to be kept by hand.
#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

constexpr double kFdTol = 1e-5;

// 4-point central difference of a scalar function g at t = 0, or NaN when
// t = 0 lies at (or within 3h of) a kink.
double CentralDiff(const std::function<double(double)>& g, double scale) {
  const double h = 1e-4 * std::max(1.0, scale);
  const double f0 = g(0), fp1 = g(h), fm1 = g(-h), fp2 = g(2 * h),
               fm2 = g(-2 * h);
  const double fd = (-fp2 + 8 * fp1 - 8 * fm1 + fm2) / (12 * h);
  // One-sided second-order slopes; a kink nearby makes them disagree.
  const double right = (-3 * f0 + 4 * fp1 - fp2) / (2 * h);
  const double left = (3 * f0 - 4 * fm1 + fm2) / (2 * h);
  const double fp3 = g(3 * h), fm3 = g(-3 * h);
  const double right2 = (-3 * fp1 + 4 * fp2 - fp3) / (2 * h);
  const double left2 = (3 * fm1 - 4 * fm2 + fm3) / (2 * h);
  const double spread =
      std::max({std::fabs(right - left), std::fabs(right2 - right),
                std::fabs(left2 - left)});
  if (spread > 1e-3 * std::max(1.0, std::fabs(fd))) return NAN;
  return fd;
}

bool FdClose(double analytic, double fd) {
  return std::fabs(analytic - fd) <= kFdTol * std::max(1.0, std::fabs(fd));
}

void CheckElementwise(const OpInfo& op) {
  for (const std::vector<double>& p : ParamSets(op)) {
    for (double x = -9.87; x < 10; x += 0.0731) {
      for (uint64_t i : {uint64_t{0}, uint64_t{5}}) {
        INFO("op " << op.id << " x = " << x << " i = " << i);
        double dx = 0;
        std::vector<double> dp(kMaxParams, 0);
        op.impl.ew_ref_bwd(x, 1.0, p.data(), i, &dx, dp.data());
        const double fd = CentralDiff(
            [&](double t) { return op.impl.ew_ref_fwd(x + t, p.data(), i); },
            x);
        if (!std::isnan(fd)) {
          INFO("analytic " << dx << " fd " << fd);
          REQUIRE(FdClose(dx, fd));
        }
        for (int k = 0; k < op.num_params(); ++k) {
          if (!op.params[k].learnable) continue;
          const double fdp = CentralDiff(
              [&](double t) {
                std::vector<double> q = p;
                q[k] += t;
                return op.impl.ew_ref_fwd(x, q.data(), i);
              },
              p[k]);
          if (std::isnan(fdp)) continue;
          INFO("d/d" << op.params[k].name << " analytic " << dp[k] << " fd "
                     << fdp);
          REQUIRE(FdClose(dp[k], fdp));
        }
      }
    }
  }
}

void CheckRowwise(const OpInfo& op) {
  const bool half = op.row_out == RowOut::kHalf;
  for (const std::vector<double>& p : ParamSets(op)) {
    for (size_t cols : {1, 2, 5, 8}) {
      if (half && cols % 2) continue;
      const size_t oc = op.row_out == RowOut::kSame   ? cols
                        : op.row_out == RowOut::kDrop ? 1
                                                      : cols / 2;
      const auto xf = RandomData(cols, 40 + cols, -4, 4);
      const auto gf = RandomData(oc, 50 + cols, -2, 2);
      const std::vector<double> x(xf.begin(), xf.end()),
          g(gf.begin(), gf.end());
      std::vector<double> y(oc), dx(cols, 0), dp(kMaxParams, 0);
      op.impl.row_ref_fwd(x.data(), y.data(), cols, p.data());
      op.impl.row_ref_bwd(x.data(), y.data(), g.data(), dx.data(), dp.data(),
                          cols, p.data());
      auto loss = [&](const std::vector<double>& xx, const double* pp) {
        std::vector<double> yy(oc);
        op.impl.row_ref_fwd(xx.data(), yy.data(), cols, pp);
        double s = 0;
        for (size_t i = 0; i < oc; ++i) s += g[i] * yy[i];
        return s;
      };
      for (size_t j = 0; j < cols; ++j) {
        const double fd = CentralDiff(
            [&](double t) {
              std::vector<double> xx = x;
              xx[j] += t;
              return loss(xx, p.data());
            },
            x[j]);
        if (std::isnan(fd)) continue;
        INFO("op " << op.id << " cols " << cols << " j " << j << " analytic "
                   << dx[j] << " fd " << fd);
        REQUIRE(FdClose(dx[j], fd));
      }
      for (int k = 0; k < op.num_params(); ++k) {
        if (!op.params[k].learnable) continue;
        const double fd = CentralDiff(
            [&](double t) {
              std::vector<double> q = p;
              q[k] += t;
              return loss(x, q.data());
            },
            p[k]);
        if (!std::isnan(fd)) REQUIRE(FdClose(dp[k], fd));
      }
    }
  }
}

void CheckGeneral(const OpInfo& op) {
  const int ni = op.num_inputs();
  for (const std::vector<double>& p : ParamSets(op)) {
    const SampleCall sc = MakeSampleCall(op, p, 200);
    const Call& call = sc.call;
    RefBuffers rb = RefInputs(call);
    GenCall<double> c = RefForward(call, &rb);
    const size_t no = call.out.numel();
    const auto gf = RandomData(no, 77, -2, 2);
    const std::vector<double> g(gf.begin(), gf.end());
    std::vector<std::vector<double>> din(ni);
    double* dptr[kMaxInputs] = {};
    for (int k = 0; k < ni; ++k) {
      din[k].assign(rb.in[k].size(), 0);
      if (op.inputs[k].diff && call.in[k].data) dptr[k] = din[k].data();
    }
    std::vector<double> dp(kMaxParams, 0);
    c.dy = g.data();
    c.din = dptr;
    c.dp = dp.data();
    op.impl.gen_ref_bwd(c);
    // sum(g * f(inputs, params)), the scalar whose gradient backward gives.
    auto loss = [&](const std::vector<std::vector<double>>& xs,
                    const double* pp) {
      RefBuffers b = rb;
      b.in = xs;
      RefForward(call, &b, pp);
      double s = 0;
      for (size_t i = 0; i < no; ++i) s += g[i] * b.y[i];
      return s;
    };
    for (int k = 0; k < ni; ++k) {
      // Class indices (InputSpec::index_rank) have no gradient to check.
      if (!dptr[k] || op.inputs[k].index_rank == call.in[k].shape.rank)
        continue;
      for (size_t j = 0; j < rb.in[k].size(); ++j) {
        const double fd = CentralDiff(
            [&](double t) {
              auto xs = rb.in;
              xs[k][j] += t;
              return loss(xs, p.data());
            },
            rb.in[k][j]);
        if (std::isnan(fd)) continue;
        INFO("op " << op.id << " d" << op.inputs[k].name << "[" << j
                   << "] analytic " << din[k][j] << " fd " << fd);
        REQUIRE(FdClose(din[k][j], fd));
      }
    }
    for (int k = 0; k < op.num_params(); ++k) {
      if (!op.params[k].learnable) continue;
      const double fd = CentralDiff(
          [&](double t) {
            std::vector<double> q = p;
            q[k] += t;
            return loss(rb.in, q.data());
          },
          p[k]);
      if (!std::isnan(fd)) REQUIRE(FdClose(dp[k], fd));
    }
  }
}

TEST_CASE("every reference backward matches finite differences",
          "[reference]") {
  for (const OpInfo& op : Ops()) {
    if (!op.differentiable()) continue;
    DYNAMIC_SECTION(op.id) {
      switch (op.form) {
        case Form::Elementwise:
          CheckElementwise(op);
          break;
        case Form::Rowwise:
          CheckRowwise(op);
          break;
        case Form::General:
        case Form::NoGrad:
          CheckGeneral(op);
          break;
      }
    }
  }
}

}  // namespace
}  // namespace dlmath::testing
