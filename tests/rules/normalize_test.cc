// Tests for rules/normalize.h: every evasive form folds to the plain spelling, the
// number-like traps stay as they are, origins map back to the input, bad input is safe,
// and Normalize is idempotent (patterns are normalised with the same function).
#include "rules/normalize.h"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "tests/allocation_counter.h"

namespace bonafide::rules {
namespace {

struct Case {
  std::string_view input;
  std::string_view expected;
  bool evasive;  // some output byte is marked evasive
};

// clang-format off
const Case kCases[] = {
    // Case and accents: not evasive.
    {"NIKE", "nike", false},
    {"Nike Air Max", "nike air max", false},
    {"Adídas", "adidas", false},
    {"Hermès", "hermes", false},
    {"HERMÈS Paris", "hermes paris", false},
    {"Adi\xCC\x81" "das", "adidas", false},             // decomposed: i + U+0301
    {"Herme\xCC\x80s", "hermes", false},               // e + U+0300
    {"Straße", "strasse", false},
    {"Æon Øre Łódź", "aeon ore lodz", false},
    {"\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x80\x93 ok", "\"quoted\" - ok", false},
    // Compatibility forms: evasive.
    {"Ｎｉｋｅ", "nike", true},                            // full-width
    {"\xF0\x9D\x90\x8D\xF0\x9D\x90\xA2\xF0\x9D\x90\xA4\xF0\x9D\x90\x9E", "nike", true},  // math bold
    {"ⓃⒾⓀⒺ", "nike", true},                               // circled
    {"ɴɪᴋᴇ", "nike", true},                               // small capitals
    {"ᴺᴵᴷᴱ", "nike", true},                               // superscripts
    {"ｒｅｐｌｉｃａ １：１", "replica 1:1", true},
    // Look-alike letters from other scripts: evasive.
    {"N\xD1\x96k\xD0\xB5", "nike", true},                 // Cyrillic і (U+0456), е (U+0435)
    {"\xD0\x90" "didas", "adidas", true},                 // Cyrillic А (U+0410)
    {"\xCE\x9D\xCE\x99\xCE\x9A\xCE\x95", "nike", true},   // Greek ΝΙΚΕ
    {"\xCE\x9D" "ike", "nike", true},                     // Greek capital Ν reads as n ...
    {"\xCE\xBD" "ike", "vike", true},                     // ... its lower case ν as v
    // Digits and symbols for letters: evasive.
    {"N1ke", "nike", true},
    {"Ad!das", "adidas", true},
    {"adid4s", "adidas", true},
    {"$upreme", "supreme", true},
    {"@pple", "apple", true},
    {"4didas", "adidas", true},
    {"1phone 13", "iphone 13", true},
    {"L0uis V1tton", "louis vitton", true},
    {"n1k3", "nik3", true},
    // Letters spaced or dotted apart: evasive.
    {"N i k e", "nike", true},
    {"N.i.k.e", "nike", true},
    {"N. i. k. e.", "nike.", true},
    {"N-i-k-e", "nike", true},
    {"N_i_k_e", "nike", true},
    {"N*i*k*e", "nike", true},
    {"N\xC2\xB7i\xC2\xB7k\xC2\xB7" "e", "nike", true},    // middle dot
    {"N \xE2\x80\xA2 i \xE2\x80\xA2 k \xE2\x80\xA2 e", "nike", true},  // bullet
    {"L o u i s V u i t t o n", "louisvuitton", true},
    {"A d 1 d a s", "adidas", true},
    {"buy N i k e now", "buy nike now", true},
    // A letter glued to a longer word by another separator is not part of the run.
    {"S u p r e m e t-shirt", "supreme t-shirt", true},
    {"S.u.p.r.e.m.e t-shirt", "supreme t-shirt", true},
    {"C a s i o F-91W", "casio f-91w", true},
    {"N-i-k-e-shoes", "nike-shoes", true},
    {"N i k e!", "nike!", true},
    // Invisible characters: dropped, evasive.
    {"Ni\xE2\x80\x8B" "ke", "nike", true},                // zero-width space
    {"Ni\xC2\xAD" "ke", "nike", true},                    // soft hyphen
    {"Ni\xE2\x80\x8D" "ke", "nike", true},                // zero-width joiner
    {"\xEF\xBB\xBF" "nike", "nike", true},                // BOM
    // White space.
    {"  nike \t\r\n air  ", "nike air", false},
    {"nike\xC2\xA0" "air", "nike air", false},            // NBSP
    {"nike\xE3\x80\x80" "air", "nike air", false},        // ideographic space
    {"nike \xE2\x80\xA8\xE2\x80\x83 air", "nike air", false},
    {"", "", false},
    {" \t\n", "", false},
    // Traps: stay exactly as they are.
    {"100ml", "100ml", false},
    {"64gb", "64gb", false},
    {"1:1", "1:1", false},
    {"2nd", "2nd", false},
    {"3rd", "3rd", false},
    {"ps5", "ps5", false},
    {"iphone7", "iphone7", false},
    {"mp3", "mp3", false},
    {"4k", "4k", false},
    {"5g", "5g", false},
    {"2x", "2x", false},
    {"wow!", "wow!", false},
    {"wow!!!", "wow!!!", false},
    {"50$", "50$", false},
    {"$50", "$50", false},
    {"h264", "h264", false},
    {"covid19", "covid19", false},
    {"3pcs 5pack 4inch 5ghz 5000mah", "3pcs 5pack 4inch 5ghz 5000mah", false},
    {"iPhone 13 Pro 128GB", "iphone 13 pro 128gb", false},
    {"Size 5 x 7 in", "size 5 x 7 in", false},
    {"a b", "a b", false},
    {"rtx3080ti", "rtx3080ti", false},
    {"e-mail t-shirt", "e-mail t-shirt", false},
    // Other scripts pass through in a stable form.
    {"高仿", "高仿", false},
    {"高仿 NIKE", "高仿 nike", false},
    {"Жил", "жил", false},
    {"Жук", "жyk", true},                                 // у reads as y, к as k
};
// clang-format on

std::string Evasive(const NormalizedText& n) {
  std::string s;
  for (uint8_t e : n.evasive) s.push_back(e ? '^' : '.');
  return s;
}

bool AnyEvasive(const NormalizedText& n) {
  for (uint8_t e : n.evasive) {
    if (e) return true;
  }
  return false;
}

TEST(NormalizeTest, FoldsEveryForm) {
  for (const Case& c : kCases) {
    NormalizedText n;
    NormalizeAppend(c.input, n);
    EXPECT_EQ(n.text, c.expected) << "input: " << c.input;
    EXPECT_EQ(AnyEvasive(n), c.evasive)
        << "input: " << c.input << " -> " << n.text << " evasive: " << Evasive(n);
    EXPECT_EQ(n.origin.size(), n.text.size());
    EXPECT_EQ(n.evasive.size(), n.text.size());
  }
}

TEST(NormalizeTest, IsIdempotent) {
  for (const Case& c : kCases) {
    std::string once = Normalize(c.input);
    EXPECT_EQ(Normalize(once), once) << "input: " << c.input;
  }
  for (std::string_view s :
       {"реплика", "Реплика高仿", "Αθήνα", "שלום", "مرحبا", "नमस्ते", "한국어", "ｒｅｐｌｉｃａ",
        "A d 1 d a s 5 x 7", "7a55bc", "$1mple 4d1das", "size S M L XL"}) {
    std::string once = Normalize(s);
    EXPECT_EQ(Normalize(once), once) << "input: " << s;
  }
}

TEST(NormalizeTest, CyrillicWordIsStable) {
  std::string once = Normalize("реплика");
  EXPECT_FALSE(once.empty());
  EXPECT_EQ(Normalize(once), once);
  // The upper-case spelling meets the lower-case one.
  EXPECT_EQ(Normalize("РЕПЛИКА"), once);
  EXPECT_EQ(Normalize("ПРИВЕТ"), Normalize("привет"));
  EXPECT_EQ(Normalize("ЕЛЛАДА"), Normalize("еллада"));
}

TEST(NormalizeTest, OnlyEvasiveCharactersAreMarked) {
  NormalizedText n;
  NormalizeAppend("Hermès N1ke Ｎike", n);
  ASSERT_EQ(n.text, "hermes nike nike");
  EXPECT_EQ(Evasive(n), "........^...^...");
}

TEST(NormalizeTest, InvisibleMarksOnlyTheNextCharacter) {
  NormalizedText n;
  NormalizeAppend(
      "ab\xE2\x80\x8B"
      "cd",
      n);
  ASSERT_EQ(n.text, "abcd");
  EXPECT_EQ(Evasive(n), "..^.");
  n.Clear();
  NormalizeAppend("ab\xE2\x80\x8B cd", n);  // cleared by white space
  ASSERT_EQ(n.text, "ab cd");
  EXPECT_EQ(Evasive(n), ".....");
}

TEST(NormalizeTest, OriginsPointIntoTheInput) {
  const std::string input =
      "Buy  Ｎｉｋｅ Adi\xCC\x81"
      "das!";
  NormalizedText n;
  NormalizeAppend(input, n);
  ASSERT_EQ(n.text, "buy nike adidas!");
  for (size_t i = 1; i < n.size(); ++i) EXPECT_LE(n.origin[i - 1], n.origin[i]);
  // Quote the match "nike".
  size_t b = n.text.find("nike");
  size_t e = b + 4;
  EXPECT_EQ(input.substr(n.origin[b], OriginEnd(input, n, e - 1) - n.origin[b]), "Ｎｉｋｅ");
  // Quote "adi": the combining accent after the i belongs to it.
  b = n.text.find("adi");
  e = b + 3;
  EXPECT_EQ(input.substr(n.origin[b], OriginEnd(input, n, e - 1) - n.origin[b]), "Adi\xCC\x81");
}

TEST(NormalizeTest, OriginsOfJoinedAndLeetLetters) {
  const std::string input = "buy N . i . k . e now $upreme";
  NormalizedText n;
  NormalizeAppend(input, n);
  ASSERT_EQ(n.text, "buy nike now supreme");
  size_t b = n.text.find("nike");
  EXPECT_EQ(input.substr(n.origin[b], OriginEnd(input, n, b + 3) - n.origin[b]), "N . i . k . e");
  b = n.text.find("supreme");
  EXPECT_EQ(input.substr(n.origin[b], OriginEnd(input, n, b + 6) - n.origin[b]), "$upreme");
}

TEST(NormalizeTest, AppendsAfterExistingText) {
  NormalizedText n;
  NormalizeAppend("Nike", n);
  n.text.push_back(' ');
  n.origin.push_back(0);
  n.evasive.push_back(0);
  NormalizeAppend("N i k e", n);
  EXPECT_EQ(n.text, "nike nike");
  EXPECT_EQ(n.origin[5], 0u);  // offsets are relative to the second input
  EXPECT_EQ(n.origin[8], 6u);
}

// NormalizeField gives NormalizeAppend's text, origins and evasive flags; it leaves them
// unwritten (plain) only where they are the input offsets and nothing is evasive.
TEST(NormalizeTest, FieldIsAppendWithoutWritingPlainOrigins) {
  const std::string sentence = "mechanical keyboard hot swappable olive, boxed and sealed";
  // Plain ASCII with nothing to collapse, join or replace: left plain.
  const std::vector<std::string> plain = {
      "",          "Nike Air Max 90", "nike air max 90",
      "tab\there", sentence,          sentence + " " + sentence + " " + sentence};
  // Spaces to collapse, leet, spaced letters, candidates that change nothing, non-ASCII.
  const std::vector<std::string> others = {"a",
                                           " nike",
                                           "nike ",
                                           "nike  air",
                                           "N1ke Air Max 90",
                                           "N i k e",
                                           "N.i.k.e air",
                                           "$upreme box logo",
                                           "Dog leash 2 m gold",
                                           "350ml bottle",
                                           "Ａｄｉｄａｓ",
                                           "café crème",
                                           "12345678901234567 N1ke at the end of a long text",
                                           "x x x x x x x x x x x x x x x x x x"};
  for (const std::vector<std::string>* inputs : {&plain, &others}) {
    for (const std::string& input : *inputs) {
      NormalizedText want, got;
      NormalizeAppend(input, want);
      got.text = "left over";
      NormalizeField(input, got);
      ASSERT_EQ(got.text, want.text) << input;
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(got.OriginAt(i), want.origin[i]) << input << " at " << i;
        EXPECT_EQ(got.IsEvasive(i), want.evasive[i] != 0) << input << " at " << i;
      }
      if (inputs == &plain) {
        EXPECT_TRUE(got.plain) << input;
        EXPECT_TRUE(got.origin.empty() && got.evasive.empty()) << input;
      } else if (!got.plain) {
        EXPECT_EQ(got.origin.size(), got.size()) << input;
      }
      // Appending to a plain text writes its origins out first.
      NormalizeAppend(" N1ke", got);
      NormalizeAppend(" N1ke", want);
      EXPECT_FALSE(got.plain);
      EXPECT_EQ(got.text, want.text);
      EXPECT_EQ(std::vector<uint32_t>(got.origin.begin(), got.origin.end()),
                std::vector<uint32_t>(want.origin.begin(), want.origin.end()))
          << input;
      EXPECT_EQ(std::vector<uint8_t>(got.evasive.begin(), got.evasive.end()),
                std::vector<uint8_t>(want.evasive.begin(), want.evasive.end()))
          << input;
    }
  }
}

// NormalizeField folds ASCII 32 bytes at a time with AVX2 and 16 at a time without: both
// give the same text, origins, evasive flags and plainness, for text of every length
// around the blocks' edges, full of what the word passes look at (leet, single letters,
// symbols, runs of spaces, control characters). Without AVX2, this compares the 16-byte
// fold with NormalizeAppend only.
TEST(NormalizeTest, Avx2FoldIsTheSameAsTheSse2Fold) {
  const bool has_avx2 = UseAvx2ForTesting(true);
  const std::string alphabet = "abcxyzAZ01345789$@!| .-_*\t\n\x01\x7f:/'";
  std::mt19937 random(7);
  int compared = 0, plain = 0;
  for (size_t size = 0; size <= 100; ++size) {
    for (int k = 0; k < 40; ++k) {
      std::string input(size, ' ');
      for (size_t i = 0; i < size; ++i) {
        if (k % 2 == 0) {  // five-letter words: plain text
          input[i] = i % 6 == 5 ? ' ' : static_cast<char>('a' + random() % 26);
        } else {  // mostly letters: whole blocks of them, and every edge case in between
          input[i] = random() % 3 != 0 ? static_cast<char>('a' + random() % 26)
                                       : alphabet[random() % alphabet.size()];
        }
      }
      if (k % 4 == 2 && size > 0) input[random() % size] = '1';  // a leet digit: not plain
      NormalizedText sse2, avx2, appended;
      UseAvx2ForTesting(false);
      NormalizeField(input, sse2);
      UseAvx2ForTesting(true);
      NormalizeField(input, avx2);
      NormalizeAppend(input, appended);
      ASSERT_EQ(avx2.text, sse2.text) << input;
      ASSERT_EQ(avx2.plain, sse2.plain) << input;
      ASSERT_EQ(sse2.text, appended.text) << input;
      for (size_t i = 0; i < appended.size(); ++i) {
        ASSERT_EQ(avx2.OriginAt(i), appended.origin[i]) << input << " at " << i;
        ASSERT_EQ(sse2.OriginAt(i), appended.origin[i]) << input << " at " << i;
        ASSERT_EQ(avx2.IsEvasive(i), appended.evasive[i] != 0) << input << " at " << i;
        ASSERT_EQ(sse2.IsEvasive(i), appended.evasive[i] != 0) << input << " at " << i;
      }
      ++compared;
      plain += avx2.plain;
    }
  }
  EXPECT_EQ(compared, 101 * 40);
  // Long texts dense with candidates: past Candidates' 64 (then the text is read instead).
  for (std::string_view unit : {"a1 ", "x y ", "n1ke ", "$ ", "ab|c "}) {
    for (size_t repeats : {20, 21, 22, 40, 100}) {
      std::string input;
      for (size_t i = 0; i < repeats; ++i) input += unit;
      NormalizedText sse2, avx2;
      UseAvx2ForTesting(false);
      NormalizeField(input, sse2);
      UseAvx2ForTesting(true);
      NormalizeField(input, avx2);
      ASSERT_EQ(avx2.text, sse2.text) << input;
      ASSERT_EQ(avx2.plain, sse2.plain) << input;
      for (size_t i = 0; i < avx2.size(); ++i) {
        ASSERT_EQ(avx2.OriginAt(i), sse2.OriginAt(i)) << input << " at " << i;
        ASSERT_EQ(avx2.IsEvasive(i), sse2.IsEvasive(i)) << input << " at " << i;
      }
    }
  }
  EXPECT_GT(plain, 500);  // both kinds were compared
  EXPECT_LT(plain, 2000);
  if (!has_avx2) GTEST_SKIP() << "no AVX2 on this CPU: only the 16-byte fold was compared";
}

TEST(NormalizeTest, InvalidUtf8BecomesSpace) {
  EXPECT_EQ(Normalize("ni\xFFke"), "ni ke");
  EXPECT_EQ(Normalize("ni\xC3ke"), "ni ke");              // truncated sequence
  EXPECT_EQ(Normalize("ni\xC0\xAFke"), "ni ke");          // overlong '/'
  EXPECT_EQ(Normalize("ni\xED\xA0\x80ke"), "ni ke");      // surrogate
  EXPECT_EQ(Normalize("ni\xF4\x90\x80\x80ke"), "ni ke");  // > U+10FFFF
  EXPECT_EQ(Normalize("\xE2\x82"), "");                   // truncated at the end
  EXPECT_EQ(Normalize("\xF0"), "");
  EXPECT_EQ(Normalize(std::string_view("ni\0ke", 5)), "ni ke");
  EXPECT_EQ(Normalize(std::string_view("\0\0a\0", 4)), "a");
}

TEST(NormalizeTest, NeverReadsOutOfBounds) {
  // Every prefix of a multi-byte string, with a sentinel byte just past the view.
  const std::string s = "Ｎ€é𝐍 ab\xF0\x9F\x98\x80";
  for (size_t len = 0; len <= s.size(); ++len) {
    std::string buf = s.substr(0, len) + "\x80\x80\x80";
    NormalizedText n;
    NormalizeAppend(std::string_view(buf.data(), len), n);
    for (size_t i = 0; i < n.size(); ++i) {
      ASSERT_LT(n.origin[i], len);
      ASSERT_LE(OriginEnd(std::string_view(buf.data(), len), n, i), len);
    }
  }
}

TEST(NormalizeTest, AllBytesDoNotCrash) {
  std::string all;
  for (int round = 0; round < 3; ++round) {
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>((c * 37 + round) & 0xFF));
  }
  NormalizedText n;
  NormalizeAppend(all, n);
  EXPECT_EQ(n.origin.size(), n.text.size());
  std::string once = Normalize(all);
  EXPECT_EQ(Normalize(once), once);
}

