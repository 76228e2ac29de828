// The formula evaluator: values and exact derivatives of composed formulas
// against the registry's float64 references and double math, precedence and
// associativity, parameters, errors with their columns, the limits (depth
// bomb, 1 MB text) and a fuzz run that must never crash.
#include <random>

#include "dlmath/formula.h"
#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

constexpr double kValueTol = 2e-6;  // testing.h's conventions
constexpr double kGradTol = 1e-5;

Formula MustCompile(std::string_view text) {
  Formula f;
  const Status s = Formula::Compile(text, &f);
  INFO("formula '" << text << "': " << s.message());
  REQUIRE(s.ok());
  return f;
}

struct Result {
  std::vector<float> y, dy;
};

Result MustEval(const Formula& f, const std::vector<float>& x,
                const std::vector<double>& p = {}) {
  Result r{std::vector<float>(x.size()), std::vector<float>(x.size())};
  const Status s = f.Eval(x.data(), static_cast<int64_t>(x.size()), p,
                          r.y.data(), r.dy.data());
  INFO("formula '" << f.text() << "': " << s.message());
  REQUIRE(s.ok());
  return r;
}

// One value of a formula with no x-dependence issues: f(x0) and f'(x0).
std::pair<float, float> At(std::string_view text, float x0,
                           const std::vector<double>& p = {}) {
  const Result r = MustEval(MustCompile(text), {x0}, p);
  return {r.y[0], r.dy[0]};
}

std::vector<float> FiniteSweep(double limit = 1e30) {
  std::vector<float> out;
  for (float v : SweepValues())
    if (std::isfinite(v) && std::fabs(v) <= limit) out.push_back(v);
  return out;
}

std::vector<float> Grid(double lo, double hi, int n) {
  std::vector<float> v;
  for (int i = 0; i < n; ++i)
    v.push_back(static_cast<float>(lo + (hi - lo) * i / (n - 1) + 1.37e-4));
  return v;
}

// The formula against a registry op's float64 reference, value and d/dx.
void CheckAgainstOp(std::string_view text, OpId id, const std::vector<float>& x,
                    const std::vector<double>& op_params = {}) {
  const OpInfo& op = Op(id);
  std::vector<double> p(kMaxParams, 0);
  for (int k = 0; k < op.num_params(); ++k) p[k] = op.params[k].def;
  for (size_t k = 0; k < op_params.size(); ++k) p[k] = op_params[k];
  const Result r = MustEval(MustCompile(text), x);
  for (size_t i = 0; i < x.size(); ++i) {
    const double ref = op.impl.ew_ref_fwd(x[i], p.data(), i);
    double dref = 0;
    std::vector<double> dp(kMaxParams, 0);
    op.impl.ew_ref_bwd(x[i], 1.0, p.data(), i, &dref, dp.data());
    INFO(text << " vs " << op.id << " at x = " << x[i] << ": got " << r.y[i]
              << ", " << r.dy[i] << "; ref " << ref << ", " << dref);
    REQUIRE(Close(r.y[i], ref, kValueTol));
    REQUIRE(Close(r.dy[i], dref, kGradTol));
  }
}

TEST_CASE("composed formulas match the registry ops they spell out",
          "[formula]") {
  CheckAgainstOp("x*sigmoid(x)", OpId::silu, FiniteSweep());
  CheckAgainstOp("log(1+exp(x))", OpId::softplus, Grid(-15, 15, 3001));
  CheckAgainstOp("tanh(x)", OpId::tanh, SweepValues());
  CheckAgainstOp("0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3)))", OpId::gelu_tanh,
                 Grid(-6, 6, 2401));
  CheckAgainstOp("elu(x, 0.5)", OpId::elu, FiniteSweep(), {0.5});
  // The same with the unicode operators and ** for the power.
  CheckAgainstOp("0.5·x×(1+tanh(sqrt(2÷π)*(x+0.044715*x**3)))", OpId::gelu_tanh,
                 Grid(-6, 6, 601));
}

