// Embind bindings: marshalling only, no math. Generic entry points keyed by
// op id; the typed TS facade (web/src/engine) wraps the `_`-prefixed calls.
//
// Memory: every Tensor handed to JS is owned by JS and released with
// .delete() (the facade's dispose()). Errors come back as {error: {...}}
// objects, never as thrown C++ exceptions or aborts, so the module keeps
// working after any bad call. Every check and every message is the core's
// (dlmath.h): these functions only unpack JS values and pack results.
#include <emscripten/bind.h>
#include <emscripten/val.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dlmath/dlmath.h"
#include "dlmath/formula.h"
#include "dlmath/registry.h"
#include "wasm/handles.h"

namespace dlmath::wasm {

using emscripten::allow_raw_pointers;
using emscripten::val;

val Tensor::shape() const {
  val a = val::array();
  for (int i = 0; i < shape_.rank; ++i)
    a.call<void>("push", static_cast<double>(shape_.dim[i]));
  return a;
}

val ToJs(const Shape& s, Buffer b) {
  return val(std::make_shared<Tensor>(s, std::move(b)));
}

val ErrorObject(const Status& s) {
  val e = val::object();
  e.set("code", std::string(ErrorCodeName(s.code())));
  e.set("op", s.op());
  e.set("arg", s.what());
  e.set("message", s.message());
  e.set("column", s.column());  // formulas: 1-based, code points; else 0
  e.set("length", s.length());
  val r = val::object();
  r.set("error", e);
  return r;
}

std::vector<double> NumbersFromJs(const val& a) {
  const int n = a["length"].as<int>();
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = a[i].as<double>();
  return v;
}

namespace {

// Zeroes a buffer allocated when the heap's break stood at `brk`, skipping
// the part at or above it: Emscripten's malloc never trims (the break only
// grows, MORECORE_CANNOT_TRIM) and wasm memory starts zeroed, so memory at
// or above the old break has never been handed out. Writing 256 MiB of
// fresh pages only to zero them costs seconds on a busy machine (every page
// is faulted in); this way a large zeroed tensor costs nothing until used.
void ZeroNew(uintptr_t brk, float* p, int64_t n) {
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p);
  const uintptr_t end = begin + static_cast<uintptr_t>(n) * sizeof(float);
  const uintptr_t used = std::min(end, std::max(begin, brk));
  if (used > begin) std::memset(p, 0, used - begin);
}

// A JS shape (numbers) and the count of values that come with it (-1:
// none), checked by the core.
Status ShapeFromJs(const val& dims, double values, const std::string& op,
                   const std::string& arg, Shape* s) {
  return ShapeFromNumbers(NumbersFromJs(dims), static_cast<int64_t>(values), op,
                          arg, s);
}

// {tensor} with a new tensor of the given shape, or {error}. `values`:
// how many values the caller will write (they must fill the shape), or -1
// for a zeroed tensor. `op` and `arg` name it in messages.
val CreateTensor(val dims, double values, std::string op, std::string arg) {
  Shape s;
  if (Status st = ShapeFromJs(dims, values, op, arg, &s); !st.ok())
    return ErrorObject(st);
  const uintptr_t brk = reinterpret_cast<uintptr_t>(sbrk(0));
  Buffer b(s.numel());
  if (!b.ok())
    return ErrorObject(
        Status(ErrorCode::kOutOfMemory, op, arg,
               (op.empty() ? std::string("") : "op '" + op + "': ") +
                   "out of memory for a tensor of shape " + s.str() +
                   "; free some tensors (dispose()) or use smaller ones"));
  if (values < 0) ZeroNew(brk, b.data(), b.size());
  val r = val::object();
  r.set("tensor", ToJs(s, std::move(b)));
  return r;
}

// {} when `values` numbers fill `dims`, else {error} (tensor.set()).
val CheckShape(val dims, double values, std::string op, std::string arg) {
  Shape s;
  const Status st = ShapeFromJs(dims, values, op, arg, &s);
  return st.ok() ? val::object() : ErrorObject(st);
}

// Owns the strings the core's string_views point into while a call runs.
struct Args {
  std::vector<std::string> names, pnames, pchoices, gnames;
  std::vector<NamedTensor> inputs;
  std::vector<NamedParam> params;
  std::vector<NamedOut> grad_out;
};

Tensor* TensorFromJs(const val& v) {
  return v.isNull() || v.isUndefined() ? nullptr
                                       : v.as<Tensor*>(allow_raw_pointers());
}

// _call(id, names, tensors, paramNames, paramValues, options): every op
// call. paramValues hold numbers, or strings (an enum param by name).
// options: {backward, value, out, upstream, gradNames, gradTensors}.
// Returns {error}, or {tensor (unless `out` or !value), aux: {name: Tensor},
// grads: {name: Tensor} (backward; not those in gradNames)}.
val CallOp(std::string id, val names, val tensors, val pnames, val pvalues,
           val options) {
  Args a;
  const int n = names["length"].as<int>(), np = pnames["length"].as<int>();
  a.names.reserve(n);
  for (int i = 0; i < n; ++i) {
    a.names.push_back(names[i].as<std::string>());
    const Tensor* t = TensorFromJs(tensors[i]);
    a.inputs.push_back({a.names.back(), t ? t->view() : ConstTensor{}});
  }
  a.pnames.reserve(np);
  a.pchoices.reserve(np);
  for (int i = 0; i < np; ++i) {
    a.pnames.push_back(pnames[i].as<std::string>());
    const val v = pvalues[i];
    NamedParam p{a.pnames.back()};
    if (v.isString()) {
      a.pchoices.push_back(v.as<std::string>());
      p.choice = a.pchoices.back();
    } else {
      p.value = v.as<double>();
    }
    a.params.push_back(p);
  }
  Request req{.id = id, .inputs = a.inputs, .params = a.params};
  req.backward = options["backward"].as<bool>();
  Tensor* out = TensorFromJs(options["out"]);
  if (out) req.out = OutBuffer{out->data(), out->dims().numel()};
  if (const Tensor* up = TensorFromJs(options["upstream"]))
    req.upstream = up->view();
  const val gnames = options["gradNames"], gtensors = options["gradTensors"];
  const int ng = gnames.isUndefined() ? 0 : gnames["length"].as<int>();
  std::vector<Tensor*> gouts(ng);
  a.gnames.reserve(ng);
  for (int i = 0; i < ng; ++i) {
    a.gnames.push_back(gnames[i].as<std::string>());
    gouts[i] = TensorFromJs(gtensors[i]);
    a.grad_out.push_back(
        {a.gnames.back(),
         gouts[i] ? OutBuffer{gouts[i]->data(), gouts[i]->dims().numel()}
                  : OutBuffer{}});
  }
  req.grad_out = a.grad_out;

  Response res;
  if (Status s = Execute(req, &res); !s.ok()) return ErrorObject(s);
  const Call& call = res.call;
  const OpInfo& op = *call.op;
  // d/dparam as one-value tensors, made before any handle goes to JS: a
  // handle built and then dropped on an error would never be freed.
  Buffer dp[kMaxParams];
  for (int k = 0; req.backward && k < op.num_params(); ++k) {
    if (!op.params[k].learnable) continue;
    dp[k] = Buffer(1);
    if (!dp[k].ok())
      return ErrorObject(Status(ErrorCode::kOutOfMemory, id, op.params[k].name,
                                "op '" + id + "': out of memory for the " +
                                    "gradient of '" + op.params[k].name + "'"));
    dp[k].data()[0] = static_cast<float>(res.grads.dp[k]);
  }
  val r = val::object();
  if (out)
    out->Reshape(call.out);
  else if (options["value"].as<bool>())
    r.set("tensor", ToJs(res.ev.shape, std::move(res.ev.y)));
  val aux = val::object();
  for (int k = 0; k < op.num_aux(); ++k)
    aux.set(op.aux[k], ToJs(call.aux[k], std::move(res.ev.aux[k])));
  r.set("aux", aux);
  if (!req.backward) return r;
  for (int i = 0; i < ng; ++i)  // the gradients take their inputs' shapes
    gouts[i]->Reshape(call.in[op.InputIndex(a.gnames[i])].shape);
  val grads = val::object();
  for (int k = 0; k < op.num_inputs(); ++k)
    if (HasGradient(call, k) && !res.into[k])
      grads.set(op.inputs[k].name,
                ToJs(call.in[k].shape, std::move(res.grads.din[k])));
  for (int k = 0; k < op.num_params(); ++k)
    if (op.params[k].learnable)
      grads.set(op.params[k].name, ToJs(Shape{}, std::move(dp[k])));
  r.set("grads", grads);
  return r;
}

#ifndef DLMATH_SHIPPED
val Lang(const char* en, const char* zh) {
  val o = val::object();
  o.set("en", std::string(en));
  o.set("zh", std::string(zh));
  return o;
}

// Metadata of every registry row, for scripts/gen-ops.mjs (the dlmath_meta
// module): it writes ops.json, which dl.ops() and the page read, and the
// TypeScript types. The shipped module's registry has no text to list.
val ListOps() {
  val list = val::array();
  for (const OpInfo& op : Ops()) {
    val o = val::object();
    o.set("id", std::string(op.id));
    o.set("family", std::string(FamilyName(op.family)));
    o.set("form", std::string(FormName(op.form)));
    o.set("kind", std::string(KindName(op.kind)));
    o.set("rowOut", std::string(RowOutName(op.row_out)));
    o.set("title", Lang(op.title_en, op.title_zh));
    val inputs = val::array();
    for (int k = 0; k < op.num_inputs(); ++k) {
      const InputSpec& s = op.inputs[k];
      val i = val::object();
      i.set("name", std::string(s.name));
      i.set("minRank", s.min_rank);
      i.set("maxRank", s.max_rank);
      i.set("differentiable", s.diff);
      i.set("optional", s.optional);
      i.set("integer", s.integer);
      inputs.call<void>("push", i);
    }
    o.set("inputs", inputs);
    val params = val::array();
    for (int k = 0; k < op.num_params(); ++k) {
      const ParamSpec& s = op.params[k];
      val p = val::object();
      p.set("name", std::string(s.name));
      p.set("default", s.def);
      p.set("min", s.lo);
      p.set("max", s.hi);
      p.set("minOpen", s.lo_open);
      p.set("maxOpen", s.hi_open);
      p.set("type", std::string(ParamTypeName(s.type)));
      p.set("learnable", s.learnable);
      val choices = val::array();
      if (s.type == ParamType::kEnum) {
        std::string all(s.choices);
        for (size_t a = 0, b; a <= all.size(); a = b + 1) {
          b = all.find('|', a);
          if (b == std::string::npos) b = all.size();
          choices.call<void>("push", all.substr(a, b - a));
        }
      }
      p.set("choices", choices);
      params.call<void>("push", p);
    }
    o.set("params", params);
    val aux = val::array();
    for (int k = 0; k < op.num_aux(); ++k)
      aux.call<void>("push", std::string(op.aux[k]));
    o.set("aux", aux);
    o.set("sample", std::string(op.sample));
    val samples = val::array();
    for (const SampleInput& si : ParseSample(op.sample)) {
      val e = val::object();
      e.set("name", si.name);
      val dims = val::array();
      for (int i = 0; i < si.shape.rank; ++i)
        dims.call<void>("push", static_cast<double>(si.shape.dim[i]));
      e.set("shape", dims);
      e.set("min", si.lo);
      e.set("max", si.hi);
      samples.call<void>("push", e);
    }
    o.set("sampleInputs", samples);
    o.set("latex", std::string(op.latex));
    o.set("dlatex", std::string(op.dlatex));
    o.set("doc", Lang(op.en, op.zh));
    val props = val::object();
    props.set("range", std::string(op.props.range));
    props.set("monotonic", op.props.monotonic);
    props.set("zeroCentred", op.props.zero_centred);
    props.set("smooth", op.props.smooth);
    o.set("props", props);
    val tol = val::object();
    tol.set("value", op.tol.value);
    tol.set("grad", op.tol.grad);
    tol.set("why", std::string(op.tol.why ? op.tol.why : ""));
    o.set("tolerance", tol);
    o.set("differentiable", op.differentiable());
    list.call<void>("push", o);
  }
  return list;
}
#endif

// The registry's ids in table order: the facade checks that ops.json was
// written from the same registry as the module it loads.
val OpIds() {
  val list = val::array();
  for (const OpInfo& op : Ops()) list.call<void>("push", std::string(op.id));
  return list;
}

// The error codes' names, in table order (status.h): the generator of the
// TypeScript ErrorCode union reads them.
val ErrorCodes() {
  val list = val::array();
  for (int k = 0; k < kNumErrorCodes; ++k)
    list.call<void>("push",
                    std::string(ErrorCodeName(static_cast<ErrorCode>(k))));
  return list;
}

// A compiled formula (dl.formula): JS owns the handle and delete()s it.
class FormulaHandle {
 public:
  explicit FormulaHandle(Formula f) : f_(std::move(f)) {}
  std::string text() const { return f_.text(); }
  std::string latex() const { return f_.latex(); }
  val params() const {
    val a = val::array();
    for (const std::string& p : f_.params()) a.call<void>("push", p);
    return a;
  }
  // {value, grad} (grad only when asked) as new tensors of x's shape, or
  // {error}. Params by name in parallel arrays, checked by the core.
  val Eval(const Tensor* x, val names, val values, bool want_grad) const {
    const int np = names["length"].as<int>();
    std::vector<std::string> pnames;
    std::vector<NamedParam> named;
    pnames.reserve(np);
    for (int i = 0; i < np; ++i) {
      pnames.push_back(names[i].as<std::string>());
      named.push_back({pnames.back(), values[i].as<double>()});
    }
    std::vector<double> pv;
    if (Status s = f_.BindParams(named, &pv); !s.ok()) return ErrorObject(s);
    const int64_t n = x->dims().numel();
    Buffer y(n), dy(want_grad ? n : 0);
    if (!y.ok() || !dy.ok())
      return ErrorObject(Status(
          ErrorCode::kOutOfMemory, "", "",
          "formula: out of memory for " + std::to_string(n) + " values"));
    if (Status s = f_.Eval(x->data(), n, pv, y.data(),
                           want_grad ? dy.data() : nullptr);
        !s.ok())
      return ErrorObject(s);
    val r = val::object();
    r.set("value", ToJs(x->dims(), std::move(y)));
    if (want_grad) r.set("grad", ToJs(x->dims(), std::move(dy)));
    return r;
  }

