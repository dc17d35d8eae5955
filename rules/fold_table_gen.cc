// fold_table_gen: writes the Unicode fold table used by rules/normalize.cc.
//
// Usage: fold_table_gen <out-path>   (run by the build; see rules/CMakeLists.txt)
//
// For every assigned code point >= U+0080 (all planes; surrogates, private use and
// unassigned code points are skipped) it computes what NormalizeAppend() writes in its
// place, and whether that is an evasive form:
//   - white space and C1 controls                   -> kSpace (collapsed with neighbours);
//   - default-ignorable (ZWSP, ZWJ, soft hyphen,
//     variation selectors, ...)                     -> kDropInvisible (next char evasive);
//   - combining marks (Mn, Me)                      -> kDropMark;
//   - Latin / Common / Inherited script: NFKC_Casefold, then NFD, then marks stripped,
//     then ICU's Latin-ASCII transliteration for letters and punctuation. An ASCII result
//     is kPlain when plain case folding + accent stripping gives the same thing (é, É,
//     ß, Æ, typographic quotes) and kEvasive otherwise (full-width, mathematical,
//     circled, superscript letters, small capitals);
//   - other scripts (Cyrillic, Greek, Armenian, Cherokee, ...): the confusables skeleton
//     of the original character (uspoof_getSkeleton) decides. When it equals the
//     skeleton of an ASCII letter or digit, the character becomes that letter, lower-cased
//     after the choice (Greek capital Ν -> "n", Greek small ν -> "v"), kEvasive.
//     Otherwise it becomes its NFKC_Casefold form, kPlain (Cyrillic Ж -> ж).
// The table is closed under itself: every replacement is made only of ASCII lower-case
// characters and code points that map to themselves, so normalising normalised text
// changes nothing. Replacements longer than 8 UTF-8 bytes are dropped (the character is
// copied as is). Code points that map to themselves are omitted.
//
// Output layout (types are declared by normalize.cc before it includes the file):
//   kFoldEntries[]   deduplicated {kind, len, bytes[8]}; entry 0 is "unmapped";
//   kFoldBmpBlock[256] / kFoldBmpIndex[]: two-level direct index for the BMP;
//   kFoldSupp[]      {code point, entry} sorted by code point, for planes 1-16.
#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/uvernum.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace {

// Must match enum class FoldKind in rules/normalize.cc.
enum Kind : int {
  kUnmapped = 0,
  kDropMark = 1,
  kDropInvisible = 2,
  kSpace = 3,
  kPlain = 4,
  kEvasive = 5,
};

constexpr size_t kMaxReplacementBytes = 8;

struct Fold {
  Kind kind = kUnmapped;
  std::u32string repl;  // code points; meaningful for kPlain / kEvasive
};

struct Icu {
  const icu::Normalizer2* nfkc_cf = nullptr;
  const icu::Normalizer2* nfd = nullptr;
  std::unique_ptr<icu::Transliterator> latin_ascii;
  USpoofChecker* spoof = nullptr;
};

std::u32string ToU32(const icu::UnicodeString& s) {
  std::u32string out;
  for (int32_t i = 0; i < s.length();) {
    UChar32 c = s.char32At(i);
    out.push_back(static_cast<char32_t>(c));
    i += U16_LENGTH(c);
  }
  return out;
}

bool IsMark(UChar32 c) {
  int t = u_charType(c);
  return t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK;
}

std::u32string StripMarks(const std::u32string& s) {
  std::u32string out;
  for (char32_t c : s) {
    if (!IsMark(static_cast<UChar32>(c))) out.push_back(c);
  }
  return out;
}

