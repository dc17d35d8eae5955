// The `bonafide` command line as a new user meets it: flags that are refused with what would
// be accepted, help that states each command's exit statuses, --version, --max-reject-rate
// and the rules warnings. Runs the binary built in this tree.
#include <algorithm>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bonafide/version.h"
#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace bonafide {
namespace {

namespace fs = std::filesystem;
using testing::CliRun;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunCli;
using testing::ShellQuote;
using ::testing::StartsWith;

const std::string kExampleRules = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";
constexpr char kFlaggedListing[] =
    R"({"id":"x1","title":"Nike Air Max 90 replica","price":20,"currency":"EUR","seller_id":"s-1"})"
    "\n";

class BonafideCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(testing::kCli)) GTEST_SKIP() << "CLI not built: " << testing::kCli;
  }

  // `scan` of `input` with the example rules into dir_/<name>/, plus `flags`.
  CliRun Scan(const std::string& name, const std::string& flags, const std::string& input) {
    return RunCli("scan --rules " + ShellQuote(kExampleRules) + " --outbox " +
                  ShellQuote(Outbox(name)) + " --rejects " + ShellQuote(dir_.Join(name + ".rej")) +
                  " --cache-dir= --progress=false " + flags + " " + ShellQuote(input));
  }
  std::string Outbox(const std::string& name) const { return dir_.Join(name + ".db"); }

  testing::TempDir dir_;
};

// Before: "-t" was read as an input file; the scan failed on it (status 1) and left an
// empty outbox behind.
TEST_F(BonafideCliTest, UnknownShortFlagIsAUsageErrorThatWritesNothing) {
  const std::string input = dir_.Write("in.jsonl", kFlaggedListing);
  const CliRun run = Scan("out", "-t 2", input);
  EXPECT_EQ(run.exit_status, 2);
  EXPECT_EQ(run.err,
            "bonafide scan: -t: unknown flag (did you mean --threads?)\n"
            "(see: bonafide scan --help)\n");
  EXPECT_FALSE(fs::exists(Outbox("out")));
  EXPECT_FALSE(fs::exists(dir_.Join("out.rej")));
}

TEST_F(BonafideCliTest, UnknownFlagsNameTheLongFlagsTheyMayMean) {
  EXPECT_THAT(RunCli("scan -r x").err,
              HasSubstr("-r: unknown flag (did you mean --rules, --rejects or --restart?)"));
  EXPECT_THAT(RunCli("scan -threads 2 x").err,
              HasSubstr("-threads: unknown flag (did you mean --threads?)"));
  EXPECT_THAT(RunCli("scan --thread=2 x").err,
              HasSubstr("--thread: unknown flag (did you mean --threads?)"));
  const CliRun none = RunCli("check -x");
  EXPECT_EQ(none.exit_status, 2);
  EXPECT_EQ(none.err, "bonafide check: -x: unknown flag\n(see: bonafide check --help)\n");
}

TEST_F(BonafideCliTest, DashAloneIsStandardInputAndDashHIsHelp) {
  const std::string input = dir_.Write("in.jsonl", kFlaggedListing);
  const CliRun stdin_run = RunCli(
      "scan --rules " + ShellQuote(kExampleRules) + " --outbox " + ShellQuote(Outbox("stdin")) +
      " --rejects '' --cache-dir= --progress=false - < " + ShellQuote(input));
  EXPECT_EQ(stdin_run.exit_status, 0) << stdin_run.err;
  const CliRun list = RunCli("outbox list --format jsonl --outbox " + ShellQuote(Outbox("stdin")));
  EXPECT_THAT(list.out, HasSubstr("\"listing_id\":\"x1\""));
  const CliRun help = RunCli("scan -h");
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_THAT(help.out, HasSubstr("usage: bonafide scan --rules DIR [flags] INPUT..."));
}

