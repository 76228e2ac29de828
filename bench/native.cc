// Native side of `npm run bench`: throughput (Melem/s) of every Elementwise
// and Rowwise registry op, forward and forward+backward, at Highway's best
// target and with the dispatch forced to 128-bit SSE4. Prints one JSON
// object on stdout; bench/run.mjs spawns it once per round so that native
// and wasm/JS measurements interleave.
//
//   dlmath_bench [--ms 50] [--warmup-ms 10] [--list]
//                [--shapes id:name=AxB,name=C ...] [op ...]
//   dlmath_bench --engine [--ms 50] [--warmup-ms 10]
//   dlmath_bench --engine --steps N [--target sse4|avx2] [case ...]
//
// --shapes also admits a General op (otherwise skipped: its shapes are its
// own business) with the given input shapes, e.g.
// prelu:x=1024x1024,weight=1024. "name=AxB@C" fills that input with
// integers in [0, C) (class indices); an input not named is left out (it
// must be optional).
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
//
// Each measurement also reports "check": [sum v, sum |v|, sum v_i ((i mod 17)
// - 8)] (in double; the last one notices values in the wrong places) of the
// output after the last forward call, and of every gradient
// after the last forward+backward call, so bench/run.mjs can check that
// native computed the same values as the wasm columns.
//
// --engine instead measures the training engine (dlmath/model.h): training
// steps per second (Model::Step on one fixed batch: forward, loss, backward,
// clipping norms, optimizer update, diagnostics) for each model of
// kEngineCases, at the best target and forced SSE4, printed as
// {"targets": ..., "engine": [{"name", "batch", "best", "sse4"}]}. Data:
// FillInput values (x in [-5, 5) scaled to [-1, 1); class indices or
// regression targets). With --spec JSON --batch N --name NAME, the one
// model given instead (bench/gpt.mjs passes its GPTs so); a sequence
// model's tokens and targets are FillInput indices below the vocabulary.
//
// --engine --steps N runs exactly N steps of each case (or of the cases whose
// index is given) at the best target or the one --target names, untimed, for
// an instruction profile:
//   valgrind --tool=callgrind --toggle-collect='dlmath::Model::Step*'
//     build/native/dlmath_bench --engine --steps 1000 --target sse4 0
// (with --spec JSON --batch N, the steps of that model instead).
// counts the instructions of N steps (divide by N), the same on any load
// (valgrind runs no AVX-512: name a target it does).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dlmath/dlmath.h"
#include "dlmath/model.h"
#include "dlmath/registry.h"
#include "hwy/targets.h"

namespace {

using Clock = std::chrono::steady_clock;  // monotonic

constexpr int64_t kElems = int64_t{1} << 20;
constexpr int64_t kRows = 1024, kCols = 1024;

// Keep in sync with inputValues() and inputIntegers() in bench/run.mjs:
// uniform in [-5, 5), or integers in [0, below) when below > 0.
void FillInput(float* x, int64_t n, uint32_t seed, int64_t below = 0) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t h = (static_cast<uint32_t>(i) + seed) * 2654435761u;
    x[i] = below > 0
               ? static_cast<float>((static_cast<uint64_t>(h >> 8) *
                                     static_cast<uint64_t>(below)) >>
                                    24)
               : static_cast<float>((h >> 8) * (1.0 / 16777216.0) * 10.0 - 5.0);
  }
}

