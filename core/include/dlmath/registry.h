// The op registry: one OpInfo per row of ops.def. Everything else (dispatch,
// bindings, the JS op list and its TypeScript union, the page's menus, the
// test sweep) is generated from this table, never written by hand.
#ifndef DLMATH_REGISTRY_H_
#define DLMATH_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dlmath/status.h"
#include "dlmath/tensor.h"

namespace dlmath {

inline constexpr int kMaxInputs = 10;
inline constexpr int kMaxParams = 8;
inline constexpr int kMaxAux = 4;  // secondary outputs (running stats, ...)
inline constexpr double kInf = std::numeric_limits<double>::infinity();

// Navigation groups, in the order of the study notes.
enum class Family {
  activations,
  losses,
  regularization,
  normalization,
  initialization,
  distances,
  attention,
  optimizers,
  schedules,
  numerics,
  metrics,
  graph,
  regression,
};
inline constexpr int kNumFamilies = static_cast<int>(Family::regression) + 1;
const char* FamilyName(Family f);

// How an op maps input shapes to its output, which decides the kernel
// signature it implements (see KernelSignatures below).
enum class Form {
  Elementwise,  // y has x's shape; y[i] depends on x[i] only
  Rowwise,      // rows of the last dimension; see RowOut
  General,      // anything else: the op supplies its own shape function
  NoGrad,       // General without a backward (optimizers, schedules, inits)
};
const char* FormName(Form f);

// What an entry is, for dl.ops() and the JS entry points: an op (dl.eval /
// dl.grad), an optimizer (dl.optimize: parameters after every step), a
// learning-rate schedule (dl.schedule: no tensor inputs) or an initializer
// (dl.init: the shape comes in as integer input `shape`).
enum class Kind { kOp, kOptimizer, kSchedule, kInit };
const char* KindName(Kind k);

// Output row length of a Rowwise op, given the input row length c.
enum class RowOut { kSame, kDrop, kHalf };  // c, (dimension dropped), c/2
const char* RowOutName(RowOut r);

// kEnum: the value is an index into `choices` ("mean|sum|none"); JS passes
// the name.
enum class ParamType { kReal, kInt, kBool, kEnum };
const char* ParamTypeName(ParamType t);

struct ParamSpec {
  const char* name = nullptr;
  double def = 0;
  double lo = -kInf, hi = kInf;  // valid range
  bool lo_open = false, hi_open = false;
  ParamType type = ParamType::kReal;
  bool learnable = false;         // backward returns d/dparam
  const char* choices = nullptr;  // kEnum only: "a|b|c"
};

struct InputSpec {
  const char* name = nullptr;
  int min_rank = 0, max_rank = kMaxRank;
  bool diff = true;       // backward returns d/dinput
  bool optional = false;  // may be left out (its data pointer is then null)
  bool integer = false;   // values must be integers (class indices, lengths)
  // A differentiable input that holds class indices when it has this rank
  // (-1: never): the op checks them, and their gradient is zero.
  int index_rank = -1;
};

// Row helpers, so a registry row reads like a signature.
constexpr InputSpec In(const char* name, int min_rank = 0,
                       int max_rank = kMaxRank, bool diff = true) {
  return {name, min_rank, max_rank, diff};
}
// Class indices, lengths, masks: integer values, not differentiable.
constexpr InputSpec Index(const char* name, int min_rank = 0,
                          int max_rank = kMaxRank) {
  return {.name = name,
          .min_rank = min_rank,
          .max_rank = max_rank,
          .diff = false,
          .integer = true};
}
constexpr InputSpec Optional(InputSpec s) {
  s.optional = true;
  return s;
}
constexpr InputSpec Constant(InputSpec s) {  // no gradient wanted
  s.diff = false;
  return s;
}
// Values at one rank, class indices at `rank`: cross_entropy's target is
// probabilities [N, C] (differentiable) or class indices [N] (labels).
constexpr InputSpec IndicesAtRank(InputSpec s, int rank) {
  s.index_rank = rank;
  return s;
}
constexpr ParamSpec Real(const char* name, double def, double lo = -kInf,
                         double hi = kInf) {
  return {.name = name, .def = def, .lo = lo, .hi = hi};
}
// A real parameter that must be strictly greater than lo.
constexpr ParamSpec Above(const char* name, double def, double lo,
                          double hi = kInf) {
  return {.name = name, .def = def, .lo = lo, .hi = hi, .lo_open = true};
}
constexpr ParamSpec Learnable(ParamSpec p) {
  p.learnable = true;
  return p;
}
constexpr ParamSpec Int(const char* name, double def, double lo, double hi) {
  return {
      .name = name, .def = def, .lo = lo, .hi = hi, .type = ParamType::kInt};
}
constexpr ParamSpec Bool(const char* name, bool def) {
  return {.name = name,
          .def = def ? 1.0 : 0.0,
          .lo = 0,
          .hi = 1,
          .type = ParamType::kBool};
}

// An enum param: `choices` "mean|sum|none", default by index.
constexpr ParamSpec Choice(const char* name, const char* choices, int def) {
  int n = 1;
  for (const char* c = choices; *c; ++c) n += *c == '|';
  return {.name = name,
          .def = static_cast<double>(def),
          .lo = 0,
          .hi = static_cast<double>(n - 1),
          .type = ParamType::kEnum,
          .choices = choices};
}

struct Props {
  const char* range = "";  // output range, in LaTeX, e.g. "(0, 1)"
  bool monotonic = false;
  bool zero_centred = false;
  bool smooth = false;  // C-infinity everywhere (no kinks)
};

// |got - ref| <= value * max(1, |ref|) (and grad likewise). `why` must say
// why when an entry departs from the defaults.
struct Tolerance {
  double value = 2e-6;
  double grad = 1e-5;
  const char* why = nullptr;
};

// ---------------------------------------------------------------------------
// Kernel signatures (KernelSignatures). Float32 SIMD kernels and their
// float64 scalar references. Backward functions ACCUMULATE (+=) into dx/dp:
// the caller zeroes them once. p holds every param in registry order; dp has
// one slot per param and only learnable slots are written.

// Elementwise, n values.
using EwForward = void (*)(const float* x, float* y, size_t n, const double* p);
using EwBackward = void (*)(const float* x, const float* y, const float* dy,
                            float* dx, double* dp, size_t n, const double* p);
// Reference: element i of the flattened input (i feeds seeded ops such as
// rrelu, which draw from a counter-based RNG).
using EwRefForward = double (*)(double x, const double* p, uint64_t i);
using EwRefBackward = void (*)(double x, double dy, const double* p, uint64_t i,
                               double* dx, double* dp);

// Rowwise over rows x cols (y has rows x out_cols, see RowOut).
using RowForward = void (*)(const float* x, float* y, size_t rows, size_t cols,
                            const double* p);
using RowBackward = void (*)(const float* x, const float* y, const float* dy,
                             float* dx, double* dp, size_t rows, size_t cols,
                             const double* p);
// Reference: one row.
using RowRefForward = void (*)(const double* x, double* y, size_t cols,
                               const double* p);
using RowRefBackward = void (*)(const double* x, const double* y,
                                const double* dy, double* dx, double* dp,
                                size_t cols, const double* p);

// General: everything in one struct. `ws` is scratch of the size the shape
// function asked for; forward may save values there for backward. An absent
// optional input has in[k] == nullptr.
template <class T>
struct GenCall {
  const T* const* in;     // inputs, registry order
  const Shape* in_shape;  // their shapes
  const double* p;        // params, registry order
  T* out;                 // forward writes; backward reads it
  Shape out_shape;
  T* ws;
  T* const* aux = nullptr;  // forward writes the secondary outputs (.aux)
  const Shape* aux_shape = nullptr;
  const T* dy = nullptr;    // backward: upstream gradient, out_shape
  T* const* din = nullptr;  // backward: per input (null = not wanted)
  double* dp = nullptr;     // backward: per param
};

// What a General op's shape function sees and sets. It checks what the rank
// rules cannot (shapes that must agree, class indices within range: the
// input data is there for that) and returns an error naming the input.
struct ShapeCtx {
  const char* op;
  const Shape* in;           // shapes, registry order
  const float* const* data;  // values (nullptr: optional input left out)
  const double* p;           // params, registry order
  Shape* out;                // set: the main output's shape
  int64_t* workspace;        // set: scratch floats (default 0)
  Shape* aux;                // set: one shape per .aux name
};
using GenShapeFn = Status (*)(const ShapeCtx& c);
using GenForward = void (*)(const GenCall<float>& c);
using GenBackward = void (*)(const GenCall<float>& c);
using GenRefForward = void (*)(const GenCall<double>& c);
using GenRefBackward = void (*)(const GenCall<double>& c);

struct Impl {
  EwForward ew_fwd = nullptr;
  EwBackward ew_bwd = nullptr;
  EwRefForward ew_ref_fwd = nullptr;
  EwRefBackward ew_ref_bwd = nullptr;
  RowForward row_fwd = nullptr;
  RowBackward row_bwd = nullptr;
  RowRefForward row_ref_fwd = nullptr;
  RowRefBackward row_ref_bwd = nullptr;
  GenShapeFn gen_shape = nullptr;
  GenForward gen_fwd = nullptr;
  GenBackward gen_bwd = nullptr;
  GenRefForward gen_ref_fwd = nullptr;
  GenRefBackward gen_ref_bwd = nullptr;
};

// One registry row. Field order is the order rows must use.
struct OpInfo {
  const char* id;
  Family family;
  Form form;
  Kind kind = Kind::kOp;
  const char* title_en = "";
  const char* title_zh = "";
  RowOut row_out = RowOut::kSame;
  InputSpec inputs[kMaxInputs] = {};
  ParamSpec params[kMaxParams] = {};
  // Names of secondary outputs (General ops), returned beside the result.
  const char* aux[kMaxAux] = {};
  // Sample input shapes, "name=[dims] name=[dims]": the test sweep, the docs
  // and the page use them (General ops must have one).
  const char* sample = "";
  const char* latex = "";   // the formula
  const char* dlatex = "";  // its derivative / gradient
  const char* en = "";      // explanation: what, where used, pitfalls
  const char* zh = "";
  Props props = {};
  Tolerance tol = {};
  Impl impl = {};

