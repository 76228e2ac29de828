// The formula evaluator: a tokenizer, a depth-counted recursive-descent
// parser that emits the tree in post-order, and an evaluator that walks that
// order once per chunk of x, carrying values and d/dx side by side (forward-
// mode automatic differentiation). See formula.h for the grammar and the
// derivative conventions.
#include "dlmath/formula.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numbers>
#include <utility>

#include "dlmath/registry.h"

namespace dlmath {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Builtin functions; registry ops are looked up separately.
enum class Fn {
  kExp,
  kLog,
  kLog2,
  kLog10,
  kLog1p,
  kExpm1,
  kSqrt,
  kCbrt,
  kAbs,
  kSin,
  kCos,
  kTan,
  kAsin,
  kAcos,
  kAtan,
  kSinh,
  kCosh,
  kTanh,
  kAsinh,
  kAcosh,
  kAtanh,
  kSign,
  kFloor,
  kCeil,
  kRound,
  kMin,
  kMax,
  kPow,
  kAtan2,
  kClamp,
  kHypot,
};

struct FnInfo {
  const char* name;
  Fn fn;
  int arity;
  const char* latex;  // operator name; "" where Latex() has a special form
};

constexpr FnInfo kFns[] = {
    {"exp", Fn::kExp, 1, "\\exp"},
    {"log", Fn::kLog, 1, "\\ln"},
    {"log2", Fn::kLog2, 1, "\\log_{2}"},
    {"log10", Fn::kLog10, 1, "\\log_{10}"},
    {"log1p", Fn::kLog1p, 1, "\\operatorname{log1p}"},
    {"expm1", Fn::kExpm1, 1, "\\operatorname{expm1}"},
    {"sqrt", Fn::kSqrt, 1, ""},
    {"cbrt", Fn::kCbrt, 1, ""},
    {"abs", Fn::kAbs, 1, ""},
    {"sin", Fn::kSin, 1, "\\sin"},
    {"cos", Fn::kCos, 1, "\\cos"},
    {"tan", Fn::kTan, 1, "\\tan"},
    {"asin", Fn::kAsin, 1, "\\arcsin"},
    {"acos", Fn::kAcos, 1, "\\arccos"},
    {"atan", Fn::kAtan, 1, "\\arctan"},
    {"sinh", Fn::kSinh, 1, "\\sinh"},
    {"cosh", Fn::kCosh, 1, "\\cosh"},
    {"tanh", Fn::kTanh, 1, "\\tanh"},
    {"asinh", Fn::kAsinh, 1, "\\operatorname{asinh}"},
    {"acosh", Fn::kAcosh, 1, "\\operatorname{acosh}"},
    {"atanh", Fn::kAtanh, 1, "\\operatorname{atanh}"},
    {"sign", Fn::kSign, 1, "\\operatorname{sign}"},
    {"floor", Fn::kFloor, 1, ""},
    {"ceil", Fn::kCeil, 1, ""},
    {"round", Fn::kRound, 1, "\\operatorname{round}"},
    {"min", Fn::kMin, 2, "\\min"},
    {"max", Fn::kMax, 2, "\\max"},
    {"pow", Fn::kPow, 2, ""},
    {"atan2", Fn::kAtan2, 2, "\\operatorname{atan2}"},
    {"clamp", Fn::kClamp, 3, "\\operatorname{clamp}"},
    {"hypot", Fn::kHypot, 2, "\\operatorname{hypot}"},
};

const FnInfo* FindFn(std::string_view name) {
  for (const FnInfo& f : kFns)
    if (name == f.name) return &f;
  return nullptr;
}

// An elementwise registry op usable as a formula function (builtins win on a
// shared name: tanh is computed in double like the other builtins).
const OpInfo* FindFormulaOp(std::string_view name) {
  const OpInfo* op = FindOp(name);
  return op && op->form == Form::Elementwise && op->kind == Kind::kOp ? op
                                                                      : nullptr;
}

enum class NodeKind {
  kNumber,
  kX,
  kParam,
  kNeg,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kPow,
  kFn,
  kOp
};

}  // namespace

struct Formula::Node {
  NodeKind kind = NodeKind::kNumber;
  Fn fn = Fn::kExp;
  const OpInfo* op = nullptr;
  double value = 0;            // kNumber: the number (pi and e included)
  int param = -1;              // kParam: index into params_
  std::vector<int> kids;       // children, node indices
  bool dep = false;            // depends on x
  bool uses_param = false;     // depends on a parameter
  int column = 0, length = 0;  // source span, in code points
  std::string token;           // kNumber: as typed ("pi", "π", "e", "1e-3")
};

