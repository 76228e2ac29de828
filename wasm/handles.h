// What every Embind file of the module shares (bindings.cc, and later
// model.cc): the resident Tensor handed to JS, the {error} object every
// entry point returns instead of throwing, and the conversions of shapes,
// names and params from JS values. Marshalling only, no math.
#ifndef DLMATH_WASM_HANDLES_H_
#define DLMATH_WASM_HANDLES_H_

#include <emscripten/val.h>

#include <memory>
#include <string>
#include <vector>

#include "dlmath/dlmath.h"

namespace dlmath::wasm {

// A tensor resident on the wasm heap. JS owns it and releases it with
// .delete() (the facade's dispose()).
class Tensor {
 public:
  Tensor(const Shape& shape, Buffer buf)
      : shape_(shape), buf_(std::move(buf)) {}
  uintptr_t ptr() const { return reinterpret_cast<uintptr_t>(buf_.data()); }
  double size() const { return static_cast<double>(shape_.numel()); }
  emscripten::val shape() const;
  // Same element count, new shape (ops writing into a resident output).
  void Reshape(const Shape& s) { shape_ = s; }
  const Shape& dims() const { return shape_; }
  float* data() { return buf_.data(); }
  const float* data() const { return buf_.data(); }
  ConstTensor view() const { return {buf_.data(), shape_}; }

 private:
  Shape shape_;
  Buffer buf_;
};

// Tensors cross to JS as shared_ptr handles (Embind's smart_ptr), which can
// also sit inside the plain objects the entry points return.
using TensorPtr = std::shared_ptr<Tensor>;
emscripten::val ToJs(const Shape& s, Buffer b);

// {error: {code, op, arg, message, column, length}}.
emscripten::val ErrorObject(const Status& s);

// A JS array of numbers as doubles (the core checks them).
std::vector<double> NumbersFromJs(const emscripten::val& a);

// Heap allocations (malloc & co.) since the module started: alloc_count.cc.
double Allocations();

}  // namespace dlmath::wasm

#endif  // DLMATH_WASM_HANDLES_H_
