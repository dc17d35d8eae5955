// Implementation of rules/normalize.h.
//
// One call runs three steps over the appended region of `out`:
//   1. Fold: decode UTF-8 and write each character's folded form (ASCII: a 256-entry
//      table; otherwise the generated table in fold_table.inc), collapsing runs of white
//      space, control characters and invalid bytes to one space. Pure-ASCII input takes a
//      branch-free loop. The output arrays are resized to an upper bound first and written
//      through raw pointers, then shrunk: with enough capacity nothing is allocated.
//   2. Words: one scan over ASCII tokens replaces leet characters inside words and joins
//      letters spaced or dotted apart, compacting the arrays in place (output never grows).
//   3. Shrink to the final size.
#include "rules/normalize.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace bonafide::rules {
namespace {

// Must match enum Kind in rules/fold_table_gen.cc.
enum FoldKind : uint8_t {
  kUnmapped = 0,
  kDropMark = 1,       // combining mark: no output
  kDropInvisible = 2,  // invisible: no output, next output char is evasive
  kSpace = 3,          // white space / control: collapsed to one space
  kPlain = 4,          // replacement, not evasive
  kEvasive = 5,        // replacement, evasive
};

struct FoldEntry {
  uint8_t kind;
  uint8_t len;
  uint8_t bytes[8];
};

struct FoldSupp {
  uint32_t cp;
  uint16_t entry;
};

#include "fold_table.inc"

const FoldEntry& LookupFold(uint32_t cp) {
  if (cp < 0x10000) {
    return kFoldEntries[kFoldBmpIndex[(static_cast<uint32_t>(kFoldBmpBlock[cp >> 8]) << 8) |
                                      (cp & 0xFF)]];
  }
  const FoldSupp* end = kFoldSupp + std::size(kFoldSupp);
  const FoldSupp* it =
      std::lower_bound(kFoldSupp, end, cp, [](const FoldSupp& s, uint32_t c) { return s.cp < c; });
  if (it != end && it->cp == cp) return kFoldEntries[it->entry];
  return kFoldEntries[0];
}

// ASCII fold: lower case; white space and control characters become ' '.
constexpr std::array<uint8_t, 256> MakeAsciiFold() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = static_cast<uint8_t>(c);
    if (c < 0x20 || c == 0x7F) v = ' ';
    if (c >= 'A' && c <= 'Z') v = static_cast<uint8_t>(c + ('a' - 'A'));
    t[c] = v;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kAsciiFold = MakeAsciiFold();

// Character classes of normalised (lower-case) ASCII bytes for the word passes.
enum : uint8_t {
  kLetter = 1,   // a-z
  kDigit = 2,    // 0-9
  kLeetSym = 4,  // @ $ ! |
  kLeet = 8,     // stands for a letter: 0 1 3 4 5 7 8 @ $ ! |
  kHigh = 16,    // byte >= 0x80 (part of a non-ASCII character)
  kSep = 32,     // separator of spaced letters: ' ' . - _ *
  kToken = kLetter | kDigit | kLeetSym,
};

constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kLetter;
  for (int c = '0'; c <= '9'; ++c) t[c] = kDigit;
  for (char c : {'@', '$', '!', '|'}) t[static_cast<uint8_t>(c)] = kLeetSym;
  for (char c : {'0', '1', '3', '4', '5', '7', '8', '@', '$', '!', '|'}) {
    t[static_cast<uint8_t>(c)] |= kLeet;
  }
  for (int c = 0x80; c < 256; ++c) t[c] = kHigh;
  for (char c : {' ', '.', '-', '_', '*'}) t[static_cast<uint8_t>(c)] = kSep;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClasses();

constexpr std::array<char, 256> MakeLeetLetter() {
  std::array<char, 256> t{};
  const char* from = "0134578@$!|";
  const char* to = "oieastbasil";
  for (int i = 0; from[i] != 0; ++i) t[static_cast<uint8_t>(from[i])] = to[i];
  for (int c = 'a'; c <= 'z'; ++c) t[c] = static_cast<char>(c);
  return t;
}
constexpr std::array<char, 256> kLeetLetter = MakeLeetLetter();

// Words that follow a number as a unit: "3pcs", "5pack" keep their digit.
constexpr std::string_view kUnits[] = {
    "ghz",    "mhz",    "khz",    "mah",    "pcs",     "pack",   "packs",   "inch",  "inches",
    "pair",   "pairs",  "piece",  "pieces", "set",     "sets",   "lbs",     "kgs",   "ltr",
    "day",    "days",   "hrs",    "hour",   "hours",   "min",    "mins",    "sec",   "secs",
    "year",   "years",  "yrs",    "month",  "months",  "week",   "weeks",   "cell",  "core",
    "cores",  "color",  "colors", "colour", "colours", "port",   "ports",   "way",   "star",
    "stars",  "layer",  "layers", "tier",   "gang",    "pin",    "pins",    "bit",   "kbps",
    "mbps",   "gbps",   "watt",   "watts",  "volt",    "volts",  "amp",     "amps",  "ohm",
    "feet",   "foot",   "meter",  "meters", "metre",   "metres", "mtr",     "cup",   "cups",
    "seater", "door",   "doors",  "burner", "speed",   "player", "players", "wheel", "wheels",
    "axis",   "ply",    "pcs",    "pce",    "gen",     "mph",    "rpm",     "kwh",   "fps",
    "dpi",    "ppm",    "tbsp",   "tsp",    "gal",     "qty",    "units",   "unit",  "rolls",
    "roll",   "sheets", "bags",   "boxes",  "bottles",
};

bool IsUnit(std::string_view word) {
  for (std::string_view u : kUnits) {
    if (u == word) return true;
  }
  return false;
}

// Decodes one UTF-8 character at p[0..n), n >= 1, p[0] >= 0x80. Returns its length, or
// 0 for an invalid sequence (the caller consumes one byte). Never reads past p + n.
inline size_t DecodeUtf8(const uint8_t* p, size_t n, uint32_t* cp) {
  uint8_t c = p[0];
  if (c < 0xC2) return 0;
  if (c < 0xE0) {
    if (n < 2 || (p[1] & 0xC0) != 0x80) return 0;
    *cp = ((c & 0x1Fu) << 6) | (p[1] & 0x3Fu);
    return 2;
  }
  if (c < 0xF0) {
    if (n < 3) return 0;
    uint8_t lo = c == 0xE0 ? 0xA0 : 0x80;
    uint8_t hi = c == 0xED ? 0x9F : 0xBF;
    if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80) return 0;
    *cp = ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    return 3;
  }
  if (c < 0xF5) {
    if (n < 4) return 0;
    uint8_t lo = c == 0xF0 ? 0x90 : 0x80;
    uint8_t hi = c == 0xF4 ? 0x8F : 0xBF;
    if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
    *cp = ((c & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
    return 4;
  }
  return 0;
}

bool IsAscii(const uint8_t* p, size_t n) {
  size_t i = 0;
  uint64_t acc = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    acc |= w;
  }
  for (; i < n; ++i) acc |= p[i];
  return (acc & 0x8080808080808080ULL) == 0;
}

// Raw view of the arrays being written.
struct Out {
  char* t;
  uint32_t* o;
  uint8_t* e;
};

// Length of a separator of spaced letters starting at t[i] ("·" and "•" included), or 0.
inline size_t SepCharLen(const char* t, size_t i, size_t end) {
  uint8_t c = static_cast<uint8_t>(t[i]);
  if (kClass[c] & kSep) return 1;
  if (c == 0xC2 && i + 1 < end && static_cast<uint8_t>(t[i + 1]) == 0xB7) return 2;
  if (c == 0xE2 && i + 2 < end && static_cast<uint8_t>(t[i + 1]) == 0x80 &&
      static_cast<uint8_t>(t[i + 2]) == 0xA2) {
    return 3;
  }
  return 0;
}

// Length of a separator group [' '] [punct] [' '] at t[i], or 0.
inline size_t SepGroupLen(const char* t, size_t i, size_t end) {
  size_t j = i;
  if (j < end && t[j] == ' ') ++j;
  if (j < end && t[j] != ' ') {
    size_t k = SepCharLen(t, j, end);
    if (k > 0) {
      j += k;
      if (j < end && t[j] == ' ') ++j;
    }
  }
  return j - i;
}

// Whether t[i] ends a word on the left: i == begin, an ASCII non-word byte, or the last
// byte of "·" / "•".
inline bool LeftBoundary(const char* t, size_t begin, size_t i) {
  if (i == begin) return true;
  uint8_t c = static_cast<uint8_t>(t[i - 1]);
  if ((kClass[c] & (kToken | kHigh)) == 0) return true;
  if (c == 0xB7 && i - 1 > begin && static_cast<uint8_t>(t[i - 2]) == 0xC2) return true;
  if (c == 0xA2 && i - 2 > begin && static_cast<uint8_t>(t[i - 2]) == 0x80 &&
      static_cast<uint8_t>(t[i - 3]) == 0xE2) {
    return true;
  }
  return false;
}

inline bool RightBoundary(const char* t, size_t i, size_t end) {
  if (i == end) return true;
  uint8_t c = static_cast<uint8_t>(t[i]);
  if ((kClass[c] & (kToken | kHigh)) == 0) return true;
  if (c == '!' || c == '|') {  // "e!" ends a word, "e!e" does not
    while (i < end && (t[i] == '!' || t[i] == '|')) ++i;
    return i == end || (kClass[static_cast<uint8_t>(t[i])] & (kToken | kHigh)) == 0;
  }
  return SepCharLen(t, i, end) > 1;
}

// A character that may stand alone in a spaced-apart word: a letter, a leet digit, '$'
// or '@' ('!' and '|' are too often separators themselves).
inline bool SpacedChar(uint8_t c) {
  return (kClass[c] & kLetter) != 0 || ((kClass[c] & kLeet) != 0 && c != '!' && c != '|');
}

// Replaces leet characters in the token t[s, e) (see normalize.h), in place.
void LeetToken(Out out, size_t s, size_t e) {
  char* t = out.t;
  int letters = 0;
  for (size_t i = s; i < e; ++i) letters += (kClass[static_cast<uint8_t>(t[i])] & kLetter) != 0;
  if (letters < 2) return;
  // (a) Runs of at most 2 leet chars with a letter on both sides.
  for (size_t i = s + 1; i < e;) {
    if ((kClass[static_cast<uint8_t>(t[i])] & kLeet) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < e && (kClass[static_cast<uint8_t>(t[j])] & kLeet) != 0) ++j;
    if (j - i <= 2 && j < e && (kClass[static_cast<uint8_t>(t[i - 1])] & kLetter) &&
        (kClass[static_cast<uint8_t>(t[j])] & kLetter)) {
      for (size_t k = i; k < j; ++k) {
        t[k] = kLeetLetter[static_cast<uint8_t>(t[k])];
        out.e[k] = 1;
      }
    }
    i = j;
  }
  uint8_t first = static_cast<uint8_t>(t[s]);
  // (b) Leading '$' or '@' directly followed by a letter.
  if ((first == '$' || first == '@') && (kClass[static_cast<uint8_t>(t[s + 1])] & kLetter)) {
    t[s] = kLeetLetter[first];
    out.e[s] = 1;
    return;
  }
  // (c) A single leading leet digit followed only by letters (at least 3), not a unit.
  if ((kClass[first] & kDigit) && (kClass[first] & kLeet) && e - s >= 4) {
    for (size_t i = s + 1; i < e; ++i) {
      if ((kClass[static_cast<uint8_t>(t[i])] & kLetter) == 0) return;
    }
    if (IsUnit(std::string_view(t + s + 1, e - s - 1))) return;
    t[s] = kLeetLetter[first];
    out.e[s] = 1;
  }
}

// Finds the spaced-apart run whose first single character is at t[s] (see normalize.h).
// Returns true when it is to be joined, with [*first, *last] the single characters
// to keep; *scan_end is set past the run either way.
bool SpacedRun(const char* t, size_t end, size_t s, size_t* first_out, size_t* last_out,
               size_t* scan_end) {
  size_t last = s, count = 1, p = s;
  while (true) {
    size_t g = SepGroupLen(t, p + 1, end);
    if (g == 0) break;
    size_t q = p + 1 + g;
    if (q >= end || !SpacedChar(static_cast<uint8_t>(t[q])) || !RightBoundary(t, q + 1, end)) {
      break;
    }
    // A single character glued by another separator to a longer word belongs to that
    // word: "S u p r e m e t-shirt", "C a s i o F-91W".
    if (q + 1 < end && t[q + 1] != ' ') {
      const size_t k = SepCharLen(t, q + 1, end);
      char run_sep = ' ';
      for (size_t i = p + 1; i < q; ++i) {
        if (t[i] != ' ') {
          run_sep = t[i];
          break;
        }
      }
      const size_t r = q + 1 + k;
      if (k > 0 && t[q + 1] != run_sep && r < end &&
          (kClass[static_cast<uint8_t>(t[r])] & (kToken | kHigh)) != 0 &&
          !RightBoundary(t, r + 1, end)) {
        break;
      }
    }
    p = q;
    last = q;
    ++count;
  }
  *scan_end = last + 1;
  if (count < 3) return false;
  auto is_letter = [&](size_t pos) {
    return (kClass[static_cast<uint8_t>(t[pos])] & kLetter) != 0;
  };
  auto next_single = [&](size_t pos) { return pos + 1 + SepGroupLen(t, pos + 1, end); };
  // Trim leet characters at the ends (a leading '$' or '@' may stay).
  size_t first = s;
  while (first < last && !is_letter(first) && t[first] != '$' && t[first] != '@') {
    first = next_single(first);
  }
  size_t last_letter = first;
  int letters = 0;
  size_t kept = 0, seen = 0;
  for (size_t pos = first;; pos = next_single(pos)) {
    ++seen;
    if (is_letter(pos)) {
      last_letter = pos;
      ++letters;
      kept = seen;
    }
    if (pos == last) break;
  }
  if (letters < 3 || kept < 3) return false;
  *first_out = first;
  *last_out = last_letter;
  return true;
}

// Bounds [*s, *e) of the token around t[p]; a letter followed only by '!' / '|' counts as
// a single character ("e!" ends a spaced-apart word like "e" does).
inline void TokenAround(const char* t, size_t begin, size_t end, size_t p, size_t* s, size_t* e) {
  size_t a = p, b = p + 1;
  while (a > begin && (kClass[static_cast<uint8_t>(t[a - 1])] & kToken)) --a;
  while (b < end && (kClass[static_cast<uint8_t>(t[b])] & kToken)) ++b;
  size_t single_end = a + 1;
  while (single_end < b && (t[single_end] == '!' || t[single_end] == '|')) ++single_end;
  if (single_end == b) b = a + 1;
  *s = a;
  *e = b;
}

// Joins the spaced-apart runs in out[begin, end) and compacts in place. Returns the new
// end. Slow but rare: runs only when WordPassesOver() found a run to join.
size_t JoinSpaced(Out out, size_t begin, size_t end) {
  char* t = out.t;
  size_t w = begin;        // write position
  size_t flushed = begin;  // bytes before this are already at their final place
  auto flush_to = [&](size_t upto) {
    if (w != flushed) {
      size_t len = upto - flushed;
      std::memmove(t + w, t + flushed, len);
      std::memmove(out.o + w, out.o + flushed, len * sizeof(uint32_t));
      std::memmove(out.e + w, out.e + flushed, len);
    }
    w += upto - flushed;
    flushed = upto;
  };
  size_t i = begin;
  while (i < end) {
    while (i < end && (kClass[static_cast<uint8_t>(t[i])] & kToken) == 0) ++i;
    if (i >= end) break;
    size_t s, e;
    const size_t from = i;
    TokenAround(t, begin, end, i, &s, &e);
    i = std::max(e, i + 1);
    if (s < from) continue;  // the '!' after a single letter already seen
    if (e - s != 1 || !SpacedChar(static_cast<uint8_t>(t[s])) || !LeftBoundary(t, begin, s) ||
        !RightBoundary(t, e, end)) {
      // Skip the rest of a longer token.
      while (i < end && (kClass[static_cast<uint8_t>(t[i])] & kToken)) ++i;
      continue;
    }
    size_t first, last, scan_end;
    bool join = SpacedRun(t, end, s, &first, &last, &scan_end);
    i = scan_end;
    if (!join) continue;
    flush_to(first);
    for (size_t pos = first;; pos = pos + 1 + SepGroupLen(t, pos + 1, end)) {
      t[w] = kLeetLetter[static_cast<uint8_t>(t[pos])];
      out.o[w] = out.o[pos];
      out.e[w] = 1;
      ++w;
      if (pos == last) break;
    }
    flushed = last + 1;
    i = last + 1;
  }
  flush_to(end);
  return w;
}

// Positions in t[p, p + 16) worth a closer look, as a bit mask: a leet character next to a
// letter, or a letter / leet character standing alone (not next to a letter, digit or
// non-ASCII byte other than those of "·" and "•"). A superset of what WordPassesOver() acts on.
// The block is classified once; its neighbours' classes are the masks shifted by one, with
// the bytes just outside the block classified through kPrefilterClass.
// REQUIRES: begin < p and p + 17 <= end.
enum : uint8_t { kPfLetter = 1, kPfAlnum = 2, kPfLeet = 4, kPfSpaced = 8 };

constexpr std::array<uint8_t, 256> MakePrefilterClasses() {
  std::array<uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kPfLetter | kPfAlnum | kPfSpaced;
  for (int c = '0'; c <= '9'; ++c) {
    const bool leet = c != '2' && c != '6' && c != '9';
    t[c] = kPfAlnum | (leet ? kPfLeet | kPfSpaced : 0);
  }
  for (char c : {'@', '$'}) t[static_cast<uint8_t>(c)] = kPfLeet | kPfSpaced;
  for (char c : {'!', '|'}) t[static_cast<uint8_t>(c)] = kPfLeet;
  for (int c = 0x80; c < 256; ++c) {
    if (c != 0xC2 && c != 0xB7 && c != 0xE2 && c != 0xA2) t[c] = kPfAlnum;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kPrefilterClass = MakePrefilterClasses();

// The prefilter classes of 16 bytes, one bit per byte.
struct BlockClasses {
  uint32_t letter = 0, alnum = 0, leet = 0, spaced = 0;
};

// Classes (kPf*) of a block's first and last byte.
inline uint8_t FirstByteClass(const BlockClasses& c) {
  return static_cast<uint8_t>((c.letter & 1 ? kPfLetter : 0) | (c.alnum & 1 ? kPfAlnum : 0));
}
template <int kBlock>
inline uint8_t LastByteClass(const BlockClasses& c) {
  constexpr int kLast = kBlock - 1;
  return static_cast<uint8_t>((c.letter >> kLast ? kPfLetter : 0) |
                              (c.alnum >> kLast ? kPfAlnum : 0));
}

// The interesting positions of a block of kBlock bytes, given the classes of the bytes just
// before and just after it (0 where the text ends: an edge is a boundary, as for a space).
template <int kBlock>
inline uint32_t Interesting(const BlockClasses& c, uint8_t before, uint8_t after) {
  constexpr uint32_t kLastBit = 1u << (kBlock - 1);
  constexpr uint32_t kAll = kLastBit | (kLastBit - 1);
  auto neighbours = [&](uint32_t m, uint8_t bit) {
    return (m << 1) | (m >> 1) | ((before & bit) ? 1u : 0u) | ((after & bit) ? kLastBit : 0u);
  };
  const uint32_t leet_hit = c.leet & neighbours(c.letter, kPfLetter);
  const uint32_t single = c.spaced & ~neighbours(c.alnum, kPfAlnum);
  return (leet_hit | single) & kAll;
}

#if defined(__SSE2__)
inline BlockClasses Classify16(__m128i v) {
  auto mask = [](__m128i m) { return static_cast<uint32_t>(_mm_movemask_epi8(m)); };
  const __m128i lt = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('a' - 1)),
                                   _mm_cmplt_epi8(v, _mm_set1_epi8('z' + 1)));
  const __m128i dg = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                   _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
  const __m128i not_leet_digit = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('2')), _mm_cmpeq_epi8(v, _mm_set1_epi8('6'))),
      _mm_cmpeq_epi8(v, _mm_set1_epi8('9')));
  const __m128i leet_digit = _mm_andnot_si128(not_leet_digit, dg);
  const __m128i at_dollar =
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('@')), _mm_cmpeq_epi8(v, _mm_set1_epi8('$')));
  const __m128i bang_bar =
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('!')), _mm_cmpeq_epi8(v, _mm_set1_epi8('|')));
  // Non-ASCII bytes, except those that can end or start "·" (C2 B7) and "•" (E2 80 A2).
  const __m128i high = _mm_cmplt_epi8(v, _mm_setzero_si128());
  const __m128i sep_bytes =
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(0xC2))),
                                _mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(0xB7)))),
                   _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(0xE2))),
                                _mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(0xA2)))));
  BlockClasses c;
  c.letter = mask(lt);
  c.alnum = mask(_mm_or_si128(_mm_or_si128(lt, dg), _mm_andnot_si128(sep_bytes, high)));
  c.leet = mask(_mm_or_si128(_mm_or_si128(leet_digit, at_dollar), bang_bar));
  c.spaced = mask(_mm_or_si128(_mm_or_si128(lt, leet_digit), at_dollar));
  return c;
}

