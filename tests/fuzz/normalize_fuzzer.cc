// Fuzz target: text normalisation (rules/normalize.h).
//
// Invariants for any bytes x:
//   - Normalize(x) is valid UTF-8;
//   - idempotent: Normalize(Normalize(x)) == Normalize(x);
//   - NormalizeAppend gives the same text, with origin and evasive as long as the text,
//     origins non-decreasing and inside x, and OriginEnd(x, n, i) in (origin[i], |x|];
//   - appending after existing content leaves that content alone and only adds;
//   - NormalizeField gives NormalizeAppend's text, OriginAt() and IsEvasive(), and leaves
//     origin and evasive empty only when it is plain.
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <string_view>

#include "rules/normalize.h"
#include "tests/fuzz/fuzz_check.h"
#include "util/strings.h"

namespace bonafide::fuzz {
namespace {

std::string Hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s.substr(0, 200)) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace
}  // namespace bonafide::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace bonafide::fuzz;  // NOLINT(google-build-using-namespace)
  using bonafide::rules::NormalizedText;
  const std::string_view x(reinterpret_cast<const char*>(bytes), size);
  const std::string once = bonafide::rules::Normalize(x);
  BONAFIDE_FUZZ_CHECK(bonafide::FindInvalidUtf8(once) == std::string_view::npos,
                      "invalid UTF-8 in output %s of %s", Hex(once).c_str(), Hex(x).c_str());
  const std::string twice = bonafide::rules::Normalize(once);
  BONAFIDE_FUZZ_CHECK(twice == once, "not idempotent: x=%s once=%s twice=%s", Hex(x).c_str(),
                      Hex(once).c_str(), Hex(twice).c_str());

  static NormalizedText* n = new NormalizedText;  // reused, like a worker's scratch
  n->Clear();
  bonafide::rules::NormalizeAppend(x, *n);
  BONAFIDE_FUZZ_CHECK(n->text == once, "NormalizeAppend differs from Normalize");
  BONAFIDE_FUZZ_CHECK(n->origin.size() == n->text.size() && n->evasive.size() == n->text.size(),
                      "sizes %zu %zu %zu", n->text.size(), n->origin.size(), n->evasive.size());
  for (size_t i = 0; i < n->size(); ++i) {
    BONAFIDE_FUZZ_CHECK(n->origin[i] < x.size(), "origin[%zu] = %u >= %zu", i, n->origin[i],
                        x.size());
    BONAFIDE_FUZZ_CHECK(i == 0 || n->origin[i - 1] <= n->origin[i], "origin decreases at %zu", i);
    const uint32_t end = bonafide::rules::OriginEnd(x, *n, i);
    BONAFIDE_FUZZ_CHECK(end > n->origin[i] && end <= x.size(), "OriginEnd(%zu) = %u", i, end);
  }

  static NormalizedText* field = new NormalizedText;
  bonafide::rules::NormalizeField(x, *field);
  BONAFIDE_FUZZ_CHECK(field->text == once, "NormalizeField differs from Normalize");
  BONAFIDE_FUZZ_CHECK(field->plain ? field->origin.empty() && field->evasive.empty()
                                   : field->origin.size() == field->size(),
                      "NormalizeField sizes %zu %zu (plain %d)", field->size(),
                      field->origin.size(), field->plain);
  for (size_t i = 0; i < field->size(); ++i) {
    BONAFIDE_FUZZ_CHECK(
        field->OriginAt(i) == n->origin[i] && field->IsEvasive(i) == (n->evasive[i] != 0),
        "NormalizeField differs from NormalizeAppend at %zu of %s", i, Hex(x).c_str());
  }

  // Appending after existing content keeps it and appends the same text.
  const size_t before = n->size();
  const std::string prefix = n->text;
  n->text.push_back(' ');
  n->origin.push_back(0);
  n->evasive.push_back(0);
  bonafide::rules::NormalizeAppend(x, *n);
  BONAFIDE_FUZZ_CHECK(n->text.compare(0, before, prefix) == 0, "append changed the prefix");
  BONAFIDE_FUZZ_CHECK(n->text.substr(before + 1) == once, "append gave other text");
  return 0;
}
