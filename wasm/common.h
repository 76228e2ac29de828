// What the Embind files of wasm/ share (internal, not a public header).
#ifndef DLMATH_WASM_COMMON_H_
#define DLMATH_WASM_COMMON_H_

#include <emscripten/val.h>

#include <string>

#include "dlmath/status.h"

namespace dlmath::wasm {

// {error: {code, op, arg, message, column, length}}: the facade throws it as
// a DlmathError (web/src/engine/errors.ts, toError).
inline emscripten::val ErrorObject(const Status& s) {
  using emscripten::val;
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

// Heap allocations (malloc & co.) since the module started: alloc_count.cc.
double Allocations();

}  // namespace dlmath::wasm

#endif  // DLMATH_WASM_COMMON_H_
