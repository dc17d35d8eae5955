// `bonafide outbox show|list|export|migrate` as a trust-and-safety engineer runs them: on
// outboxes made by `bonafide scan` (and a verdict given through the library), checking
// what is printed and the exit status. Runs the binary built in this tree.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sqlite3.h>

#include "bonafide/outbox.h"
#include "tests/outbox_test_util.h"
#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace bonafide {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using testing::CliRun;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunCli;
using testing::ShellQuote;
using ::testing::StartsWith;

const std::string kExampleRules = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";
const std::string kSample = std::string(BONAFIDE_SOURCE_DIR) + "/examples/listings/sample.jsonl";

// The title a CSV export must carry through unharmed: a comma, quotes and a newline.
constexpr char kAwkwardTitle[] = "Nike Air Max 90 replica, \"mint\"\nsecond line";
// q1: that title, 20 EUR (cue and price); j1: 12000 JPY on shopjp; k1: 1.25 KWD (3
// decimals); u1: 2.675 USD, which rounds up, and an escape sequence in its title.
constexpr char kListings[] =
    R"({"id":"q1","title":"Nike Air Max 90 replica, \"mint\"\nsecond line","price":20,"currency":"EUR","seller_id":"s-1"})"
    "\n"
    R"({"id":"j1","title":"Nike Air Max 90 replica","price":12000,"currency":"JPY","seller_id":"s-2","marketplace":"shopjp"})"
    "\n"
    R"({"id":"k1","title":"Nike Air Max 90 replica","price":1.25,"currency":"KWD","seller_id":"s-3"})"
    "\n"
    R"({"id":"u1","title":"Nike Air Max 90 \u001b[31mreplica","price":2.675,"currency":"USD","seller_id":"s-4"})"
    "\n";

// Splits RFC 4180 CSV (CRLF record ends) into records of fields.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> records(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    std::string& field = records.back().back();
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      records.back().emplace_back();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      if (i + 1 < text.size()) records.emplace_back(1);
    } else {
      field.push_back(c);
    }
  }
  return records;
}

// Returns the `key` string of every JSON line of `jsonl`.
std::vector<std::string> JsonField(const std::string& jsonl, const char* key) {
  std::vector<std::string> values;
  simdjson::dom::parser parser;
  size_t begin = 0;
  for (size_t end; (end = jsonl.find('\n', begin)) != std::string::npos; begin = end + 1) {
    simdjson::dom::element line;
    std::string_view value;
    EXPECT_EQ(parser.parse(jsonl.substr(begin, end - begin)).get(line), simdjson::SUCCESS);
    EXPECT_EQ(line[key].get(value), simdjson::SUCCESS) << key;
    values.emplace_back(value);
  }
  return values;
}

class OutboxCommandTest : public ::testing::Test {
 protected:
  // One compiled-pattern cache for the suite: the rules are compiled once, not per scan.
  static void SetUpTestSuite() { cache_ = new testing::TempDir(); }
  static void TearDownTestSuite() {
    delete cache_;
    cache_ = nullptr;
  }

  void SetUp() override {
    if (!fs::exists(testing::kCli)) GTEST_SKIP() << "CLI not built: " << testing::kCli;
    // The example rules plus a KWD rate, so that a KWD listing is scanned, not rejected.
    fs::copy(kExampleRules, rules_, fs::copy_options::recursive);
    std::string policy = testing::ReadFileOrDie(rules_ + "/policy.yaml");
    policy.replace(policy.find("  USD:"), 0, "  KWD: 2.8\n");
    dir_.Write("rules/policy.yaml", policy);
  }

  // Scans `input` into outbox_ with rules_.
  void Scan(const std::string& input) {
    const CliRun scan = RunCli("scan --rules " + ShellQuote(rules_) + " --outbox " +
                               ShellQuote(outbox_) + " --rejects '' --progress=false --cache-dir " +
                               ShellQuote(cache_->path()) + " " + ShellQuote(input));
    ASSERT_EQ(scan.exit_status, 0) << scan.err;
  }
  void ScanListings() { Scan(dir_.Write("in.jsonl", kListings)); }
  CliRun Outbox(const std::string& args) {
    return RunCli("outbox " + args + " --outbox " + ShellQuote(outbox_));
  }

