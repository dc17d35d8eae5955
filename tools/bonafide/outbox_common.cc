#include "tools/bonafide/outbox_common.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include <simdjson.h>

#include "tools/bonafide/flags.h"
#include "util/decimal.h"

namespace bonafide::cli {

int Fail(std::string_view command, const absl::Status& status) {
  std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(status.message().size()), status.message().data());
  return kExitFailure;
}

std::unique_ptr<Outbox> OpenForReading(std::string_view command, const std::string& path) {
  auto outbox = OpenOutbox(path, OutboxAccess::kReadOnly);
  if (!outbox.ok()) {
    Fail(command, outbox.status());
    return nullptr;
  }
  return std::move(outbox).value();
}

CaseSummary SummarizeCase(const StoredCase& c) {
  CaseSummary summary;
  simdjson::dom::parser parser;
  simdjson::dom::element evidence;
  if (parser.parse(c.evidence_json).get(evidence) != simdjson::SUCCESS) return summary;
  std::string_view text;
  double number;
  if (evidence["explanation"].get(text) == simdjson::SUCCESS) summary.explanation = text;
  if (evidence["threshold"].get(number) == simdjson::SUCCESS) summary.threshold = number;
  simdjson::dom::element listing;
  if (evidence["listing"].get(listing) != simdjson::SUCCESS) return summary;
  if (listing["title"].get(text) == simdjson::SUCCESS) summary.title = text;
  if (listing["currency"].get(text) == simdjson::SUCCESS) summary.currency = text;
  if (listing["price"].get(number) == simdjson::SUCCESS) summary.price = number;
  return summary;
}

void AppendPrice(const CaseSummary& summary, std::string& out) {
  if (summary.price && *summary.price >= 0) {
    AppendMoney(*summary.price, summary.currency, out);
  } else {
    out.append("no price");
  }
}

std::string Printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\\') {
      out.append("\\\\");
    } else if (byte == '\n') {
      out.append("\\n");
    } else if (byte == '\t') {
      out.append("\\t");
    } else if (byte == '\r') {
      out.append("\\r");
    } else if (byte < 0x20 || byte == 0x7f) {
      out.append("\\x").push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else if (byte == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) < 0xa0) {
      // C1 controls U+0080..U+009F (U+009B is a terminal's CSI).
      const auto low = static_cast<unsigned char>(text[++i]);
      out.append("\\u00").push_back(kHex[low >> 4]);
      out.push_back(kHex[low & 0xf]);
    } else if (byte == 0xe2 && i + 2 < text.size() &&
               ((text[i + 1] == '\x80' && ((text[i + 2] >= '\x8e' && text[i + 2] <= '\x8f') ||
                                           (text[i + 2] >= '\xaa' && text[i + 2] <= '\xae'))) ||
                (text[i + 1] == '\x81' && text[i + 2] >= '\xa6' && text[i + 2] <= '\xa9'))) {
      // Direction marks and overrides (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069)
      // would reorder what is printed after them.
      const uint32_t code = 0x2000 + ((static_cast<unsigned char>(text[i + 1]) & 0x3f) << 6) +
                            (static_cast<unsigned char>(text[i + 2]) & 0x3f);
      out.append("\\u").push_back(kHex[(code >> 12) & 0xf]);
      out.push_back(kHex[(code >> 8) & 0xf]);
      out.push_back(kHex[(code >> 4) & 0xf]);
      out.push_back(kHex[code & 0xf]);
      i += 2;
    } else {
      out.push_back(static_cast<char>(byte));
    }
  }
  return out;
}

void AddCaseFields(const StoredCase& c, JsonObject& object) {
  object.String("case_key", c.case_key)
      .String("rights_holder", c.rights_holder)
      .String("marketplace", c.marketplace)
      .String("listing_id", c.listing_id)
      .String("seller_id", c.seller_id)
      .Raw("score", FormatDecimal(c.score))
      .String("status", CaseStatusName(c.status))
      .String("signals", c.signals)
      .Int("revision", c.revision)
      .Raw("reasons", c.reasons_json)
      .Raw("evidence", c.evidence_json)
      .String("first_seen_at", c.first_seen_at)
      .String("last_seen_at", c.last_seen_at);
}

absl::Status ForEachCase(Outbox& outbox, CaseQuery query,
                         const std::function<absl::Status(const StoredCase&)>& visit) {
  constexpr int kPageSize = 256;
  int remaining = query.limit;  // 0 = all
  while (true) {
    query.limit = remaining > 0 ? std::min(remaining, kPageSize) : kPageSize;
    absl::StatusOr<CasePage> page = outbox.ListCases(query);
    if (!page.ok()) return page.status();
    for (const StoredCase& c : page->cases) {
      if (absl::Status status = visit(c); !status.ok()) return status;
    }
    if (remaining > 0) {
      remaining -= static_cast<int>(page->cases.size());
      if (remaining <= 0) return absl::OkStatus();
    }
    if (!page->next) return absl::OkStatus();
    query.after = std::move(page->next);
  }
}

namespace {

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

}  // namespace

std::optional<std::string> ParseSince(std::string_view text) {
  std::string s(text);
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  if (!s.empty() && s.back() == 'Z') {
    if (s.size() < 13) return std::nullopt;  // a zone needs a time
    s.pop_back();
  }
  // Reduced precision stops at a field boundary; a fraction needs whole seconds before it.
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  const size_t n = s.size();
  const bool whole_fields = n == 4 || n == 7 || n == 10 || n == 13 || n == 16 || n == 19;
  const bool fraction = n >= 21 && n <= 28 && s[19] == '.';
  if (!whole_fields && !fraction) return std::nullopt;
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  for (size_t i = 0; i < n; ++i) {
    const char expected = i < kShape.size() ? kShape[i] : (i == 19 ? '.' : 'd');
    if (expected == 'd' ? !is_digit(s[i]) : s[i] != expected) return std::nullopt;
  }
  auto field = [&](size_t pos, size_t len) {
    int value = 0;
    for (size_t i = pos; i < pos + len; ++i) value = value * 10 + (s[i] - '0');
    return value;
  };
  const int year = field(0, 4);
  if (n >= 7 && (field(5, 2) < 1 || field(5, 2) > 12)) return std::nullopt;
  if (n >= 10 && (field(8, 2) < 1 || field(8, 2) > DaysInMonth(year, field(5, 2)))) {
    return std::nullopt;
  }
  if (n >= 13 && field(11, 2) > 23) return std::nullopt;
  if (n >= 16 && field(14, 2) > 59) return std::nullopt;
  if (n >= 19 && field(17, 2) > 59) return std::nullopt;
  return s;
}

}  // namespace bonafide::cli