TEST_CASE("every elementwise registry op is callable and matches the runtime",
          "[formula]") {
  const std::vector<float> x = RandomData(257, 7, -4, 4);
  int count = 0;
  for (const OpInfo& op : Ops()) {
    if (op.form != Form::Elementwise) continue;
    ++count;
    INFO("op " << op.id);
    // Builtins win on a shared name (tanh): compare those in tolerance.
    const Result r = MustEval(MustCompile(std::string(op.id) + "(x)"), x);
    Call call;
    const NamedTensor in{op.inputs[0].name,
                         {x.data(), Shape{static_cast<int64_t>(x.size())}}};
    REQUIRE(Prepare(op.id, std::span(&in, 1), {}, &call).ok());
    Evaluation ev;
    Gradients g;
    REQUIRE(Run(call, &ev).ok());
    REQUIRE(RunBackward(call, &ev, nullptr, &g).ok());
    for (size_t i = 0; i < x.size(); ++i) {
      INFO("x = " << x[i]);
      REQUIRE(Close(r.y[i], ev.y.data()[i], kValueTol));
      REQUIRE(Close(r.dy[i], g.din[0].data()[i], kGradTol));
    }
  }
  REQUIRE(count >= 20);
}

TEST_CASE("chain rule against double math", "[formula]") {
  const std::vector<float> x = Grid(-3, 3, 1201);
  const Result r = MustEval(MustCompile("sin(x^2)"), x);
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    INFO("x = " << v);
    REQUIRE(Close(r.y[i], std::sin(v * v), kValueTol));
    REQUIRE(Close(r.dy[i], 2 * v * std::cos(v * v), kGradTol));
  }
  struct Case {
    const char* text;
    double (*f)(double);
    double (*df)(double);
  };
  const Case cases[] = {
      {"exp(-x^2/2)", [](double v) { return std::exp(-v * v / 2); },
       [](double v) { return -v * std::exp(-v * v / 2); }},
      {"x/(1+abs(x))", [](double v) { return v / (1 + std::fabs(v)); },
       [](double v) { return 1 / ((1 + std::fabs(v)) * (1 + std::fabs(v))); }},
      {"2^x", [](double v) { return std::pow(2, v); },
       [](double v) { return std::log(2.0) * std::pow(2, v); }},
      {"atan2(x, 2)", [](double v) { return std::atan2(v, 2); },
       [](double v) { return 2 / (v * v + 4); }},
      {"hypot(x, 1) - cbrt(x)",
       [](double v) { return std::hypot(v, 1) - std::cbrt(v); },
       [](double v) {
         return v / std::hypot(v, 1) - 1 / (3 * std::cbrt(v) * std::cbrt(v));
       }},
      {"max(x, 0.5*x) + min(x, 1)",
       [](double v) { return std::max(v, 0.5 * v) + std::min(v, 1.0); },
       [](double v) { return (v >= 0 ? 1 : 0.5) + (v <= 1 ? 1 : 0); }},
      {"clamp(x, -1, 2)", [](double v) { return std::clamp(v, -1.0, 2.0); },
       [](double v) { return v >= -1 && v <= 2 ? 1.0 : 0.0; }},
      {"log1p(x^2) + expm1(x/4) + asinh(x) + atan(x)",
       [](double v) {
         return std::log1p(v * v) + std::expm1(v / 4) + std::asinh(v) +
                std::atan(v);
       },
       [](double v) {
         return 2 * v / (1 + v * v) + std::exp(v / 4) / 4 +
                1 / std::sqrt(v * v + 1) + 1 / (1 + v * v);
       }},
      {"cosh(x)/sinh(2) + floor(x) + sign(x)",
       [](double v) {
         return std::cosh(v) / std::sinh(2.0) + std::floor(v) +
                (v > 0   ? 1
                 : v < 0 ? -1
                         : 0);
       },
       [](double v) { return std::sinh(v) / std::sinh(2.0); }},
  };
  for (const Case& c : cases) {
    const Result rc = MustEval(MustCompile(c.text), x);
    for (size_t i = 0; i < x.size(); ++i) {
      INFO(c.text << " at x = " << x[i] << ": got " << rc.y[i] << ", "
                  << rc.dy[i]);
      REQUIRE(Close(rc.y[i], c.f(x[i]), kValueTol));
      REQUIRE(Close(rc.dy[i], c.df(x[i]), kGradTol));
    }
  }
  // Domain-limited functions on their domains.
  const std::vector<float> unit = Grid(-0.95, 0.95, 381);
  const Result ra = MustEval(MustCompile("asin(x) + acos(x) + atanh(x)"), unit);
  for (size_t i = 0; i < unit.size(); ++i) {
    const double v = unit[i];
    REQUIRE(
        Close(ra.y[i], std::asin(v) + std::acos(v) + std::atanh(v), kValueTol));
    REQUIRE(Close(ra.dy[i], 1 / (1 - v * v), kGradTol));
  }
  const std::vector<float> pos = Grid(1.05, 9, 301);
  const Result rp =
      MustEval(MustCompile("acosh(x) + log2(x) + log10(x) + x^x"), pos);
  for (size_t i = 0; i < pos.size(); ++i) {
    const double v = pos[i];
    REQUIRE(Close(rp.y[i],
                  std::acosh(v) + std::log2(v) + std::log10(v) + std::pow(v, v),
                  kValueTol));
    REQUIRE(Close(rp.dy[i],
                  1 / std::sqrt(v * v - 1) + 1 / (v * std::log(2.0)) +
                      1 / (v * std::log(10.0)) +
                      std::pow(v, v) * (std::log(v) + 1),
                  kGradTol));
  }
}