  static testing::TempDir* cache_;
  testing::TempDir dir_;
  const std::string rules_ = dir_.Join("rules");
  const std::string outbox_ = testing::TestOutboxLocation(dir_);
};

testing::TempDir* OutboxCommandTest::cache_ = nullptr;

TEST_F(OutboxCommandTest, ShowPrintsTheListingReasonsEventsAndVerdicts) {
  ScanListings();
  {
    auto outbox = OpenOutbox(outbox_);
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    ASSERT_TRUE((*outbox)
                    ->RecordVerdict({.case_key = "nike:default:q1",
                                     .verdict = VerdictKind::kCounterfeit,
                                     .comment = "seen it",
                                     .actor = "cli"})
                    .ok());
  }
  const CliRun show = Outbox("show nike:default:q1");
  ASSERT_EQ(show.exit_status, 0) << show.err;
  EXPECT_EQ(show.err, "");
  EXPECT_THAT(show.out, StartsWith("case         nike:default:q1\n"
                                   "status       confirmed\n"
                                   "listing      q1 on default, seller s-1\n"
                                   "title        Nike Air Max 90 replica, \"mint\"\\nsecond line\n"
                                   "price        20.00 EUR\n"
                                   "score        2 (threshold 1)\n"
                                   "first seen   "));
  EXPECT_THAT(show.out, HasSubstr("\nexplanation  score 2 >= threshold 1: cue rule cue.replica "
                                  "matched \"replica\" in the title; unit price"));
  EXPECT_THAT(show.out,
              HasSubstr("\nreasons\n"
                        "  cue rule cue.replica v1 matched \"replica\" in the title [weight 1]\n"
                        "  unit price 20.00 EUR is 13% of the reference 150.00 EUR of "
                        "nike-air-max-90 (below 40%) [weight 1]\n"
                        "events\n"));
  EXPECT_THAT(show.out, HasSubstr("Z  case.opened\n"));
  EXPECT_THAT(show.out, HasSubstr("Z  case.verdict\nverdicts\n"));
  EXPECT_THAT(show.out, EndsWith("Z  counterfeit  by cli  \"seen it\"\n"));

  const CliRun jsonl = Outbox("show --format jsonl nike:default:q1");
  ASSERT_EQ(jsonl.exit_status, 0) << jsonl.err;
  EXPECT_THAT(jsonl.out,
              StartsWith("{\"case_key\":\"nike:default:q1\",\"rights_holder\":\"nike\""));
  EXPECT_THAT(jsonl.out, HasSubstr(",\"events\":[{\"id\":"));
  EXPECT_THAT(jsonl.out, HasSubstr("\"type\":\"case.verdict\""));
  EXPECT_THAT(jsonl.out, HasSubstr(",\"verdicts\":[{\"verdict\":\"counterfeit\",\"comment\":"
                                   "\"seen it\",\"authorize_seller\":false"));
  EXPECT_EQ(std::count(jsonl.out.begin(), jsonl.out.end(), '\n'), 1);
}

TEST_F(OutboxCommandTest, ShowDescribesConvertedAndLotPrices) {
  ScanListings();
  const CliRun show = Outbox("show nike:default:u1");
  ASSERT_EQ(show.exit_status, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("\nprice        2.68 USD\n"));
  EXPECT_THAT(show.out, HasSubstr("  unit price 2.68 USD (2.30 EUR) is 2% of the reference 150.00 "
                                  "EUR of nike-air-max-90 (below 40%; FX rates of 2026-11-27) "
                                  "[weight 1]\n"));
  // A price for a lot: the unit price first, the lot in brackets.
  Scan(kSample);
  EXPECT_THAT(Outbox("show adidas:default:lst-000000005").out,
              HasSubstr("\n  unit price 15.17 EUR (90.99 EUR for 6 units) is 8% of the reference "
                        "190.00 EUR of adidas-ultraboost-22 (below 40%) [weight 1]\n"));
}

TEST_F(OutboxCommandTest, ShowOfAnUnknownCaseFailsWithAClearMessage) {
  ScanListings();
  const CliRun show = Outbox("show nike:default:nope");
  EXPECT_EQ(show.exit_status, 1);
  EXPECT_EQ(show.out, "");
  EXPECT_EQ(show.err, "bonafide outbox show: no case \"nike:default:nope\" in " + outbox_ +
                          " (see: bonafide outbox list --outbox " + outbox_ + ")\n");
}

