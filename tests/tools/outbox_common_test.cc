// Unit tests for what the `bonafide outbox` subcommands share (tools/bonafide/outbox_common.h)
// and for money formatting (tools/bonafide/money.h).
#include "tools/bonafide/outbox_common.h"

#include <string>

#include <gtest/gtest.h>

#include "tools/bonafide/money.h"

namespace bonafide::cli {
namespace {

std::string Money(double amount, const char* currency) {
  std::string out;
  AppendMoney(amount, currency, out);
  return out;
}

TEST(MoneyTest, UsesTheCurrencysDecimals) {
  EXPECT_EQ(Money(111.6, "EUR"), "111.60 EUR");
  EXPECT_EQ(Money(20, "USD"), "20.00 USD");
  EXPECT_EQ(Money(12000, "JPY"), "12000 JPY");
  EXPECT_EQ(Money(12000.4, "KRW"), "12000 KRW");
  EXPECT_EQ(Money(1.25, "KWD"), "1.250 KWD");
  EXPECT_EQ(Money(0.5, "BHD"), "0.500 BHD");
  EXPECT_EQ(Money(3, "CLF"), "3.0000 CLF");
  EXPECT_EQ(Money(7, "XYZ"), "7.00 XYZ");  // unknown codes: 2
  EXPECT_EQ(Money(0, "EUR"), "0.00 EUR");
  EXPECT_EQ(Money(0.001, "EUR"), "0.00 EUR");
}

TEST(MoneyTest, RoundsTheListedDecimalHalfAwayFromZero) {
  EXPECT_EQ(Money(2.675, "USD"), "2.68 USD");  // the double is 2.67499999...
  EXPECT_EQ(Money(1.005, "EUR"), "1.01 EUR");
  EXPECT_EQ(Money(17.5446, "EUR"), "17.54 EUR");
  EXPECT_EQ(Money(9.995, "EUR"), "10.00 EUR");
  EXPECT_EQ(Money(999.5, "JPY"), "1000 JPY");
  EXPECT_EQ(Money(0.0005, "KWD"), "0.001 KWD");
  EXPECT_EQ(Money(1e21, "EUR"), "1000000000000000000000.00 EUR");
}

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