inline uint32_t InterestingMask(const char* t, size_t p) {
  return Interesting<16>(Classify16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t + p))),
                         kPrefilterClass[static_cast<uint8_t>(t[p - 1])],
                         kPrefilterClass[static_cast<uint8_t>(t[p + 16])]);
}
#else
inline uint32_t InterestingMask(const char*, size_t) { return 0xFFFF; }
#endif

// Interesting positions found while folding (FoldAscii), so that the word passes need not
// read the text again. Holds the first kMax; more is `overflow` (then the text is read).
struct Candidates {
  static constexpr size_t kMax = 64;
  uint32_t pos[kMax];
  size_t count = 0;
  bool overflow = false;

  void Add(size_t block_start, uint32_t mask) {
    while (mask != 0) {
      if (count == kMax) {
        overflow = true;
        return;
      }
      pos[count++] = static_cast<uint32_t>(block_start + static_cast<size_t>(__builtin_ctz(mask)));
      mask &= mask - 1;
    }
  }
};

// The word passes over out[begin, end): replaces leet characters inside tokens (in place)
// and joins letters spaced apart (compacting). Returns the new end (<= end).
template <typename ForEachCandidate>
size_t WordPassesOver(Out out, size_t begin, size_t end, ForEachCandidate&& for_each_candidate) {
  char* t = out.t;
  size_t done = begin;  // tokens before this have been handled
  bool join = false;
  auto visit = [&](size_t p) {
    if (p < done || (kClass[static_cast<uint8_t>(t[p])] & kToken) == 0) return;
    size_t s, e;
    TokenAround(t, begin, end, p, &s, &e);
    if (e - s >= 2) {
      bool has_leet = false;
      for (size_t k = s; k < e; ++k) has_leet |= (kClass[static_cast<uint8_t>(t[k])] & kLeet) != 0;
      if (has_leet) LeetToken(out, s, e);
      done = e;
      while (done < end && (kClass[static_cast<uint8_t>(t[done])] & kToken)) ++done;
      return;
    }
    done = e;
    if (join || !SpacedChar(static_cast<uint8_t>(t[s])) || !LeftBoundary(t, begin, s) ||
        !RightBoundary(t, e, end)) {
      return;
    }
    size_t first, last, scan_end;
    join = SpacedRun(t, end, s, &first, &last, &scan_end);
    done = scan_end;
  };
  for_each_candidate(visit);
  return join ? JoinSpaced(out, begin, end) : end;
}

