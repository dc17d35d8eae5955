// bonafide scan: listing dumps in, verification cases out (docs/cli.md).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "bonafide/shard.h"
#include "bonafide/summary.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"
#include "util/strings.h"

namespace bonafide::cli {
namespace {

constexpr std::string_view kDefaultRejects = "rejects.jsonl";

// Flags as typed, before validation.
struct RawScanFlags {
  std::string rules;
  std::string outbox = "outbox.db";
  std::string rejects{kDefaultRejects};
  std::string format = "text";
  std::string input_format = "auto";
  std::string cache_dir = DefaultCacheDir();
  std::string images;
  int threads = 0;
  int chunk_kib = 1024;
  std::optional<double> max_reject_rate;  // unset: no limit
  bool progress = true;
  bool restart = false;
  std::string shard;  // "I/N"; empty = the whole input
  std::vector<std::string> inputs;
};

void PrintCaseJson(const CaseRecord& c) {
  std::string line;
  JsonObject(line)
      .String("case_key", CaseKey(c.rights_holder, c.marketplace, c.listing_id))
      .String("rights_holder", c.rights_holder)
      .String("marketplace", c.marketplace)
      .String("listing_id", c.listing_id)
      .String("seller_id", c.seller_id)
      .Raw("score", FormatDecimal(c.score))
      .Raw("reasons", c.reasons_json)
      .Raw("evidence", c.evidence_json)
      .Close();
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stdout);
}

// A one-line progress report on a terminal, at most four times a second.
class ProgressLine {
 public:
  void Update(const ScanProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    const double rate = p.elapsed_seconds > 0 ? p.listings_read / p.elapsed_seconds : 0;
    if (p.total_bytes > 0) {
      std::fprintf(stderr, "\r%5.1f%%  %lld listings  %lld cases  %.0f listings/s   ",
                   100.0 * static_cast<double>(p.bytes_consumed) / p.total_bytes,
                   static_cast<long long>(p.listings_read), static_cast<long long>(p.cases), rate);
    } else {
      std::fprintf(stderr, "\r%lld listings  %lld cases  %.0f listings/s   ",
                   static_cast<long long>(p.listings_read), static_cast<long long>(p.cases), rate);
    }
    shown_ = true;
  }
  void Clear() {
    if (shown_) std::fprintf(stderr, "\r%60s\r", "");
  }

 private:
  std::chrono::steady_clock::time_point last_{};
  bool shown_ = false;
};

// Returns whether the scan rejected more than `max_rate` of the listings it read, and then
// says so on stderr.
bool RejectRateExceeded(const ScanSummary& summary, double max_rate) {
  if (summary.listings_read == 0) return false;
  const double rate =
      static_cast<double>(summary.rejected) / static_cast<double>(summary.listings_read);
  if (rate <= max_rate) return false;
  std::fprintf(stderr,
               "bonafide scan: %lld of %lld listings rejected (%.1f%%), more than "
               "--max-reject-rate %g allows (the cases found are committed to the outbox)\n",
               static_cast<long long>(summary.rejected),
               static_cast<long long>(summary.listings_read), 100.0 * rate, max_rate);
  return true;
}

// Opens the existing outbox at `location` into `outbox` and reads what its verdicts taught.
absl::Status OpenOutboxWithFeedback(const std::string& location, std::unique_ptr<Outbox>& outbox,
                                    OutboxFeedback& feedback) {
  absl::StatusOr<std::unique_ptr<Outbox>> opened = OpenOutbox(location);
  if (!opened.ok()) return opened.status();
  absl::StatusOr<OutboxFeedback> loaded = (*opened)->LoadFeedback();
  if (!loaded.ok()) return loaded.status();
  outbox = std::move(*opened);
  feedback = std::move(*loaded);
  return absl::OkStatus();
}

}  // namespace