bool IsAscii(const std::u32string& s) {
  for (char32_t c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

bool IsAsciiAlnum(const std::u32string& s) {
  if (s.empty()) return false;
  for (char32_t c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!ok) return false;
  }
  return true;
}

bool AllSpaces(const std::u32string& s) {
  for (char32_t c : s) {
    if (c != ' ') return false;
  }
  return true;
}

std::u32string AsciiLower(std::u32string s) {
  for (char32_t& c : s) {
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
  }
  return s;
}

bool IsLetterOrPunct(UChar32 c) {
  uint32_t mask = U_GET_GC_MASK(c);
  return (mask & (U_GC_L_MASK | U_GC_P_MASK)) != 0;
}

bool IsLetterOrNumber(UChar32 c) {
  uint32_t mask = U_GET_GC_MASK(c);
  return (mask & (U_GC_L_MASK | U_GC_N_MASK)) != 0;
}

// Blocks whose Latin-ASCII transliterations are ordinary spellings, not evasive forms:
// Latin-1, Latin Extended-A/B (ø, ł, đ, æ, œ, þ), Latin Extended Additional and
// General Punctuation (typographic quotes and dashes).
bool PlainTransliterationBlock(UChar32 c) {
  return (c >= 0x00A0 && c <= 0x024F) || (c >= 0x1E00 && c <= 0x1EFF) ||
         (c >= 0x2000 && c <= 0x206F);
}

icu::UnicodeString Transliterate(Icu& icu, const icu::UnicodeString& s) {
  icu::UnicodeString t(s);
  icu.latin_ascii->transliterate(t);
  return t;
}

// Decomposes, strips marks and transliterates Latin letters/punctuation to ASCII.
std::u32string LatinFold(Icu& icu, const icu::UnicodeString& folded, bool translit) {
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString d = icu.nfd->normalize(folded, status);
  std::u32string r = StripMarks(ToU32(d));
  if (translit && !IsAscii(r)) {
    icu::UnicodeString u;
    for (char32_t c : r) u.append(static_cast<UChar32>(c));
    r = StripMarks(ToU32(Transliterate(icu, u)));
  }
  return AsciiLower(r);
}

std::u32string Skeleton(Icu& icu, UChar32 cp) {
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString skel;
  uspoof_getSkeletonUnicodeString(icu.spoof, 0, icu::UnicodeString(cp), skel, &status);
  if (U_FAILURE(status)) return {};
  return StripMarks(ToU32(skel));
}

// Skeleton -> ASCII candidates ("l" -> {'I', 'l', '1', '|'}), built once.
using SkeletonIndex = std::map<std::u32string, std::string>;

SkeletonIndex BuildSkeletonIndex(Icu& icu) {
  SkeletonIndex index;
  for (int c = 0x21; c < 0x7F; ++c) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alnum) index[Skeleton(icu, c)].push_back(static_cast<char>(c));
  }
  return index;
}

// Returns the ASCII letter or digit that `cp` is a look-alike of, lower-cased, or "".
// Among the ASCII characters with the same skeleton, prefers a letter of the same case,
// then any letter, then a digit: Greek Ι (capital iota) -> 'I' -> "i", not 'l'.
std::u32string LookAlikeOf(Icu& icu, const SkeletonIndex& index, UChar32 cp) {
  std::u32string skel = Skeleton(icu, cp);
  if (skel.empty() || skel == std::u32string(1, static_cast<char32_t>(cp))) return {};
  auto it = index.find(skel);
  if (it != index.end()) {
    bool upper = u_isupper(cp) || u_istitle(cp);
    char best = 0;
    int best_score = -1;
    for (char a : it->second) {
      bool is_upper = a >= 'A' && a <= 'Z';
      bool is_lower = a >= 'a' && a <= 'z';
      int score = 0;
      if (is_upper || is_lower) {
        score = (is_upper == upper) ? 3 : 2;
      } else {
        score = 1;  // digit
      }
      if (score > best_score) {
        best_score = score;
        best = a;
      }
    }
    return AsciiLower(std::u32string(1, static_cast<char32_t>(best)));
  }
  // A short all-ASCII skeleton ("Ю" may read as "lo").
  if (IsAsciiAlnum(skel) && skel.size() <= 4) return AsciiLower(skel);
  return {};
}

// Like LookAlikeOf(), but a lower-case letter with no look-alike of its own borrows its
// capital's, so that both cases fold alike: Cyrillic к and К -> "k" (else "РЕПЛИКА" and
// "реплика" would not meet). Where both have their own (Greek Ν -> n, ν -> v), each keeps
// its own: that is what the reader sees.
std::u32string LookAlike(Icu& icu, const SkeletonIndex& index, UChar32 cp) {
  std::u32string look = LookAlikeOf(icu, index, cp);
  if (!look.empty()) return look;
  UChar32 upper = u_toupper(cp);
  if (upper != cp) return LookAlikeOf(icu, index, upper);
  return {};
}

