// Unit tests for what the `bonafide outbox` subcommands share (tools/bonafide/outbox_common.h).
#include "tools/bonafide/outbox_common.h"

#include <string>

#include <gtest/gtest.h>

namespace bonafide::cli {
namespace {

TEST(ParseSinceTest, AcceptsIsoDatesAndTimesAsPrefixes) {
  EXPECT_EQ(ParseSince("2026"), "2026");
  EXPECT_EQ(ParseSince("2026-12"), "2026-12");
  EXPECT_EQ(ParseSince("2026-12-01"), "2026-12-01");
  EXPECT_EQ(ParseSince("2024-02-29"), "2024-02-29");
  EXPECT_EQ(ParseSince("2000-02-29"), "2000-02-29");
  EXPECT_EQ(ParseSince("2026-12-01T08"), "2026-12-01T08");
  EXPECT_EQ(ParseSince("2026-12-01T08:30"), "2026-12-01T08:30");
  EXPECT_EQ(ParseSince("2026-12-01 08:30:59"), "2026-12-01T08:30:59");
  // 'Z' is dropped: the outbox's "...:00.000Z" sorts before "...:00Z" but after "...:00".
  EXPECT_EQ(ParseSince("2026-12-01T08:30:00Z"), "2026-12-01T08:30:00");
  EXPECT_EQ(ParseSince("2026-12-01T08:30:00.123Z"), "2026-12-01T08:30:00.123");
  EXPECT_EQ(ParseSince("2026-12-01T08Z"), "2026-12-01T08");
}

TEST(ParseSinceTest, RefusesWhatIsNotAnIsoUtcDateOrTime) {
  for (const char* bad : {"",
                          "yesterday",
                          "26-12-01",
                          "2026-1",
                          "2026-12-1",
                          "2026-13-01",
                          "2026-00-10",
                          "2026-02-29",
                          "1900-02-29",
                          "2026-04-31",
                          "2026-12-00",
                          "2026-12-01Z",
                          "2026-12-01T",
                          "2026-12-01T8",
                          "2026-12-01T24",
                          "2026-12-01T08:60",
                          "2026-12-01T08:30:60",
                          "2026-12-01T08:30:00.",
                          "2026-12-01T08:30:00,5",
                          "2026-12-01T08:30+02:00",
                          "2026-12-01t08:30",
                          "2026/12/01",
                          "2026-12-01T08:30:00.1234567890"}) {
    EXPECT_EQ(ParseSince(bad), std::nullopt) << bad;
  }
}

TEST(PrintableTest, EscapesWhatWouldDriveATerminal) {
  EXPECT_EQ(Printable("plain, \"quoted\" текст"), "plain, \"quoted\" текст");
  EXPECT_EQ(Printable("a\nb\tc\rd\\e"), "a\\nb\\tc\\rd\\\\e");
  EXPECT_EQ(Printable("\x1b[31mred\x07\x7f"), "\\x1b[31mred\\x07\\x7f");
  EXPECT_EQ(Printable("\xc2\x9b"
                      "2J"),
            "\\u009b2J");  // C1 CSI
  EXPECT_EQ(Printable("abc\xe2\x80\xae"
                      "cba"),
            "abc\\u202ecba");  // right-to-left override
  EXPECT_EQ(Printable("\xe2\x81\xa6x\xe2\x80\x8f"), "\\u2066x\\u200f");
  EXPECT_EQ(Printable("\xc2\xa0\xe2\x80\x94"), "\xc2\xa0\xe2\x80\x94");  // NBSP, em dash stay
}

}  // namespace
}  // namespace bonafide::cli