// The word passes, finding candidates with the vector prefilter over the middle; every
// position near the ends is visited.
size_t WordPasses(Out out, size_t begin, size_t end) {
  return WordPassesOver(out, begin, end, [&](auto& visit) {
    const char* t = out.t;
    size_t p = begin;
    for (; p < end && p < begin + 1; ++p) visit(p);
    for (; p + 17 <= end; p += 16) {
      uint32_t mask = InterestingMask(t, p);
      while (mask != 0) {
        visit(p + static_cast<size_t>(__builtin_ctz(mask)));
        mask &= mask - 1;
      }
    }
    for (; p < end; ++p) visit(p);
  });
}

// The word passes at candidates found while folding.
size_t WordPasses(Out out, size_t begin, size_t end, const Candidates& candidates) {
  return WordPassesOver(out, begin, end, [&](auto& visit) {
    for (size_t i = 0; i < candidates.count; ++i) visit(candidates.pos[i]);
  });
}

// Finds the interesting positions of consecutive blocks of kBlock bytes as they are
// classified, into `out`. A block's positions depend on the next block's first byte: each
// block is finished when the next one has been classified, the last one by Finish.
template <int kBlock>
class BlockCandidates {
 public:
  explicit BlockCandidates(Candidates* out) : out_(out) {}