namespace {

using Node = Formula::Node;

// ----- tokens ----------------------------------------------------------------

enum class Tok {
  kEnd,
  kNum,
  kName,
  kPlus,
  kMinus,
  kMul,
  kDiv,
  kPow,
  kOpen,
  kClose,
  kComma
};

struct Token {
  Tok type = Tok::kEnd;
  std::string_view text;  // as typed (UTF-8)
  int column = 0, length = 0;
};

std::string Describe(const Token& t) {
  if (t.type == Tok::kEnd) return "the end of the text";
  return "'" + std::string(t.text) + "'";
}

Status Error(int column, int length, const std::string& what) {
  Status s(ErrorCode::kBadFormula, "", "",
           "column " + std::to_string(column) + ": " + what);
  s.At(column, length);
  return s;
}

// Length in bytes of the UTF-8 sequence starting at s[i], 0 if invalid.
size_t Utf8Length(std::string_view s, size_t i) {
  const unsigned char c = s[i];
  size_t n = c < 0x80                 ? 1
             : c >= 0xC2 && c <= 0xDF ? 2
             : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4
                                      : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status Tokenize(std::string_view s, std::vector<Token>* out) {
  int column = 1;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      ++column;
      continue;
    }
    Token t;
    t.column = column;
    size_t len = 1;  // bytes
    int cps = 1;     // code points
    if (IsDigit(c) || (c == '.' && i + 1 < s.size() && IsDigit(s[i + 1]))) {
      size_t j = i;
      while (j < s.size() && IsDigit(s[j])) ++j;
      if (j < s.size() && s[j] == '.') {
        ++j;
        while (j < s.size() && IsDigit(s[j])) ++j;
      }
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < s.size() && IsDigit(s[k])) {
          while (k < s.size() && IsDigit(s[k])) ++k;
          j = k;
        }
      }
      t.type = Tok::kNum;
      len = j - i;
      cps = static_cast<int>(len);
    } else if (IsNameStart(c)) {
      size_t j = i;
      while (j < s.size() && (IsNameStart(s[j]) || IsDigit(s[j]))) ++j;
      t.type = Tok::kName;
      len = j - i;
      cps = static_cast<int>(len);
    } else if (c == '*' && i + 1 < s.size() && s[i + 1] == '*') {
      t.type = Tok::kPow;
      len = cps = 2;
    } else {
      switch (c) {
        case '+':
          t.type = Tok::kPlus;
          break;
        case '-':
          t.type = Tok::kMinus;
          break;
        case '*':
          t.type = Tok::kMul;
          break;
        case '/':
          t.type = Tok::kDiv;
          break;
        case '^':
          t.type = Tok::kPow;
          break;
        case '(':
          t.type = Tok::kOpen;
          break;
        case ')':
          t.type = Tok::kClose;
          break;
        case ',':
          t.type = Tok::kComma;
          break;
        default: {
          len = Utf8Length(s, i);
          const std::string_view cp = s.substr(i, len);
          if (cp == "\u00D7" || cp == "\u00B7") {  // × ·
            t.type = Tok::kMul;
          } else if (cp == "\u00F7") {  // ÷
            t.type = Tok::kDiv;
          } else if (cp == "\u2212") {  // − (minus sign)
            t.type = Tok::kMinus;
          } else if (cp == "\u03C0") {  // π
            t.type = Tok::kName;
          } else if (len == 0) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02X",
                          static_cast<unsigned char>(c));
            return Error(column, 1,
                         std::string("unexpected byte ") + hex +
                             " (the text is not valid UTF-8)");
          } else {
            const unsigned char u = c;
            if (len == 1 && (u < 0x20 || u == 0x7F)) {
              char code[12];
              std::snprintf(code, sizeof code, "U+%04X", u);
              return Error(column, 1,
                           std::string("unexpected control character ") + code);
            }
            return Error(column, 1,
                         "unexpected character '" + std::string(cp) + "'");
          }
        }
      }
    }
    t.text = s.substr(i, len);
    t.length = cps;
    out->push_back(t);
    i += len;
    column += cps;
  }
  Token end;
  end.column = column;
  out->push_back(end);
  return {};
}