  constexpr int num_inputs() const {
    int n = 0;
    while (n < kMaxInputs && inputs[n].name) ++n;
    return n;
  }
  constexpr int num_params() const {
    int n = 0;
    while (n < kMaxParams && params[n].name) ++n;
    return n;
  }
  constexpr int num_aux() const {
    int n = 0;
    while (n < kMaxAux && aux[n]) ++n;
    return n;
  }
  int ParamIndex(std::string_view name) const;  // -1 if none
  int InputIndex(std::string_view name) const;
  bool differentiable() const;  // any diff input or learnable param
};

// Enum of every op, in registry order: OpId::sigmoid, ...
enum class OpId {
#define DLMATH_OP(id, Name, family, form, ...) id,
#include "dlmath/ops.def"
#undef DLMATH_OP
  kCount
};
inline constexpr int kNumOps = static_cast<int>(OpId::kCount);

// ---------------------------------------------------------------------------
// Params by name (ParamsByName). The rows of ops.def are also compile-time
// constants here (registry.cc adds their kernels, .impl), so kernels and
// references read a param by its name, never by its position:
//
//   const double alpha = p[DLMATH_PARAM(elu, alpha)];
//
// The index is looked up in the op's row while compiling: a name the row does
// not have is a compile error, and reordering a row's params changes no
// result. tests/core/test_params.cc builds the library a second time with
// every row's params rotated and checks that each op still computes the same.

namespace detail {
#ifdef DLMATH_TEST_ROTATED_PARAMS
// The test build's layout: params [a, b, c] become [b, c, a].
constexpr OpInfo RowLayout(OpInfo row) {
  const int n = row.num_params();
  if (n < 2) return row;
  const ParamSpec first = row.params[0];
  for (int k = 1; k < n; ++k) row.params[k - 1] = row.params[k];
  row.params[n - 1] = first;
  return row;
}
#else
constexpr OpInfo RowLayout(OpInfo row) { return row; }
#endif

inline constexpr OpInfo kRows[] = {
#define DLMATH_OP(id_, Name, family_, form_, ...) \
  RowLayout(OpInfo{.id = #id_,                    \
                   .family = Family::family_,     \
                   .form = Form::form_,           \
                   __VA_ARGS__}),
#include "dlmath/ops.def"
#undef DLMATH_OP
};
static_assert(sizeof(kRows) / sizeof(kRows[0]) == kNumOps,
              "ops.def and OpId disagree");

// Not constexpr on purpose: ParamIndex calls it for a name the row lacks, and
// the compiler then reports that name's DLMATH_PARAM as not a constant.
void NoParamOfThisNameInTheRow();
}  // namespace detail

// Index of param `name` in op's row (at compile time only).
consteval int ParamIndex(OpId op, std::string_view name) {
  const OpInfo& row = detail::kRows[static_cast<int>(op)];
  for (int k = 0; k < row.num_params(); ++k)
    if (name == row.params[k].name) return k;
  detail::NoParamOfThisNameInTheRow();
  return -1;
}
// The same with the op as an OpId value, for code shared by several rows
// (a template on OpId kOp: p[DLMATH_PARAM_OF(kOp, base)]). The variable
// template keeps the lookup a compile-time constant there too: clang 14
// rejects a consteval call whose argument is a template parameter.
namespace detail {
template <int kIndex>
inline constexpr int kParamSlot = kIndex;
}  // namespace detail
#define DLMATH_PARAM_OF(op_id, name) \
  (::dlmath::detail::kParamSlot<::dlmath::ParamIndex(op_id, #name)>)
#define DLMATH_PARAM(op, name) DLMATH_PARAM_OF(::dlmath::OpId::op, name)

// One input of a row's `sample`: "x=[4,6] target=[4]in[0,5] w=[6]" gives
// shapes and, after "in", the range sample values are drawn from (integer
// inputs: inclusive integers). Default range [-3, 3].
struct SampleInput {
  std::string name;
  Shape shape;
  double lo = -3, hi = 3;
};
std::vector<SampleInput> ParseSample(const char* text);

std::span<const OpInfo> Ops();
const OpInfo& Op(OpId id);
// nullptr when unknown; see UnknownOp() for the error with suggestions.
const OpInfo* FindOp(std::string_view id);
Status UnknownOp(std::string_view id);
// Up to three of `candidates` near `name` (edit distance, or containing it),
// closest first: the "did you mean" of UnknownOp and of the formula parser.
std::vector<std::string_view> NearestNames(
    std::string_view name, std::span<const std::string_view> candidates);

}  // namespace dlmath

#endif  // DLMATH_REGISTRY_H_