// One input as given by --shapes: left out, or a shape and how to fill it.
struct InputArg {
  bool given = false;
  dlmath::Shape shape;
  int64_t below = 0;  // > 0: integers in [0, below)
};

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
  dlmath::Buffer aux[dlmath::kMaxAux];  // secondary outputs, if the op has any
  float* aux_ptr[dlmath::kMaxAux] = {};
  float* din_ptr[dlmath::kMaxInputs] = {};
  double dp[dlmath::kMaxParams] = {};
  int64_t elems = 0;  // elements of the first input (the Melem/s unit)
  std::string error;

  // `given`: one entry per input (registry order), else the defaults above.
  Case(const dlmath::OpInfo& o, const std::vector<InputArg>& given) : op(&o) {
    const int ni = o.num_inputs();
    std::vector<dlmath::NamedTensor> named;
    std::vector<InputArg> args = given;
    if (args.empty()) {
      InputArg a{.given = true};
      if (o.form == dlmath::Form::Rowwise || o.inputs[0].min_rank > 1 ||
          o.inputs[0].max_rank < 1)
        a.shape = {kRows, kCols};
      else
        a.shape = {kElems};
      args.assign(ni, a);
    }
    if (static_cast<int>(args.size()) != ni || !args[0].given) {
      error = "--shapes must give the first input and at most " +
              std::to_string(ni) + " inputs";
      return;
    }
    for (int k = 0; k < ni; ++k) {
      if (o.inputs[k].integer && args[k].given && args[k].below <= 0) {
        error = std::string("integer input ") + o.inputs[k].name +
                " needs name=AxB@C (integers in [0, C))";
        return;
      }
      const int64_t n = args[k].given ? args[k].shape.numel() : 0;
      in.emplace_back(n);
      FillInput(in.back().data(), n, static_cast<uint32_t>(k) * 7919u,
                args[k].below);
      if (args[k].given)
        named.push_back({o.inputs[k].name, {in[k].data(), args[k].shape}});
    }
    elems = args[0].shape.numel();
    if (dlmath::Status s = dlmath::Prepare(o.id, named, {}, &call); !s.ok()) {
      error = s.message();
      return;
    }
    y = dlmath::Buffer(call.out.numel());
    ws = dlmath::Buffer(call.workspace);
    for (int k = 0; k < o.num_aux(); ++k) {
      aux[k] = dlmath::Buffer(call.aux[k].numel());
      aux_ptr[k] = aux[k].data();
    }
    dy = dlmath::Buffer(call.out.numel());
    for (int64_t i = 0; i < dy.size(); ++i) dy.data()[i] = 1.0f;
    for (int k = 0; k < ni; ++k) {
      const bool d = o.inputs[k].diff && args[k].given;
      din.emplace_back(d ? args[k].shape.numel() : 0);
      din_ptr[k] = d ? din.back().data() : nullptr;
    }
  }

  void Forward() { dlmath::Forward(call, y.data(), ws.data(), aux_ptr); }
  void ForwardBackward() {
    dlmath::Forward(call, y.data(), ws.data(), aux_ptr);
    for (auto& b : din)
      if (b.size()) std::memset(b.data(), 0, b.size() * sizeof(float));
    std::memset(dp, 0, sizeof dp);
    dlmath::Backward(call, y.data(), ws.data(), dy.data(), din_ptr, dp);
  }
};

// "prelu:x=1024x1024,weight=1024" -> id and one entry per input, in the
// registry's input order ("target=4096@1024": integers in [0, 1024); inputs
// not named are left out). Returns an error message, empty on success.
std::string ParseShapes(const std::string& arg, std::string* id,
                        std::vector<InputArg>* args) {
  const size_t colon = arg.find(':');
  if (colon == std::string::npos) return "expected id:name=AxB,...";
  *id = arg.substr(0, colon);
  const dlmath::OpInfo* op = dlmath::FindOp(*id);
  if (!op) return "unknown op " + *id;
  args->assign(op->num_inputs(), InputArg{});
  size_t pos = colon + 1;
  while (pos < arg.size()) {
    size_t end = arg.find(',', pos);
    if (end == std::string::npos) end = arg.size();
    const std::string item = arg.substr(pos, end - pos);
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return "expected name=AxB in " + item;
    const int k = op->InputIndex(item.substr(0, eq));
    if (k < 0) return *id + " has no input " + item.substr(0, eq);
    InputArg& a = (*args)[k];
    size_t stop = item.find('@', eq);
    if (stop != std::string::npos) {
      a.below = std::atoll(item.c_str() + stop + 1);
      if (a.below <= 0) return "expected @C with C > 0 in " + item;
    } else {
      stop = item.size();
    }
    for (size_t p = eq + 1; p <= stop;) {
      size_t x = item.find('x', p);
      if (x == std::string::npos || x > stop) x = stop;
      if (a.shape.rank == dlmath::kMaxRank) return "rank too high in " + item;
      a.shape.dim[a.shape.rank++] = std::atoll(item.substr(p, x - p).c_str());
      p = x + 1;
    }
    a.given = true;
    pos = end + 1;
  }
  for (int k = 0; k < op->num_inputs(); ++k)
    if (!(*args)[k].given && !op->inputs[k].optional)
      return *id + ": no shape for input " + op->inputs[k].name;
  return "";
}

void JsonString(std::string_view s) {
  std::putchar('"');
  for (char c : s) {
    if (c == '"' || c == '\\')
      std::printf("\\%c", c);
    else if (static_cast<unsigned char>(c) < 0x20)
      std::printf("\\u%04x", c);
    else
      std::putchar(c);
  }
  std::putchar('"');
}

// [sum v, sum |v|, sum v_i ((i mod 17) - 8)] of a buffer, in double, as a
// JSON array. Keep in sync with checkSums() in bench/run.mjs.
void Sums(const dlmath::Buffer& b) {
  double s = 0, a = 0, w = 0;
  for (int64_t i = 0; i < b.size(); ++i) {
    const double v = b.data()[i];
    s += v;
    a += std::fabs(v);
    w += v * static_cast<double>(i % 17 - 8);
  }
  std::printf("[%.17g,%.17g,%.17g]", s, a, w);
}