TEST(NormalizeTest, PreservesEmojiAndUnmappedCharacters) {
  EXPECT_EQ(Normalize("nike \xF0\x9F\x98\x80"), "nike \xF0\x9F\x98\x80");
  EXPECT_EQ(Normalize("€50"), "€50");
}

TEST(NormalizeAllocationTest, SteadyStateAllocatesNothing) {
  const std::string inputs[] = {
      "Brand new NIKE Air Max 90 size 44, 100% original, fast shipping!",
      "Ｎｉｋｅ Аdidas L o u i s V u i t t o n 高仿 1:1 \xE2\x80\x8B replica",
  };
  NormalizedText n;
  n.text.reserve(4096);
  n.origin.reserve(4096);
  n.evasive.reserve(4096);
  for (const std::string& s : inputs) NormalizeAppend(s, n);  // warm up
  const int64_t before = testing::AllocationCount();
  for (int i = 0; i < 100; ++i) {
    for (const std::string& s : inputs) {
      n.Clear();
      NormalizeAppend(s, n);
    }
  }
  EXPECT_EQ(testing::AllocationCount() - before, 0);
  // The counter does see allocations: a longer text than the buffers hold must allocate.
  n.Clear();
  NormalizeAppend(std::string(8192, 'x'), n);
  EXPECT_GT(testing::AllocationCount() - before, 0);
}

}  // namespace
}  // namespace bonafide::rules