  // The block at `at` (its absolute position in the text) has classes `c`.
  void Classified(const BlockClasses& c, size_t at) {
    if (has_pending_) {
      out_->Add(pending_at_, Interesting<kBlock>(pending_, before_pending_, FirstByteClass(c)));
      before_pending_ = LastByteClass<kBlock>(pending_);
    }
    pending_ = c;
    pending_at_ = at;
    has_pending_ = true;
  }
  // The text ends after the last block classified.
  void Finish() {
    if (has_pending_) out_->Add(pending_at_, Interesting<kBlock>(pending_, before_pending_, 0));
  }

 private:
  Candidates* out_;
  BlockClasses pending_;
  size_t pending_at_ = 0;
  bool has_pending_ = false;
  uint8_t before_pending_ = 0;  // class of the byte before the pending block
};

// Folds pure-ASCII in[0, n) into out[j, j + n): lower case, control characters -> ' ',
// origins origin0 + i and evasive 0 (unless kPlain: then out.o and out.e are not written,
// for NormalizeField). Returns true when white space needs collapsing (two spaces in a
// row, or one at either end). With `candidates`, also finds the word passes' interesting
// positions in the folded text (absolute positions in `out`), block by block as it goes.
template <bool kPlain = false>
bool FoldAscii(const uint8_t* in, size_t n, Out out, size_t j, uint32_t origin0,
               Candidates* candidates = nullptr) {
  size_t i = 0;
  uint32_t spaces_prev = 1;  // a leading space needs collapsing too
  bool collapse = false;
#if defined(__SSE2__)
  BlockCandidates<16> blocks(candidates);  // used only with `candidates`
  __m128i iota =
      _mm_add_epi32(_mm_set1_epi32(static_cast<int>(origin0)), _mm_setr_epi32(0, 1, 2, 3));
  const __m128i four = _mm_set1_epi32(4);
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)),
                                  _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));
    __m128i ctrl = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                                _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F)));
    __m128i f = _mm_add_epi8(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
    f = _mm_or_si128(_mm_andnot_si128(ctrl, f), _mm_and_si128(ctrl, _mm_set1_epi8(' ')));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out.t + j + i), f);
    if constexpr (!kPlain) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out.e + j + i), _mm_setzero_si128());
    }
    if (candidates != nullptr) blocks.Classified(Classify16(f), j + i);
    uint32_t sp = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(f, _mm_set1_epi8(' '))));
    collapse |= ((sp & ((sp << 1) | spaces_prev)) != 0);
    spaces_prev = sp >> 15;
    if constexpr (!kPlain) {
      uint32_t* o = out.o + j + i;
      for (int k = 0; k < 4; ++k) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 4 * k), iota);
        iota = _mm_add_epi32(iota, four);
      }
    }
  }