// The training engine's benchmark models: the playground's tiny MLP and an
// MNIST-sized one (784-128-10; its products run through core/src/gemm.h).
struct EngineCase {
  const char* name;
  const char* spec;
  int64_t batch;
};
constexpr EngineCase kEngineCases[] = {
    {"MLP 2-8-8-1 tanh, SGD, MSE",
     R"({"input":2,"layers":[{"type":"linear","units":8},
         {"type":"activation","id":"tanh"},{"type":"linear","units":8},
         {"type":"activation","id":"tanh"},{"type":"linear","units":1}],
         "loss":{"id":"mse"},"optimizer":{"id":"sgd","lr":0.01}})",
     10},
    {"MLP 784-128-10 relu, softmax cross-entropy, Adam",
     R"({"input":784,"layers":[{"type":"linear","units":128},
         {"type":"activation","id":"relu"},{"type":"linear","units":10}],
         "loss":{"id":"cross_entropy"},"optimizer":{"id":"adam","lr":0.001}})",
     128},
};

// A model of the case and its batch (FillInput data), or an error on stderr.
struct EngineRun {
  std::unique_ptr<dlmath::Model> model;
  std::vector<float> x, y;
  bool Make(const EngineCase& e) {
    if (dlmath::Status s = dlmath::Model::Create(e.spec, &model); !s.ok()) {
      std::fprintf(stderr, "dlmath_bench: %s: %s\n", e.name,
                   s.message().c_str());
      return false;
    }
    x.resize(e.batch * model->inputs());
    y.resize(e.batch * model->TargetWidth());
    const bool seq = model->IsSequence();
    FillInput(x.data(), static_cast<int64_t>(x.size()), 1,
              seq ? model->vocab() : 0);
    if (!seq)
      for (float& v : x) v /= 5;
    FillInput(y.data(), static_cast<int64_t>(y.size()), 2,
              seq                     ? model->vocab()
              : model->ClassTargets() ? model->outputs()
                                      : 0);
    return true;
  }
  bool Step(const EngineCase& e) {
    return model->Step(x.data(), y.data(), e.batch).ok();
  }
};

// Steps per second of Model::Step on one batch, or -1 (error on stderr).
double EngineStepsPerSecond(const EngineCase& e, double warmup_s,
                            double target_s) {
  EngineRun run;
  if (!run.Make(e)) return -1;
  bool ok = true;
  // Measure counts elements; one "element" per step gives steps per second
  // (in millions), hence the 1e6.
  const double steps =
      Measure([&] { ok = ok && run.Step(e); }, 1, warmup_s, target_s) * 1e6;
  if (!ok) {
    std::fprintf(stderr, "dlmath_bench: %s: a step failed\n", e.name);
    return -1;
  }
  return steps;
}

// --engine --steps: `steps` steps of each wanted case, untimed.
int RunEngineSteps(int64_t steps, const std::vector<EngineCase>& cases,
                   const std::vector<std::string>& wanted) {
  for (size_t i = 0; i < cases.size(); ++i) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(),
                                     std::to_string(i)) == wanted.end())
      continue;
    const EngineCase& e = cases[i];
    EngineRun run;
    if (!run.Make(e)) return 1;
    for (int64_t k = 0; k < steps; ++k)
      if (!run.Step(e)) {
        std::fprintf(stderr, "dlmath_bench: %s: step %lld failed\n", e.name,
                     static_cast<long long>(k));
        return 1;
      }
    std::printf("%s: %lld steps, loss %g\n", e.name,
                static_cast<long long>(steps),
                run.model->Diagnostics()[dlmath::kDiagLoss]);
  }
  return 0;
}