TEST_CASE("precedence and associativity", "[formula]") {
  const std::pair<const char*, float> cases[] = {
      {"2^3^2", 512},      {"-2^2", -4},         {"2-3-4", -5},
      {"8/4/2", 1},        {"2*3+4*5", 26},      {"2^-1", 0.5f},
      {"(-2)^2", 4},       {"2**3**2", 512},     {"-x^2 + 3", 3},
      {"2*-3", -6},        {"--2", 2},           {"+2 - -2", 4},
      {"1e-3*1E+3", 1},    {".5 + 2.5", 3},      {"3E+2/300", 1},
      {"2 − 3", -1},       {"6 ÷ 3 × 2", 4},     {"2·3", 6},
      {"e^0 + pi - π", 1}, {"2^3*2", 16},        {"-2^-2", -0.25f},
      {"pow(2, 3)", 8},    {"(((1)))+((2))", 3}, {"8/2*4", 16},
  };
  for (const auto& [text, want] : cases) {
    INFO(text);
    REQUIRE(At(text, 0).first == want);
  }
  // x^2 at -2: value 4, derivative -4 (the power rule, not ln(-2)).
  REQUIRE(At("x^2", -2) == std::pair<float, float>(4, -4));
  REQUIRE(At("pow(x, 3)", -2) == std::pair<float, float>(-8, 12));
  REQUIRE(At("x^0", 0) == std::pair<float, float>(1, 0));
  REQUIRE(At("x", 3) == std::pair<float, float>(3, 1));
  REQUIRE(At("7", 3) == std::pair<float, float>(7, 0));
}