// ----- parser ----------------------------------------------------------------

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, std::vector<Node>* nodes,
         std::vector<std::string>* params)
      : tokens_(tokens), nodes_(*nodes), params_(*params) {}

  Status Parse() {
    const int root = ParseSum();
    if (root >= 0 && Peek().type != Tok::kEnd) {
      const Token& t = Peek();
      if (t.type == Tok::kClose)
        Fail(t, "')' has no matching '('");
      else if (t.type == Tok::kComma)
        Fail(t, "',' outside the arguments of a function call");
      else
        Fail(t, "expected an operator, found " + Describe(t));
    }
    return error_;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_++]; }
  // End column (exclusive) of the last consumed token.
  int End() const {
    const Token& t = tokens_[pos_ - 1];
    return t.column + t.length;
  }

  int Fail(const Token& t, const std::string& what) {
    if (error_.ok()) error_ = Error(t.column, t.length, what);
    return -1;
  }

  int Push(Node n, int start) {
    n.column = start;
    n.length = End() - start;
    for (int k : n.kids) {
      n.dep = n.dep || nodes_[k].dep;
      n.uses_param = n.uses_param || nodes_[k].uses_param;
    }
    nodes_.push_back(std::move(n));
    return static_cast<int>(nodes_.size()) - 1;
  }

  int Binary(NodeKind kind, int a, int b, int start) {
    Node n;
    n.kind = kind;
    n.kids = {a, b};
    return Push(std::move(n), start);
  }

  int ParseSum() {
    const int start = Peek().column;
    int left = ParseProduct();
    while (left >= 0 &&
           (Peek().type == Tok::kPlus || Peek().type == Tok::kMinus)) {
      const NodeKind kind =
          Next().type == Tok::kPlus ? NodeKind::kAdd : NodeKind::kSub;
      const int right = ParseProduct();
      if (right < 0) return -1;
      left = Binary(kind, left, right, start);
    }
    return left;
  }

  int ParseProduct() {
    const int start = Peek().column;
    int left = ParseUnary();
    while (left >= 0 &&
           (Peek().type == Tok::kMul || Peek().type == Tok::kDiv)) {
      const NodeKind kind =
          Next().type == Tok::kMul ? NodeKind::kMul : NodeKind::kDiv;
      const int right = ParseUnary();
      if (right < 0) return -1;
      left = Binary(kind, left, right, start);
    }
    return left;
  }

  // Every recursion passes through here, so this bounds the stack.
  int ParseUnary() {
    if (++depth_ > kMaxFormulaDepth) {
      --depth_;
      return Fail(Peek(), "the formula nests deeper than " +
                              std::to_string(kMaxFormulaDepth) + " levels");
    }
    const int r = ParseUnaryBody();
    --depth_;
    return r;
  }

  int ParseUnaryBody() {
    const Token& t = Peek();
    if (t.type == Tok::kPlus || t.type == Tok::kMinus) {
      Next();
      const int u = ParseUnary();
      if (u < 0 || t.type == Tok::kPlus) return u;
      Node n;
      n.kind = NodeKind::kNeg;
      n.kids = {u};
      return Push(std::move(n), t.column);
    }
    const int base = ParsePrimary();
    if (base < 0 || Peek().type != Tok::kPow) return base;
    Next();
    const int exponent = ParseUnary();  // right associative; 2^-x allowed
    if (exponent < 0) return -1;
    return Binary(NodeKind::kPow, base, exponent, t.column);
  }

  int ExpectedExpression(const Token& t) {
    if (pos_ == 0)
      return Fail(t, "expected an expression, found " + Describe(t));
    return Fail(t, "expected an expression after '" +
                       std::string(tokens_[pos_ - 1].text) + "', found " +
                       Describe(t));
  }

  int ParsePrimary() {
    const Token& t = Peek();
    switch (t.type) {
      case Tok::kNum: {
        Next();
        Node n;
        n.token = std::string(t.text);
        n.value = std::strtod(n.token.c_str(), nullptr);
        return Push(std::move(n), t.column);
      }
      case Tok::kOpen: {
        Next();
        const int inner = ParseSum();
        if (inner < 0) return -1;
        const Token& c = Peek();
        if (c.type == Tok::kClose) {
          Next();
          // The parenthesised node keeps its span without the parentheses.
          return inner;
        }
        if (c.type == Tok::kEnd)
          return Fail(c, "missing ')' to close the '(' at column " +
                             std::to_string(t.column));
        return Fail(c,
                    "expected an operator or ')' to close the '(' at "
                    "column " +
                        std::to_string(t.column) + ", found " + Describe(c));
      }
      case Tok::kName:
        Next();
        if (Peek().type == Tok::kOpen) return ParseCall(t);
        return Name(t);
      default:
        return ExpectedExpression(t);
    }
  }

  int Name(const Token& t) {
    const std::string_view name = t.text;
    Node n;
    if (name == "x") {
      n.kind = NodeKind::kX;
      n.dep = true;
    } else if (name == "pi" || name == "\u03C0") {
      n.value = std::numbers::pi;
      n.token = std::string(name);
    } else if (name == "e") {
      n.value = std::numbers::e;
      n.token = "e";
    } else if (FindFn(name) || FindFormulaOp(name)) {
      return Fail(t, "'" + std::string(name) + "' is a function; call it as " +
                         std::string(name) + "(...)");
    } else {
      n.kind = NodeKind::kParam;
      n.uses_param = true;
      const auto it = std::find(params_.begin(), params_.end(), name);
      n.param = static_cast<int>(it - params_.begin());
      if (it == params_.end()) params_.emplace_back(name);
    }
    return Push(std::move(n), t.column);
  }

  int UnknownFunction(const Token& t) {
    const std::string name(t.text);
    if (name == "x" || name == "e" || name == "pi" || name == "\u03C0")
      return Fail(t, "'" + name +
                         "' is not a function (there is no implicit "
                         "multiplication: write " +
                         name + "*(...))");
    if (const OpInfo* op = FindOp(name))
      return Fail(t, "'" + name + "' is a " + FormName(op->form) + " " +
                         KindName(op->kind) +
                         "; a formula can call elementwise ops only");
    std::vector<std::string_view> names;
    for (const FnInfo& f : kFns) names.push_back(f.name);
    for (const OpInfo& op : Ops())
      if (FindFormulaOp(op.id) && !FindFn(op.id)) names.push_back(op.id);
    const std::vector<std::string_view> near = NearestNames(name, names);
    std::string msg = "unknown function '" + name + "'";
    if (!near.empty()) {
      msg += " (did you mean ";
      for (size_t i = 0; i < near.size(); ++i)
        msg += (i ? ", '" : "'") + std::string(near[i]) + "'";
      msg += "?)";
    }
    return Fail(t, msg);
  }

  int ParseCall(const Token& name) {
    const FnInfo* fn = FindFn(name.text);
    const OpInfo* op = fn ? nullptr : FindFormulaOp(name.text);
    if (!fn && !op) return UnknownFunction(name);
    const Token& open = Next();
    std::vector<int> args;
    for (;;) {
      const int a = ParseSum();
      if (a < 0) return -1;
      args.push_back(a);
      const Token& c = Peek();
      if (c.type == Tok::kComma) {
        Next();
        continue;
      }
      if (c.type == Tok::kClose) {
        Next();
        break;
      }
      if (c.type == Tok::kEnd)
        return Fail(c, "missing ')' to close the '(' at column " +
                           std::to_string(open.column));
      return Fail(c, "expected an operator, ',' or ')' in the arguments of '" +
                         std::string(name.text) + "', found " + Describe(c));
    }
    const int got = static_cast<int>(args.size());
    const std::string quoted = "'" + std::string(name.text) + "'";
    auto plural = [](int n) {
      return std::to_string(n) + (n == 1 ? " argument" : " arguments");
    };
    Node n;
    if (fn) {
      if (got != fn->arity)
        return Fail(name, quoted + " takes " + plural(fn->arity) + ", got " +
                              std::to_string(got));
      n.kind = NodeKind::kFn;
      n.fn = fn->fn;
    } else {
      const int np = op->num_params();
      if (got < 1 || got > 1 + np) {
        std::string names;
        for (int k = 0; k < np; ++k)
          names += (k ? ", " : "") + std::string(op->params[k].name);
        return Fail(name, quoted + " takes " +
                              (np ? "1 to " + plural(1 + np) : plural(1)) +
                              " (its params: " + (np ? names : "none") +
                              "), got " + std::to_string(got));
      }
      for (int k = 1; k < got; ++k) {
        const Node& a = nodes_[args[k]];
        if (a.dep) {
          const Token at{Tok::kEnd, {}, a.column, a.length};
          return Fail(at, "param '" + std::string(op->params[k - 1].name) +
                              "' of " + quoted + " (argument " +
                              std::to_string(k + 1) + ") must not depend on x");
        }
      }
      n.kind = NodeKind::kOp;
      n.op = op;
    }
    n.kids = std::move(args);
    return Push(std::move(n), name.column);
  }

  const std::vector<Token>& tokens_;
  std::vector<Node>& nodes_;
  std::vector<std::string>& params_;
  size_t pos_ = 0;
  int depth_ = 0;
  Status error_;
};

