// Oracle 1: every registry op's SIMD forward and backward against its float64
// reference, on every compiled Highway target, over the value sweep, every
// tail length, in place, and with backward accumulating into a non-zero dx.
#include <cstring>

#include "tests/core/testing.h"
#include "tests/core/ulp.h"

namespace dlmath::testing {
namespace {

constexpr float kDxInit = 0.25f;  // backward must add to this, not overwrite

size_t OutCols(const OpInfo& op, size_t cols) {
  switch (op.row_out) {
    case RowOut::kSame:
      return cols;
    case RowOut::kDrop:
      return 1;
    case RowOut::kHalf:
      return cols / 2;
  }
  return cols;
}

// d/dparam of a learnable param is a sum over every element. Over the finite
// part of the sweep (a NaN term would make the check vacuous), the kernel's
// sum must match the reference's to the per-term bound times the sum of the
// terms' magnitudes.
void CheckParamGradients(const OpInfo& op, const std::vector<double>& p,
                         const std::vector<float>& sweep,
                         const std::vector<float>& dy) {
  std::vector<float> x, g;
  for (size_t i = 0; i < sweep.size(); ++i) {
    if (!std::isfinite(sweep[i])) continue;
    x.push_back(sweep[i]);
    g.push_back(dy[i]);
  }
  for (int k = 0; k < op.num_params(); ++k) {
    if (!op.params[k].learnable) continue;
    double ref = 0, magnitude = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      std::vector<double> one(kMaxParams, 0);
      double unused = 0;
      op.impl.ew_ref_bwd(x[i], g[i], p.data(), i, &unused, one.data());
      ref += one[k];
      magnitude += std::fabs(one[k]);
    }
    std::vector<float> y(x.size()), dx(x.size(), 0);
    std::vector<double> dp(kMaxParams, 0);
    op.impl.ew_fwd(x.data(), y.data(), x.size(), p.data());
    op.impl.ew_bwd(x.data(), y.data(), g.data(), dx.data(), dp.data(), x.size(),
                   p.data());
    INFO("d/d" << op.params[k].name << " got " << dp[k] << " ref " << ref);
    REQUIRE(std::isfinite(ref));
    REQUIRE(std::fabs(dp[k] - ref) <= op.tol.grad * std::max(1.0, magnitude));
  }
}

void CheckElementwise(const OpInfo& op) {
  const std::vector<float> sweep = SweepValues();
  const size_t n_all = sweep.size();
  // Upstream gradients: mixed signs and magnitudes.
  std::vector<float> dy = RandomData(n_all, 7, -2, 2);
  for (const std::vector<double>& p : ParamSets(op)) {
    // References in double, once.
    std::vector<double> ref_y(n_all), ref_dx(n_all, kDxInit);
    std::vector<double> ref_dp(kMaxParams, 0);
    for (size_t i = 0; i < n_all; ++i) {
      ref_y[i] = op.impl.ew_ref_fwd(sweep[i], p.data(), i);
      op.impl.ew_ref_bwd(sweep[i], dy[i], p.data(), i, &ref_dx[i],
                         ref_dp.data());
    }
    ForEachTarget([&](const char* target) {
      INFO("op " << op.id << ", target " << target << ", p0 " << p[0]);
      for (size_t n : SweepLengths(n_all)) {
        INFO("n = " << n);
        std::vector<float> y(n + 1, 12345.0f);  // canary past the end
        op.impl.ew_fwd(sweep.data(), y.data(), n, p.data());
        for (size_t i = 0; i < n; ++i) {
          INFO("x = " << sweep[i] << " got " << y[i] << " ref " << ref_y[i]);
          REQUIRE(Close(y[i], ref_y[i], op.tol.value, /*exact_zero=*/true));
        }
        REQUIRE(y[n] == 12345.0f);

        std::vector<float> dx(n + 1, kDxInit);
        dx[n] = 12345.0f;
        std::vector<double> dp(kMaxParams, 0);
        op.impl.ew_bwd(sweep.data(), y.data(), dy.data(), dx.data(), dp.data(),
                       n, p.data());
        for (size_t i = 0; i < n; ++i) {
          INFO("backward at x = " << sweep[i] << " got " << dx[i] << " ref "
                                  << ref_dx[i]);
          REQUIRE(Close(dx[i], ref_dx[i], op.tol.grad));
        }
        REQUIRE(dx[n] == 12345.0f);
      }
      CheckParamGradients(op, p, sweep, dy);
      // In place: y aliases x.
      std::vector<float> inplace = sweep;
      op.impl.ew_fwd(inplace.data(), inplace.data(), n_all, p.data());
      for (size_t i = 0; i < n_all; ++i)
        REQUIRE(Close(inplace[i], ref_y[i], op.tol.value, true));
    });
  }
}

// Rows that stress the row-wise kernels: moderate, huge (|x| ~ 1e4), and
// rows with -inf / +inf / NaN entries.
std::vector<std::vector<float>> StressRows(size_t cols, uint32_t seed) {
  std::vector<std::vector<float>> rows;
  rows.push_back(RandomData(cols, seed, -8, 8));
  rows.push_back(RandomData(cols, seed + 1, -1e4f, 1e4f));
  rows.push_back(RandomData(cols, seed + 2, -60, 60));
  std::vector<float> r = RandomData(cols, seed + 3);
  r[0] = -INFINITY;
  rows.push_back(r);
  rows.push_back(std::vector<float>(cols, -INFINITY));
  r = RandomData(cols, seed + 4);
  r[cols / 2] = NAN;
  rows.push_back(r);
  r = RandomData(cols, seed + 5);
  r[cols - 1] = INFINITY;
  rows.push_back(r);
  return rows;
}

void CheckRowwise(const OpInfo& op) {
  const bool half = op.row_out == RowOut::kHalf;
  std::vector<size_t> col_list = {1, 2,  3,  4,  5,  7,   8,
                                  9, 15, 16, 17, 33, 100, 1027};
  if (half) col_list = {2, 4, 6, 8, 10, 16, 18, 34, 100, 1026};
  for (const std::vector<double>& p : ParamSets(op)) {
    for (size_t cols : col_list) {
      const auto stress = StressRows(cols, static_cast<uint32_t>(cols));
      const size_t rows = stress.size(), oc = OutCols(op, cols);
      std::vector<float> x;
      for (const auto& r : stress) x.insert(x.end(), r.begin(), r.end());
      const std::vector<float> dy = RandomData(rows * oc, 11, -2, 2);
      std::vector<double> xd(x.begin(), x.end()), dyd(dy.begin(), dy.end());
      std::vector<double> ref_y(rows * oc), ref_dx(rows * cols, kDxInit);
      std::vector<double> ref_dp(kMaxParams, 0);
      for (size_t r = 0; r < rows; ++r) {
        op.impl.row_ref_fwd(&xd[r * cols], &ref_y[r * oc], cols, p.data());
        op.impl.row_ref_bwd(&xd[r * cols], &ref_y[r * oc], &dyd[r * oc],
                            &ref_dx[r * cols], ref_dp.data(), cols, p.data());
      }
      ForEachTarget([&](const char* target) {
        INFO("op " << op.id << ", target " << target << ", cols " << cols);
        std::vector<float> y(rows * oc + 1, 12345.0f);
        op.impl.row_fwd(x.data(), y.data(), rows, cols, p.data());
        REQUIRE(y[rows * oc] == 12345.0f);
        for (size_t i = 0; i < rows * oc; ++i) {
          INFO("row " << i / oc << " out " << i % oc << " got " << y[i]
                      << " ref " << ref_y[i]);
          REQUIRE(Close(y[i], ref_y[i], op.tol.value));
        }
        std::vector<float> dx(rows * cols, kDxInit);
        std::vector<double> dp(kMaxParams, 0);
        op.impl.row_bwd(x.data(), y.data(), dy.data(), dx.data(), dp.data(),
                        rows, cols, p.data());
        for (size_t i = 0; i < rows * cols; ++i) {
          INFO("backward row " << i / cols << " col " << i % cols << " got "
                               << dx[i] << " ref " << ref_dx[i]);
          REQUIRE(Close(dx[i], ref_dx[i], op.tol.grad));
        }
        if (oc == cols) {  // in place
          std::vector<float> inplace = x;
          op.impl.row_fwd(inplace.data(), inplace.data(), rows, cols, p.data());
          for (size_t i = 0; i < rows * cols; ++i)
            REQUIRE(Close(inplace[i], ref_y[i], op.tol.value));
        }
      });
    }
  }
}

void CheckGeneral(const OpInfo& op) {
  for (const std::vector<double>& p : ParamSets(op)) {
    const SampleCall sc = MakeSampleCall(op, p, 100);
    const Call& call = sc.call;
    const int ni = op.num_inputs();
    // Reference in double: forward (with aux), then backward accumulating
    // into kDxInit like the kernels.
    RefBuffers rb = RefInputs(call);
    GenCall<double> rc = RefForward(call, &rb);
    const size_t no = call.out.numel();
    const std::vector<float> dy = RandomData(no, 5, -2, 2);
    const std::vector<double> dyd(dy.begin(), dy.end());
    std::vector<std::vector<double>> dind(ni);
    double* dinp[kMaxInputs] = {};
    for (int k = 0; k < ni; ++k) {
      dind[k].assign(rb.in[k].size(), kDxInit);
      if (op.inputs[k].diff && call.in[k].data) dinp[k] = dind[k].data();
    }
    std::vector<double> ref_dp(kMaxParams, 0);
    rc.dy = dyd.data();
    rc.din = dinp;
    rc.dp = ref_dp.data();
    if (op.differentiable()) op.impl.gen_ref_bwd(rc);
    ForEachTarget([&](const char* target) {
      INFO("op " << op.id << ", target " << target);
      Evaluation ev;
      REQUIRE(Run(call, &ev).ok());
      for (size_t i = 0; i < no; ++i) {
        INFO("out " << i << " got " << ev.y.data()[i] << " ref " << rb.y[i]);
        REQUIRE(Close(ev.y.data()[i], rb.y[i], op.tol.value));
      }
      for (int a = 0; a < op.num_aux(); ++a)
        for (size_t i = 0; i < rb.aux[a].size(); ++i) {
          INFO("aux " << op.aux[a] << "[" << i << "] got "
                      << ev.aux[a].data()[i] << " ref " << rb.aux[a][i]);
          REQUIRE(Close(ev.aux[a].data()[i], rb.aux[a][i], op.tol.value));
        }
      if (!op.differentiable()) return;
      std::vector<std::vector<float>> din(ni);
      float* dptr[kMaxInputs] = {};
      for (int k = 0; k < ni; ++k) {
        din[k].assign(rb.in[k].size(), kDxInit);
        if (op.inputs[k].diff && call.in[k].data) dptr[k] = din[k].data();
      }
      std::vector<double> dp(kMaxParams, 0);
      Backward(call, ev.y.data(), ev.ws.data(), dy.data(), dptr, dp.data());
      for (int k = 0; k < ni; ++k) {
        if (!dptr[k]) continue;
        for (size_t i = 0; i < din[k].size(); ++i) {
          INFO("d" << op.inputs[k].name << "[" << i << "] got " << din[k][i]
                   << " ref " << dind[k][i]);
          REQUIRE(Close(din[k][i], dind[k][i], op.tol.grad));
        }
      }
      for (int k = 0; k < op.num_params(); ++k)
        if (op.params[k].learnable)
          REQUIRE(std::fabs(dp[k] - ref_dp[k]) <=
                  op.tol.grad * std::max(1.0, std::fabs(ref_dp[k])));
    });
  }
}

TEST_CASE("every op: SIMD kernels match the float64 reference", "[kernels]") {
  for (const OpInfo& op : Ops()) {
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

// FastTanh's documented bound (simd-inl.h), which ulp_exhaustive checks on
// every float: here every 997th positive float (and its negative, bit for
// bit) from the subnormals to infinity and NaN, on every target.
TEST_CASE("tanh: within 2.5 ulp of float64 tanh, odd bit for bit",
          "[kernels]") {
  const OpInfo& op = Op(OpId::tanh);
  ForEachTarget([&](const char* target) {
    const double p[kMaxParams] = {};
    const UlpReport w = MeasureUlps(op, p, 997);
    INFO("target " << target << ": " << w.ulp << " ulp at x = " << w.x
                   << " (got " << w.got << ", ref " << w.ref << ")");
    CHECK(w.mismatches == 0);
    CHECK(w.ulp <= 2.5);
    CHECK(w.ulp > 1.0);  // the sample reaches the worst region
  });
}

}  // namespace dlmath::testing