TEST_CASE("named parameters", "[formula]") {
  const Formula f = MustCompile("a*x^2 - tanh(b*x) + a");
  REQUIRE(f.params() == std::vector<std::string>{"a", "b"});
  const std::vector<float> x = Grid(-2, 2, 101);
  const Result r = MustEval(f, x, {1.5, -0.75});
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    REQUIRE(Close(r.y[i], 1.5 * v * v - std::tanh(-0.75 * v) + 1.5, kValueTol));
    const double t = std::tanh(-0.75 * v);
    REQUIRE(Close(r.dy[i], 3 * v + 0.75 * (1 - t * t), kGradTol));
  }
  // Registry op params from formula parameters, checked at Eval.
  const Formula g = MustCompile("elu(x, alpha) + leaky_relu(x, 2*s)");
  REQUIRE(g.params() == std::vector<std::string>{"alpha", "s"});
  const Result rg = MustEval(g, {-1, 2}, {0.5, 0.05});
  REQUIRE(Close(rg.y[0], 0.5 * std::expm1(-1.0) - 0.1, kValueTol));
  REQUIRE(Close(rg.dy[0], 0.5 * std::exp(-1.0) + 0.1, kGradTol));
  REQUIRE(Close(rg.y[1], 4, kValueTol));
  float y = 0, dy = 0;
  const float x0 = -1;
  std::vector<double> bad = {-1, 0.05};
  Status s = g.Eval(&x0, 1, bad, &y, &dy);
  REQUIRE(s.code() == ErrorCode::kBadParam);
  REQUIRE(s.message().find("param 'alpha'") != std::string::npos);
  REQUIRE(s.column() == 8);
  REQUIRE(s.length() == 5);

  // Binding by name: unknown, missing and NaN values are named.
  std::vector<double> values;
  const NamedParam ok[] = {{"b", 2}, {"a", 1}};
  REQUIRE(f.BindParams(ok, &values).ok());
  REQUIRE(values == std::vector<double>{1, 2});
  const NamedParam unknown[] = {{"a", 1}, {"c", 2}};
  s = f.BindParams(unknown, &values);
  REQUIRE(s.code() == ErrorCode::kUnknownParam);
  REQUIRE(s.message() ==
          "the formula has no parameter 'c' (its parameters: a, b)");
  const NamedParam missing[] = {{"b", 1}};
  s = f.BindParams(missing, &values);
  REQUIRE(s.message() == "parameter 'a' has no value");
  REQUIRE(s.what() == "a");
  s = f.Eval(&x0, 1, std::vector<double>{1}, &y, &dy);
  REQUIRE(s.message() == "parameter 'b' has no value");
  s = f.Eval(&x0, 1, std::vector<double>{1, std::nan("")}, &y, &dy);
  REQUIRE(s.message() == "parameter 'b' is NaN");
  s = f.Eval(&x0, -1, std::vector<double>{1, 2}, &y, &dy);
  REQUIRE(s.code() == ErrorCode::kTooLarge);
  s = f.Eval(&x0, kMaxElements + 1, std::vector<double>{1, 2}, &y, &dy);
  REQUIRE(s.code() == ErrorCode::kTooLarge);
  // n = 0 is fine, and dy may be null.
  REQUIRE(f.Eval(nullptr, 0, std::vector<double>{1, 2}, nullptr, nullptr).ok());
  REQUIRE(f.Eval(&x0, 1, std::vector<double>{1, 2}, &y, nullptr).ok());
}