Fold Compute(Icu& icu, const SkeletonIndex& index, UChar32 cp) {
  Fold f;
  int type = u_charType(cp);
  if (type == U_CONTROL_CHAR || u_isUWhiteSpace(cp)) {
    f.kind = kSpace;
    return f;
  }
  if (u_hasBinaryProperty(cp, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) {
    f.kind = kDropInvisible;
    return f;
  }
  if (IsMark(cp)) {
    f.kind = kDropMark;
    return f;
  }
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString original(cp);
  icu::UnicodeString nfkc_cf = icu.nfkc_cf->normalize(original, status);
  if (U_FAILURE(status)) return f;
  UScriptCode script = uscript_getScript(cp, &status);
  bool latinish =
      script == USCRIPT_LATIN || script == USCRIPT_COMMON || script == USCRIPT_INHERITED;
  if (latinish) {
    std::u32string r = LatinFold(icu, nfkc_cf, IsLetterOrPunct(cp));
    if (IsAscii(r)) {
      if (r.empty() || AllSpaces(r)) {  // spacing accents: ´ ¨ ˜
        f.kind = kDropMark;
        return f;
      }
      icu::UnicodeString cf(original);
      cf.foldCase();
      std::u32string plain =
          LatinFold(icu, cf, IsLetterOrPunct(cp) && PlainTransliterationBlock(cp));
      f.kind = (plain == r) ? kPlain : kEvasive;
      f.repl = r;
      return f;
    }
    if (IsLetterOrNumber(cp)) {
      std::u32string look = LookAlike(icu, index, cp);
      if (!look.empty()) {
        f.kind = kEvasive;
        f.repl = look;
        return f;
      }
    }
    f.kind = kPlain;
    f.repl = StripMarks(ToU32(nfkc_cf));
    return f;
  }
  if (IsLetterOrNumber(cp)) {
    std::u32string look = LookAlike(icu, index, cp);
    if (!look.empty()) {
      f.kind = kEvasive;
      f.repl = look;
      return f;
    }
  }
  f.kind = kPlain;
  f.repl = StripMarks(ToU32(nfkc_cf));
  return f;
}

// Applies the table once to `s`; returns false when some piece was evasive.
std::u32string Apply(const std::map<UChar32, Fold>& table, const std::u32string& s, bool* evasive) {
  std::u32string out;
  for (char32_t c : s) {
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
      continue;
    }
    auto it = table.find(static_cast<UChar32>(c));
    if (it == table.end()) {
      out.push_back(c);
      continue;
    }
    switch (it->second.kind) {
      case kUnmapped:
        out.push_back(c);
        break;
      case kDropMark:
      case kDropInvisible:
        break;
      case kSpace:
        out.push_back(' ');
        break;
      case kEvasive:
        *evasive = true;
        [[fallthrough]];
      case kPlain:
        out += it->second.repl;
        break;
    }
  }
  return out;
}

size_t Utf8Length(const std::u32string& s) {
  size_t n = 0;
  for (char32_t c : s) n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  return n;
}