// ----- scalar math
// -------------------------------------------------------------

// Value of a builtin at a[] (double), and its derivative from the arguments'
// derivatives da[]; dep[k] false means argument k is constant (its term is
// left out, so 0 * inf never turns a constant's zero into NaN).
double ApplyFn(Fn fn, const double* a, const double* da, const bool* dep,
               double* d) {
  const double u = a[0];
  double v, f;  // value, derivative wrt u (unary functions)
  switch (fn) {
    case Fn::kExp:
      v = std::exp(u);
      f = v;
      break;
    case Fn::kLog:
      v = std::log(u);
      f = 1 / u;
      break;
    case Fn::kLog2:
      v = std::log2(u);
      f = 1 / (u * std::numbers::ln2);
      break;
    case Fn::kLog10:
      v = std::log10(u);
      f = 1 / (u * std::numbers::ln10);
      break;
    case Fn::kLog1p:
      v = std::log1p(u);
      f = 1 / (1 + u);
      break;
    case Fn::kExpm1:
      v = std::expm1(u);
      f = std::exp(u);
      break;
    case Fn::kSqrt:
      v = std::sqrt(u);
      f = 0.5 / v;
      break;
    case Fn::kCbrt:
      v = std::cbrt(u);
      f = 1 / (3 * v * v);
      break;
    case Fn::kAbs:
      v = std::fabs(u);
      f = u > 0 ? 1 : u < 0 ? -1 : u == 0 ? 0 : kNaN;
      break;
    case Fn::kSin:
      v = std::sin(u);
      f = std::cos(u);
      break;
    case Fn::kCos:
      v = std::cos(u);
      f = -std::sin(u);
      break;
    case Fn::kTan:
      v = std::tan(u);
      f = 1 + v * v;
      break;
    case Fn::kAsin:
      v = std::asin(u);
      f = 1 / std::sqrt(1 - u * u);
      break;
    case Fn::kAcos:
      v = std::acos(u);
      f = -1 / std::sqrt(1 - u * u);
      break;
    case Fn::kAtan:
      v = std::atan(u);
      f = 1 / (1 + u * u);
      break;
    case Fn::kSinh:
      v = std::sinh(u);
      f = std::cosh(u);
      break;
    case Fn::kCosh:
      v = std::cosh(u);
      f = std::sinh(u);
      break;
    case Fn::kTanh:
      v = std::tanh(u);
      f = 1 - v * v;
      break;
    case Fn::kAsinh:
      v = std::asinh(u);
      f = 1 / std::hypot(u, 1.0);
      break;
    case Fn::kAcosh:
      v = std::acosh(u);
      f = 1 / (std::sqrt(u - 1) * std::sqrt(u + 1));
      break;
    case Fn::kAtanh:
      v = std::atanh(u);
      f = 1 / (1 - u * u);
      break;
    // Piecewise constant: derivative 0 almost everywhere (NaN stays NaN).
    case Fn::kSign:
      v = u > 0 ? 1 : u < 0 ? -1 : u;  // keeps ±0 and NaN
      f = std::isnan(u) ? kNaN : 0;
      break;
    case Fn::kFloor:
      v = std::floor(u);
      f = std::isnan(u) ? kNaN : 0;
      break;
    case Fn::kCeil:
      v = std::ceil(u);
      f = std::isnan(u) ? kNaN : 0;
      break;
    case Fn::kRound:  // half to even, as torch.round and numpy.round
      v = std::nearbyint(u);
      f = std::isnan(u) ? kNaN : 0;
      break;
    // Functions of several arguments set d themselves.
    case Fn::kMin:
    case Fn::kMax: {
      const double b = a[1];
      if (std::isnan(u) || std::isnan(b)) {
        *d = kNaN;
        return kNaN;
      }
      const bool first = fn == Fn::kMin ? u <= b : u >= b;  // ties: first
      *d = first ? da[0] : da[1];
      return first ? u : b;
    }
    case Fn::kPow: {
      const double b = a[1];
      v = std::pow(u, b);
      double s = 0;
      if (dep[0] && (!dep[1] || da[1] == 0 || da[0] != 0))
        s = b == 0 ? 0 : b * std::pow(u, b - 1) * da[0];
      if (dep[1] && da[1] != 0) s += (v == 0 ? 0 : std::log(u) * v) * da[1];
      *d = s;
      return v;
    }
    case Fn::kAtan2: {  // atan2(y, x)
      const double x = a[1];
      const double r2 = u * u + x * x;
      double s = 0;
      if (dep[0]) s += x * da[0];
      if (dep[1]) s -= u * da[1];
      *d = s / r2;
      return std::atan2(u, x);
    }
    case Fn::kClamp: {  // min(max(u, lo), hi), following the selected arg
      double m = u, dm = da[0];
      if (u < a[1]) m = a[1], dm = da[1];
      if (m > a[2]) m = a[2], dm = da[2];
      *d = std::isnan(a[1]) || std::isnan(a[2]) ? kNaN : dm;
      return std::isnan(a[1]) || std::isnan(a[2]) ? kNaN : m;
    }
    case Fn::kHypot: {
      v = std::hypot(u, a[1]);
      double s = 0;
      if (dep[0]) s += u * da[0];
      if (dep[1]) s += a[1] * da[1];
      *d = v == 0 ? 0 : s / v;
      return v;
    }
  }
  *d = f * da[0];
  return v;
}

