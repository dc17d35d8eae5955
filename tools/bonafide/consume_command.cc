// bonafide consume: listings from a Kafka consumer group in, verification cases out
// (docs/cli.md).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "bonafide/outbox.h"
#include "bonafide/outbox_writer.h"
#include "bonafide/scanner.h"
#include "engine/kafka_consumer.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"
#include "tools/bonafide/outbox_common.h"
#include "util/strings.h"

namespace bonafide::cli {
namespace {

constexpr char kCommand[] = "bonafide consume";

struct RawConsumeFlags {
  std::string brokers;
  std::string topic;
  std::string group;
  std::string rules;
  std::string images;
  std::string outbox = "outbox.db";
  std::string rejects = "rejects.jsonl";
  std::string cache_dir = DefaultCacheDir();
  std::string format = "text";
  int batch_listings = static_cast<int>(OutboxWriterOptions{}.max_group_listings);
  int batch_ms = 100;
  int session_timeout_ms = 45000;
  bool exit_at_end = false;
};

std::string SummaryLine(const engine::ConsumeSummary& s, bool jsonl) {
  const OutboxWriteStats& a = s.outbox.announced;
  std::string out;
  if (jsonl) {
    JsonObject json(out);
    json.Int("messages", s.messages).Int("listings", s.listings).Int("rejected", s.rejected);
    json.Int("cases_written", s.outbox.cases).Int("transactions", s.outbox.groups);
    JsonObject events = json.Object("events");
    events.Int("opened", a.opened).Int("updated", a.updated).Int("closed", a.closed);
    events.Int("reopened", a.reopened).Int("silent", a.silent).Close();
    json.Raw("interrupted", s.interrupted ? "true" : "false").Close();
    return absl::StrCat("{\"summary\":", out, "}\n");
  }
  absl::StrAppend(&out, "messages:     ", s.messages, " (", s.listings, " listings judged, ",
                  s.rejected, " rejected)\n");
  absl::StrAppend(&out, "cases:        ", s.outbox.cases, " written in ", s.outbox.groups,
                  " transactions\n");
  absl::StrAppend(&out, "events:       ", a.opened, " opened, ", a.updated, " updated, ", a.closed,
                  " closed, ", a.reopened, " reopened\n");
  return out;
}

}  // namespace

int ConsumeCommand(int argc, char** argv) {
  RawConsumeFlags raw;
  FlagSet flags(
      kCommand, "--brokers HOST:PORT,... --topic T --group G --rules DIR [flags]",
      "Reads listings (one JSON object per message, the format of a JSON Lines dump record)\n"
      "from a Kafka topic as a member of a consumer group, writes a verification case for\n"
      "every flagged listing to the outbox and messages that are not valid listings to the\n"
      "rejects file (with topic, partition and offset). Each transaction commits the cases\n"
      "together with the next offset of every partition it covers; offsets are read from\n"
      "the outbox, never from Kafka, so a crash or rebalance neither loses nor repeats a\n"
      "case. Ctrl-C (or SIGTERM) commits what was judged and leaves the group.",
      "0    --exit-at-end: every assigned partition was read to its end\n"
      "1    a failure stopped it (what was committed stays; run again to go on)\n"
      "2    bad usage or bad rules (nothing is read)\n"
      "130  stopped by Ctrl-C or SIGTERM (what was judged is committed)");
  flags.String("brokers", "Kafka bootstrap servers, HOST:PORT,... (required)", &raw.brokers);
  flags.String("topic", "the topic holding the listings (required)", &raw.topic);
  flags.String("group", "the consumer group (required)", &raw.group);
  flags.String("rules", "rules directory (required)", &raw.rules);
  flags.String("images", "directory listing photo paths are relative to (\"\" = photos not read)",
               &raw.images);
  flags.String("outbox", "outbox: an SQLite file (created when missing) or a postgresql:// URI",
               &raw.outbox);
  flags.String("rejects",
               "rejected messages, JSON Lines (\"\" = do not write); one file per consumer",
               &raw.rejects);
  flags.String("cache-dir", "compiled-database and photo-hash cache (\"\" = none)", &raw.cache_dir);
  flags.Int("batch-listings", "listings per outbox transaction, at most", &raw.batch_listings, 1,
            1 << 20);
  flags.Int("batch-ms", "longest a judged listing waits for its transaction", &raw.batch_ms, 0,
            60000);
  flags.Int("session-timeout-ms",
            "how long the group waits for a consumer that stopped answering before giving its "
            "partitions to the others",
            &raw.session_timeout_ms, 1000, 3600000);
  flags.Bool("exit-at-end", "exit once every assigned partition was read to its end",
             &raw.exit_at_end);
  flags.Enum("format", "the summary (jsonl: one JSON line)", &raw.format, {"text", "jsonl"});
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (!positional.empty()) return flags.UsageError("unexpected argument \"" + positional[0] + "\"");
  if (raw.brokers.empty() || raw.topic.empty() || raw.group.empty() || raw.rules.empty()) {
    return flags.UsageError("need --brokers, --topic, --group and --rules");
  }

  ScannerOptions scanner_options;
  scanner_options.rules_dir = raw.rules;
  scanner_options.cache_dir = raw.cache_dir;
  scanner_options.image_root = raw.images;
  // Judged with what the verdicts in the outbox taught, as a scan is.
  if (OutboxExists(raw.outbox)) {
    std::unique_ptr<Outbox> outbox = OpenForReading(kCommand, raw.outbox);
    if (outbox == nullptr) return kExitFailure;
    absl::StatusOr<OutboxFeedback> feedback = outbox->LoadFeedback();
    if (!feedback.ok()) return Fail(kCommand, feedback.status());
    scanner_options.feedback = *std::move(feedback);
  }
  const std::unique_ptr<Scanner> scanner = LoadRules(scanner_options);
  if (scanner == nullptr) return kExitUsage;

  engine::ConsumeOptions options;
  options.brokers = raw.brokers;
  options.topic = raw.topic;
  options.group = raw.group;
  options.outbox = raw.outbox;
  options.rejects_path = raw.rejects;
  options.writer.max_group_listings = static_cast<size_t>(raw.batch_listings);
  options.writer.max_group_delay_ms = raw.batch_ms;
  options.exit_at_end = raw.exit_at_end;
  options.session_timeout_ms = raw.session_timeout_ms;
  options.stop = InstallStopHandler();
  absl::StatusOr<engine::ConsumeSummary> summary = engine::ConsumeTopic(*scanner, options);
  if (!summary.ok()) return Fail(kCommand, summary.status());
  std::fputs(SummaryLine(*summary, raw.format == "jsonl").c_str(), stdout);
  if (summary->interrupted) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: stopped: what was judged is committed\n", kCommand);
    return kExitInterrupted;
  }
  return kExitOk;
}

}  // namespace bonafide::cli
