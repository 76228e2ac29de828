// Native side of `npm run bench`: throughput (Melem/s) of every Elementwise
// and Rowwise registry op, forward and forward+backward, at Highway's best
// target and with the dispatch forced to 128-bit SSE4. Prints one JSON
// object on stdout; bench/run.mjs spawns it once per round so that native
// and wasm/JS measurements interleave.
//
//   dlmath_bench [--ms 50] [--warmup-ms 10] [--list] [op ...]
//
// The op list comes from the registry (dlmath::Ops()), never by hand. Inputs
// are the same deterministic values as bench/run.mjs feeds the wasm side:
// uniform in [-5, 5) from a multiplicative hash of the index. Shapes: 2^20
// elements ([1048576], or [1024, 1024] when the input needs rank >= 2);
// Rowwise ops [1024, 1024]. Params take their registry defaults.
//
// What is timed: dlmath::Forward into a preallocated output (forward);
// Forward + zeroing dx/dp + dlmath::Backward with a preallocated dy of ones
// (forward+backward). No allocation inside the timed loop.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "dlmath/dlmath.h"
#include "dlmath/registry.h"
#include "hwy/targets.h"

namespace {

using Clock = std::chrono::steady_clock;  // monotonic

constexpr int64_t kElems = int64_t{1} << 20;
constexpr int64_t kRows = 1024, kCols = 1024;

// Keep in sync with inputValues() in bench/run.mjs.
void FillInput(float* x, int64_t n, uint32_t seed) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t h = (static_cast<uint32_t>(i) + seed) * 2654435761u;
    x[i] = static_cast<float>((h >> 8) * (1.0 / 16777216.0) * 10.0 - 5.0);
  }
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Runs fn until warmup_s, then counts calls until target_s has elapsed
// (at least one call each). Returns elements per second / 1e6.
template <class Fn>
double Measure(Fn&& fn, int64_t elems, double warmup_s, double target_s) {
  auto t0 = Clock::now();
  do fn();
  while (Seconds(Clock::now() - t0) < warmup_s);
  int64_t calls = 0;
  t0 = Clock::now();
  double elapsed;
  do {
    fn();
    ++calls;
    elapsed = Seconds(Clock::now() - t0);
  } while (elapsed < target_s);
  return static_cast<double>(elems) * calls / elapsed / 1e6;
}

// One op, prepared once, with every buffer its forward and backward touch.
struct Case {
  const dlmath::OpInfo* op;
  dlmath::Call call;
  std::vector<dlmath::Buffer> in, din;
  dlmath::Buffer y, ws, dy;
  float* din_ptr[dlmath::kMaxInputs] = {};
  double dp[dlmath::kMaxParams] = {};
  int64_t elems = 0;  // elements of the first input (the Melem/s unit)
  std::string error;

  explicit Case(const dlmath::OpInfo& o) : op(&o) {
    const int ni = o.num_inputs();
    std::vector<dlmath::NamedTensor> named;
    dlmath::Shape shape;
    if (o.form == dlmath::Form::Rowwise || o.inputs[0].min_rank > 1 ||
        o.inputs[0].max_rank < 1)
      shape = {kRows, kCols};
    else
      shape = {kElems};
    for (int k = 0; k < ni; ++k) {
      in.emplace_back(shape.numel());
      FillInput(in.back().data(), shape.numel(), static_cast<uint32_t>(k) * 7919u);
    }
    for (int k = 0; k < ni; ++k)
      named.push_back({o.inputs[k].name, {in[k].data(), shape}});
    elems = shape.numel();
    if (dlmath::Status s = dlmath::Prepare(o.id, named, {}, &call); !s.ok()) {
      error = s.message();
      return;
    }
    y = dlmath::Buffer(call.out.numel());
    ws = dlmath::Buffer(call.workspace);
    dy = dlmath::Buffer(call.out.numel());
    for (int64_t i = 0; i < dy.size(); ++i) dy.data()[i] = 1.0f;
    for (int k = 0; k < ni; ++k) {
      din.emplace_back(o.inputs[k].diff ? shape.numel() : 0);
      din_ptr[k] = o.inputs[k].diff ? din.back().data() : nullptr;
    }
  }

