// bonafide check --rules DIR: validates a rules directory and runs its examples.
#include <cstdio>
#include <optional>

#include "bonafide/scanner.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"

namespace bonafide::cli {

int CheckCommand(int argc, char** argv) {
  std::string rules_dir;
  std::string cache_dir = DefaultCacheDir();
  FlagSet flags("bonafide check", "--rules DIR",
                "Validates a rules directory (errors name file:line:column), compiles its\n"
                "patterns and runs every rule's examples. Warnings (e.g. two rights holders\n"
                "claiming one brand) go to stderr and do not change the exit status.",
                "0  the rules are valid and every example passes (warnings or not)\n"
                "2  bad usage, bad rules or a failing example");
  flags.String("rules", "rules directory (required)", &rules_dir);
  flags.String("cache-dir", "compiled-database cache (\"\" = none)", &cache_dir);
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (rules_dir.empty()) return flags.UsageError("need --rules DIR");
  if (!positional.empty()) return flags.UsageError("unexpected argument \"" + positional[0] + "\"");
  ScannerOptions options;
  options.rules_dir = rules_dir;
  options.cache_dir = cache_dir;
  auto scanner = Scanner::Create(options);
  if (!scanner.ok()) {
    std::fprintf(stderr, "%s\n", std::string(scanner.status().message()).c_str());
    return kExitUsage;
  }
  for (const std::string& w : (*scanner)->rules_info().warnings) {
    std::fprintf(stderr, "%s\n", w.c_str());
  }
  const std::vector<std::string> failures = (*scanner)->CheckExamples();
  for (const auto& f : failures) std::fprintf(stderr, "%s\n", f.c_str());
  const RulesInfo& info = (*scanner)->rules_info();
  std::printf("%s: %zu rights holders, %zu cue rules, %d patterns, rules version %s; %s\n",
              rules_dir.c_str(), info.holders.size(), info.cue_rules.size(), info.patterns,
              info.rules_version.c_str(),
              failures.empty() ? "all examples pass"
                               : (std::to_string(failures.size()) + " examples fail").c_str());
  return failures.empty() ? kExitOk : kExitUsage;
}

}  // namespace bonafide::cli