TEST_CASE("malformed formulas: message, column and length", "[formula]") {
  struct Case {
    const char* text;
    int column, length;
    const char* message;
  };
  const Case cases[] = {
      {"", 1, 0, "the formula is empty"},
      {"  \t ", 1, 0, "the formula is empty"},
      {"2*", 3, 0,
       "column 3: expected an expression after '*', found the end of the "
       "text"},
      {"sigmod(x)", 1, 6,
       "column 1: unknown function 'sigmod' (did you mean 'sigmoid'?)"},
      {"exp((x)", 8, 0, "column 8: missing ')' to close the '(' at column 4"},
      {"x$", 2, 1, "column 2: unexpected character '$'"},
      {"π×x$", 4, 1, "column 4: unexpected character '$'"},
      {"relu(x, 2)", 1, 4,
       "column 1: 'relu' takes 1 argument (its params: none), got 2"},
      {"elu(x, 1, 2)", 1, 3,
       "column 1: 'elu' takes 1 to 2 arguments (its params: alpha), got 3"},
      {"2x", 2, 1, "column 2: expected an operator, found 'x'"},
      {"elu(x, x+1)", 8, 3,
       "column 8: param 'alpha' of 'elu' (argument 2) must not depend on x"},
      {"(x", 3, 0, "column 3: missing ')' to close the '(' at column 1"},
      {"x)", 2, 1, "column 2: ')' has no matching '('"},
      {"min(x)", 1, 3, "column 1: 'min' takes 2 arguments, got 1"},
      {"1 + , 2", 5, 1,
       "column 5: expected an expression after '+', found ','"},
      {"x ×× 2", 4, 1, "column 4: expected an expression after '×', found '×'"},
      {"softmax(x)", 1, 7,
       "column 1: 'softmax' is a rowwise op; a formula can call elementwise "
       "ops only"},
      {"sin + 1", 1, 3, "column 1: 'sin' is a function; call it as sin(...)"},
      {"exp()", 5, 1, "column 5: expected an expression after '(', found ')'"},
      {"1.5.2", 4, 2, "column 4: expected an operator, found '.2'"},
      {"x, 2", 2, 1, "column 2: ',' outside the arguments of a function call"},
      {"(1 2)", 4, 1,
       "column 4: expected an operator or ')' to close the '(' at column 1, "
       "found '2'"},
      {"max(x 1)", 7, 1,
       "column 7: expected an operator, ',' or ')' in the arguments of 'max', "
       "found '1'"},
      {"\xff", 1, 1,
       "column 1: unexpected byte 0xFF (the text is not valid UTF-8)"},
      {"x\x01", 2, 1, "column 2: unexpected control character U+0001"},
      {"é + x", 1, 1, "column 1: unexpected character 'é'"},
      {"x(2)", 1, 1,
       "column 1: 'x' is not a function (there is no implicit "
       "multiplication: write x*(...))"},
  };
  for (const Case& c : cases) {
    Formula f;
    const Status s = Formula::Compile(c.text, &f);
    INFO("formula '" << c.text << "': " << s.message());
    REQUIRE(s.code() == ErrorCode::kBadFormula);
    REQUIRE(std::string(ErrorCodeName(s.code())) == "bad_formula");
    REQUIRE(s.message() == c.message);
    REQUIRE(s.column() == c.column);
    REQUIRE(s.length() == c.length);
  }
  // A registry param out of range: the registry's own check, at the column
  // of the argument.
  Formula f;
  const Status s = Formula::Compile("x + elu(x, -1)", &f);
  INFO(s.message());
  REQUIRE(s.code() == ErrorCode::kBadFormula);
  REQUIRE(s.message().rfind("column 12: op 'elu': param 'alpha'", 0) == 0);
  REQUIRE(s.message().find("got -1") != std::string::npos);
  REQUIRE(s.column() == 12);
  REQUIRE(s.length() == 2);
  const Status t = Formula::Compile("rrelu(x, 0.1, 0.2, 0.5)", &f);
  REQUIRE(t.code() == ErrorCode::kBadFormula);
  REQUIRE(t.message().find("param 'training'") != std::string::npos);
  REQUIRE(t.column() == 20);
  // Near misses list builtins too.
  const Status u = Formula::Compile("sqr(x)", &f);
  REQUIRE(u.message().find("'sqrt'") != std::string::npos);
  // A failed compile leaves the target untouched.
  Formula kept = MustCompile("x+1");
  REQUIRE(!Formula::Compile("x+", &kept).ok());
  REQUIRE(kept.text() == "x+1");
  REQUIRE(At("x+1", 1).first == 2);
}

