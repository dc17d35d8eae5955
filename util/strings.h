// Small string helpers shared by every folder.
//
// Debian's Abseil 20220623 keeps absl::string_view as its own class, so the project's
// APIs take std::string_view and convert at Abseil call sites with ToAbsl().
#ifndef BONAFIDE_UTIL_STRINGS_H_
#define BONAFIDE_UTIL_STRINGS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace bonafide {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Appends `s` to `out` as a JSON string literal (quotes included). Invalid UTF-8 bytes
// are replaced by U+FFFD so that the output is always valid JSON.
void AppendJsonString(std::string_view s, std::string& out);

// Appends one JSON object to a caller-owned string, field by field, in the compact form
// the outbox, the rejects file and `--format jsonl` share: {"a":"x","b":1}.
//
//   std::string line;
//   JsonObject(line).String("id", id).Int("line", 7).Raw("reasons", reasons_json).Close();
//
// Keeps a reference to `out`, which must outlive it. Keys are written as given (they are
// literals); values go through AppendJsonString. Thread-compatible.
class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_.push_back('{'); }
  JsonObject& String(std::string_view key, std::string_view value) {
    Key(key);
    AppendJsonString(value, out_);
    return *this;
  }
  JsonObject& Int(std::string_view key, int64_t value) {
    Key(key);
    out_.append(std::to_string(value));
    return *this;
  }
  // `json` must already be valid JSON (a number, an array, an object, true/false/null).
  JsonObject& Raw(std::string_view key, std::string_view json) {
    Key(key);
    out_.append(json);
    return *this;
  }
  // Starts a nested object under `key`; finish it with Close() before the next field.
  JsonObject Object(std::string_view key) {
    Key(key);
    return JsonObject(out_);
  }
  void Close() { out_.push_back('}'); }

 private:
  void Key(std::string_view key) {
    if (out_.back() != '{') out_.push_back(',');
    out_.push_back('"');
    out_.append(key);
    out_.append("\":");
  }
  std::string& out_;
};

// Returns the shortest decimal that reads back as exactly `value` ("1", "0.75", "1e-07";
// -0 gives "0"), a valid JSON number. The one way scores are written: in the outbox, by
// `bonafide scan --format jsonl` and by `bonafide outbox list`. REQUIRES: `value` is finite.
std::string FormatDecimal(double value);

// Returns how many times `c` occurs in `s`. Driven by memchr, so fast when occurrences are
// sparse (newlines in listing dumps: one per few hundred bytes).
size_t CountByte(std::string_view s, char c);

// Returns the offset of the first byte of `s` that does not start a well-formed UTF-8
// sequence (overlong forms, surrogates and truncated sequences included), or npos.
size_t FindInvalidUtf8(std::string_view s);

// Returns true when `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// Returns the length of the longest prefix of the UTF-8 text `s` that is at most `max_bytes`
// bytes and does not split a multi-byte character (s.size() when it fits already). On
// invalid UTF-8 it backs off at most 3 bytes, so it never walks far.
size_t Utf8PrefixLength(std::string_view s, size_t max_bytes);

// Returns true for three upper-case ASCII letters: the shape of an ISO 4217 currency code
// (whether the code is assigned is not checked).
inline bool IsCurrencyCode(std::string_view code) {
  return code.size() == 3 && code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' && code[1] <= 'Z' &&
         code[2] >= 'A' && code[2] <= 'Z';
}

}  // namespace bonafide

#endif  // BONAFIDE_UTIL_STRINGS_H_