int RunEngine(const std::vector<EngineCase>& cases, double warmup_s,
              double target_s, const std::string& best,
              const std::string& sse4) {
  std::printf("{\"targets\":{\"best\":");
  JsonString(best);
  std::printf(",\"sse4\":");
  JsonString(sse4);
  std::printf("},\"engine\":[");
  for (size_t i = 0; i < cases.size(); ++i) {
    const EngineCase& e = cases[i];
    const double at_best = EngineStepsPerSecond(e, warmup_s, target_s);
    hwy::SetSupportedTargetsForTest(HWY_SSE4);
    const double at_sse4 = EngineStepsPerSecond(e, warmup_s, target_s);
    hwy::SetSupportedTargetsForTest(0);
    std::printf("%s{\"name\":", i ? "," : "");
    JsonString(e.name);
    std::printf(",\"batch\":%lld,\"best\":%.6g,\"sse4\":%.6g}",
                static_cast<long long>(e.batch), at_best, at_sse4);
    std::fflush(stdout);
  }
  std::printf("]}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  double target_ms = 50, warmup_ms = 10;
  bool list_only = false, engine = false;
  int64_t engine_steps = 0;
  int64_t engine_target = 0;  // --target: Highway's bit, 0 = best
  std::string spec, name = "model";
  int64_t batch = 0;
  std::vector<std::string> filter;
  std::vector<std::pair<std::string, std::vector<InputArg>>> given;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--ms" && i + 1 < argc)
      target_ms = std::atof(argv[++i]);
    else if (a == "--warmup-ms" && i + 1 < argc)
      warmup_ms = std::atof(argv[++i]);
    else if (a == "--list")
      list_only = true;
    else if (a == "--engine")
      engine = true;
    else if (a == "--steps" && i + 1 < argc)
      engine_steps = std::atoll(argv[++i]);
    else if (a == "--target" && i + 1 < argc) {
      const std::string t = argv[++i];
      engine_target = t == "sse4" ? HWY_SSE4 : t == "avx2" ? HWY_AVX2 : -1;
      if (engine_target < 0) {
        std::fprintf(stderr, "dlmath_bench: --target is sse4 or avx2\n");
        return 2;
      }
    } else if (a == "--spec" && i + 1 < argc)
      spec = argv[++i];
    else if (a == "--batch" && i + 1 < argc)
      batch = std::atoll(argv[++i]);
    else if (a == "--name" && i + 1 < argc)
      name = argv[++i];
    else if (a == "--shapes" && i + 1 < argc) {
      std::string id;
      std::vector<InputArg> shapes;
      if (std::string err = ParseShapes(argv[++i], &id, &shapes);
          !err.empty()) {
        // Not fatal: the JS side may know ops this (stale?) binary does not.
        std::fprintf(stderr, "dlmath_bench: --shapes %s ignored: %s\n", argv[i],
                     err.c_str());
        continue;
      }
      given.emplace_back(id, shapes);
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr,
                   "usage: dlmath_bench [--ms 50] [--warmup-ms 10] [--list] "
                   "[--shapes id:name=AxB,name=C ...] [op ...]\n"
                   "       dlmath_bench --engine [--ms 50] [--warmup-ms 10]\n"
                   "       dlmath_bench --engine --steps N "
                   "[--target sse4|avx2] [case ...]\n"
                   "       dlmath_bench --spec JSON --batch N [--name NAME] "
                   "[--ms 50] [--warmup-ms 10]\n");
      return 2;
    } else
      filter.push_back(a);
  }
  auto shapes_of =
      [&](const dlmath::OpInfo& o) -> const std::vector<InputArg>* {
    for (const auto& [id, shapes] : given)
      if (id == o.id) return &shapes;
    return nullptr;
  };
  auto wanted = [&](const dlmath::OpInfo& o) {
    if (o.form == dlmath::Form::General && !shapes_of(o)) return false;
    if (filter.empty()) return true;
    for (const auto& f : filter)
      if (f == o.id) return true;
    return false;
  };

  if (engine && engine_steps > 0) {
    if (engine_target) hwy::SetSupportedTargetsForTest(engine_target);
    if (!spec.empty())
      return RunEngineSteps(engine_steps, {{name.c_str(), spec.c_str(), batch}},
                            {});
    return RunEngineSteps(engine_steps,
                          std::vector<EngineCase>(std::begin(kEngineCases),
                                                  std::end(kEngineCases)),
                          filter);
  }

  // Targets: the best one dispatch picks, then the same with only SSE4
  // "supported" (Highway's test hook), then back to normal with 0.
  const std::string best = dlmath::ActiveTarget();
  hwy::SetSupportedTargetsForTest(HWY_SSE4);
  const std::string sse4 = dlmath::ActiveTarget();
  hwy::SetSupportedTargetsForTest(0);
  if (dlmath::ActiveTarget() != best) {
    std::fprintf(stderr, "dlmath_bench: target did not reset (%s)\n",
                 dlmath::ActiveTarget());
    return 1;
  }

  if (!spec.empty())
    return RunEngine({{name.c_str(), spec.c_str(), batch}}, warmup_ms / 1e3,
                     target_ms / 1e3, best, sse4);
  if (engine)
    return RunEngine({std::begin(kEngineCases), std::end(kEngineCases)},
                     warmup_ms / 1e3, target_ms / 1e3, best, sse4);

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
    const auto* shapes = shapes_of(o);
    Case c(o, shapes ? *shapes : std::vector<InputArg>{});
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
      // y is the last forward's output (forward+backward recomputes it).
      std::printf(",\"check\":{\"y\":");
      Sums(c.y);
      if (fb >= 0)
        for (int k = 0; k < o.num_inputs(); ++k)
          if (c.din_ptr[k]) {
            std::printf(",");
            JsonString(std::string("d_") + o.inputs[k].name);
            std::printf(":");
            Sums(c.din[k]);
          }
      std::printf("}}");
    };
    run("best", false);
    run("sse4", true);
    std::printf("}");
    std::fflush(stdout);
  }
  std::printf("]}\n");
  return 0;
}