TEST_F(OutboxCommandTest, ShowNeedsExactlyOneCaseKey) {
  ScanListings();
  for (const char* args : {"show", "show a b"}) {
    const CliRun show = Outbox(args);
    EXPECT_EQ(show.exit_status, 2) << args;
    EXPECT_EQ(show.err,
              "bonafide outbox show: need exactly one CASE_KEY\n"
              "(see: bonafide outbox show --help)\n");
  }
}

TEST_F(OutboxCommandTest, MissingOutboxFailsAndIsNotCreated) {
  BONAFIDE_SQLITE_ONLY();
  for (const char* args :
       {"show x", "list", "export --rights-holder nike --format csv", "migrate"}) {
    const CliRun run = Outbox(args);
    EXPECT_EQ(run.exit_status, 1) << args;
    EXPECT_THAT(run.err, HasSubstr(outbox_ + ": open: No such file or directory")) << args;
  }
  EXPECT_FALSE(fs::exists(outbox_));
}

TEST_F(OutboxCommandTest, ListShowsTitlePriceWithCurrencyDecimalsAndExplanation) {
  ScanListings();
  const CliRun list = Outbox("list");
  ASSERT_EQ(list.exit_status, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("nike:default:q1  pending  score 2  seller s-1\n"
                                  "    20.00 EUR  Nike Air Max 90 replica, \"mint\"\\nsecond line\n"
                                  "    score 2 >= threshold 1: cue rule cue.replica matched"));
  EXPECT_THAT(list.out, HasSubstr("nike:shopjp:j1  pending  score 1  seller s-2\n"
                                  "    12000 JPY  Nike Air Max 90 replica\n"));
  EXPECT_THAT(list.out, HasSubstr("\n    1.250 KWD  Nike Air Max 90 replica\n"));
  // Half away from zero on the decimal the listing said, not on the binary value below it.
  EXPECT_THAT(list.out, HasSubstr("\n    2.68 USD  Nike Air Max 90 \\x1b[31mreplica\n"));
  EXPECT_THAT(list.out, Not(HasSubstr("\x1b")));  // a seller does not drive the terminal
  EXPECT_THAT(list.out, EndsWith("\n4 cases\n"));
}