#endif
  const size_t tail = i;
  for (; i < n; ++i) {
    uint8_t c = kAsciiFold[in[i]];
    out.t[j + i] = static_cast<char>(c);
    if constexpr (!kPlain) {
      out.o[j + i] = origin0 + static_cast<uint32_t>(i);
      out.e[j + i] = 0;
    }
    uint32_t sp = c == ' ';
    collapse |= (sp & spaces_prev) != 0;
    spaces_prev = sp;
  }
#if defined(__SSE2__)
  if (candidates != nullptr) {
    if (tail < n) {  // the last, partial block, padded with spaces (nothing interesting)
      char block[16];
      std::memset(block, ' ', sizeof(block));
      std::memcpy(block, out.t + j + tail, n - tail);
      blocks.Classified(Classify16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block))),
                        j + tail);
    }
    blocks.Finish();
  }
#else
  (void)tail;
  if (candidates != nullptr) candidates->overflow = true;  // no prefilter: read the text
#endif
  return collapse || spaces_prev != 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
// FoldAscii<true> with candidates, 32 bytes at a time for CPUs with AVX2 (the build
// targets x86-64-v2, which has none): the same output, return value and candidates. Most
// listing text takes this path, and normalising was a tenth of a nightly scan's CPU time;
// this takes a third off a description's. The last, partial block is folded in a padded
// copy instead of byte by byte.
// Each function here is compiled for AVX2 (the attribute, not a pragma: clang-tidy reads
// this file too).
#define BONAFIDE_AVX2 __attribute__((target("avx2")))