// Value and derivative of an arithmetic node (kNeg .. kPow).
double ApplyArith(NodeKind kind, const double* a, const double* da,
                  const bool* dep, double* d) {
  switch (kind) {
    case NodeKind::kNeg:
      *d = -da[0];
      return -a[0];
    case NodeKind::kAdd:
      *d = da[0] + da[1];
      return a[0] + a[1];
    case NodeKind::kSub:
      *d = da[0] - da[1];
      return a[0] - a[1];
    case NodeKind::kMul: {
      double s = 0;
      if (dep[0]) s += da[0] * a[1];
      if (dep[1]) s += a[0] * da[1];
      *d = s;
      return a[0] * a[1];
    }
    case NodeKind::kDiv: {
      const double v = a[0] / a[1];
      double s = 0;
      if (dep[0]) s += da[0] / a[1];
      if (dep[1]) s -= v * da[1] / a[1];
      *d = s;
      return v;
    }
    case NodeKind::kPow:
      return ApplyFn(Fn::kPow, a, da, dep, d);
    default:
      *d = 0;
      return 0;
  }
}

// Elements per chunk of the array pass: bounds the scratch memory at
// (live nodes) x 2 x kChunk floats whatever n is. Seeded ops (a param named
// "seed", as rrelu's) draw by element index, which restarts with every
// kernel call: a formula calling one runs in a single chunk so that its
// draws are those of one registry call over all of x.
constexpr int64_t kChunk = 4096;

bool CallsSeededOp(const std::vector<Node>& nodes) {
  for (const Node& n : nodes)
    if (n.kind == NodeKind::kOp && n.op->ParamIndex("seed") >= 0) return true;
  return false;
}

}  // namespace

// ----- Formula
// -----------------------------------------------------------------

Formula::Formula() = default;
Formula::~Formula() = default;
Formula::Formula(Formula&&) noexcept = default;
Formula& Formula::operator=(Formula&&) noexcept = default;

namespace {

// Scalar values of the nodes that do not depend on x (NaN elsewhere), and a
// prepared registry call for every kOp node whose params are known. Without
// params (compile time) nodes that use a parameter are skipped. Errors from
// the registry's own checks carry the offending argument's column.
Status ConstantPass(const std::vector<Node>& nodes, const double* params,
                    std::vector<double>* sval, std::vector<Call>* calls,
                    std::vector<int>* call_of, int64_t chunk) {
  sval->assign(nodes.size(), kNaN);
  call_of->assign(nodes.size(), -1);
  calls->clear();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (n.kind == NodeKind::kOp) {
      bool known = true;
      NamedParam p[kMaxParams];
      const int np = static_cast<int>(n.kids.size()) - 1;
      for (int k = 0; k < np; ++k) {
        const Node& a = nodes[n.kids[k + 1]];
        known = known && (params || !a.uses_param);
        p[k] = {n.op->params[k].name, (*sval)[n.kids[k + 1]]};
      }
      if (!known) continue;
      // The input is a placeholder: Prepare reads only its shape (the
      // elementwise ops have no integer inputs).
      static const float kPlaceholder = 0;
      const Shape shape{n.dep ? chunk : 1};
      const NamedTensor in{n.op->inputs[0].name, {&kPlaceholder, shape}};
      Call call;
      Status s = Prepare(n.op->id, std::span(&in, 1), std::span(p, np), &call);
      if (!s.ok()) {
        int at = static_cast<int>(i);
        const int k = n.op->ParamIndex(s.what());
        if (k >= 0 && k < np) at = n.kids[k + 1];
        const Node& a = nodes[at];
        if (!params)  // a compile-time error: the text is at fault
          return Error(a.column, a.length, s.message());
        return s.At(a.column, a.length);
      }
      (*call_of)[i] = static_cast<int>(calls->size());
      calls->push_back(call);
    }
    if (n.dep || (!params && n.uses_param)) continue;
    double& v = (*sval)[i];
    double a[kMaxParams + 1] = {}, da[kMaxParams + 1] = {}, d;
    bool dep[kMaxParams + 1] = {};
    for (size_t k = 0; k < n.kids.size() && k <= kMaxParams; ++k)
      a[k] = (*sval)[n.kids[k]];
    switch (n.kind) {
      case NodeKind::kNumber:
        v = n.value;
        break;
      case NodeKind::kParam:
        v = params[n.param];
        break;
      case NodeKind::kX:
        break;
      case NodeKind::kFn:
        v = ApplyFn(n.fn, a, da, dep, &d);
        break;
      case NodeKind::kOp: {
        const Call& call = (*calls)[(*call_of)[i]];
        Call c = call;
        const float in = static_cast<float>(a[0]);
        float out;
        c.in[0].data = &in;
        Forward(c, &out, nullptr);
        v = out;
        break;
      }
      default:
        v = ApplyArith(n.kind, a, da, dep, &d);
        break;
    }
  }
  return {};
}

}  // namespace