TEST_F(OutboxCommandTest, ListIsNewestFirstAndSinceSelectsTheLaterScan) {
  Scan(
      dir_.Write("first.jsonl",
                 R"({"id":"a1","title":"Nike replica","price":20,"currency":"EUR","seller_id":"s"})"
                 "\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Scan(
      dir_.Write("second.jsonl",
                 R"({"id":"b1","title":"Nike replica","price":20,"currency":"EUR","seller_id":"s"})"
                 "\n"));
  const CliRun all = Outbox("list --format jsonl");
  ASSERT_EQ(all.exit_status, 0) << all.err;
  EXPECT_THAT(JsonField(all.out, "case_key"), ElementsAre("nike:default:b1", "nike:default:a1"));

  const std::string second_seen = JsonField(all.out, "first_seen_at")[0];
  const CliRun since = Outbox("list --format jsonl --since " + second_seen);
  ASSERT_EQ(since.exit_status, 0) << since.err;
  EXPECT_THAT(JsonField(since.out, "case_key"), ElementsAre("nike:default:b1"));
  // A date prefix and a time without fraction both compare as prefixes of first_seen_at.
  EXPECT_THAT(
      JsonField(Outbox("list --format jsonl --since " + second_seen.substr(0, 10)).out, "case_key"),
      ElementsAre("nike:default:b1", "nike:default:a1"));
  EXPECT_THAT(Outbox("list --since 2999-01-01T00:00:00Z").out, "0 cases\n");

  const CliRun limited = Outbox("list --limit 1");
  EXPECT_THAT(limited.out, StartsWith("nike:default:b1  "));
  EXPECT_THAT(limited.out, EndsWith("\n1 cases\n"));
}

// The forms themselves: tests/tools/outbox_common_test.cc.
TEST_F(OutboxCommandTest, BadSinceIsAUsageError) {
  for (const char* bad : {"yesterday", "2026-02-29"}) {
    for (const char* command : {"list", "export --rights-holder nike --format csv"}) {
      const CliRun run = Outbox(std::string(command) + " --since " + bad);
      EXPECT_EQ(run.exit_status, 2) << bad;
      EXPECT_THAT(run.err, HasSubstr(std::string(": --since takes an ISO 8601 UTC date or time "
                                                 "(2026-12-01, 2026-12-01T08:30, "
                                                 "2026-12-01T08:30:00Z), got \"") +
                                     bad + "\"\n(see: bonafide outbox "));
    }
  }
}

TEST_F(OutboxCommandTest, ListFiltersByStatusMarketplaceAndRightsHolder) {
  ScanListings();
  Scan(kSample);
  {
    auto outbox = OpenOutbox(outbox_);
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    ASSERT_TRUE(
        (*outbox)
            ->RecordVerdict({.case_key = "nike:default:k1", .verdict = VerdictKind::kGenuine})
            .ok());
  }
  EXPECT_THAT(JsonField(Outbox("list --format jsonl --status rejected").out, "case_key"),
              ElementsAre("nike:default:k1"));
  EXPECT_THAT(JsonField(Outbox("list --format jsonl --marketplace shopjp").out, "case_key"),
              ElementsAre("nike:shopjp:j1"));
  const std::vector<std::string> adidas =
      JsonField(Outbox("list --format jsonl --rights-holder adidas").out, "rights_holder");
  EXPECT_EQ(adidas.size(), 37u);
  EXPECT_THAT(adidas, ::testing::Each("adidas"));
  const std::vector<std::string> pending =
      JsonField(Outbox("list --format jsonl --status pending --rights-holder nike").out, "status");
  EXPECT_EQ(pending.size(), 38u + 3);  // sample's nike cases, q1, j1, u1 (not k1)
  EXPECT_THAT(pending, ::testing::Each("pending"));

  const CliRun bad = Outbox("list --status open");
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_THAT(bad.err,
              HasSubstr("--status takes pending, confirmed, rejected or closed, got \"open\""));
}

TEST_F(OutboxCommandTest, ListEventsInIdOrderByRightsHolder) {
  ScanListings();
  Scan(kSample);
  const CliRun events = Outbox("list --events --format jsonl --rights-holder ugg");
  ASSERT_EQ(events.exit_status, 0) << events.err;
  const std::vector<std::string> holders = JsonField(events.out, "rights_holder");
  EXPECT_EQ(holders.size(), 26u);
  EXPECT_THAT(holders, ::testing::Each("ugg"));
  EXPECT_THAT(Outbox("list --events --limit 2").out,
              ::testing::MatchesRegex("1  [-0-9T:.]+Z  case.opened  [^\n]+\n"
                                      "2  [-0-9T:.]+Z  case.opened  [^\n]+\n"));
  const CliRun mixed = Outbox("list --events --status pending");
  EXPECT_EQ(mixed.exit_status, 2);
  EXPECT_THAT(mixed.err,
              HasSubstr("--status, --since and --marketplace select cases, not --events"));
}

TEST_F(OutboxCommandTest, ExportCsvQuotesTitlesAndKeepsTheirText) {
  ScanListings();
  const CliRun csv = Outbox("export --rights-holder nike --format csv");
  ASSERT_EQ(csv.exit_status, 0) << csv.err;
  EXPECT_THAT(csv.out, StartsWith("case_key,rights_holder,marketplace,listing_id,seller_id,status,"
                                  "score,threshold,title,price,currency,signals,explanation,"
                                  "first_seen_at,last_seen_at\r\n"));
  EXPECT_THAT(csv.out, HasSubstr(",\"Nike Air Max 90 replica, \"\"mint\"\"\nsecond line\",20.00,"
                                 "EUR,cue:cue.replica price,\"score 2 >= threshold 1: "));
  const auto records = ParseCsv(csv.out);
  ASSERT_EQ(records.size(), 5u);  // header + 4 cases
  for (const auto& record : records) ASSERT_EQ(record.size(), 15u);
  std::map<std::string, std::vector<std::string>> by_listing;
  for (size_t i = 1; i < records.size(); ++i) by_listing[records[i][3]] = records[i];
  EXPECT_EQ(by_listing["q1"][8], kAwkwardTitle);
  EXPECT_EQ(by_listing["q1"][5], "pending");
  EXPECT_EQ(by_listing["q1"][6], "2");
  EXPECT_EQ(by_listing["q1"][7], "1");
  EXPECT_EQ(by_listing["j1"][9], "12000");
  EXPECT_EQ(by_listing["j1"][10], "JPY");
  EXPECT_EQ(by_listing["k1"][9], "1.250");
  EXPECT_EQ(by_listing["u1"][9], "2.68");
  EXPECT_EQ(by_listing["u1"][8], "Nike Air Max 90 \x1b[31mreplica");  // data, not a terminal
}

// Each rights holder sees its own cases and never another's.
TEST_F(OutboxCommandTest, ExportHoldsOneRightsHolderOnly) {
  ScanListings();
  Scan(kSample);
  for (const char* holder : {"adidas", "nike"}) {
    const size_t listed =
        JsonField(Outbox(std::string("list --format jsonl --rights-holder ") + holder).out,
                  "case_key")
            .size();
    ASSERT_GT(listed, 0u);
    const CliRun jsonl = Outbox(std::string("export --format jsonl --rights-holder ") + holder);
    ASSERT_EQ(jsonl.exit_status, 0) << jsonl.err;
    const std::vector<std::string> holders = JsonField(jsonl.out, "rights_holder");
    EXPECT_EQ(holders.size(), listed) << holder;
    EXPECT_THAT(holders, ::testing::Each(holder));
    for (const std::string& key : JsonField(jsonl.out, "case_key")) {
      EXPECT_THAT(key, StartsWith(std::string(holder) + ":"));
    }
    const CliRun csv = Outbox(std::string("export --format csv --rights-holder ") + holder);
    const auto records = ParseCsv(csv.out);
    EXPECT_EQ(records.size(), listed + 1) << holder;
    for (size_t i = 1; i < records.size(); ++i) EXPECT_EQ(records[i][1], holder);
  }
  // JSON Lines carry the parsed reasons and evidence, not strings holding JSON.
  const CliRun jsonl = Outbox("export --format jsonl --rights-holder nike");
  EXPECT_THAT(jsonl.out, HasSubstr("\"reasons\":[{\"signal\":"));
  EXPECT_THAT(jsonl.out, HasSubstr("\"evidence\":{\"listing\":{"));

  const CliRun none = Outbox("export --format csv --rights-holder nobody");
  EXPECT_EQ(none.exit_status, 0);
  EXPECT_EQ(ParseCsv(none.out).size(), 1u);  // the header
  EXPECT_EQ(none.err, "bonafide outbox export: no case of rights holder \"nobody\"\n");
}

TEST_F(OutboxCommandTest, ExportFiltersByStatusAndWritesTheOutputFileWhole) {
  ScanListings();
  {
    auto outbox = OpenOutbox(outbox_);
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    ASSERT_TRUE(
        (*outbox)
            ->RecordVerdict({.case_key = "nike:default:q1", .verdict = VerdictKind::kCounterfeit})
            .ok());
  }
  const std::string file = dir_.Join("nike.jsonl");
  const CliRun run = Outbox(
      "export --format jsonl --rights-holder nike --status confirmed "
      "--output " +
      ShellQuote(file));
  ASSERT_EQ(run.exit_status, 0) << run.err;
  EXPECT_EQ(run.out, file + ": 1 cases of nike\n");
  EXPECT_THAT(JsonField(testing::ReadFileOrDie(file), "case_key"), ElementsAre("nike:default:q1"));
  EXPECT_FALSE(fs::exists(file + ".partial"));

  const CliRun unwritable = Outbox("export --format csv --rights-holder nike --output " +
                                   ShellQuote(dir_.Join("no/such/dir/x.csv")));
  EXPECT_EQ(unwritable.exit_status, 1);
  EXPECT_THAT(unwritable.err, HasSubstr("no/such/dir/x.csv.partial: No such file or directory"));
}

TEST_F(OutboxCommandTest, ExportNeedsRightsHolderAndFormat) {
  const std::string expected =
      "bonafide outbox export: need --rights-holder ID and --format csv|jsonl\n"
      "(see: bonafide outbox export --help)\n";
  EXPECT_EQ(Outbox("export --format csv").err, expected);
  EXPECT_EQ(Outbox("export --rights-holder nike").err, expected);
  const CliRun text = Outbox("export --rights-holder nike --format text");
  EXPECT_EQ(text.exit_status, 2);
  EXPECT_THAT(text.err, HasSubstr("--format takes csv or jsonl, got \"text\""));
}

// Each fixture outbox of an earlier schema (testdata/outbox/README.md), as its build wrote it.
TEST_F(OutboxCommandTest, MigrateUpgradesAnOutboxOfAnEarlierBuild) {
  BONAFIDE_SQLITE_ONLY();
  for (const char* fixture : {"v1-first.db", "v1-run-checkpoints.db", "v2.db", "v3.db"}) {
    SCOPED_TRACE(fixture);
    fs::remove(outbox_);
    fs::copy_file(std::string(BONAFIDE_SOURCE_DIR) + "/testdata/outbox/" + fixture, outbox_);
    const CliRun before = Outbox("list");
    EXPECT_EQ(before.exit_status, 1);
    EXPECT_THAT(before.err, HasSubstr("run `bonafide outbox migrate --outbox " + outbox_ + "`"));

    const CliRun migrate = Outbox("migrate");
    ASSERT_EQ(migrate.exit_status, 0) << migrate.err;
    EXPECT_EQ(migrate.out, outbox_ + ": migrated to outbox schema version 4\n");
    const CliRun again = Outbox("migrate");
    EXPECT_EQ(again.exit_status, 0) << again.err;
    EXPECT_EQ(again.out, outbox_ + ": outbox schema version 4, nothing to migrate\n");

    // Every case of the fixture (10), readable with its title and price.
    const CliRun list = Outbox("list");
    ASSERT_EQ(list.exit_status, 0) << list.err;
    EXPECT_THAT(list.out, StartsWith("ugg:shop%3Aeu:lst-000000006  pending  score "));
    EXPECT_THAT(list.out, EndsWith("\n10 cases\n"));
    EXPECT_THAT(list.out, Not(HasSubstr("no price")));
    const CliRun show = Outbox("show ugg:shop%3Aeu:lst-000000006");
    ASSERT_EQ(show.exit_status, 0) << show.err;
    EXPECT_THAT(show.out, HasSubstr("Z  case.opened\n"));
    EXPECT_THAT(show.out, EndsWith("verdicts\n  none\n"));
  }
}

TEST_F(OutboxCommandTest, MigrateOfAnOutboxOfANewerBuildFails) {
  BONAFIDE_SQLITE_ONLY();
  ScanListings();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(outbox_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  const CliRun migrate = Outbox("migrate");
  EXPECT_EQ(migrate.exit_status, 1);
  EXPECT_EQ(migrate.err, "bonafide outbox migrate: " + outbox_ +
                             ": outbox schema version 99 is newer than this build supports (4)\n");
}

TEST_F(OutboxCommandTest, OutboxWithoutASubcommandIsAUsageError) {
  const CliRun none = RunCli("outbox");
  EXPECT_EQ(none.exit_status, 2);
  EXPECT_EQ(
      none.err,
      "bonafide outbox: need a subcommand: show, list, export, migrate or authorized-sellers\n"
      "(see: bonafide outbox --help)\n");
  const CliRun unknown = RunCli("outbox shwo");
  EXPECT_EQ(unknown.exit_status, 2);
  EXPECT_THAT(unknown.err, StartsWith("bonafide outbox: unknown subcommand \"shwo\""));
  const CliRun help = RunCli("outbox --help");
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_THAT(help.out, AllOf(HasSubstr("  show CASE_KEY"), HasSubstr("  migrate")));
  for (const char* sub : {"show", "list", "export", "migrate"}) {
    const CliRun sub_help = RunCli(std::string("outbox ") + sub + " --help");
    EXPECT_EQ(sub_help.exit_status, 0) << sub;
    EXPECT_THAT(sub_help.out, HasSubstr("exit status:\n  0  ")) << sub;
    EXPECT_THAT(sub_help.out, EndsWith("  2  bad usage\n")) << sub;
  }
}

}  // namespace
}  // namespace bonafide
