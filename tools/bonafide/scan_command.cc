// bonafide scan: listing dumps in, verification cases out.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "bonafide/scanner.h"
#include "bonafide/sink.h"
#include "bonafide/summary.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"
#include "util/strings.h"

namespace bonafide::cli {
namespace {

// Flags as typed, before validation.
struct RawScanFlags {
  std::string rules;
  std::string outbox = "outbox.db";
  std::string rejects = "rejects.jsonl";
  std::string format = "text";
  std::string input_format = "auto";
  std::string cache_dir = DefaultCacheDir();
  std::string images;
  int threads = 0;
  int chunk_kib = 1024;
  bool progress = true;
  bool restart = false;
  std::vector<std::string> inputs;
};

void PrintCaseJson(const CaseRecord& c) {
  std::string line;
  JsonObject(line)
      .String("case_key", SqliteOutbox::CaseKey(c.rights_holder, c.marketplace, c.listing_id))
      .String("rights_holder", c.rights_holder)
      .String("marketplace", c.marketplace)
      .String("listing_id", c.listing_id)
      .String("seller_id", c.seller_id)
      .Raw("score", std::to_string(c.score))
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

}  // namespace

int ScanCommand(int argc, char** argv) {
  RawScanFlags raw;
  FlagSet flags("bonafide scan --rules DIR [flags] INPUT...",
                "Scans listing dumps (JSON Lines or CSV with a header; .zst/.gz; - for stdin) and\n"
                "writes a verification case for every flagged listing to the outbox, rejected\n"
                "records to the rejects file, and a summary to stdout.");
  flags.String("rules", "rules directory (required)", &raw.rules);
  flags.String("images", "directory listing photo paths are relative to (\"\" = photos not read)",
               &raw.images);
  flags.String("outbox", "SQLite outbox file", &raw.outbox);
  flags.String("rejects", "rejected records, JSON Lines (\"\" = do not write)", &raw.rejects);
  flags.String("input-format",
               "auto | jsonl | csv (auto: a .csv name, also .csv.gz/.zst, is CSV; others and "
               "stdin are JSON Lines)",
               &raw.input_format);
  flags.Int("threads", "worker threads (0 = all cores)", &raw.threads);
  flags.Int("chunk-kib", "input per pipeline batch and outbox transaction, in KiB", &raw.chunk_kib);
  flags.String("format", "text | jsonl (jsonl: one line per case, then the summary)", &raw.format);
  flags.String("cache-dir", "compiled-database and photo-hash cache (\"\" = none)", &raw.cache_dir);
  flags.Bool("progress", "show a progress line when stderr is a terminal", &raw.progress);
  flags.Bool("restart",
             "rescan from the start even if an interrupted scan of the same inputs can resume",
             &raw.restart);
  switch (flags.Parse(argc, argv, &raw.inputs)) {
    case FlagSet::Outcome::kHelp:
      return kExitOk;
    case FlagSet::Outcome::kError:
      return kExitUsage;
    case FlagSet::Outcome::kOk:
      break;
  }
  if (raw.rules.empty() || raw.inputs.empty()) {
    std::fprintf(stderr, "bonafide scan: need --rules DIR and at least one INPUT\n");
    return kExitUsage;
  }
  if (raw.format != "text" && raw.format != "jsonl") {
    std::fprintf(stderr, "bonafide scan: --format is text or jsonl, not \"%s\"\n",
                 raw.format.c_str());
    return kExitUsage;
  }
  const bool jsonl = raw.format == "jsonl";
  InputFormat input_format = InputFormat::kAuto;
  if (raw.input_format == "jsonl") {
    input_format = InputFormat::kJsonLines;
  } else if (raw.input_format == "csv") {
    input_format = InputFormat::kCsv;
  } else if (raw.input_format != "auto") {
    std::fprintf(stderr, "bonafide scan: --input-format is auto, jsonl or csv, not \"%s\"\n",
                 raw.input_format.c_str());
    return kExitUsage;
  }

  ScannerOptions scanner_options;
  scanner_options.rules_dir = raw.rules;
  scanner_options.cache_dir = raw.cache_dir;
  scanner_options.image_root = raw.images;
  auto scanner = Scanner::Create(scanner_options);
  if (!scanner.ok()) {
    std::fprintf(stderr, "%s\n", std::string(scanner.status().message()).c_str());
    return kExitUsage;
  }
  auto outbox = SqliteOutbox::Open(raw.outbox);
  if (!outbox.ok()) {
    std::fprintf(stderr, "bonafide scan: %s\n", std::string(outbox.status().message()).c_str());
    return kExitFailure;
  }

  ScanOptions options;
  options.threads = raw.threads;
  options.input_format = input_format;
  options.chunk_bytes = static_cast<size_t>(std::max(raw.chunk_kib, 4)) << 10;
  options.rejects_path = raw.rejects;
  options.resume = !raw.restart;
  ProgressLine progress;
  if (raw.progress && isatty(STDERR_FILENO)) {
    options.on_progress = [&progress](const ScanProgress& p) { progress.Update(p); };
  }
  if (jsonl) options.on_case = PrintCaseJson;
  auto summary = (*scanner)->ScanFiles(raw.inputs, **outbox, options);
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
  return summary->input_errors.empty() ? kExitOk : kExitFailure;
}

}  // namespace bonafide::cli