BONAFIDE_AVX2 inline __m256i FoldBlock32(__m256i v) {
  const __m256i upper = _mm256_and_si256(_mm256_cmpgt_epi8(v, _mm256_set1_epi8('A' - 1)),
                                         _mm256_cmpgt_epi8(_mm256_set1_epi8('Z' + 1), v));
  const __m256i ctrl = _mm256_or_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v),
                                       _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7F)));
  const __m256i f = _mm256_add_epi8(v, _mm256_and_si256(upper, _mm256_set1_epi8(0x20)));
  return _mm256_blendv_epi8(f, _mm256_set1_epi8(' '), ctrl);
}

BONAFIDE_AVX2 inline __m256i Eq32(__m256i v, char c) {
  return _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c));
}
// Bytes of v in [lo, hi] (signed).
BONAFIDE_AVX2 inline __m256i InRange32(__m256i v, char lo, char hi) {
  return _mm256_and_si256(_mm256_cmpgt_epi8(v, _mm256_set1_epi8(static_cast<char>(lo - 1))),
                          _mm256_cmpgt_epi8(_mm256_set1_epi8(static_cast<char>(hi + 1)), v));
}
BONAFIDE_AVX2 inline uint32_t Mask32(__m256i m) {
  return static_cast<uint32_t>(_mm256_movemask_epi8(m));
}

