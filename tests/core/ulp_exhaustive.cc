// Exhaustive accuracy check of one elementwise op: every float32 bit pattern
// through the SIMD kernel on every compiled-and-supported Highway target,
// against the op's float64 reference (MeasureUlps, ulp.h). Too slow for npm
// test (minutes per target; test_kernels samples every 997th float); run it
// by hand after touching a kernel's math:
//   cmake --build build/native --target ulp_exhaustive
//   build/native/ulp_exhaustive tanh 2.5
// Fails when the largest error exceeds the bound, when a NaN, infinity or
// signed zero of the reference is not matched exactly, or when an op whose
// reference is odd has a kernel that is not (f(-x) = -f(x) bit for bit).
#include <cstdio>
#include <cstdlib>

#include "hwy/targets.h"
#include "tests/core/ulp.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr,
                 "usage: ulp_exhaustive <elementwise op id> <max ulp>\n");
    return 2;
  }
  const dlmath::OpInfo* op = dlmath::FindOp(argv[1]);
  if (!op || !op->impl.ew_fwd) {
    std::fprintf(stderr, "ulp_exhaustive: '%s' is not an elementwise op\n",
                 argv[1]);
    return 2;
  }
  const double bound = std::atof(argv[2]);
  double p[dlmath::kMaxParams] = {};
  for (int k = 0; k < op->num_params(); ++k) p[k] = op->params[k].def;
  bool ok = true;
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    const dlmath::testing::UlpReport w =
        dlmath::testing::MeasureUlps(*op, p, /*stride=*/1);
    std::printf(
        "%s %s: max %.3f ulp at x = %a (%.9g): got %a, ref %.17g; "
        "%llu special/symmetry mismatches\n",
        op->id, hwy::TargetName(target), w.ulp, w.x, w.x, w.got, w.ref,
        static_cast<unsigned long long>(w.mismatches));
    std::fflush(stdout);
    ok = ok && w.ulp <= bound && w.mismatches == 0;
  }
  hwy::SetSupportedTargetsForTest(0);
  std::printf("%s: %s (bound %g ulp)\n", op->id, ok ? "PASS" : "FAIL", bound);
  return ok ? 0 : 1;
}
