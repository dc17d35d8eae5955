// bonafide outbox export: every case of one rights holder, as CSV or JSON Lines, for the
// rights holder (docs/cli.md lists the CSV columns).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/bonafide/flags.h"
#include "tools/bonafide/outbox_common.h"
#include "util/decimal.h"

namespace bonafide::cli {
namespace {

constexpr char kCommand[] = "bonafide outbox export";

constexpr const char* kCsvColumns[] = {
    "case_key", "rights_holder", "marketplace", "listing_id",    "seller_id",
    "status",   "score",         "threshold",   "title",         "price",
    "currency", "signals",       "explanation", "first_seen_at", "last_seen_at",
};

// Appends `field` as an RFC 4180 field: quoted (with quotes doubled) when it holds a comma,
// a quote, a CR or a LF, or starts or ends with a space (which some readers trim).
void AppendCsvField(std::string_view field, std::string& out) {
  const bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!quote) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendCsvRow(const StoredCase& c, std::string& out) {
  const CaseSummary summary = SummarizeCase(c);
  std::string price;
  if (summary.price && *summary.price >= 0) {
    AppendFixed(ShortestDecimal(*summary.price), CurrencyDecimals(summary.currency), price);
  }
  const std::string fields[] = {
      c.case_key,
      c.rights_holder,
      c.marketplace,
      c.listing_id,
      c.seller_id,
      CaseStatusName(c.status),
      FormatDecimal(c.score),
      summary.threshold ? FormatDecimal(*summary.threshold) : "",
      summary.title,
      price,
      summary.currency,
      c.signals,
      summary.explanation,
      c.first_seen_at,
      c.last_seen_at,
  };
  static_assert(std::size(fields) == std::size(kCsvColumns));
  for (size_t i = 0; i < std::size(fields); ++i) {
    if (i > 0) out.push_back(',');
    AppendCsvField(fields[i], out);
  }
  out.append("\r\n");
}

}  // namespace

int OutboxExport(int argc, char** argv) {
  std::string outbox_path = "outbox.db";
  std::string rights_holder, format, status, since, output;
  FlagSet flags(kCommand, "--outbox FILE --rights-holder ID --format csv|jsonl [flags]",
                "Exports every case of one rights holder (and no other), newest first: CSV "
                "with a header row (RFC 4180, UTF-8, CRLF line ends) or one JSON line per case.",
                "0  exported (also when the rights holder has no case)\n"
                "1  the outbox could not be read or the output written (no partial --output "
                "file is left)\n"
                "2  bad usage");
  flags.String("outbox", "outbox: an SQLite file or a postgresql:// URI", &outbox_path);
  flags.String("rights-holder", "the rights holder whose cases to export (required)",
               &rights_holder);
  flags.Enum("format", "output format (required)", &format, {"csv", "jsonl"});
  flags.Enum("status", "only cases in this status", &status,
             {"pending", "confirmed", "rejected", "closed"});
  flags.String("since", "only cases first seen at or after this UTC date or time (2026-12-01)",
               &since);
  flags.String("output", "write to this file (replaced once complete) instead of stdout", &output);
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (!positional.empty()) {
    return flags.UsageError("unexpected argument \"" + positional[0] + "\"");
  }
  if (rights_holder.empty() || format.empty()) {
    return flags.UsageError("need --rights-holder ID and --format csv|jsonl");
  }
  CaseQuery query;
  query.rights_holder = rights_holder;
  if (!status.empty()) query.status = ParseCaseStatus(status);
  if (!since.empty()) {
    query.since = ParseSince(since);
    if (!query.since) return flags.UsageError(std::string(kSinceHelp) + ", got \"" + since + "\"");
  }

  std::unique_ptr<Outbox> outbox = OpenForReading(kCommand, outbox_path);
  if (outbox == nullptr) return kExitFailure;
  // Written next to --output and renamed over it once complete, so that nobody reads a
  // half-written export.
  const std::string partial = output.empty() ? "" : output + ".partial";
  std::FILE* out = stdout;
  if (!output.empty()) {
    out = std::fopen(partial.c_str(), "wb");
    if (out == nullptr) {
      std::fprintf(stderr, "%s: %s: %s\n", kCommand, partial.c_str(), std::strerror(errno));
      return kExitFailure;
    }
  }
  auto fail = [&](const absl::Status& why) {
    if (out != stdout) {
      std::fclose(out);
      std::remove(partial.c_str());
    }
    return Fail(kCommand, why);
  };
  const absl::Status write_error =
      absl::UnavailableError((output.empty() ? std::string("stdout") : partial) + ": write failed");

  std::string text;
  if (format == "csv") {
    for (const char* column : kCsvColumns) {
      if (!text.empty()) text.push_back(',');
      text.append(column);
    }
    text.append("\r\n");
    if (!Write(out, text)) return fail(write_error);
  }
  int64_t count = 0;
  const absl::Status exported = ForEachCase(*outbox, query, [&](const StoredCase& c) {
    // The query selects one rights holder; checked again because a leak to another holder
    // is the one mistake an export must never make.
    if (c.rights_holder != rights_holder) {
      return absl::InternalError("outbox returned case \"" + c.case_key + "\" of rights holder \"" +
                                 c.rights_holder + "\" for \"" + rights_holder + "\"");
    }
    text.clear();
    if (format == "csv") {
      AppendCsvRow(c, text);
    } else {
      JsonObject object(text);
      AddCaseFields(c, object);
      object.Close();
      text.push_back('\n');
    }
    ++count;
    return Write(out, text) ? absl::OkStatus() : write_error;
  });
  if (!exported.ok()) return fail(exported);
  if (out != stdout) {
    if (std::fclose(out) != 0) {
      out = stdout;  // closed: only the file is left to remove
      std::remove(partial.c_str());
      return Fail(kCommand, write_error);
    }
    if (std::rename(partial.c_str(), output.c_str()) != 0) {
      const std::string why = partial + ": rename to " + output + ": " + std::strerror(errno);
      std::remove(partial.c_str());
      return Fail(kCommand, absl::UnavailableError(why));
    }
    std::printf("%s: %lld cases of %s\n", output.c_str(), static_cast<long long>(count),
                rights_holder.c_str());
  } else if (std::fflush(stdout) != 0) {
    return Fail(kCommand, write_error);
  }
  if (count == 0) {
    std::fprintf(stderr, "%s: no case of rights holder \"%s\"%s\n", kCommand,
                 Printable(rights_holder).c_str(),
                 status.empty() && since.empty() ? "" : " with these filters");
  }
  return kExitOk;
}

}  // namespace bonafide::cli
