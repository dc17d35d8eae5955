// Text normalisation that defeats evasive spellings of brand names.
//
// Every field is folded, in one linear pass over its bytes, into a matching form:
//   - lower case; accents and other combining marks removed ("Adídas" -> "adidas");
//   - Unicode compatibility forms (full-width "Ｎｉｋｅ", mathematical letters "𝐍𝐢𝐤𝐞",
//     ligatures) and look-alike letters from other scripts (Cyrillic "Nіkе", Greek "Νike")
//     folded to ASCII through a table generated at build time from ICU's NFKC case folding
//     and confusables data (rules/fold_table_gen.cc);
//   - digits and symbols standing for letters inside words ("N1ke", "Ad!das", "$upreme",
//     "@pple") replaced by the letters, but never in number-like tokens ("100ml", "64gb",
//     "1:1", "2nd", "ps5");
//   - letters spaced or dotted apart ("N i k e", "N.i.k.e", "L o u i s V u i t t o n")
//     joined into one word;
//   - runs of white space and control characters collapsed to one space; invalid UTF-8
//     bytes become a space; invisible characters (zero-width space, soft hyphen) dropped.
// Pure ASCII input takes a fast path that skips the Unicode table.
//
// Each output byte remembers where it came from (for reasons that quote the original text)
// and whether it came from an evasive form (for the `obfuscated_brand` signal). Plain case
// and accent differences are not evasive.
//
// The rule compiler normalises brand names, keywords and phrases with the same function,
// so patterns and text always meet in the same form.
#ifndef BONAFIDE_RULES_NORMALIZE_H_
#define BONAFIDE_RULES_NORMALIZE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace bonafide::rules {

// An allocator whose value-less construct() default-initialises: resize() of a vector of
// bytes or integers then leaves the new elements unwritten. NormalizeAppend sizes its output
// for the worst case and writes every element it keeps, so zero-filling first (as
// std::allocator does) would be wasted work on every field of every listing.
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  UninitializedAllocator() = default;
  // Implicit, as the allocator requirements want for rebinding.
  template <typename U>
  // NOLINTNEXTLINE(google-explicit-constructor)
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// Output of Normalize(). Reuse one per thread: Clear() keeps capacity, so the steady state
// allocates nothing. Thread-compatible.
struct NormalizedText {
  std::string text;  // normalised UTF-8; ASCII except for characters with no ASCII fold
  // origin[i] = byte offset, in the input, of the character that produced text[i].
  // Non-decreasing. Same size as `text`.
  std::vector<uint32_t, UninitializedAllocator<uint32_t>> origin;
  // evasive[i] != 0 when text[i] was produced from an evasive form: a look-alike letter
  // from another script, a compatibility form (full-width, mathematical), a digit or symbol
  // standing for a letter, or a letter joined from a spaced/dotted-apart run. Same size as
  // `text`.
  std::vector<uint8_t, UninitializedAllocator<uint8_t>> evasive;
  // True when `origin` and `evasive` are left empty because every text[i] came from input
  // byte i and none is evasive (NormalizeField on plain ASCII that nothing moved). Read
  // them through OriginAt() and IsEvasive(), which hold either way.
  bool plain = false;

  uint32_t OriginAt(size_t i) const { return plain ? static_cast<uint32_t>(i) : origin[i]; }
  bool IsEvasive(size_t i) const { return !plain && evasive[i] != 0; }
  // Writes out `origin` and `evasive` of a plain text (then `plain` is false).
  void MaterializeOrigins();

  void Clear() {
    text.clear();
    origin.clear();
    evasive.clear();
    plain = false;
  }
  size_t size() const { return text.size(); }
};

// Appends the normalised form of `input` to `out`. `origin` values are offsets into
// `input`. Never fails: invalid UTF-8 becomes spaces. Thread-safe (no shared state).
// White space at either end of `input` is dropped, so to normalise several fields into one
// `out`, append a separator (e.g. a ' ' with its origin and evasive entries) in between.
// Allocates nothing when `out` has capacity for 4 * input.size() more bytes (input.size()
// when `input` is pure ASCII). A plain `out` (see NormalizeField) is materialised first.
void NormalizeAppend(std::string_view input, NormalizedText& out);

// Sets `out` to the normalised form of `input` alone: the text of NormalizeAppend into an
// empty `out`, but when its origins would be the input offsets and nothing is evasive (most
// ASCII fields), `origin` and `evasive` are not written and `out.plain` is set. For the
// scan, which reads origins only where a pattern matched. Allocates as NormalizeAppend.
void NormalizeField(std::string_view input, NormalizedText& out);

// Returns the normalised text of `input` alone (compile side and tests; allocates).
std::string Normalize(std::string_view input);

// Returns the byte offset, in `input`, just past the character that produced
// `text[i]` of a NormalizedText built from `input`, including combining marks that
// were folded away after it ("e" + U+0301). REQUIRES: i < n.size(). Use it to quote the original
// text of a match [b, e): input.substr(n.OriginAt(b), OriginEnd(input, n, e - 1) - n.OriginAt(b)).
uint32_t OriginEnd(std::string_view input, const NormalizedText& n, size_t i);

// NormalizeField folds pure-ASCII text 32 bytes at a time on CPUs with AVX2 (found at run
// time; the build targets CPUs without it), 16 at a time otherwise, with the same results.
// For tests of that: turns the AVX2 path off or back on (not while other threads
// normalise). Returns whether this CPU has AVX2.
bool UseAvx2ForTesting(bool enabled);

}  // namespace bonafide::rules

#endif  // BONAFIDE_RULES_NORMALIZE_H_
