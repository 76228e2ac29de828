// libFuzzer target: the formula parser and evaluator (formula.h) on any
// bytes. Compile never crashes and says where a bad formula goes wrong;
// a formula that compiles evaluates, with its derivative, at awkward points
// for any param values, and writes exactly n values.
//
//   build/sanitize/fuzz_formula tests/fuzz/corpus/formula   (see
//   scripts/sanitize.sh, which runs it for a fixed time)
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "dlmath/formula.h"

namespace {

// Stops the run with a message: libFuzzer saves the input that did it.
void Check(bool ok, const char* what) {
  if (ok) return;
  __builtin_trap();
  (void)what;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dlmath::Formula;
  using dlmath::Status;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Formula f;
  const Status s = Formula::Compile(text, &f);
  if (!s.ok()) {
    Check(s.code() == dlmath::ErrorCode::kBadFormula, "error code");
    Check(!s.message().empty(), "message");
    Check(s.column() >= 0 && static_cast<size_t>(s.column()) <= size + 1,
          "column within the text");
    return 0;
  }
  Check(!f.latex().empty(), "latex");
  const float inf = std::numeric_limits<float>::infinity();
  const float x[] = {-3.0f,  -1.0f, -0.0f,  0.0f, 0.5f, 2.0f,
                     1e-40f, 1e30f, -1e30f, inf,  -inf, std::nanf("")};
  constexpr int64_t n = sizeof x / sizeof x[0];
  // Param values cycle through ordinary and extreme ones.
  const double values[] = {0.5, -2.0, 0.0, 1e300, -1e-300};
  std::vector<dlmath::NamedParam> named;
  for (size_t k = 0; k < f.params().size(); ++k)
    named.push_back({f.params()[k], values[k % 5]});
  std::vector<double> pv;
  Check(f.BindParams(named, &pv).ok(), "binding every param by name");
  float y[n + 1], dy[n + 1];
  y[n] = dy[n] = 12345.0f;  // a canary past the end
  const Status e = f.Eval(x, n, pv, y, dy);
  // Params out of an op's range (elu(x, a) with a < 0) are errors, and say so.
  Check(e.ok() || !e.message().empty(), "eval status");
  Check(y[n] == 12345.0f && dy[n] == 12345.0f, "wrote past n values");
  return 0;
}
