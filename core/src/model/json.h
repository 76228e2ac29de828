// A small strict JSON reader (RFC 8259: no comments, no trailing commas, no
// NaN or Infinity; duplicate keys and nesting deeper than kMaxJsonDepth are
// refused) and the two writers the canonical spec needs. Nothing else in
// the core parses JSON: the model spec and the fit options come through
// here, so the C++ side is the one validator of what JS users type.
#ifndef DLMATH_SRC_MODEL_JSON_H_
#define DLMATH_SRC_MODEL_JSON_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dlmath/status.h"

namespace dlmath::json {

inline constexpr int kMaxJsonDepth = 64;

enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
// "null", "a boolean", "a number", "a string", "an array", "an object".
const char* TypeName(Type t);

struct Member;

struct Value {
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> items;     // kArray
  std::vector<Member> members;  // kObject, in order

  // The member named `key`, or null (also when this is not an object).
  const Value* Find(std::string_view key) const;
};

// An object's member. Not a std::pair: pair<string, Value> inside Value needs
// Value complete (clang with libstdc++ refuses it), a struct defined after it
// does not.
struct Member {
  std::string key;
  Value value;
};

// Parses all of `text` into *out. `what` names the document in messages:
// "<what>: invalid JSON at line 3, column 7: expected ':' after a key".
// Errors have code kBadValue.
Status Parse(std::string_view text, std::string_view what, Value* out);

// Appends the shortest decimal that reads back as the same double (finite
// values only), and a quoted, escaped string.
void AppendNumber(std::string* out, double v);
void AppendString(std::string* out, std::string_view s);

}  // namespace dlmath::json

#endif  // DLMATH_SRC_MODEL_JSON_H_
