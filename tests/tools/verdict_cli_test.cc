// The verification loop through the `bonafide` command line: scan, the rights holder's
// verdicts (`bonafide verdict`), a rescan that learns from them, `bonafide report` and
// `bonafide outbox authorized-sellers`. Runs the binary built in this tree.
#include <filesystem>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/models/synthetic_photos.h"
#include "tests/outbox_test_util.h"
#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

namespace bonafide {
namespace {

namespace fs = std::filesystem;
using testing::CliRun;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunCli;
using testing::ShellQuote;

constexpr char kAcme[] = R"(id: acme
name: ACME Sports GmbH
brands:
  - name: ACME
products:
  - id: acme-runner-22
    name: Runner 22
    keywords: [runner 22]
    reference_price: {amount: 180, currency: EUR}
    min_price_ratio: 0.4
)";

std::string Line(const std::string& id, const std::string& title, const std::string& seller,
                 const std::string& images = "") {
  return R"({"id":")" + id + R"(","title":")" + title +
         R"(","price":150,"currency":"EUR","seller_id":")" + seller + R"(","images":[)" + images +
         "]}\n";
}

class VerdictCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(testing::kCli)) GTEST_SKIP() << "CLI not built: " << testing::kCli;
    // No genuine photo: a flagged listing's photos are hashed for its evidence only.
    dir_.Write("rules/policy.yaml", "currency: EUR\nfx_date: 2026-11-27\nthreshold: 1.0\n");
    dir_.Write("rules/cues.yaml", R"(rules:
  - id: cue.replica
    phrases: [replica]
  - id: cue.inspired
    mode: shadow
    phrases: [inspired by]
)");
    dir_.Write("rules/rights_holders/acme.yaml", kAcme);
    const cv::Mat counterfeit = testing::DrawPhoto(7);
    dir_.Write("images/fake.jpg", testing::EncodeJpeg(counterfeit));
    dir_.Write("images/fake-rotated.jpg", testing::EncodeJpeg(testing::Rotated90(counterfeit)));
    dir_.Write("images/other.jpg", testing::EncodeJpeg(testing::DrawPhoto(8)));
  }

  CliRun Scan(const std::string& input) {
    return RunCli("scan --rules " + ShellQuote(dir_.Join("rules")) + " --images " +
                  ShellQuote(dir_.Join("images")) + " --outbox " + outbox() +
                  " --rejects= --cache-dir= --progress=false --format jsonl " +
                  ShellQuote(dir_.Write(input, inputs_[input])));
  }
  CliRun Verdict(const std::string& args) {
    return RunCli("verdict --outbox " + outbox() + " " + args);
  }
  std::string outbox() const { return ShellQuote(testing::TestOutboxLocation(dir_)); }

  testing::TempDir dir_;
  std::map<std::string, std::string> inputs_;
};

