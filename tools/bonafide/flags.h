// A small command-line parser for the subcommands of `bonafide`.
//
// Each subcommand lists its flags with their help text, so `bonafide scan --help` shows
// exactly the flags of `scan` (absl::flags keeps one global registry for the whole binary).
//   FlagSet flags("bonafide scan --rules DIR [flags] INPUT...", "Scans listing dumps.");
//   std::string rules;
//   flags.String("rules", "rules directory (required)", &rules);
//   ParseResult r = flags.Parse(argc, argv);   // argv[0] is the subcommand
#ifndef BONAFIDE_TOOLS_BONAFIDE_FLAGS_H_
#define BONAFIDE_TOOLS_BONAFIDE_FLAGS_H_

#include <string>
#include <vector>

namespace bonafide::cli {

// Exit statuses of every subcommand (spec.md section 5).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;        // a failure that stopped the work
inline constexpr int kExitUsage = 2;          // bad flags or bad rules
inline constexpr int kExitInterrupted = 130;  // `scan` stopped by SIGINT/SIGTERM (128 + 2)

class FlagSet {
 public:
  FlagSet(std::string usage, std::string description);

  void String(const char* name, const char* help, std::string* value);
  void Int(const char* name, const char* help, int* value);
  void Bool(const char* name, const char* help, bool* value);

  enum class Outcome { kOk, kHelp, kError };
  // Parses argv[1..argc); positional arguments go to `positional`. On kError, prints the
  // error and a hint to stderr; on kHelp, prints the help to stdout.
  Outcome Parse(int argc, char** argv, std::vector<std::string>* positional);

  void PrintHelp() const;

 private:
  enum class Kind { kString, kInt, kBool };
  struct Flag {
    std::string name, help;
    Kind kind;
    void* value;
    std::string default_text;
  };
  std::string usage_, description_;
  std::vector<Flag> flags_;
};

// Exits quietly when stdout has been closed by the reader (`bonafide ... | head`).
void ExitQuietlyOnBrokenPipe();

}  // namespace bonafide::cli

#endif  // BONAFIDE_TOOLS_BONAFIDE_FLAGS_H_
