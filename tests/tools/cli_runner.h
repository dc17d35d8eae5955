// Runs the `bonafide` binary built in this tree, as a user would from a shell, and captures
// what it printed.
//
//   testing::CliRun r = testing::RunCli("scan --rules " + testing::ShellQuote(dir) + " in.jsonl");
//   EXPECT_EQ(r.exit_status, 2) << r.err;
#ifndef BONAFIDE_TESTS_TOOLS_CLI_RUNNER_H_
#define BONAFIDE_TESTS_TOOLS_CLI_RUNNER_H_

#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "tests/test_util.h"

namespace bonafide::testing {

// The CLI of this build tree.
inline const std::string kCli = std::string(BONAFIDE_BINARY_DIR) + "/tools/bonafide";

// Returns `s` quoted for /bin/sh.
inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

struct CliRun {
  int exit_status = -1;  // 128 + signal when killed by one
  std::string out;       // stdout
  std::string err;       // stderr
};

// Runs `bonafide <args>` (args are shell words: quote paths with ShellQuote) in /bin/sh,
// with stdout and stderr captured through files in a temporary directory.
inline CliRun RunCli(const std::string& args) {
  TempDir capture;
  const std::string out = capture.Join("stdout"), err = capture.Join("stderr");
  const std::string command =
      ShellQuote(kCli) + " " + args + " >" + ShellQuote(out) + " 2>" + ShellQuote(err);
  const int status = std::system(command.c_str());
  CliRun run;
  run.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.out = ReadFileOrDie(out);
  run.err = ReadFileOrDie(err);
  return run;
}

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_TOOLS_CLI_RUNNER_H_