  void Forward() { dlmath::Forward(call, y.data(), ws.data()); }
  void ForwardBackward() {
    dlmath::Forward(call, y.data(), ws.data());
    for (auto& b : din)
      if (b.size()) std::memset(b.data(), 0, b.size() * sizeof(float));
    std::memset(dp, 0, sizeof dp);
    dlmath::Backward(call, y.data(), ws.data(), dy.data(), din_ptr, dp);
  }
};

void JsonString(std::string_view s) {
  std::putchar('"');
  for (char c : s) {
    if (c == '"' || c == '\\') std::printf("\\%c", c);
    else if (static_cast<unsigned char>(c) < 0x20) std::printf("\\u%04x", c);
    else std::putchar(c);
  }
  std::putchar('"');
}

}  // namespace

int main(int argc, char** argv) {
  double target_ms = 50, warmup_ms = 10;
  bool list_only = false;
  std::vector<std::string> filter;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--ms" && i + 1 < argc) target_ms = std::atof(argv[++i]);
    else if (a == "--warmup-ms" && i + 1 < argc) warmup_ms = std::atof(argv[++i]);
    else if (a == "--list") list_only = true;
    else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "usage: dlmath_bench [--ms 50] [--warmup-ms 10] [--list] [op ...]\n");
      return 2;
    } else filter.push_back(a);
  }
  auto wanted = [&](const dlmath::OpInfo& o) {
    if (o.form == dlmath::Form::General) return false;
    if (filter.empty()) return true;
    for (const auto& f : filter)
      if (f == o.id) return true;
    return false;
  };

  // Targets: the best one dispatch picks, then the same with only SSE4
  // "supported" (Highway's test hook), then back to normal with 0.
  const std::string best = dlmath::ActiveTarget();
  hwy::SetSupportedTargetsForTest(HWY_SSE4);
  const std::string sse4 = dlmath::ActiveTarget();
  hwy::SetSupportedTargetsForTest(0);
  if (dlmath::ActiveTarget() != best) {
    std::fprintf(stderr, "dlmath_bench: target did not reset (%s)\n", dlmath::ActiveTarget());
    return 1;
  }

  std::printf("{\"targets\":{\"best\":");
  JsonString(best);
  std::printf(",\"sse4\":");
  JsonString(sse4);
  std::printf("},\"ms\":%g,\"ops\":[", target_ms);
  bool first = true;
  for (const dlmath::OpInfo& o : dlmath::Ops()) {
    if (!wanted(o)) continue;
    std::printf("%s", first ? "" : ",");
    first = false;
    std::printf("{\"id\":");
    JsonString(o.id);
    std::printf(",\"form\":");
    JsonString(dlmath::FormName(o.form));
    if (list_only) {
      std::printf("}");
      continue;
    }
    Case c(o);
    if (!c.error.empty()) {
      std::printf(",\"error\":");
      JsonString(c.error);
      std::printf("}");
      continue;
    }
    std::printf(",\"elems\":%lld", static_cast<long long>(c.elems));
    const double w = warmup_ms / 1e3, t = target_ms / 1e3;
    auto run = [&](const char* key, bool forced_sse4) {
      if (forced_sse4) hwy::SetSupportedTargetsForTest(HWY_SSE4);
      const double fwd = Measure([&] { c.Forward(); }, c.elems, w, t);
      double fb = -1;
      if (o.differentiable())
        fb = Measure([&] { c.ForwardBackward(); }, c.elems, w, t);
      if (forced_sse4) hwy::SetSupportedTargetsForTest(0);
      std::printf(",\"%s\":{\"fwd\":%.6g", key, fwd);
      if (fb >= 0) std::printf(",\"fwdbwd\":%.6g", fb);
      std::printf("}");
    };
    run("best", false);
    run("sse4", true);
    std::printf("}");
    std::fflush(stdout);
  }
  std::printf("]}\n");
  return 0;
}
