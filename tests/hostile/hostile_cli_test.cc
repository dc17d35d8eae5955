// `bonafide scan` and `bonafide check` with bad rules (docs/cli.md): exit status 2, the
// error with its `file:line:column` on stderr, and nothing written: no outbox file (nor its
// WAL/SHM companions) and no rejects file.
//
// Runs the CLI built in this tree (tests/tools/cli_runner.h).
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace bonafide {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::kCli;
using testing::ShellQuote;
using ::testing::StartsWith;

const std::string kExampleRules = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";

class HostileCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kCli)) GTEST_SKIP() << "CLI not built: " << kCli;
    rules_ = dir_.Join("rules");
    fs::copy(kExampleRules, rules_, fs::copy_options::recursive);
    input_ = dir_.Write(
        "in.jsonl",
        R"({"id":"x1","title":"Nike Air Max 90 replica","price":20,"currency":"EUR","seller_id":"s-1"})"
        "\n");
  }

  // Runs the CLI with `args`; returns its exit status; stderr goes to `stderr_`.
  int Run(const std::string& args) {
    const testing::CliRun run = testing::RunCli(args);
    stderr_ = run.err;
    return run.exit_status;
  }

  int Scan() {
    return Run("scan --rules " + ShellQuote(rules_) + " --outbox " + ShellQuote(outbox()) +
               " --rejects " + ShellQuote(rejects()) + " --cache-dir= --progress=false " +
               ShellQuote(input_));
  }

  std::string outbox() const { return dir_.Join("out/outbox.db"); }
  std::string rejects() const { return dir_.Join("out/rejects.jsonl"); }

  void ExpectNothingWritten() {
    for (const std::string& p :
         {outbox(), outbox() + "-wal", outbox() + "-shm", outbox() + "-journal", rejects()}) {
      EXPECT_FALSE(fs::exists(p)) << p;
    }
  }

  testing::TempDir dir_;
  std::string rules_, input_, stderr_;
};

TEST_F(HostileCliTest, GoodRulesWriteTheOutbox) {  // the control: the paths are right
  fs::create_directories(dir_.Join("out"));
  EXPECT_EQ(Scan(), 0) << stderr_;
  EXPECT_TRUE(fs::exists(outbox()));
  EXPECT_TRUE(fs::exists(rejects()));
}

TEST_F(HostileCliTest, InvalidRegexExitsTwoAndWritesNothing) {
  fs::create_directories(dir_.Join("out"));
  dir_.Write("rules/cues.yaml", "rules:\n  - id: cue.bad\n    regex: 'a(b'\n");
  EXPECT_EQ(Scan(), 2);
  EXPECT_THAT(stderr_, StartsWith(rules_ + "/cues.yaml:3:12: "));
  EXPECT_THAT(stderr_, HasSubstr("invalid regex"));
  ExpectNothingWritten();
  EXPECT_EQ(Run("check --rules " + ShellQuote(rules_) + " --cache-dir="), 2);
  EXPECT_THAT(stderr_, HasSubstr("cues.yaml:3:12: "));
}

TEST_F(HostileCliTest, HyperscanRefusalExitsTwoAndWritesNothing) {
  fs::create_directories(dir_.Join("out"));
  dir_.Write("rules/cues.yaml", "rules:\n  - id: cue.bad\n    regex: '(?U)x+'\n");
  EXPECT_EQ(Scan(), 2);
  EXPECT_THAT(stderr_, StartsWith(rules_ + "/cues.yaml:2:5: "));
  EXPECT_THAT(stderr_, HasSubstr("hyperscan cannot compile"));
  ExpectNothingWritten();
}

TEST_F(HostileCliTest, BillionLaughsExitsTwoAndWritesNothing) {
  fs::create_directories(dir_.Join("out"));
  std::string yaml = "x0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    yaml += "x" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) yaml += (k ? ", *l" : "*l") + std::to_string(i - 1);
    yaml += "]\n";
  }
  dir_.Write("rules/context.yaml", yaml + "used: *l9\n");
  EXPECT_EQ(Scan(), 2);
  EXPECT_THAT(stderr_, StartsWith(rules_ + "/context.yaml:"));
  EXPECT_THAT(stderr_, HasSubstr("yaml aliases expand to more than"));
  ExpectNothingWritten();
}

TEST_F(HostileCliTest, MissingPolicyExitsTwoAndWritesNothing) {
  fs::create_directories(dir_.Join("out"));
  fs::remove(dir_.Join("rules/policy.yaml"));
  EXPECT_EQ(Scan(), 2);
  EXPECT_THAT(stderr_, HasSubstr("policy.yaml"));
  ExpectNothingWritten();
}

// The outbox directory does not exist either: nothing creates it.
TEST_F(HostileCliTest, BadRulesCreateNoOutboxDirectory) {
  dir_.Write("rules/rights_holders/nike.yaml", "id: Nike\nname: Nike\nbrands: [{name: Nike}]\n");
  EXPECT_EQ(Scan(), 2);
  EXPECT_THAT(stderr_, StartsWith(rules_ + "/rights_holders/nike.yaml:1:5: "));
  EXPECT_FALSE(fs::exists(dir_.Join("out")));
}

}  // namespace
}  // namespace bonafide