std::string ToUtf8(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

bool IsSeparatorKeptAsIs(UChar32 cp) {
  // Separators of spaced-apart letters that normalize.cc recognises in its output.
  return cp == 0x00B7 || cp == 0x2022;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <out-path>\n", argv[0]);
    return 2;
  }
  UErrorCode status = U_ZERO_ERROR;
  Icu icu;
  icu.nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  icu.nfd = icu::Normalizer2::getNFDInstance(status);
  icu.latin_ascii.reset(icu::Transliterator::createInstance("Latin-ASCII", UTRANS_FORWARD, status));
  icu.spoof = uspoof_open(&status);
  if (U_FAILURE(status)) {
    std::fprintf(stderr, "fold_table_gen: icu: %s\n", u_errorName(status));
    return 1;
  }
  SkeletonIndex index = BuildSkeletonIndex(icu);

  // 1. Raw folds.
  std::map<UChar32, Fold> table;
  for (UChar32 cp = 0x80; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    int type = u_charType(cp);
    if (type == U_UNASSIGNED || type == U_PRIVATE_USE_CHAR || type == U_SURROGATE) continue;
    if (IsSeparatorKeptAsIs(cp)) continue;
    Fold f = Compute(icu, index, cp);
    if (f.kind == kPlain && f.repl == std::u32string(1, static_cast<char32_t>(cp))) continue;
    if (f.kind == kUnmapped) continue;
    table.emplace(cp, std::move(f));
  }

  // 2. Close the table under itself, dropping replacements that grow too long.
  for (int round = 0; round < 8; ++round) {
    bool changed = false;
    for (auto it = table.begin(); it != table.end();) {
      Fold& f = it->second;
      if (f.kind != kPlain && f.kind != kEvasive) {
        ++it;
        continue;
      }
      bool evasive = false;
      std::u32string next = Apply(table, f.repl, &evasive);
      if (next != f.repl || (evasive && f.kind == kPlain)) {
        changed = true;
        f.repl = next;
        if (evasive) f.kind = kEvasive;
      }
      bool self = f.repl == std::u32string(1, static_cast<char32_t>(it->first));
      if (self || Utf8Length(f.repl) > kMaxReplacementBytes) {
        changed = true;
        it = table.erase(it);
        continue;
      }
      if (f.repl.empty()) f.kind = kDropMark;
      ++it;
    }
    if (!changed) break;
  }
  int not_closed = 0;
  for (const auto& [cp, f] : table) {
    if (f.kind != kPlain && f.kind != kEvasive) continue;
    bool evasive = false;
    if (Apply(table, f.repl, &evasive) != f.repl) ++not_closed;
  }
  if (not_closed != 0) {
    std::fprintf(stderr, "fold_table_gen: %d replacements are not fixed points\n", not_closed);
    return 1;
  }

  // 3. Deduplicate entries and lay out the indexes.
  std::map<std::pair<int, std::string>, int> entry_ids;
  std::vector<std::pair<int, std::string>> entries = {{kUnmapped, ""}};
  std::vector<uint16_t> bmp(0x10000, 0);
  std::vector<std::pair<UChar32, int>> supp;
  for (const auto& [cp, f] : table) {
    std::pair<int, std::string> key(f.kind, f.kind == kSpace ? std::string(" ") : ToUtf8(f.repl));
    auto [it, inserted] = entry_ids.emplace(key, static_cast<int>(entries.size()));
    if (inserted) entries.push_back(key);
    if (cp < 0x10000) {
      bmp[cp] = static_cast<uint16_t>(it->second);
    } else {
      supp.emplace_back(cp, it->second);
    }
  }
  if (entries.size() > 0xFFFF) {
    std::fprintf(stderr, "fold_table_gen: too many entries\n");
    return 1;
  }
  std::vector<uint16_t> block_of(256, 0);
  std::vector<std::vector<uint16_t>> blocks = {std::vector<uint16_t>(256, 0)};
  for (int hi = 0; hi < 256; ++hi) {
    std::vector<uint16_t> block(bmp.begin() + hi * 256, bmp.begin() + hi * 256 + 256);
    int found = -1;
    for (size_t b = 0; b < blocks.size(); ++b) {
      if (blocks[b] == block) found = static_cast<int>(b);
    }
    if (found < 0) {
      found = static_cast<int>(blocks.size());
      blocks.push_back(block);
    }
    block_of[hi] = static_cast<uint16_t>(found);
  }

  FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  std::fprintf(out,
               "// Generated by fold_table_gen from ICU %s (Unicode %s). Do not edit.\n"
               "// %zu mapped code points, %zu entries, %zu BMP blocks, %zu above the "
               "BMP.\n\n",
               U_ICU_VERSION, U_UNICODE_VERSION, table.size(), entries.size(), blocks.size(),
               supp.size());
  std::fprintf(out, "inline constexpr FoldEntry kFoldEntries[%zu] = {\n", entries.size());
  for (const auto& [kind, bytes] : entries) {
    std::fprintf(out, "    {%d, %zu, {", kind, bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i) {
      std::fprintf(out, "%s0x%02x", i ? "," : "", static_cast<unsigned char>(bytes[i]));
    }
    std::fprintf(out, "}},\n");
  }
  std::fprintf(out, "};\n\ninline constexpr uint16_t kFoldBmpBlock[256] = {");
  for (int hi = 0; hi < 256; ++hi) {
    std::fprintf(out, "%s%u,", hi % 16 ? "" : "\n    ", block_of[hi]);
  }
  std::fprintf(out, "};\n\ninline constexpr uint16_t kFoldBmpIndex[%zu] = {", blocks.size() * 256);
  for (const auto& block : blocks) {
    for (int lo = 0; lo < 256; ++lo) {
      std::fprintf(out, "%s%u,", lo % 16 ? "" : "\n    ", block[lo]);
    }
  }
  std::fprintf(out, "};\n\ninline constexpr FoldSupp kFoldSupp[%zu] = {\n", supp.size());
  for (const auto& [cp, id] : supp) std::fprintf(out, "    {0x%X, %d},\n", cp, id);
  std::fprintf(out, "};\n");
  uspoof_close(icu.spoof);
  if (std::fclose(out) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  return 0;
}