TEST_F(BonafideCliTest, IntegerFlagsStateTheirRange) {
  const CliRun chunk = RunCli("scan --chunk-kib 999999999 --rules x in.jsonl");
  EXPECT_EQ(chunk.exit_status, 2);
  EXPECT_EQ(chunk.err,
            "bonafide scan: --chunk-kib takes an integer from 4 to 65536, got \"999999999\"\n"
            "(see: bonafide scan --help)\n");
  EXPECT_THAT(RunCli("scan --threads=-1 --rules x in.jsonl").err,
              HasSubstr("--threads takes an integer from 0 to 1024, got \"-1\""));
  EXPECT_THAT(RunCli("scan --chunk-kib 3 --rules x in.jsonl").err,
              HasSubstr("--chunk-kib takes an integer from 4 to 65536, got \"3\""));
  EXPECT_THAT(RunCli("outbox list --limit ten").err,
              HasSubstr("--limit takes an integer from 0 to 2147483647, got \"ten\""));
}

TEST_F(BonafideCliTest, EnumFlagsListTheirValues) {
  const CliRun list = RunCli("outbox list --format csv");
  EXPECT_EQ(list.exit_status, 2);
  EXPECT_EQ(list.err,
            "bonafide outbox list: --format takes text or jsonl, got \"csv\"\n"
            "(see: bonafide outbox list --help)\n");
  const CliRun scan = RunCli("scan --format=csv --rules x in.jsonl");
  EXPECT_EQ(scan.exit_status, 2);
  EXPECT_THAT(scan.err, HasSubstr("--format takes text or jsonl, got \"csv\""));
}

// The hint names a command that runs: `bonafide scan --help`, not the synopsis.
TEST_F(BonafideCliTest, UsageHintIsARunnableCommand) {
  const CliRun run = RunCli("scan");
  EXPECT_EQ(run.exit_status, 2);
  EXPECT_EQ(run.err,
            "bonafide scan: need --rules DIR and at least one INPUT\n"
            "(see: bonafide scan --help)\n");
  EXPECT_EQ(RunCli("scan --help").exit_status, 0);
  EXPECT_THAT(RunCli("outbox").err, HasSubstr("(see: bonafide outbox --help)"));
  EXPECT_EQ(RunCli("outbox list --help").exit_status, 0);
}

TEST_F(BonafideCliTest, EachHelpStatesItsOwnExitStatuses) {
  const std::string scan = RunCli("scan --help").out;
  EXPECT_THAT(scan, HasSubstr("exit status:\n  0    the scan completed"));
  EXPECT_THAT(scan, HasSubstr("--max-reject-rate of the listings read were rejected"));
  EXPECT_THAT(scan, HasSubstr("\n  130  interrupted by Ctrl-C or SIGTERM"));

  const std::string check = RunCli("check --help").out;
  EXPECT_THAT(check, EndsWith("exit status:\n"
                              "  0  the rules are valid and every example passes (warnings or "
                              "not)\n"
                              "  1  a listing dump could not be read\n"
                              "  2  bad usage, bad rules or a failing example\n"));
  const std::string hash = RunCli("hash --help").out;
  EXPECT_THAT(hash, EndsWith("exit status:\n  0  every image was hashed\n"
                             "  1  some image could not be read\n  2  bad usage\n"));
  const std::string list = RunCli("outbox list --help").out;
  EXPECT_THAT(list, EndsWith("exit status:\n  0  listed (also when there is nothing to list)\n"
                             "  1  the outbox could not be read\n  2  bad usage\n"));
  for (const std::string& help : {check, hash, list}) {
    EXPECT_THAT(help, Not(HasSubstr("flagged")));
  }
}

TEST_F(BonafideCliTest, PrintsTheProjectVersion) {
  const std::string expected = std::string("bonafide ") + BONAFIDE_VERSION_STRING + "\n";
  EXPECT_EQ(std::string(BONAFIDE_VERSION_STRING), std::to_string(BONAFIDE_VERSION_MAJOR) + "." +
                                                      std::to_string(BONAFIDE_VERSION_MINOR) + "." +
                                                      std::to_string(BONAFIDE_VERSION_PATCH));
  for (const char* args : {"--version", "version"}) {
    const CliRun run = RunCli(args);
    EXPECT_EQ(run.exit_status, 0) << args;
    EXPECT_EQ(run.out, expected) << args;
    EXPECT_EQ(run.err, "") << args;
  }
}