Status Formula::Compile(std::string_view text, Formula* out) {
  if (text.size() > static_cast<size_t>(kMaxFormulaBytes)) {
    Status s(ErrorCode::kBadFormula, "", "",
             "the formula is " + std::to_string(text.size()) +
                 " bytes long, above the limit of " +
                 std::to_string(kMaxFormulaBytes));
    return s;
  }
  std::vector<Token> tokens;
  if (Status s = Tokenize(text, &tokens); !s.ok()) return s;
  if (tokens.size() == 1) {
    Status s(ErrorCode::kBadFormula, "", "", "the formula is empty");
    return s.At(1, 0);
  }
  Formula f;
  f.text_ = std::string(text);
  Parser parser(tokens, &f.nodes_, &f.params_);
  if (Status s = parser.Parse(); !s.ok()) return s;
  // Registry params known now (constants) are checked now, with a column.
  std::vector<double> sval;
  std::vector<Call> calls;
  std::vector<int> call_of;
  if (Status s =
          ConstantPass(f.nodes_, nullptr, &sval, &calls, &call_of, kChunk);
      !s.ok())
    return s;
  *out = std::move(f);
  return {};
}

Status Formula::BindParams(std::span<const NamedParam> named,
                           std::vector<double>* values) const {
  values->assign(params_.size(), kNaN);
  std::vector<bool> set(params_.size(), false);
  for (const NamedParam& p : named) {
    const auto it = std::find(params_.begin(), params_.end(), p.name);
    if (it == params_.end()) {
      std::string list;
      for (size_t k = 0; k < params_.size(); ++k)
        list += (k ? ", " : "") + params_[k];
      return Status(
          ErrorCode::kUnknownParam, "", std::string(p.name),
          "the formula has no parameter '" + std::string(p.name) + "' (" +
              (params_.empty() ? "it has none" : "its parameters: " + list) +
              ")");
    }
    const size_t k = it - params_.begin();
    (*values)[k] = p.value;
    set[k] = true;
  }
  for (size_t k = 0; k < params_.size(); ++k)
    if (!set[k])
      return Status(ErrorCode::kBadParam, "", params_[k],
                    "parameter '" + params_[k] + "' has no value");
  return {};
}

Status Formula::Eval(const float* x, int64_t n,
                     std::span<const double> param_values, float* y,
                     float* dy) const {
  Plan plan;
  if (Status s = MakePlan(param_values, n, &plan); !s.ok()) return s;
  if (n > 0 && (!x || !y))
    return Status(ErrorCode::kBadValue, "", "x", "x or y is null");
  Run(&plan, x, n, y, dy);
  return {};
}

Status Formula::MakePlan(std::span<const double> param_values, int64_t max_n,
                         Plan* plan) const {
  for (size_t k = 0; k < params_.size(); ++k) {
    if (k >= param_values.size())
      return Status(ErrorCode::kBadParam, "", params_[k],
                    "parameter '" + params_[k] + "' has no value");
    if (std::isnan(param_values[k]))
      return Status(ErrorCode::kBadParam, "", params_[k],
                    "parameter '" + params_[k] + "' is NaN");
  }
  if (param_values.size() > params_.size())
    return Status(ErrorCode::kBadParam, "", "",
                  "got " + std::to_string(param_values.size()) +
                      " parameter values for " +
                      std::to_string(params_.size()) + " parameters");
  if (max_n < 0 || max_n > kMaxElements)
    return Status(ErrorCode::kTooLarge, "", "x",
                  "the formula's x has " + std::to_string(max_n) +
                      " values; expected 0 to " + std::to_string(kMaxElements));
  if (nodes_.empty())
    return Status(ErrorCode::kBadFormula, "", "",
                  "the formula was not compiled");

  Plan p;
  p.max_n = max_n;
  p.chunk = CallsSeededOp(nodes_)
                ? std::max<int64_t>(max_n, 1)
                : std::min<int64_t>(kChunk, std::max<int64_t>(max_n, 1));
  const double no_params = 0;
  if (Status s = ConstantPass(
          nodes_, params_.empty() ? &no_params : param_values.data(), &p.sval,
          &p.calls, &p.call_of, p.chunk);
      !s.ok())
    return s;

  // Scratch slots for the nodes that depend on x: a node takes a free slot
  // for its result, then frees its children's (post-order makes this a
  // stack discipline, so few slots are live at once).
  const size_t num = nodes_.size();
  p.slot.assign(num, -1);
  std::vector<int> free_slots;
  int num_slots = 0;
  for (size_t i = 0; i < num; ++i) {
    if (!nodes_[i].dep || nodes_[i].kind == NodeKind::kX) continue;
    if (free_slots.empty()) {
      p.slot[i] = num_slots++;
    } else {
      p.slot[i] = free_slots.back();
      free_slots.pop_back();
    }
    for (int k : nodes_[i].kids)
      if (p.slot[k] >= 0) free_slots.push_back(p.slot[k]);
  }
  p.num_slots = num_slots;
  p.scratch.assign(static_cast<size_t>(num_slots) * 2 * p.chunk + 2 * p.chunk,
                   0.0f);
  *plan = std::move(p);
  return {};
}

