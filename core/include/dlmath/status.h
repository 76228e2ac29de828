// Error values. The core never throws and never aborts on bad input: every
// check returns a Status whose message names the op, the input or param, and
// the problem, so the JS layer can raise it as a DlmathError verbatim.
#ifndef DLMATH_STATUS_H_
#define DLMATH_STATUS_H_

#include <string>
#include <utility>

namespace dlmath {

// The one table of error codes: the C++ enum and the stable lower-case names
// a JS DlmathError carries as its `code` (scripts/gen-ops.mjs generates the
// TypeScript union from this table through the module's _errorCodes()).
// Append new codes; never rename one.
#define DLMATH_ERROR_CODES(X)                                                  \
  X(kOk, "ok")                                                                 \
  X(kUnknownOp, "unknown_op")                                                  \
  X(kUnknownInput, "unknown_input")                                            \
  X(kMissingInput, "missing_input")                                            \
  X(kBadRank, "bad_rank")                                                      \
  X(kBadShape, "bad_shape")                                                    \
  X(kUnknownParam, "unknown_param")                                            \
  X(kBadParam, "bad_param")                                                    \
  X(kTooLarge, "too_large")                                                    \
  X(kOutOfMemory, "out_of_memory")                                             \
  X(kBadType, "bad_type")                                                      \
  X(kNotDifferentiable, "not_differentiable")                                  \
  /* an input value outside its domain (class index >= C, ...) */              \
  X(kBadValue, "bad_value")                                                    \
  /* formula text that does not parse (see formula.h) */                       \
  X(kBadFormula, "bad_formula")                                                \
  /* an output buffer that overlaps an input or another output in a way the */ \
  /* op cannot run with (see Execute in dlmath.h) */                           \
  X(kAliasedOutput, "aliased_output")                                          \
  /* JS: a tensor or formula used after dispose() */                           \
  X(kDisposed, "disposed")

enum class ErrorCode {
#define DLMATH_ERROR_ENUM(code, name) code,
  DLMATH_ERROR_CODES(DLMATH_ERROR_ENUM)
#undef DLMATH_ERROR_ENUM
};
inline constexpr int kNumErrorCodes =
    static_cast<int>(ErrorCode::kDisposed) + 1;

// Stable, lower-case names used as the `code` of a JS DlmathError.
const char* ErrorCodeName(ErrorCode code);

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string op, std::string what, std::string message)
      : code_(code),
        op_(std::move(op)),
        what_(std::move(what)),
        message_(std::move(message)) {}

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& op() const { return op_; }      // op id, may be empty
  const std::string& what() const { return what_; }  // input/param name
  const std::string& message() const { return message_; }

  // Where in a formula's text the error sits: 1-based column counted in
  // Unicode code points and the offending token's length in code points;
  // 0 when the error has no place (every error that is not about a formula).
  int column() const { return column_; }
  int length() const { return length_; }
  Status& At(int column, int length) {
    column_ = column;
    length_ = length;
    return *this;
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string op_, what_, message_;
  int column_ = 0, length_ = 0;
};

}  // namespace dlmath

#endif  // DLMATH_STATUS_H_