// One listing of two is rejected: a rate of 0.5.
TEST_F(BonafideCliTest, MaxRejectRateFailsTheScanAboveTheLimitOnly) {
  const std::string input =
      dir_.Write("in.jsonl", std::string(kFlaggedListing) + "this is not json\n");

  const CliRun at_limit = Scan("at", "--max-reject-rate 0.5", input);
  EXPECT_EQ(at_limit.exit_status, 0) << at_limit.err;
  EXPECT_THAT(at_limit.err, Not(HasSubstr("max-reject-rate")));

  const CliRun over = Scan("over", "--max-reject-rate=0.49", input);
  EXPECT_EQ(over.exit_status, 1);
  EXPECT_EQ(over.err,
            "bonafide scan: 1 of 2 listings rejected (50.0%), more than --max-reject-rate 0.49 "
            "allows (the cases found are committed to the outbox)\n");
  EXPECT_FALSE(over.out.empty());  // the summary is printed all the same
  // The case was committed all the same.
  const CliRun list = RunCli("outbox list --format jsonl --outbox " + ShellQuote(Outbox("over")));
  EXPECT_EQ(list.exit_status, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("\"listing_id\":\"x1\""));

  const CliRun no_limit = Scan("none", "", input);
  EXPECT_EQ(no_limit.exit_status, 0) << no_limit.err;
}

TEST_F(BonafideCliTest, CheckAndScanPrintRulesWarnings) {
  const std::string rules = dir_.Join("rules");
  fs::copy(kExampleRules, rules, fs::copy_options::recursive);
  dir_.Write("rules/rights_holders/zz_copycat.yml",
             "id: zz_copycat\nname: Copycat\nbrands:\n  - name: NIKE\n");
  const std::string warning =
      rules + "/rights_holders/zz_copycat.yml:4:5: warning: brand \"NIKE\" of rights holder " +
      "\"zz_copycat\" is also claimed by rights holder \"nike\" (" + rules +
      "/rights_holders/nike.yaml:";

  const CliRun check = RunCli("check --cache-dir= --rules " + ShellQuote(rules));
  EXPECT_EQ(check.exit_status, 0) << check.err;
  EXPECT_THAT(check.err, ::testing::StartsWith(warning));
  EXPECT_THAT(check.out, HasSubstr("10 rights holders"));

  const std::string input = dir_.Write("in.jsonl", kFlaggedListing);
  const CliRun scan =
      RunCli("scan --cache-dir= --progress=false --rules " + ShellQuote(rules) + " --outbox " +
             ShellQuote(Outbox("warned")) + " --rejects '' " + ShellQuote(input));
  EXPECT_EQ(scan.exit_status, 0) << scan.err;
  EXPECT_THAT(scan.err, ::testing::StartsWith(warning));
}