TEST_CASE("limits: depth bombs and huge texts fail cleanly", "[formula]") {
  auto nest = [](int depth) {
    return std::string(depth, '(') + "x" + std::string(depth, ')');
  };
  Formula f;
  // Deep but within the limit: compiles and evaluates.
  REQUIRE(At(nest(200), 2) == std::pair<float, float>(2, 1));
  Status s = Formula::Compile(nest(300), &f);
  REQUIRE(s.code() == ErrorCode::kBadFormula);
  REQUIRE(s.message() ==
          "column 257: the formula nests deeper than 256 levels");
  REQUIRE(s.column() == 257);
  s = Formula::Compile(std::string(1000, '-') + "x", &f);
  REQUIRE(s.message().find("nests deeper") != std::string::npos);
  std::string tower = "x";
  for (int i = 0; i < 1000; ++i) tower = "2^" + tower;
  s = Formula::Compile(tower, &f);
  REQUIRE(s.message().find("nests deeper") != std::string::npos);
  std::string calls = "x";
  for (int i = 0; i < 300; ++i) calls = "sin(" + calls + ")";
  s = Formula::Compile(calls, &f);
  REQUIRE(s.message().find("nests deeper") != std::string::npos);
  // As deep as the length limit allows: the depth check stops it.
  s = Formula::Compile(std::string(kMaxFormulaBytes - 1, '(') + "x", &f);
  REQUIRE(s.message() ==
          "column 257: the formula nests deeper than 256 levels");
  // 100000 deep and 1 MB: refused by length before any parsing.
  s = Formula::Compile(std::string(100000, '(') + "x", &f);
  REQUIRE(s.code() == ErrorCode::kBadFormula);
  REQUIRE(s.message() ==
          "the formula is 100001 bytes long, above the limit of 4096");
  std::string big;
  while (big.size() < (1 << 20)) big += "x+";
  big += "x";
  s = Formula::Compile(big, &f);
  REQUIRE(s.code() == ErrorCode::kBadFormula);
  // Long flat chains within the limit are fine (no recursion per term).
  std::string chain = "x";
  while (chain.size() < 4000) chain += "+x";
  const Formula g = MustCompile(chain);
  const Result r = MustEval(g, {1});
  REQUIRE(r.y[0] == 2001);
  REQUIRE(r.dy[0] == 2001);
  REQUIRE(g.latex().size() > chain.size());
}

TEST_CASE("NaN and infinities propagate as IEEE says", "[formula]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto [y, dy] = At("x*sigmoid(x)", nan);
  REQUIRE(std::isnan(y));
  REQUIRE(std::isnan(dy));
  std::tie(y, dy) = At("exp(x)", inf);
  REQUIRE((y == inf && dy == inf));
  std::tie(y, dy) = At("exp(x)", -inf);
  REQUIRE((y == 0 && dy == 0));
  std::tie(y, dy) = At("1/x", 0.0f);
  REQUIRE((y == inf && dy == -inf));
  std::tie(y, dy) = At("1/x", -0.0f);
  REQUIRE(y == -inf);
  std::tie(y, dy) = At("x*0", inf);
  REQUIRE(std::isnan(y));
  std::tie(y, dy) = At("2*x", inf);  // a constant's zero derivative: no 0*inf
  REQUIRE((y == inf && dy == 2));
  std::tie(y, dy) = At("sqrt(x)", -1);
  REQUIRE((std::isnan(y) && std::isnan(dy)));
  std::tie(y, dy) = At("sqrt(x)", 0);
  REQUIRE((y == 0 && dy == inf));
  std::tie(y, dy) = At("log(x)", 0);
  REQUIRE((y == -inf && dy == inf));
  std::tie(y, dy) = At("abs(x)", 0);
  REQUIRE((y == 0 && dy == 0));
  std::tie(y, dy) = At("abs(x)", nan);
  REQUIRE((std::isnan(y) && std::isnan(dy)));
  std::tie(y, dy) = At("tanh(x)", -inf);
  REQUIRE((y == -1 && dy == 0));
  std::tie(y, dy) = At("max(x, 1)", nan);
  REQUIRE((std::isnan(y) && std::isnan(dy)));
  std::tie(y, dy) = At("1e999", 0);
  REQUIRE((y == inf && dy == 0));
}

TEST_CASE("long inputs run in chunks with the same result", "[formula]") {
  const std::vector<float> x = RandomData(10007, 3, -8, 8);
  const Formula f = MustCompile("x*sigmoid(x) + elu(x^2 - 1, 0.5)*a");
  const Result all = MustEval(f, x, {0.25});
  for (size_t i = 0; i < x.size(); i += 997) {
    const Result one = MustEval(f, {x[i]}, {0.25});
    REQUIRE(one.y[0] == all.y[i]);
    REQUIRE(one.dy[0] == all.dy[i]);
  }
}

