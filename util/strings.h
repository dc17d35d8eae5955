// Small string helpers shared by every folder.
//
// Debian's Abseil 20220623 keeps absl::string_view as its own class, so the project's
// APIs take std::string_view and convert at Abseil call sites with ToAbsl().
#ifndef BONAFIDE_UTIL_STRINGS_H_
#define BONAFIDE_UTIL_STRINGS_H_

#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace bonafide {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view ToStd(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

// Appends `s` to `out` as a JSON string literal (quotes included). Invalid UTF-8 bytes
// are replaced by U+FFFD so that the output is always valid JSON.
void AppendJsonString(std::string_view s, std::string& out);

// Returns how many times `c` occurs in `s`. Driven by memchr, so fast when occurrences are
// sparse (newlines in listing dumps: one per few hundred bytes).
size_t CountByte(std::string_view s, char c);

// Returns true when `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

}  // namespace bonafide

#endif  // BONAFIDE_UTIL_STRINGS_H_