 private:
  Formula f_;
};
using FormulaPtr = std::shared_ptr<FormulaHandle>;

// {formula} or {error} with the column and length of the offending token.
val CompileFormula(std::string text) {
  Formula f;
  if (Status s = Formula::Compile(text, &f); !s.ok()) return ErrorObject(s);
  val r = val::object();
  r.set("formula", val(std::make_shared<FormulaHandle>(std::move(f))));
  return r;
}

// Bytes currently allocated by malloc: the heap-flatness tests watch it.
double HeapUsed() { return static_cast<double>(mallinfo().uordblks); }

std::string Target() { return ActiveTarget(); }

// The limits the facade needs while it reads JS values (the deepest array
// nesting it follows before asking the core about a shape).
val Limits() {
  val o = val::object();
  o.set("maxRank", kMaxRank);
  o.set("maxElements", static_cast<double>(kMaxElements));
  return o;
}

}  // namespace

EMSCRIPTEN_BINDINGS(dlmath) {
  using namespace emscripten;
  class_<Tensor>("Tensor")
      .smart_ptr<TensorPtr>("TensorPtr")
      .function("ptr", &Tensor::ptr)
      .function("size", &Tensor::size)
      .function("shape", &Tensor::shape);
  class_<FormulaHandle>("Formula")
      .smart_ptr<FormulaPtr>("FormulaPtr")
      .function("text", &FormulaHandle::text)
      .function("latex", &FormulaHandle::latex)
      .function("params", &FormulaHandle::params)
      .function("eval", &FormulaHandle::Eval, allow_raw_pointers());
  function("_tensorCreate", &CreateTensor);
  function("_shapeCheck", &CheckShape);
  function("_formulaCompile", &CompileFormula);
  function("_call", &CallOp);
#ifndef DLMATH_SHIPPED
  function("_listOps", &ListOps);
#endif
  function("_opIds", &OpIds);
  function("_errorCodes", &ErrorCodes);
  function("_heapUsed", &HeapUsed);
  function("_target", &Target);
  function("_limits", &Limits);
}

}  // namespace dlmath::wasm
