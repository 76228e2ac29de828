// A formula typed by the user, e.g. "x*sigmoid(1.702*x)" or
// "a*x^2 - tanh(b*x)": parsed once, then evaluated over an array of x in one
// call together with its exact derivative d/dx (forward-mode automatic
// differentiation over arrays: every node carries its values and their
// d/dx; no finite differences).
//
// Grammar, lowest precedence first:
//   sum     := product (('+' | '-') product)*             left associative
//   product := unary (('*' | '/' | '×' | '÷' | '·') unary)*  left associative
//   unary   := ('+' | '-' | '−') unary | power
//   power   := primary (('^' | '**') unary)?              right associative
//   primary := number | name | name '(' sum (',' sum)* ')' | '(' sum ')'
// so -x^2 = -(x^2), 2^3^2 = 2^9 and 2^-x = 2^(-x). Numbers: 1, 2.5, .5, 1e-3,
// 3E+2. Names: `x` is the variable, `pi` (or π) and `e` are constants, any
// other name not followed by '(' is a parameter (params(), in order of first
// appearance); a function's name is not (write sin(x), not sin). There is no
// implicit multiplication: "2x" is an error.
//
// Functions: exp log (natural) log2 log10 log1p expm1 sqrt cbrt abs sin cos
// tan asin acos atan sinh cosh tanh asinh acosh atanh sign floor ceil round
// min(a,b) max(a,b) pow(a,b) atan2(y,x) clamp(x,lo,hi) hypot(a,b), plus every
// Elementwise op of the registry as id(u) or id(u, p1, p2, ...), the extra
// arguments filling the op's params in registry order; they must not depend
// on x. Registry ops run through the runtime (Prepare, Forward, Backward), so
// their values and gradients are the registry's own.
//
// Derivative conventions: sign, floor, ceil and round have derivative 0 (it
// is 0 almost everywhere and undefined at the jumps); abs' = sign(u), 0 at 0;
// min, max and clamp follow the argument they select (ties: the first);
// hypot' is 0 at the origin. u^v with v constant (or v' = 0 at the element)
// uses the power rule v u^(v-1) u', so (-2)^2 differentiates; otherwise
// v u^(v-1) u' + ln(u) u^v v'.
//
// Numerics: values and derivatives are float32 arrays (the core's type);
// every scalar function runs in double per element and is rounded once.
// Parts that do not depend on x (constants, params) are computed in double
// once per Eval. NaN and infinite x propagate as IEEE arithmetic says.
//
// Limits: text <= kMaxFormulaBytes, nesting <= kMaxFormulaDepth (each '(',
// function call, sign and exponent counts one level); Compile checks the
// depth while parsing, so no input can overflow the stack. Errors have code
// kBadFormula and carry the column (1-based, in code points) and length of
// the offending token (Status::column(), Status::length()).
#ifndef DLMATH_FORMULA_H_
#define DLMATH_FORMULA_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dlmath/dlmath.h"
#include "dlmath/status.h"

namespace dlmath {

inline constexpr int kMaxFormulaBytes = 4096;
inline constexpr int kMaxFormulaDepth = 256;

class Formula {
 public:
  Formula();
  ~Formula();
  Formula(Formula&&) noexcept;
  Formula& operator=(Formula&&) noexcept;

  // Parses `text` into *out (left unchanged on error).
  static Status Compile(std::string_view text, Formula* out);

  const std::string& text() const { return text_; }
  // Parameter names, in order of first appearance.
  const std::vector<std::string>& params() const { return params_; }
  // The parsed tree as KaTeX-renderable LaTeX, e.g. "x \cdot
  // \operatorname{sigmoid}\left(x\right)".
  std::string latex() const;
  // The parsed tree as a Python expression over a float64 torch tensor `x`
  // (the PyTorch export of a formula activation): builtins become torch
  // functions, numbers and parameters (given values, in params() order)
  // 0-d float64 tensors made by `_c(v)`, and each registry op call is
  // written by op_call(op, [input, param...]) from its arguments' texts.
  using OpCall = std::string (*)(const OpInfo& op,
                                 const std::vector<std::string>& args);
  std::string Torch(std::span<const double> param_values, OpCall op_call) const;

  // Parameter values in params() order from (name, value) pairs: an unknown
  // name, a missing or a NaN value is an error naming the parameter.
  Status BindParams(std::span<const NamedParam> named,
                    std::vector<double>* values) const;

  // y[i] = f(x[i]) and, when dy is not null, dy[i] = f'(x[i]), for n values.
  // param_values: one per params(), in that order. Fails (without writing)
  // on a missing or NaN param value, n out of [0, kMaxElements], or a
  // registry op's param out of its range.
  Status Eval(const float* x, int64_t n, std::span<const double> param_values,
              float* y, float* dy) const;

  // The same evaluation split for hot loops (the training engine calls it
  // every step): MakePlan checks the param values as Eval does, folds the
  // constants, prepares the registry calls and allocates scratch for up to
  // max_n values; Run then allocates nothing. Eval is MakePlan + Run.
  struct Plan {
    std::vector<double> sval;  // values of the nodes free of x
    std::vector<Call> calls;   // prepared registry calls
    std::vector<int> call_of;  // node -> calls index (-1: none)
    std::vector<int> slot;     // node -> scratch slot (-1: none)
    int num_slots = 0;
    int64_t chunk = 0, max_n = 0;  // elements per pass; the largest n
    std::vector<float> scratch;
  };
  Status MakePlan(std::span<const double> param_values, int64_t max_n,
                  Plan* plan) const;
  // As Eval for n <= plan->max_n values (x, y not null when n > 0).
  void Run(Plan* plan, const float* x, int64_t n, float* y, float* dy) const;

  struct Node;  // formula.cc

 private:
  std::string text_;
  std::vector<std::string> params_;
  std::vector<Node> nodes_;  // post-order: children before their parent
};

}  // namespace dlmath

#endif  // DLMATH_FORMULA_H_
