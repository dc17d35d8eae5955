// bonafide explain: why each listing of a file did or did not open a case (docs/cli.md).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_split.h"

#include "bonafide/explain.h"
#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "engine/listing_input.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"
#include "tools/bonafide/outbox_common.h"

namespace bonafide::cli {
namespace {

// A rejected record, explained as such.
ListingExplanation RejectExplanation(const engine::Reject& reject) {
  ListingExplanation e;
  e.listing_id = reject.listing_id;
  e.line_number = reject.line;
  e.reject_reason = reject.reason;
  return e;
}

// Text output goes to a terminal: listing text is made printable line by line.
void Print(const ListingExplanation& e, bool jsonl) {
  if (jsonl) {
    std::fputs(ExplanationJson(e).c_str(), stdout);
    return;
  }
  for (absl::string_view line : absl::StrSplit(ExplanationText(e), '\n', absl::SkipEmpty())) {
    std::printf("%s\n", Printable(std::string_view(line.data(), line.size())).c_str());
  }
}

}  // namespace

int ExplainCommand(int argc, char** argv) {
  std::string rules_dir, images, outbox_location, holders, format = "text", input_format = "auto";
  std::string cache_dir = DefaultCacheDir();
  int line = 0;
  FlagSet flags("bonafide explain", "--rules DIR [flags] INPUT",
                "For every listing of INPUT (JSON Lines or CSV, as for scan; - for stdin), per\n"
                "rights holder it references: every signal that held and every one that did\n"
                "not, and why; then the score against the threshold. Writes nothing.",
                "0  explained (whether or not a listing opens a case)\n"
                "1  the input or the outbox could not be read\n"
                "2  bad usage or bad rules");
  flags.String("rules", "rules directory (required)", &rules_dir);
  flags.String("images", "image root for listing photos (\"\" = photos not read)", &images);
  flags.String("outbox",
               "outbox whose verdicts the scan would learn from (authorized sellers, known "
               "counterfeit photos, seller records); \"\" = none",
               &outbox_location);
  flags.String("rights-holder",
               "comma-separated ids to explain even when a listing does not reference them",
               &holders);
  flags.Int("line", "explain only the record at this line (0 = every record)", &line, 0,
            2'000'000'000);
  flags.Enum("format", "output", &format, {"text", "jsonl"});
  flags.Enum("input-format", "as for scan", &input_format, {"auto", "jsonl", "csv"});
  flags.String("cache-dir", "compiled-database and photo-hash cache (\"\" = none)", &cache_dir);
  std::vector<std::string> inputs;
  if (std::optional<int> exit = flags.Parse(argc, argv, &inputs)) return *exit;
  if (rules_dir.empty() || inputs.size() != 1) {
    return flags.UsageError("need --rules DIR and one INPUT");
  }

  ScannerOptions options;
  options.rules_dir = rules_dir;
  options.cache_dir = cache_dir;
  options.image_root = images;
  if (!outbox_location.empty()) {
    std::unique_ptr<Outbox> outbox = OpenForReading("bonafide explain", outbox_location);
    if (outbox == nullptr) return kExitFailure;
    auto feedback = outbox->LoadFeedback();
    if (!feedback.ok()) return Fail("bonafide explain", feedback.status());
    options.feedback = *std::move(feedback);
  }
  auto scanner = Scanner::Create(options);
  if (!scanner.ok()) {
    std::fprintf(stderr, "%s\n", std::string(scanner.status().message()).c_str());
    return kExitUsage;
  }
  auto scratch = (*scanner)->NewScratch();
  if (!scratch.ok()) return Fail("bonafide explain", scratch.status());
  const std::vector<std::string> also_holders =
      holders.empty() ? std::vector<std::string>{}
                      : std::vector<std::string>(absl::StrSplit(holders, ',', absl::SkipEmpty()));

  engine::InputOptions input_options;
  input_options.format = input_format == "jsonl" ? InputFormat::kJsonLines
                         : input_format == "csv" ? InputFormat::kCsv
                                                 : InputFormat::kAuto;
  auto source = engine::InputSource::Open(inputs[0], input_options);
  if (!source.ok()) return Fail("bonafide explain", source.status());
  engine::InputChunk chunk;
  engine::ChunkParser parser;
  engine::ParsedBatch batch;
  const bool jsonl = format == "jsonl";
  bool found = line == 0;
  while (true) {
    absl::StatusOr<bool> more = (*source)->Next(chunk);
    if (!more.ok()) return Fail("bonafide explain", more.status());
    for (const auto& skipped : (*source)->TakeSkipped()) {
      if (line != 0 && skipped.line != static_cast<uint64_t>(line)) continue;
      found = true;
      Print(RejectExplanation({.line = skipped.line, .reason = skipped.reason}), jsonl);
    }
    if (!*more) break;
    batch.Clear();
    parser.Parse(chunk, batch);
    // Listings and rejects, merged back into input order.
    size_t r = 0;
    auto print_rejects_before = [&](uint64_t before) {
      for (; r < batch.rejects.size() && batch.rejects[r].line < before; ++r) {
        if (line != 0 && batch.rejects[r].line != static_cast<uint64_t>(line)) continue;
        found = true;
        Print(RejectExplanation(batch.rejects[r]), jsonl);
      }
    };
    for (size_t i = 0; i < batch.listings_size; ++i) {
      const Listing& listing = batch.listings[i];
      print_rejects_before(listing.line_number);
      if (line != 0 && listing.line_number != static_cast<uint64_t>(line)) continue;
      found = true;
      Print((*scanner)->Explain(listing, **scratch, also_holders), jsonl);
    }
    print_rejects_before(UINT64_MAX);
  }
  if (!found) {
    std::fprintf(stderr, "bonafide explain: %s has no record at line %d\n", inputs[0].c_str(),
                 line);
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace bonafide::cli