// `bonafide check` with listings: price cases on titles that look like accessories (another
// name first, a compatibility phrase after) are counted per product, with an example; a
// title that starts with the brand, or an accessory the context knows, is not.
TEST_F(BonafideCliTest, CheckWarnsAboutPriceCasesOnAccessoryLikeTitles) {
  const std::string input = dir_.Write(
      "titles.jsonl",
      R"({"id":"a1","title":"Orico Docking Kit for the home office desk setup with Apple MacBook Air slot","price":39,"currency":"EUR","seller_id":"s1"})"
      "\n"
      R"({"id":"a2","title":"Orico Dock for the office and the home desk, Apple MacBook Air M3","price":35,"currency":"EUR","seller_id":"s1"})"
      "\n"
      R"({"id":"a3","title":"Orico Docking Kit for the home office desk setup plus Apple MacBook Air stand","price":39,"currency":"EUR","seller_id":"s1"})"
      "\n"
      R"({"id":"a4","title":"Apple MacBook Air M3 for students","price":39,"currency":"EUR","seller_id":"s2"})"
      "\n");
  const CliRun check =
      RunCli("check --cache-dir= --rules " + ShellQuote(kExampleRules) + " " + ShellQuote(input));
  EXPECT_EQ(check.exit_status, 0) << check.err;
  EXPECT_THAT(check.err,
              HasSubstr("/rights_holders/apple.yaml:34:5: warning: product \"apple-macbook-air\": "
                        "2 price cases on titles that look like accessories"));
  EXPECT_THAT(check.err, HasSubstr("e.g. \"Orico Docking Kit for the home office desk setup "
                                   "with Apple MacBook Air slot\""));
  EXPECT_EQ(std::count(check.err.begin(), check.err.end(), '\n'), 1) << check.err;

  const CliRun missing = RunCli("check --cache-dir= --rules " + ShellQuote(kExampleRules) + " " +
                                ShellQuote(dir_.Join("absent.jsonl")));
  EXPECT_EQ(missing.exit_status, 1) << missing.err;
}

// `bonafide explain` on a file: every record in input order (rejects included), each
// referenced rights holder's signals held (+) and not (-) with why; --line picks one
// record; control characters in listing text never reach the terminal raw.
TEST_F(BonafideCliTest, ExplainSaysWhyEachListingDidOrDidNotOpenACase) {
  const std::string input = dir_.Write(
      "explain.jsonl",
      std::string(kFlaggedListing) + "not json\n" +
          R"({"id":"x2","title":"Nike Air Max 90","price":130,"currency":"EUR","seller_id":"s-\u001b[31m"})"
          "\n");
  const CliRun all = RunCli("explain --cache-dir=" + ShellQuote(dir_.Join("cache")) + " --rules " +
                            ShellQuote(kExampleRules) + " " + ShellQuote(input));
  ASSERT_EQ(all.exit_status, 0) << all.err;
  EXPECT_THAT(all.out, HasSubstr("listing default:x1 (line 1)\n  nike: named \"Nike\""));
  EXPECT_THAT(all.out, HasSubstr("    + cue:cue.replica (1): matched \"replica\""));
  EXPECT_THAT(all.out, HasSubstr("    => case: score 2 >= threshold 1\n"));
  EXPECT_THAT(all.out, HasSubstr("record (line 2)\n  rejected: not a JSON object\n"));
  EXPECT_THAT(all.out, HasSubstr("listing default:x2 (line 3)"));
  EXPECT_THAT(all.out, HasSubstr("is 86.67% of the reference 150.00 EUR of nike-air-max-90 (not "
                                 "below 40%)"));
  EXPECT_THAT(all.out, HasSubstr("\\x1b[31m"));
  EXPECT_THAT(all.out, Not(HasSubstr("\x1b")));

  const CliRun one = RunCli("explain --cache-dir=" + ShellQuote(dir_.Join("cache")) +
                            " --format jsonl --line 3 --rights-holder adidas "
                            "--rules " +
                            ShellQuote(kExampleRules) + " " + ShellQuote(input));
  ASSERT_EQ(one.exit_status, 0) << one.err;
  EXPECT_THAT(one.out, StartsWith(R"({"marketplace":"default","listing_id":"x2","line":3,)"));
  EXPECT_THAT(one.out, HasSubstr(R"({"rights_holder":"adidas","referenced":false,)"));
  EXPECT_EQ(std::count(one.out.begin(), one.out.end(), '\n'), 1) << one.out;

  const CliRun missing =
      RunCli("explain --cache-dir=" + ShellQuote(dir_.Join("cache")) + " --line 9 --rules " +
             ShellQuote(kExampleRules) + " " + ShellQuote(input));
  EXPECT_EQ(missing.exit_status, 1);
  EXPECT_THAT(missing.err, HasSubstr("has no record at line 9"));
  EXPECT_EQ(RunCli("explain --rules " + ShellQuote(kExampleRules)).exit_status, 2);
}

}  // namespace
}  // namespace bonafide
