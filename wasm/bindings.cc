// Embind bindings: marshalling only, no math. Generic entry points keyed by
// op id; the typed TS facade (web/src/engine) wraps the `_`-prefixed calls.
//
// Memory: every Tensor handed to JS is owned by JS and released with
// .delete() (the facade's dispose()). Errors come back as {error: {...}}
// objects, never as thrown C++ exceptions or aborts, so the module keeps
// working after any bad call.
#include <emscripten/bind.h>
#include <emscripten/val.h>
#include <malloc.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dlmath/dlmath.h"
#include "dlmath/formula.h"
#include "dlmath/registry.h"
#include "wasm/common.h"

namespace dlmath::wasm {
namespace {

using emscripten::allow_raw_pointers;
using emscripten::val;

// A tensor resident on the wasm heap.
class Tensor {
 public:
  Tensor(const Shape& shape, Buffer buf)
      : shape_(shape), buf_(std::move(buf)) {}
  uintptr_t ptr() const { return reinterpret_cast<uintptr_t>(buf_.data()); }
  double size() const { return static_cast<double>(shape_.numel()); }
  val shape() const {
    val a = val::array();
    for (int i = 0; i < shape_.rank; ++i)
      a.call<void>("push", static_cast<double>(shape_.dim[i]));
    return a;
  }
  // Same element count, new shape (ops writing into a resident output).
  void Reshape(const Shape& s) { shape_ = s; }
  const Shape& dims() const { return shape_; }
  float* data() { return buf_.data(); }
  const float* data() const { return buf_.data(); }