TEST_F(VerdictCliTest, VerdictsFlowIntoTheNextScanAndTheReport) {
  inputs_["day1.jsonl"] = Line("c1", "ACME Runner 22 replica", "s-bad", R"("fake.jpg")") +
                          Line("g1", "ACME Runner 22 replica", "s-good") +
                          Line("n1", "ACME Runner 22 inspired by replica", "s-x");
  ASSERT_EQ(Scan("day1.jsonl").exit_status, 0);

  CliRun v = Verdict("acme:default:c1 counterfeit --comment 'seen before'");
  EXPECT_EQ(v.exit_status, 0) << v.err;
  EXPECT_EQ(v.out, "acme:default:c1  confirmed\n");
  v = Verdict("acme:default:g1 genuine --authorize-seller");
  EXPECT_EQ(v.exit_status, 0) << v.err;
  EXPECT_THAT(v.out, HasSubstr("acme:default:g1  rejected\n"));
  EXPECT_THAT(v.out, HasSubstr("seller s-good is authorized for acme"));
  v = Verdict("acme:default:n1 not_ours");
  EXPECT_EQ(v.exit_status, 0) << v.err;
  EXPECT_EQ(v.out, "acme:default:n1  rejected\n");

  // The next day: a copy showing the confirmed counterfeit's photo rotated, the authorized
  // seller's replica, and the counterfeiter's evasive listing.
  inputs_["day2.jsonl"] =
      inputs_["day1.jsonl"] + Line("copy", "Sneakers", "s-y", R"("other.jpg","fake-rotated.jpg")") +
      Line("g2", "ACME Runner 22 replica", "s-good") + Line("b2", "A C M E sneakers", "s-bad") +
      Line("b3", "A C M E sneakers", "s-z");
  const CliRun day2 = Scan("day2.jsonl");
  ASSERT_EQ(day2.exit_status, 0) << day2.err;
  EXPECT_THAT(day2.out,
              HasSubstr(R"({"signal":"known_counterfeit_photo","photo":"fake-rotated.jpg",)"
                        R"("case_key":"acme:default:c1",)"));
  EXPECT_THAT(day2.out, HasSubstr(R"("variant":"rotate270")"));
  EXPECT_THAT(day2.out, Not(HasSubstr(R"("listing_id":"g2")")));  // authorized through g1
  EXPECT_THAT(day2.out, HasSubstr(R"({"signal":"seller_record","seller_id":"s-bad","confirmed":1,)"
                                  R"("weight":0.5,"shadow":false})"));
  EXPECT_THAT(day2.out, HasSubstr(R"("listing_id":"b2")"));       // 0.5 + 0.5
  EXPECT_THAT(day2.out, Not(HasSubstr(R"("listing_id":"b3")")));  // 0.5 alone
  EXPECT_THAT(day2.out, HasSubstr(R"("obfuscated_brand":2,"known_counterfeit_photo":1,)"
                                  R"("seller_record":)"));
  // A confirmed listing is not evidence against itself: c1's rescan adds no seller_record,
  // so its case is not updated.
  const CliRun events = RunCli("outbox list --events --outbox " + outbox());
  EXPECT_EQ(events.exit_status, 0) << events.err;
  EXPECT_THAT(events.out, HasSubstr("case.verdict  acme:default:c1"));
  EXPECT_THAT(events.out, Not(HasSubstr("case.updated  acme:default:c1")));

  const CliRun report = RunCli("report --outbox " + outbox());
  EXPECT_EQ(report.exit_status, 0) << report.err;
  EXPECT_THAT(report.out, HasSubstr("signal"));
  EXPECT_THAT(report.out, ::testing::ContainsRegex("cue:cue.inspired \\(shadow\\) +1 +0 +1 +0.0%"));
  EXPECT_THAT(report.out, ::testing::ContainsRegex("cue:cue.replica +3 +1 +2 +33.3%"));
  EXPECT_THAT(report.out, ::testing::ContainsRegex("known_counterfeit_photo +1 +0 +0 +-"));
  const CliRun jsonl = RunCli("report --format jsonl --rights-holder acme --outbox " + outbox());
  EXPECT_EQ(jsonl.exit_status, 0) << jsonl.err;
  EXPECT_THAT(jsonl.out, HasSubstr(R"({"signal":"cue:cue.inspired","shadow":true,"cases":1,)"
                                   R"("confirmed":0,"rejected":1,"precision":0})"));
  EXPECT_THAT(jsonl.out, HasSubstr(R"({"signal":"known_counterfeit_photo","shadow":false,)"
                                   R"("cases":1,"confirmed":0,"rejected":0,"precision":null})"));
  EXPECT_EQ(RunCli("report --format jsonl --rights-holder other --outbox " + outbox()).out, "");

  // The authorized sellers, as the line of the rules file: it loads back.
  const CliRun sellers =
      RunCli("outbox authorized-sellers --rights-holder acme --outbox " + outbox());
  EXPECT_EQ(sellers.exit_status, 0) << sellers.err;
  EXPECT_EQ(sellers.out, "authorized_sellers: [s-good]\n");
  EXPECT_EQ(RunCli("outbox authorized-sellers --rights-holder other --outbox " + outbox()).out,
            "authorized_sellers: []\n");
  dir_.Write("rules/rights_holders/acme.yaml", kAcme + sellers.out);
  const CliRun check = RunCli("check --cache-dir= --rules " + ShellQuote(dir_.Join("rules")));
  EXPECT_EQ(check.exit_status, 0) << check.err;
}

