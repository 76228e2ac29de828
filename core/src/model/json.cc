// The strict JSON reader: recursive descent over the text with a depth
// count, so no input can overflow the stack.
#include "core/src/model/json.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace dlmath::json {

const char* TypeName(Type t) {
  switch (t) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "a boolean";
    case Type::kNumber:
      return "a number";
    case Type::kString:
      return "a string";
    case Type::kArray:
      return "an array";
    case Type::kObject:
      return "an object";
  }
  return "?";
}

const Value* Value::Find(std::string_view key) const {
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

namespace {

class Reader {
 public:
  Reader(std::string_view text, std::string_view what)
      : s_(text), what_(what) {}

  Status Document(Value* out) {
    SkipSpace();
    if (Status st = ParseValue(out, 0); !st.ok()) return st;
    SkipSpace();
    if (i_ != s_.size()) return Error("unexpected text after the end");
    return {};
  }

 private:
  // Line and column (1-based, bytes) of position i_.
  Status Error(const std::string& why) const {
    int line = 1, col = 1;
    for (size_t k = 0; k < i_ && k < s_.size(); ++k) {
      if (s_[k] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return Status(ErrorCode::kBadValue, "", std::string(what_),
                  std::string(what_) + ": invalid JSON at line " +
                      std::to_string(line) + ", column " + std::to_string(col) +
                      ": " + why);
  }

  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' ||
                              s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  Status ParseValue(Value* v, int depth) {
    if (depth > kMaxJsonDepth)
      return Error("nested deeper than " + std::to_string(kMaxJsonDepth) +
                   " levels");
    if (i_ >= s_.size()) return Error("expected a value, got the end");
    const char c = s_[i_];
    if (c == '{') return ParseObject(v, depth);
    if (c == '[') return ParseArray(v, depth);
    if (c == '"') {
      v->type = Type::kString;
      return ParseString(&v->string);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(v);
    if (Literal("true") || Literal("false")) {
      v->type = Type::kBool;
      v->boolean = c == 't';
      return {};
    }
    if (Literal("null")) {
      v->type = Type::kNull;
      return {};
    }
    return Error(std::string("unexpected character '") + c + "'");
  }

  Status ParseObject(Value* v, int depth) {
    v->type = Type::kObject;
    ++i_;  // '{'
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return {};
    }
    while (true) {
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != '"')
        return Error("expected a key in double quotes");
      std::string key;
      if (Status st = ParseString(&key); !st.ok()) return st;
      if (v->Find(key)) return Error("duplicate key '" + key + "'");
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != ':')
        return Error("expected ':' after the key '" + key + "'");
      ++i_;
      SkipSpace();
      v->members.push_back({std::move(key), Value{}});
      if (Status st = ParseValue(&v->members.back().value, depth + 1); !st.ok())
        return st;
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return {};
      }
      return Error("expected ',' or '}' in an object");
    }
  }

  Status ParseArray(Value* v, int depth) {
    v->type = Type::kArray;
    ++i_;  // '['
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return {};
    }
    while (true) {
      SkipSpace();
      v->items.emplace_back();
      if (Status st = ParseValue(&v->items.back(), depth + 1); !st.ok())
        return st;
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return {};
      }
      return Error("expected ',' or ']' in an array");
    }
  }

  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  // Four hex digits at i_ (after "\u").
  bool Hex4(unsigned* u) {
    if (i_ + 4 > s_.size()) return false;
    *u = 0;
    for (int k = 0; k < 4; ++k) {
      const int h = Hex(s_[i_ + k]);
      if (h < 0) return false;
      *u = *u * 16 + static_cast<unsigned>(h);
    }
    i_ += 4;
    return true;
  }
  static void AppendUtf8(std::string* out, unsigned cp) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  Status ParseString(std::string* out) {
    ++i_;  // opening quote
    while (true) {
      if (i_ >= s_.size()) return Error("unterminated string");
      const char c = s_[i_];
      if (c == '"') {
        ++i_;
        return {};
      }
      if (static_cast<unsigned char>(c) < 0x20)
        return Error("control character in a string (escape it)");
      if (c != '\\') {
        *out += c;
        ++i_;
        continue;
      }
      ++i_;
      if (i_ >= s_.size()) return Error("unterminated string");
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          *out += e;
          break;
        case 'b':
          *out += '\b';
          break;
        case 'f':
          *out += '\f';
          break;
        case 'n':
          *out += '\n';
          break;
        case 'r':
          *out += '\r';
          break;
        case 't':
          *out += '\t';
          break;
        case 'u': {
          unsigned cp;
          if (!Hex4(&cp)) return Error("expected four hex digits after \\u");
          if (cp >= 0xD800 && cp < 0xDC00) {  // a surrogate pair
            unsigned lo;
            if (!(Literal("\\u") && Hex4(&lo) && lo >= 0xDC00 && lo < 0xE000))
              return Error("a high surrogate must be followed by a low one");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return Error("a lone low surrogate");
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          --i_;
          return Error(std::string("unknown escape '\\") + e + "'");
      }
    }
  }

  Status ParseNumber(Value* v) {
    const size_t start = i_;
    auto digits = [&] {
      const size_t from = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ > from;
    };
    if (s_[i_] == '-') ++i_;
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else if (!digits()) {
      return Error("expected digits in a number");
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits()) return Error("expected digits after '.'");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return Error("expected digits in the exponent");
    }
    const std::string text(s_.substr(start, i_ - start));
    v->type = Type::kNumber;
    v->number = std::strtod(text.c_str(), nullptr);
    return {};
  }

  std::string_view s_;
  std::string_view what_;
  size_t i_ = 0;
};

}  // namespace

Status Parse(std::string_view text, std::string_view what, Value* out) {
  *out = Value{};
  return Reader(text, what).Document(out);
}

void AppendNumber(std::string* out, double v) {
  char buf[40];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  *out += buf;
}

void AppendString(std::string* out, std::string_view s) {
  *out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      *out += buf;
    } else {
      *out += c;
    }
  }
  *out += '"';
}

}  // namespace dlmath::json
