// bonafide outbox list: the cases of an outbox, newest first, or its events in id order.
#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include "tools/bonafide/flags.h"
#include "tools/bonafide/outbox_common.h"

namespace bonafide::cli {
namespace {

constexpr char kCommand[] = "bonafide outbox list";

int ListEvents(Outbox& outbox, const std::optional<std::string>& rights_holder, int limit,
               bool jsonl) {
  auto events = outbox.ListEvents(rights_holder, 0, limit);
  if (!events.ok()) return Fail(kCommand, events.status());
  std::string line;
  for (const StoredEvent& e : *events) {
    line.clear();
    if (jsonl) {
      JsonObject(line)
          .Int("id", e.id)
          .String("rights_holder", e.rights_holder)
          .String("case_key", e.case_key)
          .String("type", e.type)
          .Raw("payload", e.payload_json)
          .String("created_at", e.created_at)
          .Close();
    } else {
      line =
          std::to_string(e.id) + "  " + e.created_at + "  " + e.type + "  " + Printable(e.case_key);
    }
    line.push_back('\n');
    Write(stdout, line);
  }
  return kExitOk;
}

}  // namespace

int OutboxList(int argc, char** argv) {
  std::string outbox_path = "outbox.db";
  std::string rights_holder, status, since, marketplace;
  std::string format = "text";
  bool events = false;
  int limit = 0;
  FlagSet flags(kCommand, "--outbox FILE [flags]",
                "Lists the cases of an outbox, newest first (or, with --events, its events "
                "in the order they were written).",
                "0  listed (also when there is nothing to list)\n"
                "1  the outbox could not be read\n"
                "2  bad usage");
  flags.String("outbox", "outbox: an SQLite file or a postgresql:// URI", &outbox_path);
  flags.String("rights-holder", "only this rights holder's cases or events", &rights_holder);
  flags.Enum("status", "only cases in this status", &status,
             {"pending", "confirmed", "rejected", "closed"});
  flags.String("since", "only cases first seen at or after this UTC date or time (2026-12-01)",
               &since);
  flags.String("marketplace", "only cases of listings on this marketplace", &marketplace);
  flags.Int("limit", "list at most this many (0 = all)", &limit, 0, INT_MAX);
  flags.Bool("events", "list the events instead of the cases", &events);
  flags.Enum("format", "output: text, or one JSON line per case or event", &format,
             {"text", "jsonl"});
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (!positional.empty()) {
    return flags.UsageError("unexpected argument \"" + positional[0] + "\"");
  }
  CaseQuery query;
  query.limit = limit;
  if (!rights_holder.empty()) query.rights_holder = rights_holder;
  if (!status.empty()) query.status = ParseCaseStatus(status);
  if (!marketplace.empty()) query.marketplace = marketplace;
  if (!since.empty()) {
    query.since = ParseSince(since);
    if (!query.since) return flags.UsageError(std::string(kSinceHelp) + ", got \"" + since + "\"");
  }
  if (events && (query.status || query.since || query.marketplace)) {
    return flags.UsageError("--status, --since and --marketplace select cases, not --events");
  }

  std::unique_ptr<Outbox> outbox = OpenForReading(kCommand, outbox_path);
  if (outbox == nullptr) return kExitFailure;
  const bool jsonl = format == "jsonl";
  if (events) return ListEvents(*outbox, query.rights_holder, limit, jsonl);

  int64_t count = 0;
  std::string out;
  const absl::Status listed = ForEachCase(*outbox, query, [&](const StoredCase& c) {
    ++count;
    out.clear();
    if (jsonl) {
      JsonObject object(out);
      AddCaseFields(c, object);
      object.Close();
    } else {
      const CaseSummary summary = SummarizeCase(c);
      out.append(Printable(c.case_key))
          .append("  ")
          .append(CaseStatusName(c.status))
          .append("  score ")
          .append(FormatDecimal(c.score))
          .append("  seller ")
          .append(Printable(c.seller_id))
          .append("\n    ");
      AppendPrice(summary, out);
      out.append("  ").append(Printable(summary.title));
      out.append("\n    ").append(Printable(summary.explanation));
    }
    out.push_back('\n');
    Write(stdout, out);
    return absl::OkStatus();
  });
  if (!listed.ok()) return Fail(kCommand, listed);
  if (!jsonl) std::printf("%lld cases\n", static_cast<long long>(count));
  return kExitOk;
}

}  // namespace bonafide::cli
