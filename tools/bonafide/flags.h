// A small command-line parser for the subcommands of `bonafide`.
//
// Each subcommand declares its flags with their help text and allowed values, so that
// `bonafide scan --help` shows exactly the flags of `scan` (absl::flags keeps one global
// registry for the whole binary) and a bad value is refused with what would be accepted:
//   FlagSet flags("bonafide scan", "--rules DIR [flags] INPUT...", "Scans listing dumps.",
//                 "0  done\n1  a failure stopped it\n2  bad usage or bad rules");
//   std::string rules;
//   int threads = 0;
//   flags.String("rules", "rules directory (required)", &rules);
//   flags.Int("threads", "worker threads (0 = all cores)", &threads, 0, 1024);
//   std::vector<std::string> inputs;
//   if (std::optional<int> exit = flags.Parse(argc, argv, &inputs)) return *exit;  // argv[0]: the
//   subcommand if (rules.empty()) return flags.UsageError("need --rules DIR");
//
// Syntax: `--name VALUE` or `--name=VALUE`; a boolean is `--name` or `--name=true|false`;
// `--help` or `-h` prints the help; `--` ends the flags; `-` alone is an argument (stdin).
// Any other argument starting with `-` is a usage error naming it, with the long flag it
// probably meant, so that `scan -t 2` is not taken for an input file named "-t".
//
// Thread-compatible. Not copyable: it keeps the pointers to the values it fills, which
// must outlive it.
#ifndef BONAFIDE_TOOLS_BONAFIDE_FLAGS_H_
#define BONAFIDE_TOOLS_BONAFIDE_FLAGS_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bonafide::cli {

// Exit statuses of every subcommand; each command's --help says what they mean for it.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;        // a failure that stopped the work
inline constexpr int kExitUsage = 2;          // bad flags or bad rules
inline constexpr int kExitInterrupted = 130;  // `scan` stopped by SIGINT/SIGTERM (128 + 2)

class FlagSet {
 public:
  // `command` names the subcommand in messages ("bonafide scan"), `synopsis` follows it in
  // the help's usage line, `exit_status` ends the help: one line per status, e.g.
  // "0  done\n2  bad usage", each printed indented under "exit status:".
  FlagSet(std::string command, std::string synopsis, std::string description,
          std::string exit_status);
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // Declare a flag; the value's current content is its default, shown in the help.
  // REQUIRES: names are unique; for Int and Double, min <= *value <= max when set.
  void String(const char* name, const char* help, std::string* value);
  // One of `allowed`; the help shows them as `--name a|b`.
  void Enum(const char* name, const char* help, std::string* value,
            std::vector<std::string> allowed);
  void Int(const char* name, const char* help, int* value, int min, int max);
  // A number in [min, max]; unset by default.
  void Double(const char* name, const char* help, std::optional<double>* value, double min,
              double max);
  void Bool(const char* name, const char* help, bool* value);

  // Parses argv[1..argc) into the declared values; other arguments go to `positional`.
  // Returns nullopt when the command should go on; otherwise the exit status it should
  // return at once: kExitOk after printing the help (--help) to stdout, kExitUsage after
  // printing the error and a hint to stderr (see UsageError).
  std::optional<int> Parse(int argc, char** argv, std::vector<std::string>* positional);

  // Prints `<command>: <message>` and `(see: <command> --help)` to stderr; returns
  // kExitUsage. For usage errors found after Parse (a required flag missing).
  int UsageError(std::string_view message) const;

  void PrintHelp() const;

 private:
  enum class Kind { kString, kEnum, kInt, kDouble, kBool };
  struct Flag {
    std::string name, help;
    Kind kind;
    void* value;
    std::string default_text;
    std::vector<std::string> allowed;       // kEnum
    int64_t int_min = 0, int_max = 0;       // kInt
    double double_min = 0, double_max = 0;  // kDouble
  };
  Flag* Find(std::string_view name);
  // Returns " (did you mean --x?)" for the flags that `typed` (a name without dashes)
  // abbreviates or misspells, or "".
  std::string Suggestion(std::string_view typed) const;
  // Stores `text` into `flag`; returns an error message, or "" when the value is valid.
  std::string Set(Flag& flag, std::string_view text);

  std::string command_, synopsis_, description_, exit_status_;
  std::vector<Flag> flags_;
};

// Exits quietly when stdout has been closed by the reader (`bonafide ... | head`).
void ExitQuietlyOnBrokenPipe();

// Installs the SIGINT/SIGTERM handler of commands that stop gracefully (scan, relay): the
// first signal sets the returned flag (ScanOptions::stop, RelayOptions::stop) and restores
// the default action, so that a second one kills at once. Returns the same flag each call.
const std::atomic<bool>* InstallStopHandler();

}  // namespace bonafide::cli

#endif  // BONAFIDE_TOOLS_BONAFIDE_FLAGS_H_
