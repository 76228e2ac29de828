// GEMM rows of `npm run bench`: GFLOP/s of dlmath::Gemm (core/src/gemm.h) on
// preallocated operands. Built twice from this file: natively
// (build/native/dlmath_gemm_bench: Highway's best target, then the dispatch
// forced to SSE4) and as wasm SIMD for Node (build/wasm/dlmath_gemm_bench.cjs:
// the kernel the browser runs, timed inside wasm, no JS call in the loop).
// Prints one JSON object on stdout; bench/gemm.mjs spawns both once per round
// so that they interleave with TensorFlow.js.
//
//   dlmath_gemm_bench [--ms 50] [--warmup-ms 10] MxNxK:AB ...
//
// AB: N or T per operand (T: the product uses its transpose); with W [out,
// in], NT is a linear layer's forward x W^T, NN its dx = dy W, TN its dW =
// dy^T x. A is stored [M, K] (N) or [K, M] (T), B [K, N] (N) or [N, K] (T),
// densely, holding uniform values in [-5, 5) from a multiplicative hash of
// the index (seed 0 for A, 7919 for B): the same as bench/run.mjs's
// inputValues(), so every column multiplies the same numbers.
//
// What is timed: Gemm(..., accumulate = false) into a preallocated C after
// GemmReserve (no allocation in the loop), in batches of about 1 ms. "check" is
// [sum c, sum |c|, sum c_i ((i mod 17) - 8)] (double) of C, compared with the
// other columns.
#include "core/src/gemm.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/src/ops/dispatch.h"
#include "dlmath/dlmath.h"
#if !DLMATH_STATIC_DISPATCH_ONLY
#include "hwy/targets.h"
#endif

namespace {

using Clock = std::chrono::steady_clock;

struct Case {
  size_t m = 0, n = 0, k = 0;
  dlmath::Trans ta = dlmath::Trans::kNo, tb = dlmath::Trans::kNo;
  std::string name;
};

// "128x784x128:NT" -> a Case; false if malformed.
bool ParseCase(const std::string& arg, Case* c) {
  char a = 0, b = 0;
  unsigned long long m, n, k;
  if (std::sscanf(arg.c_str(), "%llux%llux%llu:%c%c", &m, &n, &k, &a, &b) !=
          5 ||
      (a != 'N' && a != 'T') || (b != 'N' && b != 'T'))
    return false;
  *c = {static_cast<size_t>(m),
        static_cast<size_t>(n),
        static_cast<size_t>(k),
        a == 'T' ? dlmath::Trans::kYes : dlmath::Trans::kNo,
        b == 'T' ? dlmath::Trans::kYes : dlmath::Trans::kNo,
        arg};
  return true;
}

std::vector<float> HashValues(size_t n, uint32_t seed) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t h = (static_cast<uint32_t>(i) + seed) * 2654435761u;
    x[i] = static_cast<float>((h >> 8) * (1.0 / 16777216.0) * 10.0 - 5.0);
  }
  return x;
}

// Runs products for warmup_s, then until target_s have passed (at least once
// each); returns GFLOP/s (2 M N K per product). Products run in batches that
// the warmup grows to at least a millisecond (it lasts until then): a clock
// read costs a JS call in wasm, far more than a 10 x 8 x 2 product.
double Gflops(const Case& c, const std::vector<float>& a,
              const std::vector<float>& b, std::vector<float>* out,
              double warmup_s, double target_s) {
  const size_t lda = c.ta == dlmath::Trans::kYes ? c.m : c.k;
  const size_t ldb = c.tb == dlmath::Trans::kYes ? c.k : c.n;
  int64_t batch = 1;
  auto run_batch = [&] {
    for (int64_t i = 0; i < batch; ++i)
      dlmath::Gemm(c.ta, c.tb, c.m, c.n, c.k, a.data(), lda, b.data(), ldb,
                   out->data(), c.n, false);
  };
  auto seconds = [](Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  run_batch();  // untimed: in wasm the first call compiles the kernel
  const Clock::time_point warm = Clock::now();
  double batch_s;
  do {
    const Clock::time_point t0 = Clock::now();
    run_batch();
    batch_s = seconds(t0);
    if (batch_s < 1e-3) batch *= 2;
  } while (batch_s < 1e-3 || seconds(warm) < warmup_s);
  int64_t calls = 0;
  double elapsed;
  const Clock::time_point t0 = Clock::now();
  do {
    run_batch();
    calls += batch;
    elapsed = seconds(t0);
  } while (elapsed < target_s);
  return 2.0 * c.m * c.n * c.k * calls / elapsed / 1e9;
}

void PrintColumn(const char* key, double gflops, const std::vector<float>& c) {
  double s = 0, abs = 0, w = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    s += c[i];
    abs += std::fabs(c[i]);
    w += c[i] * static_cast<double>(static_cast<int>(i % 17) - 8);
  }
  std::printf(",\"%s\":{\"gflops\":%.6g,\"check\":[%.17g,%.17g,%.17g]}", key,
              gflops, s, abs, w);
}

}  // namespace

int main(int argc, char** argv) {
  double target_ms = 50, warmup_ms = 10;
  std::vector<Case> cases;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    Case c;
    if (arg == "--ms" && i + 1 < argc) {
      target_ms = std::atof(argv[++i]);
    } else if (arg == "--warmup-ms" && i + 1 < argc) {
      warmup_ms = std::atof(argv[++i]);
    } else if (ParseCase(arg, &c)) {
      cases.push_back(c);
    } else {
      std::fprintf(stderr,
                   "usage: dlmath_gemm_bench [--ms 50] [--warmup-ms 10] "
                   "MxNxK:AB ... (AB: NN, NT, TN or TT), got %s\n",
                   arg.c_str());
      return 2;
    }
  }
  std::printf("{\"targets\":{\"best\":\"%s\"", dlmath::ActiveTarget());
#if !DLMATH_STATIC_DISPATCH_ONLY
  hwy::SetSupportedTargetsForTest(HWY_SSE4);
  std::printf(",\"sse4\":\"%s\"", dlmath::ActiveTarget());
  hwy::SetSupportedTargetsForTest(0);
#endif
  std::printf("},\"ms\":%g,\"gemm\":[", target_ms);
  const double w = warmup_ms / 1e3, t = target_ms / 1e3;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const std::vector<float> a = HashValues(c.m * c.k, 0);
    const std::vector<float> b = HashValues(c.k * c.n, 7919);
    std::vector<float> out(c.m * c.n);
    std::printf("%s{\"case\":\"%s\"", i ? "," : "", c.name.c_str());
    if (!dlmath::GemmReserve(c.m, c.n, c.k)) {
      std::printf(",\"error\":\"out of memory\"}");
      continue;
    }
    PrintColumn("best", Gflops(c, a, b, &out, w, t), out);
#if !DLMATH_STATIC_DISPATCH_ONLY
    hwy::SetSupportedTargetsForTest(HWY_SSE4);
    PrintColumn("sse4", Gflops(c, a, b, &out, w, t), out);
    hwy::SetSupportedTargetsForTest(0);
#endif
    std::printf("}");
    std::fflush(stdout);
  }
  std::printf("]}\n");
  return 0;
}