void Formula::Run(Plan* plan, const float* x, int64_t n, float* y,
                  float* dy) const {
  const int root = static_cast<int>(nodes_.size()) - 1;
  if (!nodes_[root].dep) {
    const float v = static_cast<float>(plan->sval[root]);
    std::fill(y, y + n, v);
    if (dy) std::fill(dy, dy + n, 0.0f);
    return;
  }
  const int64_t chunk = plan->chunk;
  const size_t num = nodes_.size();
  float* scratch = plan->scratch.data();
  float* ones = scratch + static_cast<size_t>(plan->num_slots) * 2 * chunk;
  float* zeros = ones + chunk;  // the op backward's dp needs no buffer
  std::fill(ones, ones + chunk, 1.0f);
  std::fill(zeros, zeros + chunk, 0.0f);
  auto value_of = [&](int i, const float* xs) -> float* {
    if (nodes_[i].kind == NodeKind::kX) return const_cast<float*>(xs);
    return scratch + static_cast<size_t>(plan->slot[i]) * 2 * chunk;
  };
  auto deriv_of = [&](int i) -> float* {
    if (nodes_[i].kind == NodeKind::kX) return ones;
    return scratch + static_cast<size_t>(plan->slot[i]) * 2 * chunk + chunk;
  };

  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t len = std::min(chunk, n - start);
    const float* xs = x + start;
    for (size_t i = 0; i < num; ++i) {
      const Node& node = nodes_[i];
      if (!node.dep || node.kind == NodeKind::kX) continue;
      float* v = value_of(static_cast<int>(i), xs);
      float* d = deriv_of(static_cast<int>(i));
      if (node.kind == NodeKind::kOp) {
        Call c = plan->calls[plan->call_of[i]];
        const int u = node.kids[0];
        c.in[0] = {value_of(u, xs), Shape{len}};
        c.out = c.in[0].shape;
        Forward(c, v, nullptr);
        if (dy) {
          std::fill(d, d + len, 0.0f);  // Backward accumulates
          float* din[kMaxInputs] = {d};
          double dp[kMaxParams] = {};
          Backward(c, v, nullptr, deriv_of(u), din, dp);
        }
        continue;
      }
      const int nk = static_cast<int>(node.kids.size());
      const float* kv[3] = {};
      const float* kd[3] = {};
      double a[3] = {}, da[3] = {};
      bool dep[3] = {};
      for (int k = 0; k < nk && k < 3; ++k) {
        const int c = node.kids[k];
        dep[k] = nodes_[c].dep;
        if (dep[k]) {
          kv[k] = value_of(c, xs);
          kd[k] = deriv_of(c);
        } else {
          a[k] = plan->sval[c];
        }
      }
      for (int64_t j = 0; j < len; ++j) {
        for (int k = 0; k < nk && k < 3; ++k)
          if (dep[k]) a[k] = kv[k][j], da[k] = kd[k][j];
        double dv;
        const double r = node.kind == NodeKind::kFn
                             ? ApplyFn(node.fn, a, da, dep, &dv)
                             : ApplyArith(node.kind, a, da, dep, &dv);
        v[j] = static_cast<float>(r);
        d[j] = static_cast<float>(dv);
      }
    }
    if (nodes_[root].kind == NodeKind::kX) {
      std::copy(xs, xs + len, y + start);
      if (dy) std::fill(dy + start, dy + start + len, 1.0f);
    } else {
      const float* v = value_of(root, xs);
      std::copy(v, v + len, y + start);
      if (dy) {
        const float* d = deriv_of(root);
        std::copy(d, d + len, dy + start);
      }
    }
  }
}

// ----- LaTeX
// -------------------------------------------------------------------

namespace {

bool IsSum(const Node& n) {
  return n.kind == NodeKind::kAdd || n.kind == NodeKind::kSub;
}

std::string Paren(const std::string& s) { return "\\left(" + s + "\\right)"; }

std::string NumberLatex(const std::string& t) {
  if (t == "pi" || t == "\u03C0") return "\\pi";
  if (t == "e") return "e";
  std::string m = t, e;
  const size_t at = t.find_first_of("eE");
  if (at != std::string::npos) {
    m = t.substr(0, at);
    e = t.substr(at + 1);
    if (!e.empty() && e[0] == '+') e = e.substr(1);
  }
  if (!m.empty() && m[0] == '.') m = "0" + m;
  if (!m.empty() && m.back() == '.') m.pop_back();
  if (e.empty()) return m;
  return m + " \\times 10^{" + e + "}";
}

std::string NameLatex(const std::string& name) {
  static constexpr const char* kGreek[] = {
      "alpha", "beta",  "gamma", "delta",  "epsilon", "zeta", "eta",
      "theta", "iota",  "kappa", "lambda", "mu",      "nu",   "xi",
      "rho",   "sigma", "tau",   "phi",    "chi",     "psi",  "omega"};
  for (const char* g : kGreek)
    if (name == g) return std::string("\\") + g;
  if (name.size() == 1) return name;
  std::string out = "\\mathrm{";
  for (char c : name) {
    if (c == '_') out += '\\';
    out += c;
  }
  return out + "}";
}

std::string OpName(const char* id) {
  std::string out = "\\operatorname{";
  for (const char* c = id; *c; ++c) {
    if (*c == '_') out += '\\';
    out += *c;
  }
  return out + "}";
}

class LatexWriter {
 public:
  LatexWriter(const std::vector<Node>& nodes,
              const std::vector<std::string>& params)
      : nodes_(nodes), params_(params) {}

