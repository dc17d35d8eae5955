// The subcommands of `bonafide`; each returns an exit status (tools/bonafide/flags.h).
// argv[0] is the subcommand's name.
#ifndef BONAFIDE_TOOLS_BONAFIDE_COMMANDS_H_
#define BONAFIDE_TOOLS_BONAFIDE_COMMANDS_H_

#include <memory>
#include <string>

#include "bonafide/scanner.h"

namespace bonafide::cli {

int ScanCommand(int argc, char** argv);
int CheckCommand(int argc, char** argv);
int ExplainCommand(int argc, char** argv);
int OutboxCommand(int argc, char** argv);
int HashCommand(int argc, char** argv);
int RelayCommand(int argc, char** argv);
int ConsumeCommand(int argc, char** argv);
int VerdictCommand(int argc, char** argv);
int ReportCommand(int argc, char** argv);
int ServeCommand(int argc, char** argv);
// `bonafide token create|list|revoke`.
int TokenCommand(int argc, char** argv);
// `bonafide outbox authorized-sellers` (argv[0] is "authorized-sellers").
int AuthorizedSellersCommand(int argc, char** argv);

// True when the outbox at `location` exists (opening a missing file would create it); always
// true for a PostgreSQL URI.
bool OutboxExists(const std::string& location);

// $XDG_CACHE_HOME/bonafide, else $HOME/.cache/bonafide, else "" (no cache).
std::string DefaultCacheDir();

// Scanner::Create for a command: prints the rules' error (`file:line:column: message`), or
// else their warnings, to stderr, one per line. Null on error: the command exits
// kExitUsage.
std::unique_ptr<Scanner> LoadRules(const ScannerOptions& options);

}  // namespace bonafide::cli

#endif  // BONAFIDE_TOOLS_BONAFIDE_COMMANDS_H_
