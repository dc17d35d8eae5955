// What the `bonafide outbox` subcommands share: opening the outbox with an error message,
// reading the listing out of a case's evidence, writing a case as JSON, paging through
// cases, and the --since check.
#ifndef BONAFIDE_TOOLS_BONAFIDE_OUTBOX_COMMON_H_
#define BONAFIDE_TOOLS_BONAFIDE_OUTBOX_COMMON_H_

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

#include "bonafide/outbox.h"
#include "util/strings.h"

namespace bonafide::cli {

// The subcommands; argv[0] is the subcommand's name.
int OutboxShow(int argc, char** argv);
int OutboxList(int argc, char** argv);
int OutboxExport(int argc, char** argv);
int OutboxMigrate(int argc, char** argv);

// Prints `<command>: <message>` to stderr; returns kExitFailure.
int Fail(std::string_view command, const absl::Status& status);

// Opens the outbox read-only; on failure prints why (prefixed with `command`) and returns
// nullptr.
std::unique_ptr<Outbox> OpenForReading(std::string_view command, const std::string& path);

// What a person reads first about a case, from its evidence (docs/matching.md): the
// listing's title, price and currency, the threshold and the explanation. Fields missing
// from the evidence are empty or nullopt.
struct CaseSummary {
  std::string title;
  std::optional<double> price;
  std::string currency;
  std::optional<double> threshold;
  std::string explanation;
};
CaseSummary SummarizeCase(const StoredCase& c);

// Appends the listing's price with its currency's decimals and code ("20.00 EUR"), or
// "no price" when the evidence has none (or a negative one, which a listing cannot have).
void AppendPrice(const CaseSummary& summary, std::string& out);

// Returns `text` safe to print on a terminal on one line: control characters (newlines,
// escape sequences, C1 controls) and bidirectional overrides are written as escapes
// (\n, \t, \r, \xNN, \u202e), backslashes as \\. Listing text comes from sellers, who may
// hide instructions to the operator's terminal in it.
std::string Printable(std::string_view text);

// Writes the case's columns into `object`: case_key, rights_holder, marketplace,
// listing_id, seller_id, score, status, signals, revision, reasons, evidence (JSON values),
// first_seen_at, last_seen_at.
void AddCaseFields(const StoredCase& c, JsonObject& object);

// Calls `visit` with each case that `query` selects, newest first, reading them a page at a
// time (memory stays bounded for any outbox size). Stops at the first error of the outbox
// or of `visit`.
absl::Status ForEachCase(Outbox& outbox, CaseQuery query,
                         const std::function<absl::Status(const StoredCase&)>& visit);

// Returns `text` as a first_seen_at lower bound: an ISO 8601 UTC date or time prefix
// (2026-12, 2026-12-01, 2026-12-01T08:30, 2026-12-01 08:30:00.5Z, ...) with its fields in
// range, normalized to the outbox's form (a 'T', no 'Z'); nullopt when it is not one.
std::optional<std::string> ParseSince(std::string_view text);
inline constexpr char kSinceHelp[] =
    "--since takes an ISO 8601 UTC date or time (2026-12-01, 2026-12-01T08:30, "
    "2026-12-01T08:30:00Z)";

// Writes `text` to `out`; false on a write error.
inline bool Write(std::FILE* out, std::string_view text) {
  return std::fwrite(text.data(), 1, text.size(), out) == text.size();
}

}  // namespace bonafide::cli

#endif  // BONAFIDE_TOOLS_BONAFIDE_OUTBOX_COMMON_H_