  // Recursion follows the tree, whose depth the parser bounded (chains of
  // + and * are at most kMaxFormulaBytes / 2 long).
  std::string Write(int i) const {
    const Node& n = nodes_[i];
    auto kid = [&](int k) { return Write(n.kids[k]); };
    switch (n.kind) {
      case NodeKind::kNumber:
        return NumberLatex(n.token);
      case NodeKind::kX:
        return "x";
      case NodeKind::kParam:
        return NameLatex(params_[n.param]);
      case NodeKind::kNeg: {
        const Node& u = nodes_[n.kids[0]];
        const bool wrap = IsSum(u) || u.kind == NodeKind::kNeg;
        return "-" + (wrap ? Paren(kid(0)) : kid(0));
      }
      case NodeKind::kAdd:
      case NodeKind::kSub: {
        const Node& r = nodes_[n.kids[1]];
        const bool wrap =
            (n.kind == NodeKind::kSub && IsSum(r)) || r.kind == NodeKind::kNeg;
        return kid(0) + (n.kind == NodeKind::kAdd ? " + " : " - ") +
               (wrap ? Paren(kid(1)) : kid(1));
      }
      case NodeKind::kMul: {
        const Node& l = nodes_[n.kids[0]];
        const Node& r = nodes_[n.kids[1]];
        const std::string a = IsSum(l) ? Paren(kid(0)) : kid(0);
        const std::string b =
            IsSum(r) || r.kind == NodeKind::kNeg ? Paren(kid(1)) : kid(1);
        return a + " \\cdot " + b;
      }
      case NodeKind::kDiv:
        return "\\frac{" + kid(0) + "}{" + kid(1) + "}";
      case NodeKind::kPow:
        return Power(n);
      case NodeKind::kOp: {
        std::string args;
        for (size_t k = 0; k < n.kids.size(); ++k)
          args += (k ? ", " : "") + kid(static_cast<int>(k));
        return OpName(n.op->id) + Paren(args);
      }
      case NodeKind::kFn:
        break;
    }
    switch (n.fn) {
      case Fn::kSqrt:
        return "\\sqrt{" + kid(0) + "}";
      case Fn::kCbrt:
        return "\\sqrt[3]{" + kid(0) + "}";
      case Fn::kAbs:
        return "\\left|" + kid(0) + "\\right|";
      case Fn::kFloor:
        return "\\left\\lfloor " + kid(0) + " \\right\\rfloor";
      case Fn::kCeil:
        return "\\left\\lceil " + kid(0) + " \\right\\rceil";
      case Fn::kPow:
        return Power(n);
      default:
        break;
    }
    const char* name = "";
    for (const FnInfo& f : kFns)
      if (f.fn == n.fn) name = f.latex;
    std::string args;
    for (size_t k = 0; k < n.kids.size(); ++k)
      args += (k ? ", " : "") + kid(static_cast<int>(k));
    return std::string(name) + Paren(args);
  }

 private:
  std::string Power(const Node& n) const {
    const Node& b = nodes_[n.kids[0]];
    const bool atom = b.kind == NodeKind::kX || b.kind == NodeKind::kParam ||
                      (b.kind == NodeKind::kNumber &&
                       b.token.find_first_of("eE") == std::string::npos) ||
                      b.token == "e";
    const std::string base = Write(n.kids[0]);
    return (atom ? base : Paren(base)) + "^{" + Write(n.kids[1]) + "}";
  }

  const std::vector<Node>& nodes_;
  const std::vector<std::string>& params_;
};

}  // namespace

// ----- PyTorch
// -----------------------------------------------------------------

namespace {

std::string Torchify(const std::vector<Node>& nodes,
                     std::span<const double> params, Formula::OpCall op_call,
                     int i) {
  const Node& n = nodes[i];
  std::vector<std::string> a;
  for (int k : n.kids) a.push_back(Torchify(nodes, params, op_call, k));
  auto number = [](double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    std::string s = buf;
    if (s == "inf" || s == "-inf" || s == "nan")
      s = s == "nan" ? "math.nan" : (s[0] == '-' ? "-math.inf" : "math.inf");
    return "_c(" + s + ")";
  };
  switch (n.kind) {
    case NodeKind::kNumber:
      return number(n.value);
    case NodeKind::kX:
      return "x";
    case NodeKind::kParam:
      return number(params[n.param]);
    case NodeKind::kNeg:
      return "(-" + a[0] + ")";
    case NodeKind::kAdd:
      return "(" + a[0] + " + " + a[1] + ")";
    case NodeKind::kSub:
      return "(" + a[0] + " - " + a[1] + ")";
    case NodeKind::kMul:
      return "(" + a[0] + " * " + a[1] + ")";
    case NodeKind::kDiv:
      return "(" + a[0] + " / " + a[1] + ")";
    case NodeKind::kPow:
      return "torch.pow(" + a[0] + ", " + a[1] + ")";
    case NodeKind::kOp:
      return op_call(*n.op, a);
    case NodeKind::kFn:
      break;
  }
  switch (n.fn) {
    case Fn::kCbrt:  // torch has no cbrt: sign(u) |u|^(1/3)
      return "(torch.sign(" + a[0] + ") * torch.pow(torch.abs(" + a[0] +
             "), 1.0 / 3))";
    case Fn::kMin:
      return "torch.minimum(" + a[0] + ", " + a[1] + ")";
    case Fn::kMax:
      return "torch.maximum(" + a[0] + ", " + a[1] + ")";
    case Fn::kClamp:
      return "torch.minimum(torch.maximum(" + a[0] + ", " + a[1] + "), " +
             a[2] + ")";
    default:
      break;
  }
  std::string name;
  for (const FnInfo& f : kFns)
    if (f.fn == n.fn) name = f.name;
  std::string args;
  for (size_t k = 0; k < a.size(); ++k) args += (k ? ", " : "") + a[k];
  return "torch." + name + "(" + args + ")";
}

}  // namespace

std::string Formula::Torch(std::span<const double> param_values,
                           OpCall op_call) const {
  if (nodes_.empty()) return "";
  return Torchify(nodes_, param_values, op_call,
                  static_cast<int>(nodes_.size()) - 1);
}

std::string Formula::latex() const {
  if (nodes_.empty()) return "";
  return LatexWriter(nodes_, params_)
      .Write(static_cast<int>(nodes_.size()) - 1);
}

}  // namespace dlmath