// Classify16 over 32 bytes.
BONAFIDE_AVX2 inline BlockClasses Classify32(__m256i v) {
  const __m256i lt = InRange32(v, 'a', 'z');
  const __m256i dg = InRange32(v, '0', '9');
  const __m256i leet_digit = _mm256_andnot_si256(
      _mm256_or_si256(_mm256_or_si256(Eq32(v, '2'), Eq32(v, '6')), Eq32(v, '9')), dg);
  const __m256i at_dollar = _mm256_or_si256(Eq32(v, '@'), Eq32(v, '$'));
  const __m256i bang_bar = _mm256_or_si256(Eq32(v, '!'), Eq32(v, '|'));
  const __m256i high = _mm256_cmpgt_epi8(_mm256_setzero_si256(), v);
  const __m256i sep_bytes = _mm256_or_si256(
      _mm256_or_si256(Eq32(v, static_cast<char>(0xC2)), Eq32(v, static_cast<char>(0xB7))),
      _mm256_or_si256(Eq32(v, static_cast<char>(0xE2)), Eq32(v, static_cast<char>(0xA2))));
  BlockClasses c;
  c.letter = Mask32(lt);
  c.alnum = Mask32(_mm256_or_si256(_mm256_or_si256(lt, dg), _mm256_andnot_si256(sep_bytes, high)));
  c.leet = Mask32(_mm256_or_si256(_mm256_or_si256(leet_digit, at_dollar), bang_bar));
  c.spaced = Mask32(_mm256_or_si256(_mm256_or_si256(lt, leet_digit), at_dollar));
  return c;
}

// The state of FoldPlainAsciiAvx2 from block to block.
struct PlainFold32 {
  BlockCandidates<32> blocks;
  uint32_t spaces_prev = 1;  // a leading space needs collapsing too
  bool collapse = false;

  // Folds `v` into dst[0, 32), classifies it as the block at `at`; returns its spaces
  // among the bytes `valid` marks as text.
  BONAFIDE_AVX2 __attribute__((always_inline)) uint32_t Block(__m256i v, char* dst, size_t at,
                                                              uint32_t valid) {
    const __m256i f = FoldBlock32(v);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), f);
    blocks.Classified(Classify32(f), at);
    const uint32_t sp =
        static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(f, _mm256_set1_epi8(' ')))) &
        valid;
    collapse |= (sp & ((sp << 1) | spaces_prev)) != 0;
    return sp;
  }
};

BONAFIDE_AVX2 bool FoldPlainAsciiAvx2(const uint8_t* in, size_t n, char* t, size_t j,
                                      Candidates* candidates) {
  PlainFold32 fold{BlockCandidates<32>(candidates)};
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    fold.spaces_prev = fold.Block(v, t + j + i, j + i, ~0u) >> 31;
  }
  if (i < n) {  // padded with spaces, which are nothing interesting
    const size_t rest = n - i;
    char padded[32];
    std::memset(padded, ' ', sizeof(padded));
    std::memcpy(padded, in + i, rest);
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(padded));
    const uint32_t sp = fold.Block(v, padded, j + i, (1u << rest) - 1);
    std::memcpy(t + j + i, padded, rest);
    fold.spaces_prev = (sp >> (rest - 1)) & 1;
  }
  fold.blocks.Finish();
  return fold.collapse || fold.spaces_prev != 0;
}

#undef BONAFIDE_AVX2

bool CpuHasAvx2() {
  __builtin_cpu_init();  // use_avx2's initialiser may run before libgcc's own
  return __builtin_cpu_supports("avx2");
}
#else
bool FoldPlainAsciiAvx2(const uint8_t*, size_t, char*, size_t, Candidates*) { return false; }
bool CpuHasAvx2() { return false; }
#endif

bool use_avx2 = CpuHasAvx2();  // changed only by UseAvx2ForTesting

// Collapses runs of ' ' in out[begin, end) to one (keeping the first one's origin and
// dropping any at either end), in place. Returns the new end.
size_t CollapseSpaces(Out out, size_t begin, size_t end) {
  size_t w = begin;
  bool last_space = true;
  for (size_t r = begin; r < end; ++r) {
    char c = out.t[r];
    bool sp = c == ' ';
    out.t[w] = c;
    out.o[w] = out.o[r];
    out.e[w] = sp ? 0 : out.e[r];
    w += !(sp & last_space);
    last_space = sp;
  }
  if (w > begin && out.t[w - 1] == ' ') --w;
  return w;
}