 private:
  Shape shape_;
  Buffer buf_;
};

Shape ShapeFromJs(const val& a) {
  Shape s;
  s.rank = a["length"].as<int>();
  for (int i = 0; i < s.rank && i < kMaxRank; ++i)
    s.dim[i] = static_cast<int64_t>(a[i].as<double>());
  return s;
}

// Tensors cross to JS as shared_ptr handles (Embind's smart_ptr), which can
// also sit inside the plain objects returned by _eval and _grad.
using TensorPtr = std::shared_ptr<Tensor>;
val ToJs(const Shape& s, Buffer b) {
  return val(std::make_shared<Tensor>(s, std::move(b)));
}

// The facade validated the shape (non-negative integers, rank <= 8, within
// the element limit); null means the allocation failed.
val CreateTensor(val shape_js) {
  const Shape s = ShapeFromJs(shape_js);
  Buffer b(s.numel());
  if (!b.ok()) return val::null();
  return ToJs(s, std::move(b));
}

// Unpacks the parallel arrays the facade passes into a validated Call.
struct CallArgs {
  std::vector<std::string> names, pnames;
  std::vector<NamedTensor> inputs;
  std::vector<NamedParam> params;
};

Status PrepareFromJs(const std::string& id, const val& names,
                     const val& tensors, const val& pnames, const val& pvalues,
                     CallArgs* a, Call* call) {
  const int n = names["length"].as<int>();
  const int np = pnames["length"].as<int>();
  a->names.reserve(n);
  a->pnames.reserve(np);
  for (int i = 0; i < n; ++i) {
    a->names.push_back(names[i].as<std::string>());
    const Tensor* t = tensors[i].as<Tensor*>(allow_raw_pointers());
    a->inputs.push_back({a->names.back(), {t->data(), t->dims()}});
  }
  for (int i = 0; i < np; ++i) {
    a->pnames.push_back(pnames[i].as<std::string>());
    a->params.push_back({a->pnames.back(), pvalues[i].as<double>()});
  }
  return Prepare(id, a->inputs, a->params, call);
}

// {tensor, aux} with the result in a new Tensor, or {aux} after writing it
// into `out`; aux maps each secondary output's name to a new Tensor.
val Eval(std::string id, val names, val tensors, val pnames, val pvalues,
         Tensor* out) {
  CallArgs args;
  Call call;
  if (Status s =
          PrepareFromJs(id, names, tensors, pnames, pvalues, &args, &call);
      !s.ok())
    return ErrorObject(s);
  if (out && out->size() != static_cast<double>(call.out.numel()))
    return ErrorObject(Status(
        ErrorCode::kBadShape, id, "out",
        "op '" + id + "': the output tensor holds " +
            std::to_string(out->dims().numel()) + " values, the result " +
            call.out.str() + " needs " + std::to_string(call.out.numel())));
  Evaluation ev;
  if (Status s = Run(call, &ev, out ? out->data() : nullptr); !s.ok())
    return ErrorObject(s);
  val r = val::object();
  if (out)
    out->Reshape(call.out);
  else
    r.set("tensor", ToJs(ev.shape, std::move(ev.y)));
  val aux = val::object();
  for (int k = 0; k < call.op->num_aux(); ++k)
    aux.set(call.op->aux[k], ToJs(call.aux[k], std::move(ev.aux[k])));
  r.set("aux", aux);
  return r;
}

// {grads: {name: Tensor}} for every differentiable input and learnable param;
// inputs named in `outs` ({name: Tensor}) get their gradient written there
// instead (and are left out of `grads`).
val Grad(std::string id, val names, val tensors, val pnames, val pvalues,
         Tensor* upstream, val outs) {
  CallArgs args;
  Call call;
  if (Status s =
          PrepareFromJs(id, names, tensors, pnames, pvalues, &args, &call);
      !s.ok())
    return ErrorObject(s);
  if (upstream && !(upstream->dims() == call.out))
    return ErrorObject(Status(
        ErrorCode::kBadShape, id, "upstream",
        "op '" + id + "': the upstream gradient must have the output's shape " +
            call.out.str() + ", got " + upstream->dims().str()));
  const OpInfo& op = *call.op;
  float* into[kMaxInputs] = {};
  for (int k = 0; k < op.num_inputs(); ++k) {
    const val o =
        outs.isUndefined() ? val::undefined() : outs[op.inputs[k].name];
    if (o.isUndefined() || o.isNull() || !op.inputs[k].diff) continue;
    Tensor* t = o.as<Tensor*>(allow_raw_pointers());
    if (!(t->dims().numel() == call.in[k].shape.numel()))
      return ErrorObject(
          Status(ErrorCode::kBadShape, id, op.inputs[k].name,
                 "op '" + id + "': the output tensor for the gradient of '" +
                     op.inputs[k].name + "' holds " +
                     std::to_string(t->dims().numel()) +
                     " values, the input has shape " + call.in[k].shape.str()));
    t->Reshape(call.in[k].shape);
    into[k] = t->data();
  }
  Evaluation ev;
  if (Status s = Run(call, &ev); !s.ok()) return ErrorObject(s);
  Gradients g;
  if (Status s = RunBackward(call, &ev, upstream ? upstream->data() : nullptr,
                             &g, into);
      !s.ok())
    return ErrorObject(s);
  val grads = val::object();
  for (int k = 0; k < op.num_inputs(); ++k)
    if (op.inputs[k].diff && !into[k])
      grads.set(op.inputs[k].name, ToJs(call.in[k].shape, std::move(g.din[k])));
  for (int k = 0; k < op.num_params(); ++k) {
    if (!op.params[k].learnable) continue;
    Buffer b(1);
    if (!b.ok())
      return ErrorObject(
          Status(ErrorCode::kOutOfMemory, id, "", "out of memory"));
    b.data()[0] = static_cast<float>(g.dp[k]);
    grads.set(op.params[k].name, ToJs(Shape{}, std::move(b)));
  }
  val r = val::object();
  r.set("grads", grads);
  return r;
}

val Lang(const char* en, const char* zh) {
  val o = val::object();
  o.set("en", std::string(en));
  o.set("zh", std::string(zh));
  return o;
}

// Metadata of every registry row, for dl.ops(), the page and the generator
// of the TypeScript op-id union.
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
double MaxElements() { return static_cast<double>(kMaxElements); }

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
  function("_formulaCompile", &CompileFormula);
  function("_eval", &Eval, allow_raw_pointers());
  function("_grad", &Grad, allow_raw_pointers());
  function("_listOps", &ListOps);
  function("_heapUsed", &HeapUsed);
  function("_target", &Target);
  function("_maxElements", &MaxElements);
}

}  // namespace dlmath::wasm
