// The backend-independent case rules (engine/case_lifecycle.h) on their own: what a rescan
// does to each status, when a publication speaks, and what the payloads say.
#include "engine/case_lifecycle.h"

#include <limits>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bonafide::engine {
namespace {

using ::testing::HasSubstr;

CaseRecord Record() {
  CaseRecord c;
  c.rights_holder = "acme";
  c.marketplace = "shop:eu";
  c.listing_id = "42%";
  c.seller_id = "s1";
  c.score = 0.75;
  c.signals = "cue:replica price";
  c.material_key = "m1";
  return c;
}

TEST(CaseLifecycleTest, PrepareCaseFillsDefaultsAndEscapesTheKey) {
  absl::StatusOr<PreparedCase> p = PrepareCase(Record(), "outbox.db");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->case_key, "acme:shop%3Aeu:42%25");
  EXPECT_EQ(p->reasons, "[]");
  EXPECT_EQ(p->evidence, "{}");
  EXPECT_EQ(p->score, "0.75");
  EXPECT_EQ(p->fingerprint.size(), 32u);
}

TEST(CaseLifecycleTest, PrepareCaseRefusesAnEmptyHolderAndANonFiniteScore) {
  CaseRecord c = Record();
  c.rights_holder.clear();
  absl::Status s = PrepareCase(c, "outbox.db").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("outbox.db"));
  c = Record();
  c.score = std::numeric_limits<double>::infinity();
  s = PrepareCase(c, "pg://x").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("acme:shop%3Aeu:42%25"));
}

TEST(CaseLifecycleTest, FingerprintChangesWithTheMaterialKeyAlone) {
  CaseRecord a = Record(), b = Record();
  b.material_key = "m2";
  EXPECT_EQ(Fingerprint(a, "0.75", "[]", "{}"), Fingerprint(Record(), "0.75", "[]", "{}"));
  EXPECT_NE(Fingerprint(a, "0.75", "[]", "{}"), Fingerprint(b, "0.75", "[]", "{}"));
}

TEST(CaseLifecycleTest, HasNewSignal) {
  EXPECT_TRUE(HasNewSignal("cue:a price", "price"));
  EXPECT_FALSE(HasNewSignal("price", "cue:a price"));
  EXPECT_FALSE(HasNewSignal("", "price"));
  EXPECT_TRUE(HasNewSignal("image", ""));
}

TEST(CaseLifecycleTest, RescanNeverOverwritesAVerdict) {
  EXPECT_EQ(Rescan(CaseStatus::kPending, "price", "").status, CaseStatus::kPending);
  EXPECT_TRUE(Rescan(CaseStatus::kPending, "price", "").mark);
  EXPECT_EQ(Rescan(CaseStatus::kConfirmed, "price", "").status, CaseStatus::kConfirmed);
  EXPECT_EQ(Rescan(CaseStatus::kClosed, "price", "").status, CaseStatus::kPending);
  const RescanOutcome same = Rescan(CaseStatus::kRejected, "price", "cue:a price");
  EXPECT_EQ(same.status, CaseStatus::kRejected);
  EXPECT_FALSE(same.mark);
  const RescanOutcome fresh = Rescan(CaseStatus::kRejected, "image price", "price");
  EXPECT_EQ(fresh.status, CaseStatus::kPending);
  EXPECT_TRUE(fresh.mark);
}

TEST(CaseLifecycleTest, TheListingsLastRecordWins) {
  // Not marked in this run: judged against what is stored.
  EXPECT_EQ(RescanBaseStatus(CaseStatus::kPending, false, CaseStatus::kRejected),
            CaseStatus::kPending);
  // Marked (an earlier record reopened it): judged against what was announced.
  EXPECT_EQ(RescanBaseStatus(CaseStatus::kPending, true, CaseStatus::kRejected),
            CaseStatus::kRejected);
  EXPECT_EQ(RescanBaseStatus(CaseStatus::kPending, true, std::nullopt), CaseStatus::kPending);
  EXPECT_EQ(StatusWhenNoLongerFlagged(true, CaseStatus::kRejected), CaseStatus::kRejected);
  EXPECT_EQ(StatusWhenNoLongerFlagged(false, CaseStatus::kRejected), CaseStatus::kClosed);
  EXPECT_EQ(StatusWhenNoLongerFlagged(true, CaseStatus::kPending), CaseStatus::kClosed);
}