// NormalizeAppend, and NormalizeField when `may_stay_plain` (then `out` is empty).
void NormalizeInto(std::string_view input, NormalizedText& out, bool may_stay_plain) {
  const auto* in = reinterpret_cast<const uint8_t*>(input.data());
  const size_t n = input.size();
  if (n == 0) {  // nothing to append (an absent description, most often)
    out.plain = may_stay_plain;
    return;
  }
  const size_t base = out.text.size();
  const bool ascii = IsAscii(in, n);
  // Upper bound: an ASCII byte gives at most 1 byte; a character of k >= 2 bytes at most 8.
  const size_t bound = base + (ascii ? n : 4 * n);
  out.text.resize(bound);
  Out o{out.text.data(), nullptr, nullptr};
  // Origins and evasive flags are sized (not zero-filled: every kept byte is written) once
  // they are known to be needed.
  auto track = [&] {
    out.origin.resize(bound);
    out.evasive.resize(bound);
    o.o = out.origin.data();
    o.e = out.evasive.data();
  };

  size_t j = base;
  bool collapse = true;
  Candidates candidates;
  if (ascii && may_stay_plain) {
    collapse = use_avx2 ? FoldPlainAsciiAvx2(in, n, o.t, base, &candidates)
                        : FoldAscii<true>(in, n, o, base, 0, &candidates);
    j = base + n;
    if (!collapse && !candidates.overflow && candidates.count == 0) {
      out.text.resize(j);  // nothing to collapse, join or replace: origins are the offsets
      out.plain = true;
      return;
    }
    track();
    for (size_t i = 0; i < n; ++i) {  // what FoldAscii<false> would have written
      o.o[base + i] = static_cast<uint32_t>(i);
      o.e[base + i] = 0;
    }
  } else if (ascii) {
    track();
    collapse = FoldAscii(in, n, o, base, 0, &candidates);
    j = base + n;
  }
  if (ascii) {
    if (!collapse && !candidates.overflow) {  // positions as found: no second pass
      j = WordPasses(o, base, j, candidates);
      out.text.resize(j);
      out.origin.resize(j);
      out.evasive.resize(j);
      return;
    }
  } else {
    track();
    // Spaces are written one per input character here and collapsed afterwards.
    bool pending_evasive = false;  // set by a dropped invisible character
    size_t i = 0;
    while (i < n) {
      uint8_t c = in[i];
      if (c < 0x80) {
        if (!pending_evasive && i + 16 <= n && IsAscii(in + i, 16)) {
          FoldAscii(in + i, 16, o, j, static_cast<uint32_t>(i));
          j += 16;
          i += 16;
          continue;
        }
        uint8_t f = kAsciiFold[c];
        o.t[j] = static_cast<char>(f);
        o.o[j] = static_cast<uint32_t>(i);
        o.e[j] = pending_evasive && f != ' ';
        ++j;
        pending_evasive = false;
        ++i;
        continue;
      }
      uint32_t cp = 0;
      size_t len = DecodeUtf8(in + i, n - i, &cp);
      if (len == 0) {  // invalid byte
        o.t[j] = ' ';
        o.o[j] = static_cast<uint32_t>(i);
        o.e[j] = 0;
        ++j;
        pending_evasive = false;
        ++i;
        continue;
      }
      const FoldEntry& f = LookupFold(cp);
      switch (f.kind) {
        case kDropMark:
          break;
        case kDropInvisible:
          pending_evasive = true;
          break;
        case kSpace:
          o.t[j] = ' ';
          o.o[j] = static_cast<uint32_t>(i);
          o.e[j] = 0;
          ++j;
          pending_evasive = false;
          break;
        case kUnmapped:
          for (size_t k = 0; k < len; ++k) {
            o.t[j] = static_cast<char>(in[i + k]);
            o.o[j] = static_cast<uint32_t>(i);
            o.e[j] = pending_evasive;
            ++j;
          }
          pending_evasive = false;
          break;
        default: {  // kPlain, kEvasive
          const uint8_t ev = (f.kind == kEvasive) | pending_evasive;
          for (size_t k = 0; k < f.len; ++k) {
            o.t[j] = static_cast<char>(f.bytes[k]);
            o.o[j] = static_cast<uint32_t>(i);
            o.e[j] = f.bytes[k] == ' ' ? 0 : ev;
            ++j;
          }
          pending_evasive = false;
          break;
        }
      }
      i += len;
    }
  }
  if (collapse) j = CollapseSpaces(o, base, j);
  j = WordPasses(o, base, j);
  out.text.resize(j);
  out.origin.resize(j);
  out.evasive.resize(j);
}

}  // namespace

void NormalizedText::MaterializeOrigins() {
  if (!plain) return;
  origin.resize(text.size());
  evasive.resize(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    origin[i] = static_cast<uint32_t>(i);
    evasive[i] = 0;
  }
  plain = false;
}

void NormalizeAppend(std::string_view input, NormalizedText& out) {
  out.MaterializeOrigins();
  NormalizeInto(input, out, /*may_stay_plain=*/false);
}

void NormalizeField(std::string_view input, NormalizedText& out) {
  out.Clear();
  NormalizeInto(input, out, /*may_stay_plain=*/true);
}

std::string Normalize(std::string_view input) {
  NormalizedText n;
  NormalizeAppend(input, n);
  return std::move(n.text);
}

bool UseAvx2ForTesting(bool enabled) {
  use_avx2 = enabled && CpuHasAvx2();
  return CpuHasAvx2();
}

uint32_t OriginEnd(std::string_view input, const NormalizedText& n, size_t i) {
  const auto* in = reinterpret_cast<const uint8_t*>(input.data());
  const size_t size = input.size();
  size_t pos = n.OriginAt(i);
  if (pos >= size) return static_cast<uint32_t>(size);
  auto char_len = [&](size_t at, uint32_t* cp) -> size_t {
    if (in[at] < 0x80) {
      *cp = in[at];
      return 1;
    }
    size_t len = DecodeUtf8(in + at, size - at, cp);
    if (len == 0) *cp = 0xFFFD;
    return len == 0 ? 1 : len;
  };
  uint32_t cp = 0;
  pos += char_len(pos, &cp);
  // Include combining marks that were folded away with the character ("e" + U+0301).
  while (pos < size && in[pos] >= 0x80) {
    size_t len = char_len(pos, &cp);
    if (LookupFold(cp).kind != kDropMark) break;
    pos += len;
  }
  return static_cast<uint32_t>(pos);
}

}  // namespace bonafide::rules
