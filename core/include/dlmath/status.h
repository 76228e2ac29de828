// Error values. The core never throws and never aborts on bad input: every
// check returns a Status whose message names the op, the input or param, and
// the problem, so the JS layer can raise it as a DlmathError verbatim.
#ifndef DLMATH_STATUS_H_
#define DLMATH_STATUS_H_

#include <string>
#include <utility>

namespace dlmath {

enum class ErrorCode {
  kOk = 0,
  kUnknownOp,
  kUnknownInput,
  kMissingInput,
  kBadRank,
  kBadShape,
  kUnknownParam,
  kBadParam,
  kTooLarge,
  kOutOfMemory,
  kBadType,
  kNotDifferentiable,
  kBadValue,  // an input value outside its domain (class index >= C, ...)
};

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

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string op_, what_, message_;
};

}  // namespace dlmath

#endif  // DLMATH_STATUS_H_