TEST(CaseLifecycleTest, DecidePublication) {
  using A = Publication::Action;
  const Publication opened = DecidePublication(CaseStatus::kPending, "m", std::nullopt, "");
  EXPECT_EQ(opened.action, A::kEvent);
  EXPECT_STREQ(opened.type, "case.opened");
  EXPECT_EQ(DecidePublication(CaseStatus::kClosed, "m", std::nullopt, "").action, A::kDelete);
  EXPECT_STREQ(DecidePublication(CaseStatus::kPending, "m", CaseStatus::kClosed, "m").type,
               "case.reopened");
  EXPECT_STREQ(DecidePublication(CaseStatus::kPending, "m", CaseStatus::kRejected, "m").type,
               "case.reopened");
  EXPECT_STREQ(DecidePublication(CaseStatus::kClosed, "m", CaseStatus::kPending, "m").type,
               "case.closed");
  EXPECT_STREQ(DecidePublication(CaseStatus::kConfirmed, "m2", CaseStatus::kConfirmed, "m").type,
               "case.updated");
  // Same material: silent; an empty announced material (schema version 1) is adopted.
  EXPECT_EQ(DecidePublication(CaseStatus::kPending, "m", CaseStatus::kPending, "m").action,
            A::kSilent);
  EXPECT_EQ(DecidePublication(CaseStatus::kPending, "m", CaseStatus::kPending, "").action,
            A::kSilent);
  // A rejected case stays rejected without news.
  EXPECT_EQ(DecidePublication(CaseStatus::kRejected, "m2", CaseStatus::kRejected, "m").action,
            A::kSilent);
}

TEST(CaseLifecycleTest, Payloads) {
  StoredCase c;
  c.case_key = "acme:shop:1";
  c.rights_holder = "acme";
  c.marketplace = "shop";
  c.listing_id = "1";
  c.seller_id = "s";
  c.score = 0.5;
  c.reasons_json = "[]";
  c.status = CaseStatus::kPending;
  // Stored without what the event row gives; read back whole, as receivers get it.
  const std::string stored = StoredCaseEventPayload(c, 3);
  EXPECT_EQ(stored,
            "{\"seller_id\":\"s\",\"status\":\"pending\",\"score\":0.5,\"reasons\":[],"
            "\"revision\":3}");
  const std::string whole =
      "{\"case_key\":\"acme:shop:1\",\"rights_holder\":\"acme\",\"marketplace\":\"shop\","
      "\"listing_id\":\"1\",\"seller_id\":\"s\",\"status\":\"pending\",\"score\":0.5,"
      "\"reasons\":[],\"revision\":3}";
  EXPECT_EQ(EventPayload(stored, c.case_key, c.rights_holder), whole);
  // A payload stored whole by an earlier schema version is read as it is.
  EXPECT_EQ(EventPayload(whole, c.case_key, c.rights_holder), whole);
  VerdictRequest r;
  r.verdict = VerdictKind::kGenuine;
  r.comment = "ok";
  r.authorize_seller = true;
  c.status = CaseStatus::kRejected;
  c.revision = 2;
  EXPECT_EQ(EventPayload(StoredVerdictEventPayload(c, r), c.case_key, c.rights_holder),
            "{\"case_key\":\"acme:shop:1\",\"rights_holder\":\"acme\",\"marketplace\":\"shop\","
            "\"listing_id\":\"1\",\"seller_id\":\"s\",\"status\":\"rejected\","
            "\"verdict\":\"genuine\",\"comment\":\"ok\",\"authorize_seller\":true,"
            "\"revision\":2}");
  EXPECT_EQ(EventKey("acme:shop:1", 4), "acme:shop:1:4");
}

// Marketplace and listing id come back decoded from the key, the rights holder (which may
// hold ':') from the event row, each JSON-escaped as when the payload was made whole.
TEST(CaseLifecycleTest, EventPayloadOfAnEncodedKey) {
  StoredCase c;
  c.rights_holder = "ac:me\"";
  c.marketplace = "shop:eu";
  c.listing_id = "100%";
  c.case_key = CaseKey(c.rights_holder, c.marketplace, c.listing_id);
  c.seller_id = "s";
  c.reasons_json = "[]";
  EXPECT_EQ(EventPayload(StoredCaseEventPayload(c, 1), c.case_key, c.rights_holder),
            "{\"case_key\":\"ac:me\\\":shop%3Aeu:100%25\",\"rights_holder\":\"ac:me\\\"\","
            "\"marketplace\":\"shop:eu\",\"listing_id\":\"100%\",\"seller_id\":\"s\","
            "\"status\":\"pending\",\"score\":0,\"reasons\":[],\"revision\":1}");
}

TEST(CaseLifecycleTest, ValidateNewToken) {
  StoredToken t;
  t.prefix = "bf_abc";
  t.sha256 = std::string(64, 'a');
  EXPECT_TRUE(ValidateNewToken(t).ok());
  t.rights_holder = "";
  EXPECT_EQ(ValidateNewToken(t).code(), absl::StatusCode::kInvalidArgument);
  t.rights_holder = "acme";
  t.sha256 = std::string(64, 'A');
  EXPECT_EQ(ValidateNewToken(t).code(), absl::StatusCode::kInvalidArgument);
}

TEST(CaseLifecycleTest, NowIso8601HasMilliseconds) {
  const std::string now = NowIso8601();
  ASSERT_EQ(now.size(), 24u);
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now[19], '.');
  EXPECT_EQ(now.back(), 'Z');
}

}  // namespace
}  // namespace bonafide::engine