int ScanCommand(int argc, char** argv) {
  RawScanFlags raw;
  FlagSet flags("bonafide scan", "--rules DIR [flags] INPUT...",
                "Scans listing dumps (JSON Lines or CSV with a header; .zst/.gz; - for stdin) and\n"
                "writes a verification case for every flagged listing to the outbox, rejected\n"
                "records to the rejects file, and a summary to stdout.\n"
                "Ctrl-C (or SIGTERM) stops reading, commits the batches in flight, prints the\n"
                "summary and exits with status 130; run the same command to resume. A second\n"
                "Ctrl-C stops at once (the next run still resumes from the last commit).",
                "0    the scan completed (whether or not anything was flagged)\n"
                "1    a failure stopped it, an input could not be read to its end, or more than\n"
                "     --max-reject-rate of the listings read were rejected (cases are committed)\n"
                "2    bad usage or bad rules (nothing is written)\n"
                "130  interrupted by Ctrl-C or SIGTERM (what was read is committed; run the same\n"
                "     command to resume)");
  flags.String("rules", "rules directory (required)", &raw.rules);
  flags.String("images", "directory listing photo paths are relative to (\"\" = photos not read)",
               &raw.images);
  flags.String("outbox", "outbox: an SQLite file (created when missing) or a postgresql:// URI",
               &raw.outbox);
  flags.String("rejects", "rejected records, JSON Lines (\"\" = do not write)", &raw.rejects);
  flags.Enum("input-format",
             "auto: a .csv name (also .csv.gz/.zst) is CSV, others and stdin are JSON Lines",
             &raw.input_format, {"auto", "jsonl", "csv"});
  flags.Int("threads", "worker threads (0 = all cores)", &raw.threads, 0, 1024);
  flags.Int("chunk-kib", "input per pipeline batch, in KiB", &raw.chunk_kib, 4, 65536);
  flags.Enum("format", "output (jsonl: one line per case, then the summary)", &raw.format,
             {"text", "jsonl"});
  flags.Double("max-reject-rate",
               "exit with status 1 when more than this fraction of the listings read is rejected",
               &raw.max_reject_rate, 0, 1);
  flags.String("cache-dir", "compiled-database and photo-hash cache (\"\" = none)", &raw.cache_dir);
  flags.Bool("progress", "show a progress line when stderr is a terminal", &raw.progress);
  flags.Bool("restart",
             "rescan from the start even if an interrupted scan of the same inputs can resume",
             &raw.restart);
  flags.String("shard",
               "I/N: judge only the listings whose stable hash of (marketplace, id) modulo N "
               "is I (docs/scale-out.md)",
               &raw.shard);
  if (std::optional<int> exit = flags.Parse(argc, argv, &raw.inputs)) return *exit;
  if (raw.rules.empty() || raw.inputs.empty()) {
    return flags.UsageError("need --rules DIR and at least one INPUT");
  }
  Shard shard;
  if (!raw.shard.empty()) {
    absl::StatusOr<Shard> parsed = ParseShard(raw.shard);
    if (!parsed.ok()) return flags.UsageError(std::string(parsed.status().message()));
    shard = *parsed;
    // Shards started side by side in one directory must not share the rejects file.
    if (raw.rejects == kDefaultRejects && !shard.whole()) {
      raw.rejects = absl::StrCat("rejects.shard-", shard.index, "-of-", shard.count, ".jsonl");
    }
  }
  const bool jsonl = raw.format == "jsonl";
  // The flag parser has checked the value.
  const InputFormat input_format = raw.input_format == "jsonl" ? InputFormat::kJsonLines
                                   : raw.input_format == "csv" ? InputFormat::kCsv
                                                               : InputFormat::kAuto;

  ScannerOptions scanner_options;
  scanner_options.rules_dir = raw.rules;
  scanner_options.cache_dir = raw.cache_dir;
  scanner_options.image_root = raw.images;
  // The scan starts from what the verdicts in its outbox taught. A new outbox has none, and
  // is created only once the rules are known to be good.
  std::unique_ptr<Outbox> outbox;
  if (OutboxExists(raw.outbox)) {
    absl::Status status = OpenOutboxWithFeedback(raw.outbox, outbox, scanner_options.feedback);
    if (!status.ok()) {
      std::fprintf(stderr, "bonafide scan: %s\n", std::string(status.message()).c_str());
      return kExitFailure;
    }
  }
  const std::unique_ptr<Scanner> scanner = LoadRules(scanner_options);
  if (scanner == nullptr) return kExitUsage;
  if (outbox == nullptr) {
    auto created = OpenOutbox(raw.outbox);
    if (!created.ok()) {
      std::fprintf(stderr, "bonafide scan: %s\n", std::string(created.status().message()).c_str());
      return kExitFailure;
    }
    outbox = std::move(*created);
  }

  ScanOptions options;
  options.threads = raw.threads;
  options.input_format = input_format;
  options.chunk_bytes = static_cast<size_t>(raw.chunk_kib) << 10;
  options.rejects_path = raw.rejects;
  options.resume = !raw.restart;
  options.shard = shard;
  ProgressLine progress;
  if (raw.progress && isatty(STDERR_FILENO)) {
    options.on_progress = [&progress](const ScanProgress& p) { progress.Update(p); };
  }
  if (jsonl) options.on_case = PrintCaseJson;
  options.stop = InstallStopHandler();
  auto summary = scanner->ScanFiles(raw.inputs, *outbox, options);
  progress.Clear();
  if (!summary.ok()) {
    std::fprintf(stderr, "bonafide scan: %s\n", std::string(summary.status().message()).c_str());
    return kExitFailure;
  }
  if (jsonl) {
    std::printf("{\"summary\":%s}\n", SummaryJson(*summary).c_str());
  } else {
    std::fputs(SummaryText(*summary).c_str(), stdout);
  }
  if (summary->interrupted) {
    std::fflush(stdout);
    std::fprintf(stderr, "bonafide scan: interrupted: %s\n",
                 !summary->resumable ? "the cases found so far are in the outbox"
                 : raw.restart       ? "run the same command without --restart to resume"
                                     : "run the same command to resume");
    return kExitInterrupted;
  }
  if (raw.max_reject_rate && RejectRateExceeded(*summary, *raw.max_reject_rate)) {
    return kExitFailure;
  }
  return summary->input_errors.empty() ? kExitOk : kExitFailure;
}

}  // namespace bonafide::cli