TEST_CASE("seeded ops draw as one registry call over all of x", "[formula]") {
  // rrelu in training mode: slopes hashed from (seed, element index).
  const std::vector<float> x = RandomData(10007, 5, -3, 3);
  const Result r = MustEval(MustCompile("rrelu(x, 0.1, 0.3, 1, 7)"), x);
  Call call;
  const NamedTensor in{"x", {x.data(), Shape{static_cast<int64_t>(x.size())}}};
  const NamedParam p[] = {
      {"lower", 0.1}, {"upper", 0.3}, {"training", 1}, {"seed", 7}};
  REQUIRE(Prepare("rrelu", std::span(&in, 1), p, &call).ok());
  Evaluation ev;
  Gradients g;
  REQUIRE(Run(call, &ev).ok());
  REQUIRE(RunBackward(call, &ev, nullptr, &g).ok());
  int negative = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    REQUIRE(r.y[i] == ev.y.data()[i]);
    REQUIRE(r.dy[i] == g.din[0].data()[i]);
    negative += x[i] < 0;
  }
  REQUIRE(negative > 1000);
}

TEST_CASE("LaTeX rendering of the parsed tree", "[formula]") {
  const std::pair<const char*, const char*> cases[] = {
      {"x*sigmoid(1.702*x)",
       "x \\cdot \\operatorname{sigmoid}\\left(1.702 \\cdot x\\right)"},
      {"a/b", "\\frac{a}{b}"},
      {"-x^2", "-x^{2}"},
      {"(a+b)^2", "\\left(a + b\\right)^{2}"},
      {"a-(b-c)", "a - \\left(b - c\\right)"},
      {"(a-b)-c", "a - b - c"},
      {"sqrt(x) + abs(x)", "\\sqrt{x} + \\left|x\\right|"},
      {"log(1+exp(x))", "\\ln\\left(1 + \\exp\\left(x\\right)\\right)"},
      {"2*pi*alpha", "2 \\cdot \\pi \\cdot \\alpha"},
      {"1e-3*x_0", "1 \\times 10^{-3} \\cdot \\mathrm{x\\_0}"},
      {"gelu_tanh(x) * (x+1)",
       "\\operatorname{gelu\\_tanh}\\left(x\\right) \\cdot \\left(x + "
       "1\\right)"},
      {"elu(x, .5)", "\\operatorname{elu}\\left(x, 0.5\\right)"},
      {"2^-x", "2^{-x}"},
      {"x*-y", "x \\cdot \\left(-y\\right)"},
  };
  for (const auto& [text, want] : cases) {
    INFO(text);
    REQUIRE(MustCompile(text).latex() == want);
  }
}

TEST_CASE("fuzz: random texts never crash", "[formula]") {
  static const char* const kPieces[] = {
      "x",        "a",     "b",    "(",    ")",     "+",   "-",   "*",
      "/",        "^",     "**",   ",",    ".",     "0",   "1",   "2.5",
      "e",        "E",     "1e",   "pi",   "π",     "×",   "−",   " ",
      "sin",      "exp",   "relu", "elu",  "clamp", "min", "log", "sqrt",
      "softplus", "rrelu", "$",    "\xC3", "0.5"};
  std::mt19937 rng(20261122);
  std::uniform_int_distribution<int> piece(0, std::size(kPieces) - 1);
  std::uniform_int_distribution<int> length(0, 24);
  const std::vector<float> x = {-2,
                                -0.0f,
                                0,
                                0.5f,
                                3,
                                std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::quiet_NaN()};
  std::vector<float> y(x.size()), dy(x.size());
  int compiled = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string text;
    for (int k = length(rng); k > 0; --k) text += kPieces[piece(rng)];
    Formula f;
    const Status s = Formula::Compile(text, &f);
    INFO("formula '" << text << "': " << s.message());
    if (!s.ok()) {
      REQUIRE(s.code() == ErrorCode::kBadFormula);
      REQUIRE(!s.message().empty());
      continue;
    }
    ++compiled;
    REQUIRE(!f.latex().empty());
    const std::vector<double> p(f.params().size(), 0.75);
    const Status e = f.Eval(x.data(), x.size(), p, y.data(), dy.data());
    REQUIRE((e.ok() || e.code() == ErrorCode::kBadParam));
  }
  REQUIRE(compiled > 100);  // the fuzz reaches the evaluator too
}

}  // namespace
}  // namespace dlmath::testing
