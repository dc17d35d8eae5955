// bonafide check --rules DIR [LISTINGS...]: validates a rules directory, runs its examples
// and, given listings, warns about price cases on titles that look like accessories.
#include <cstdio>
#include <optional>

#include "bonafide/scanner.h"
#include "rules/rule_pack.h"
#include "rules/rule_pack_cache.h"
#include "tools/bonafide/accessory_titles.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"
#include "tools/bonafide/outbox_common.h"

namespace bonafide::cli {
namespace {

// Takes the scan's batches and keeps nothing: `check` writes no outbox.
class DiscardingSink : public CaseSink {
 public:
  absl::StatusOr<OutboxWriteStats> Write(const OutboxBatch&) override { return OutboxWriteStats{}; }
  absl::StatusOr<OutboxWriteStats> Publish(std::string_view) override { return OutboxWriteStats{}; }
};

}  // namespace

int CheckCommand(int argc, char** argv) {
  std::string rules_dir;
  std::string cache_dir = DefaultCacheDir();
  FlagSet flags("bonafide check", "--rules DIR [LISTINGS...]",
                "Validates a rules directory (errors name file:line:column), compiles its\n"
                "patterns and runs every rule's examples. Given listing dumps (as for scan),\n"
                "also scans them, writing nothing, and warns about products whose price\n"
                "cases fall on titles that look like accessories (another name first, a\n"
                "compatibility phrase after). Warnings (e.g. two rights holders claiming one\n"
                "brand) go to stderr and do not change the exit status.",
                "0  the rules are valid and every example passes (warnings or not)\n"
                "1  a listing dump could not be read\n"
                "2  bad usage, bad rules or a failing example");
  flags.String("rules", "rules directory (required)", &rules_dir);
  flags.String("cache-dir", "compiled-database cache (\"\" = none)", &cache_dir);
  std::vector<std::string> listings;
  if (std::optional<int> exit = flags.Parse(argc, argv, &listings)) return *exit;
  if (rules_dir.empty()) return flags.UsageError("need --rules DIR");
  ScannerOptions options;
  options.rules_dir = rules_dir;
  options.cache_dir = cache_dir;
  const std::unique_ptr<Scanner> scanner = LoadRules(options);
  if (scanner == nullptr) return kExitUsage;
  const std::vector<std::string> failures = scanner->CheckExamples();
  for (const auto& f : failures) std::fprintf(stderr, "%s\n", f.c_str());
  if (!listings.empty()) {
    // Loaded by Create already (from the cache when it has one): cannot fail here.
    auto pack = rules::LoadRulePackCached(rules_dir, cache_dir);
    if (!pack.ok()) return Fail("bonafide check", pack.status());
    AccessoryTitles accessories(*pack);
    DiscardingSink sink;
    ScanOptions scan_options;
    scan_options.resume = false;
    scan_options.on_case = [&](const CaseRecord& record) { accessories.Add(record); };
    auto summary = scanner->ScanFiles(listings, sink, scan_options);
    if (!summary.ok()) return Fail("bonafide check", summary.status());
    for (const std::string& w : accessories.Warnings()) std::fprintf(stderr, "%s\n", w.c_str());
  }
  const RulesInfo& info = scanner->rules_info();
  std::printf("%s: %zu rights holders, %zu cue rules, %d patterns, rules version %s; %s\n",
              rules_dir.c_str(), info.holders.size(), info.cue_rules.size(), info.patterns,
              info.rules_version.c_str(),
              failures.empty() ? "all examples pass"
                               : (std::to_string(failures.size()) + " examples fail").c_str());
  return failures.empty() ? kExitOk : kExitUsage;
}

}  // namespace bonafide::cli
