// bonafide: scans marketplace listings for counterfeits and routes suspicious ones to the
// rights holders' outboxes. See README.md ("Command line").
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "bonafide/version.h"
#include "engine/sqlite_db.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"

namespace bonafide::cli {

std::string DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/bonafide";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.cache/bonafide";
  }
  return "";
}

std::unique_ptr<Scanner> LoadRules(const ScannerOptions& options) {
  absl::StatusOr<std::unique_ptr<Scanner>> scanner = Scanner::Create(options);
  if (!scanner.ok()) {
    std::fprintf(stderr, "%s\n", std::string(scanner.status().message()).c_str());
    return nullptr;
  }
  for (const std::string& w : (*scanner)->rules_info().warnings) {
    std::fprintf(stderr, "%s\n", w.c_str());
  }
  return std::move(*scanner);
}

namespace {

void PrintUsage(std::FILE* out) {
  std::fprintf(
      out,
      "usage: bonafide COMMAND [flags]\n\n"
      "commands:\n"
      "  scan --rules DIR [flags] INPUT...   scan listing dumps into the outbox\n"
      "  check --rules DIR                   validate rules and run their examples\n"
      "  explain --rules DIR INPUT           why each listing did or did not open a case\n"
      "  hash IMAGE...                       print the PDQ hash and quality of images\n"
      "  outbox show|list|export|migrate     read, export or migrate an outbox\n"
      "  outbox authorized-sellers [flags]   sellers authorized through verdicts, as YAML\n"
      "  verdict --outbox FILE KEY VERDICT   record a rights holder's verdict on a case\n"
      "  report --outbox FILE [flags]        measured precision of every signal\n"
      "  relay --config FILE [flags]         deliver events to the rights holders' webhooks\n"
      "  serve --outbox FILE [flags]         the rights holders' portal (HTTP API and page)\n"
      "  consume --brokers B --topic T ...   judge listings from a Kafka consumer group\n"
      "  token create|list|revoke [flags]    the portal's access tokens\n"
      "  version                             print the version (also --version)\n\n"
      "`bonafide COMMAND --help` describes each command's flags and exit status.\n"
      "exit status: 0 done, 1 a failure stopped the work, 2 bad usage or rules\n");
}

// Runs the command named by argv[1]; returns the exit status.
int Main(int argc, char** argv) {
  engine::sqlite::DisableMemoryStatistics();  // before any thread or SQLite use
  ExitQuietlyOnBrokenPipe();
  if (argc < 2) {
    PrintUsage(stderr);
    return kExitUsage;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    PrintUsage(stdout);
    return kExitOk;
  }
  if (command == "--version" || command == "version") {
    std::printf("bonafide %s\n", BONAFIDE_VERSION_STRING);
    return kExitOk;
  }
  if (command == "scan") return ScanCommand(argc - 1, argv + 1);
  if (command == "check") return CheckCommand(argc - 1, argv + 1);
  if (command == "explain") return ExplainCommand(argc - 1, argv + 1);
  if (command == "outbox") return OutboxCommand(argc - 1, argv + 1);
  if (command == "hash") return HashCommand(argc - 1, argv + 1);
  if (command == "verdict") return VerdictCommand(argc - 1, argv + 1);
  if (command == "report") return ReportCommand(argc - 1, argv + 1);
  if (command == "relay") return RelayCommand(argc - 1, argv + 1);
  if (command == "consume") return ConsumeCommand(argc - 1, argv + 1);
  if (command == "serve") return ServeCommand(argc - 1, argv + 1);
  if (command == "token") return TokenCommand(argc - 1, argv + 1);
  std::fprintf(stderr, "bonafide: unknown command \"%s\"\n", command.c_str());
  PrintUsage(stderr);
  return kExitUsage;
}

}  // namespace
}  // namespace bonafide::cli

int main(int argc, char** argv) { return bonafide::cli::Main(argc, argv); }
