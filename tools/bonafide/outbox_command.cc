// bonafide outbox: show, list, export and migrate an outbox (docs/cli.md).
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "engine/outbox_schema.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"
#include "tools/bonafide/outbox_common.h"

namespace bonafide::cli {

int OutboxMigrate(int argc, char** argv) {
  constexpr char kCommand[] = "bonafide outbox migrate";
  std::string outbox_path = "outbox.db";
  FlagSet flags(kCommand, "--outbox FILE",
                "Migrates an outbox written by an earlier build to this build's schema, in one "
                "transaction that keeps every case, event and verdict, and prints the schema "
                "version it is at. Never creates an outbox.",
                "0  the outbox is at this build's schema version\n"
                "1  the outbox could not be opened or migrated (it is left as it was)\n"
                "2  bad usage");
  flags.String("outbox", "outbox: an SQLite file or a postgresql:// URI", &outbox_path);
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (!positional.empty()) {
    return flags.UsageError("unexpected argument \"" + positional[0] + "\"");
  }
  // A read-only open succeeds only at the current version, and never creates the file.
  absl::StatusOr<std::unique_ptr<Outbox>> current =
      OpenOutbox(outbox_path, OutboxAccess::kReadOnly);
  if (current.ok()) {
    std::printf("%s: outbox schema version %d, nothing to migrate\n", outbox_path.c_str(),
                engine::kOutboxSchemaVersion);
    return kExitOk;
  }
  if (!absl::IsFailedPrecondition(current.status())) return Fail(kCommand, current.status());
  absl::StatusOr<std::unique_ptr<Outbox>> migrated =
      OpenOutbox(outbox_path, OutboxAccess::kReadWrite);
  if (!migrated.ok()) return Fail(kCommand, migrated.status());
  std::printf("%s: migrated to outbox schema version %d\n", outbox_path.c_str(),
              engine::kOutboxSchemaVersion);
  return kExitOk;
}

int OutboxCommand(int argc, char** argv) {
  const std::string_view sub = argc >= 2 ? std::string_view(argv[1]) : "";
  if (sub == "show") return OutboxShow(argc - 1, argv + 1);
  if (sub == "list") return OutboxList(argc - 1, argv + 1);
  if (sub == "export") return OutboxExport(argc - 1, argv + 1);
  if (sub == "migrate") return OutboxMigrate(argc - 1, argv + 1);
  if (sub == "authorized-sellers") return AuthorizedSellersCommand(argc - 1, argv + 1);
  if (sub != "--help" && sub != "-h") {
    std::fprintf(stderr, "bonafide outbox: %s\n(see: bonafide outbox --help)\n",
                 sub.empty()
                     ? "need a subcommand: show, list, export, migrate or authorized-sellers"
                     : ("unknown subcommand \"" + std::string(sub) +
                        "\" (show, list, export, migrate or authorized-sellers)")
                           .c_str());
    return kExitUsage;
  }
  std::printf(
      "usage: bonafide outbox SUBCOMMAND --outbox FILE [flags]\n\n"
      "subcommands:\n"
      "  show CASE_KEY     one case: its listing, score, reasons, events and verdicts\n"
      "  list              cases newest first, filtered (or its events, --events)\n"
      "  export --rights-holder ID --format csv|jsonl\n"
      "                    every case of one rights holder, for the rights holder\n"
      "  migrate           migrate an outbox written by an earlier build\n"
      "  authorized-sellers --rights-holder ID\n"
      "                    sellers authorized through verdicts, as the rules' YAML list\n\n"
      "`bonafide outbox SUBCOMMAND --help` describes its flags and exit status.\n");
  return kExitOk;
}

}  // namespace bonafide::cli