TEST_F(VerdictCliTest, VerdictErrorsAreExplained) {
  inputs_["in.jsonl"] = Line("c1", "ACME Runner 22 replica", "s:1 #x");
  ASSERT_EQ(Scan("in.jsonl").exit_status, 0);

  CliRun v = Verdict("acme:default:nope counterfeit");
  EXPECT_EQ(v.exit_status, 1);
  EXPECT_THAT(v.err, HasSubstr("no case \"acme:default:nope\""));
  EXPECT_EQ(Verdict("acme:default:c1 genuine --authorize-seller").exit_status, 0);
  v = Verdict("acme:default:c1 counterfeit");
  EXPECT_EQ(v.exit_status, 1);
  EXPECT_THAT(v.err, HasSubstr("already has a verdict (pass --replace to change it)"));
  v = Verdict("acme:default:c1 counterfeit --replace");
  EXPECT_EQ(v.exit_status, 0) << v.err;
  EXPECT_EQ(v.out, "acme:default:c1  confirmed\n");
  // The replaced genuine verdict no longer authorizes the seller.
  EXPECT_EQ(RunCli("outbox authorized-sellers --rights-holder acme --outbox " + outbox()).out,
            "authorized_sellers: []\n");
  EXPECT_EQ(Verdict("acme:default:c1 genuine --authorize-seller --replace").exit_status, 0);
  EXPECT_EQ(RunCli("outbox authorized-sellers --rights-holder acme --outbox " + outbox()).out,
            "authorized_sellers: [\"s:1 #x\"]\n");

  v = Verdict("acme:default:c1 fake");
  EXPECT_EQ(v.exit_status, 2);
  EXPECT_THAT(v.err, HasSubstr("verdict must be counterfeit, genuine or not_ours, got \"fake\""));
  EXPECT_EQ(Verdict("acme:default:c1").exit_status, 2);
  v = Verdict("acme:default:c1 counterfeit --authorize-seller --replace");
  EXPECT_EQ(v.exit_status, 2);
  EXPECT_THAT(v.err, HasSubstr("--authorize-seller goes with a genuine verdict only"));
  v = Verdict("acme:default:c1 counterfeit --replace --comment " +
              ShellQuote(std::string(5000, 'x')));
  EXPECT_EQ(v.exit_status, 2);
  EXPECT_THAT(v.err, HasSubstr("comment is 5000 bytes"));

  EXPECT_EQ(RunCli("outbox authorized-sellers --outbox " + outbox()).exit_status, 2);
  EXPECT_EQ(RunCli("verdict --help").exit_status, 0);
  EXPECT_EQ(RunCli("report --help").exit_status, 0);

  // A mistyped outbox file is not created (a database is never created by bonafide).
  if (testing::PostgresOutbox()) return;
  const std::string missing = dir_.Join("typo.db");
  v = RunCli("verdict --outbox " + ShellQuote(missing) + " acme:default:c1 counterfeit");
  EXPECT_EQ(v.exit_status, 1);
  EXPECT_THAT(v.err, HasSubstr("no outbox at"));
  EXPECT_EQ(RunCli("report --outbox " + ShellQuote(missing)).exit_status, 1);
  EXPECT_EQ(RunCli("outbox authorized-sellers --rights-holder acme --outbox " + ShellQuote(missing))
                .exit_status,
            1);
  EXPECT_FALSE(fs::exists(missing));
}

}  // namespace
}  // namespace bonafide
