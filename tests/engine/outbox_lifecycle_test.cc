// The case lifecycle of the outbox (docs/outbox-format.md), on SQLite and, built a second time
// as postgres_outbox_lifecycle_test, on PostgreSQL (tests/outbox_test_util.h):
// what a scan's batches and Publish() announce, verdicts and what they teach later scans,
// the precision report, the relay's delivery state and paging through cases. The
// regression tests at the end scan the example rules end to end.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <sqlite3.h>

#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "bonafide/sink.h"
#include "tests/generated_dump.h"
#include "tests/outbox_test_util.h"
#include "tests/temp_dir.h"
#include "tests/test_util.h"
#include "tools/gen/listing_generator.h"

namespace bonafide {
namespace {

using testing::AllCases;
using testing::AllEvents;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::OpenTestOutbox;
using ::testing::SizeIs;
using testing::WriteCases;

constexpr char kCueReasons[] = R"([{"signal":"cue","rule":"cue.replica","shadow":false}])";

CaseRecord MakeCase(std::string rights_holder, std::string listing_id,
                    std::string material_key = "m1", std::string signals = "cue:cue.replica") {
  CaseRecord c;
  c.rights_holder = std::move(rights_holder);
  c.marketplace = "shopx";
  c.listing_id = std::move(listing_id);
  c.seller_id = "seller-7";
  c.score = 1.5;
  c.reasons_json = kCueReasons;
  c.evidence_json = R"({"listing":{"title":"ACME watch replica"}})";
  c.signals = std::move(signals);
  c.material_key = std::move(material_key);
  return c;
}

// One listing as a scan judged it, with the cases it opened (none: no longer flagged).
struct Judged {
  std::string listing_id;
  std::vector<CaseRecord> cases;
  std::string marketplace = "shopx";
};
Judged Flagged(CaseRecord c) {
  std::string id = c.listing_id;
  std::string marketplace = c.marketplace;
  return Judged{std::move(id), {std::move(c)}, std::move(marketplace)};
}
// A listing flagged for two rights holders: one listing, two cases.
Judged FlaggedForBoth(CaseRecord a, CaseRecord b) {
  Judged j = Flagged(std::move(a));
  j.cases.push_back(std::move(b));
  return j;
}
Judged NotFlagged(std::string listing_id) { return Judged{std::move(listing_id), {}}; }

// Writes `listings` as one batch of scan `run` (nothing is published).
absl::StatusOr<OutboxWriteStats> WriteRun(CaseSink& sink, std::string_view run,
                                          const std::vector<Judged>& listings) {
  std::vector<CaseRecord> cases;
  std::vector<ScannedListing> scanned;
  for (const Judged& j : listings) {
    ScannedListing& s = scanned.emplace_back();
    s.marketplace = j.marketplace;
    s.listing_id = j.listing_id;
    s.key_hash = ListingKeyHash(s.marketplace, s.listing_id);
    s.cases_begin = static_cast<uint32_t>(cases.size());
    cases.insert(cases.end(), j.cases.begin(), j.cases.end());
    s.cases_end = static_cast<uint32_t>(cases.size());
  }
  OutboxBatch batch;
  batch.run = run;
  batch.listings = scanned;
  batch.cases = cases;
  return sink.Write(batch);
}

std::vector<std::string> EventTypes(Outbox& outbox) {
  auto events = AllEvents(outbox);
  EXPECT_TRUE(events.ok()) << events.status();
  std::vector<std::string> types;
  if (events.ok()) {
    for (const StoredEvent& e : *events) types.push_back(e.type);
  }
  return types;
}

class OutboxLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto outbox = OpenTestOutbox(dir_);
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    outbox_ = std::move(outbox).value();
  }

  // A whole scan in one batch, then its Publish; returns what Publish announced.
  OutboxWriteStats Scan(const std::vector<Judged>& listings) {
    const std::string run = "run-" + std::to_string(++runs_);
    auto written = WriteRun(*outbox_, run, listings);
    EXPECT_TRUE(written.ok()) << written.status();
    auto published = outbox_->Publish(run);
    EXPECT_TRUE(published.ok()) << published.status();
    return published.ok() ? *published : OutboxWriteStats{};
  }

  StoredCase Case(std::string_view key) {
    auto c = outbox_->GetCase(key);
    EXPECT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(c.ok() && c->has_value()) << key;
    return c.ok() && c->has_value() ? **c : StoredCase{};
  }

  absl::StatusOr<StoredCase> Verdict(std::string_view key, VerdictKind verdict,
                                     bool replace = false) {
    VerdictRequest r;
    r.case_key = std::string(key);
    r.verdict = verdict;
    r.replace = replace;
    r.actor = "test";
    return outbox_->RecordVerdict(r);
  }

  testing::TempDir dir_;
  std::unique_ptr<Outbox> outbox_;
  int runs_ = 0;
};

const std::string kL1 = "acme:shopx:L1";

// --- Opening ------------------------------------------------------------------------------

TEST_F(OutboxLifecycleTest, ReadOnlyOpenOfAMissingFileIsNotFound) {
  BONAFIDE_SQLITE_ONLY();
  auto outbox = OpenOutbox(dir_.Join("missing.db"), OutboxAccess::kReadOnly);
  EXPECT_EQ(outbox.status().code(), absl::StatusCode::kNotFound) << outbox.status();
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("missing.db")));
}

// The first released layout of version 1, built by hand (its checkpoints keyed by input).
void MakeVersion1Outbox(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* sql = R"sql(
PRAGMA journal_mode = WAL;
CREATE TABLE cases (
  case_key TEXT PRIMARY KEY NOT NULL, rights_holder TEXT NOT NULL, marketplace TEXT NOT NULL,
  listing_id TEXT NOT NULL, seller_id TEXT NOT NULL, score REAL NOT NULL,
  reasons TEXT NOT NULL, evidence TEXT NOT NULL, fingerprint TEXT NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1, status TEXT NOT NULL DEFAULT 'pending',
  first_seen_at TEXT NOT NULL, last_seen_at TEXT NOT NULL);
CREATE INDEX cases_by_rights_holder ON cases (rights_holder);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, event_key TEXT NOT NULL UNIQUE,
  rights_holder TEXT NOT NULL, case_key TEXT NOT NULL, type TEXT NOT NULL,
  payload TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX events_by_rights_holder ON events (rights_holder, id);
CREATE TABLE scan_checkpoints (
  input TEXT PRIMARY KEY NOT NULL, identity TEXT NOT NULL, byte_offset INTEGER NOT NULL,
  line INTEGER NOT NULL, rejects_bytes INTEGER NOT NULL, done INTEGER NOT NULL,
  updated_at TEXT NOT NULL);
INSERT INTO cases VALUES ('acme:shopx:L1', 'acme', 'shopx', 'L1', 'seller-7', 1.5,
  '[{"signal":"cue","rule":"cue.replica","shadow":false}]', '{}', 'f', 1, 'pending',
  '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
INSERT INTO events (event_key, rights_holder, case_key, type, payload, created_at) VALUES
  ('acme:shopx:L1:f:1', 'acme', 'acme:shopx:L1', 'case.opened', '{}',
   '2026-01-01T00:00:00.000Z');
INSERT INTO scan_checkpoints VALUES ('dump.jsonl', '1:2', 10, 2, 0, 0, 'x');
PRAGMA user_version = 1;
)sql";
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST_F(OutboxLifecycleTest, ReadOnlyOpenOfAVersion1OutboxIsFailedPrecondition) {
  BONAFIDE_SQLITE_ONLY();
  const std::string path = dir_.Join("v1.db");
  MakeVersion1Outbox(path);
  auto outbox = OpenOutbox(path, OutboxAccess::kReadOnly);
  EXPECT_EQ(outbox.status().code(), absl::StatusCode::kFailedPrecondition) << outbox.status();
  EXPECT_THAT(outbox.status().message(), HasSubstr("version 1"));
}

TEST_F(OutboxLifecycleTest, ReadWriteOpenMigratesVersion1AndItsFirstRescanIsSilent) {
  BONAFIDE_SQLITE_ONLY();
  const std::string path = dir_.Join("v1.db");
  MakeVersion1Outbox(path);
  auto outbox = OpenOutbox(path);
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  auto c = (*outbox)->GetCase(kL1);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->status, CaseStatus::kPending);
  EXPECT_EQ((*c)->signals, "cue:cue.replica");
  EXPECT_EQ((*c)->revision, 1);
  EXPECT_THAT(EventTypes(**outbox), ElementsAre("case.opened"));
  // The first rescan adopts the material key the old build never computed, silently.
  ASSERT_TRUE(WriteRun(**outbox, "r", {Flagged(MakeCase("acme", "L1"))}).ok());
  auto stats = (*outbox)->Publish("r");
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->updated, 0);
  EXPECT_EQ(stats->silent, 1);
  EXPECT_THAT(EventTypes(**outbox), ElementsAre("case.opened"));
  // ... and a later change is news, with an event key the old one does not collide with.
  ASSERT_TRUE(WriteRun(**outbox, "r2", {Flagged(MakeCase("acme", "L1", "m2"))}).ok());
  ASSERT_EQ((*outbox)->Publish("r2")->updated, 1);
  auto events = AllEvents(**outbox);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(*events, SizeIs(2));
  EXPECT_EQ((*events)[1].event_key, "acme:shopx:L1:2");
}

// --- Writes and Publish -------------------------------------------------------------------

TEST_F(OutboxLifecycleTest, WriteOfARunStoresCasesButAnnouncesNothingUntilPublish) {
  auto written = WriteRun(*outbox_, "r", {Flagged(MakeCase("acme", "L1"))});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->opened, 0);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kPending);
  EXPECT_EQ(Case(kL1).revision, 0);
  EXPECT_THAT(EventTypes(*outbox_), IsEmpty());
  auto published = outbox_->Publish("r");
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->opened, 1);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened"));
  EXPECT_EQ(Case(kL1).revision, 1);
}

// A verdict given while the scan that wrote the case still runs (a portal user was quick):
// the case is announced before the verdict, and the run's publication adds nothing.
TEST_F(OutboxLifecycleTest, AVerdictBeforeThePublicationAnnouncesTheCaseFirst) {
  ASSERT_TRUE(WriteRun(*outbox_, "r", {Flagged(MakeCase("acme", "L1"))}).ok());
  auto judged = Verdict(kL1, VerdictKind::kCounterfeit);
  ASSERT_TRUE(judged.ok()) << judged.status();
  EXPECT_EQ(judged->revision, 2);
  auto events = AllEvents(*outbox_);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(*events, SizeIs(2));
  EXPECT_EQ((*events)[0].type, "case.opened");
  EXPECT_EQ((*events)[0].event_key, kL1 + ":1");
  EXPECT_NE((*events)[0].payload_json.find("\"status\":\"pending\""), std::string::npos)
      << (*events)[0].payload_json;
  EXPECT_EQ((*events)[1].type, "case.verdict");
  EXPECT_EQ((*events)[1].event_key, kL1 + ":2");
  auto published = outbox_->Publish("r");
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->opened, 0);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened", "case.verdict"));
  EXPECT_EQ(Case(kL1).status, CaseStatus::kConfirmed);
}

TEST_F(OutboxLifecycleTest, PublishOfAnotherRunAnnouncesNothingOfThisOne) {
  ASSERT_TRUE(WriteRun(*outbox_, "r", {Flagged(MakeCase("acme", "L1"))}).ok());
  auto other = outbox_->Publish("other");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->opened, 0);
  EXPECT_THAT(EventTypes(*outbox_), IsEmpty());
}

TEST_F(OutboxLifecycleTest, NewCaseIsOpenedWithThePayloadARightsHolderReads) {
  CaseRecord c = MakeCase("acme", "L1");
  const OutboxWriteStats stats = Scan({Flagged(c)});
  EXPECT_EQ(stats.opened, 1);
  auto events = AllEvents(*outbox_);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(*events, SizeIs(1));
  const StoredEvent& e = (*events)[0];
  EXPECT_EQ(e.type, "case.opened");
  EXPECT_EQ(e.event_key, kL1 + ":1");
  EXPECT_EQ(e.rights_holder, "acme");
  EXPECT_EQ(e.case_key, kL1);
  EXPECT_EQ(e.payload_json,
            std::string(R"({"case_key":"acme:shopx:L1","rights_holder":"acme",)"
                        R"("marketplace":"shopx","listing_id":"L1","seller_id":"seller-7",)"
                        R"("status":"pending","score":1.5,"reasons":)") +
                kCueReasons + R"(,"revision":1})");
}

// A case's events are found by the range of their keys, "<case_key>:..."; a rights holder
// may contain ':', so rights holder "acme:shopx:L1" has case keys that start with kL1 and a
// ':' too: its events are not kL1's.
TEST_F(OutboxLifecycleTest, TheEventsOfACaseAreItsOwnWhenAnotherKeyStartsWithItsKey) {
  CaseRecord other = MakeCase("acme:shopx:L1", "L9");
  other.marketplace = "m";
  Scan({Flagged(MakeCase("acme", "L1")), Flagged(other)});
  Scan({Flagged(MakeCase("acme", "L1", "m2")), Flagged(MakeCase("acme", "L10"))});
  auto events = outbox_->ListEvents(std::nullopt, 0, 0, kL1);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(*events, SizeIs(2));
  EXPECT_EQ((*events)[0].event_key, kL1 + ":1");
  EXPECT_EQ((*events)[1].event_key, kL1 + ":2");
  EXPECT_LT((*events)[0].id, (*events)[1].id);
  auto after_first = outbox_->ListEvents("acme", (*events)[0].id, 0, kL1);
  ASSERT_TRUE(after_first.ok()) << after_first.status();
  ASSERT_THAT(*after_first, SizeIs(1));
  EXPECT_EQ((*after_first)[0].event_key, kL1 + ":2");
  auto of_other = outbox_->ListEvents(std::nullopt, 0, 0, "acme:shopx:L1:m:L9");
  ASSERT_TRUE(of_other.ok()) << of_other.status();
  ASSERT_THAT(*of_other, SizeIs(1));
  EXPECT_EQ((*of_other)[0].rights_holder, "acme:shopx:L1");
}

TEST_F(OutboxLifecycleTest, MaterialChangeOfAPendingCaseIsUpdated) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  const OutboxWriteStats stats = Scan({Flagged(MakeCase("acme", "L1", "m2"))});
  EXPECT_EQ(stats.updated, 1);
  EXPECT_EQ(stats.opened + stats.closed + stats.reopened + stats.silent, 0);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened", "case.updated"));
  EXPECT_EQ(Case(kL1).status, CaseStatus::kPending);
  EXPECT_EQ(Case(kL1).revision, 2);
}

TEST_F(OutboxLifecycleTest, MaterialChangeOfAConfirmedCaseIsUpdatedAndStaysConfirmed) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  ASSERT_TRUE(Verdict(kL1, VerdictKind::kCounterfeit).ok());
  const OutboxWriteStats stats = Scan({Flagged(MakeCase("acme", "L1", "m2"))});
  EXPECT_EQ(stats.updated, 1);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened", "case.verdict", "case.updated"));
  EXPECT_EQ(Case(kL1).status, CaseStatus::kConfirmed);
  EXPECT_EQ(Case(kL1).revision, 3);
  auto events = AllEvents(*outbox_);
  ASSERT_TRUE(events.ok());
  EXPECT_THAT(events->back().payload_json, HasSubstr(R"("status":"confirmed")"));
}

TEST_F(OutboxLifecycleTest, NonMaterialChangeUpdatesTheRowSilently) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  CaseRecord changed = MakeCase("acme", "L1");
  changed.score = 2.5;
  changed.reasons_json = R"([{"signal":"cue","rule":"cue.replica","shadow":false,"n":2}])";
  changed.evidence_json = R"({"listing":{"title":"ACME watch replica"},"fx_date":"2026-12-01"})";
  const OutboxWriteStats stats = Scan({Flagged(changed)});
  EXPECT_EQ(stats.silent, 1);
  EXPECT_EQ(stats.opened + stats.updated + stats.closed + stats.reopened, 0);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened"));
  const StoredCase c = Case(kL1);
  EXPECT_EQ(c.score, 2.5);
  EXPECT_EQ(c.reasons_json, changed.reasons_json);
  EXPECT_EQ(c.evidence_json, changed.evidence_json);
  EXPECT_EQ(c.revision, 1);
}

TEST_F(OutboxLifecycleTest, IdenticalRescanAnnouncesNothing) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  const OutboxWriteStats stats = Scan({Flagged(MakeCase("acme", "L1"))});
  EXPECT_EQ(stats.opened + stats.updated + stats.closed + stats.reopened, 0);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened"));
}

TEST_F(OutboxLifecycleTest, ListingNoLongerFlaggedClosesItsPendingCase) {
  Scan({Flagged(MakeCase("acme", "L1")), Flagged(MakeCase("acme", "L2"))});
  const OutboxWriteStats stats = Scan({NotFlagged("L1"), Flagged(MakeCase("acme", "L2"))});
  EXPECT_EQ(stats.closed, 1);
  EXPECT_EQ(stats.opened + stats.updated + stats.reopened, 0);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kClosed);
  EXPECT_EQ(Case("acme:shopx:L2").status, CaseStatus::kPending);
  auto events = AllEvents(*outbox_);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(*events, SizeIs(3));
  EXPECT_EQ((*events)[2].type, "case.closed");
  EXPECT_EQ((*events)[2].case_key, kL1);
  EXPECT_EQ((*events)[2].event_key, kL1 + ":2");
  EXPECT_THAT((*events)[2].payload_json, HasSubstr(R"("status":"closed")"));
  // Still not flagged: nothing more to say.
  EXPECT_EQ(Scan({NotFlagged("L1")}).closed, 0);
  EXPECT_THAT(*AllEvents(*outbox_), SizeIs(3));
}

TEST_F(OutboxLifecycleTest, ClosingNeedsTheListingInTheBatch) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  // A scan of another input that does not contain L1 says nothing about it.
  const OutboxWriteStats stats = Scan({NotFlagged("L9")});
  EXPECT_EQ(stats.closed, 0);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kPending);
  // Cases written without their listings (a service's write) close nothing either.
  ASSERT_TRUE(WriteCases(*outbox_, {MakeCase("globex", "L1")}).ok());
  EXPECT_EQ(Case(kL1).status, CaseStatus::kPending);
}

TEST_F(OutboxLifecycleTest, ListingNoLongerFlaggedForOneHolderClosesOnlyThatHoldersCase) {
  Scan({FlaggedForBoth(MakeCase("acme", "L1"), MakeCase("globex", "L1"))});
  const OutboxWriteStats stats = Scan({Flagged(MakeCase("acme", "L1"))});
  EXPECT_EQ(stats.closed, 1);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kPending);
  EXPECT_EQ(Case("globex:shopx:L1").status, CaseStatus::kClosed);
}

TEST_F(OutboxLifecycleTest, ListingNoLongerFlaggedClosesACaseAnotherConnectionOpened) {
  // This connection knows L1's pending cases (acme's); another opens globex's case.
  Scan({Flagged(MakeCase("acme", "L1"))});
  auto other = OpenTestOutbox(dir_);
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(
      WriteRun(**other, "other", {FlaggedForBoth(MakeCase("acme", "L1"), MakeCase("globex", "L1"))})
          .ok());
  ASSERT_TRUE((*other)->Publish("other").ok());
  EXPECT_EQ(Case("globex:shopx:L1").status, CaseStatus::kPending);
  // L1 flagged for acme alone: globex's case closes though this connection did not open it.
  const OutboxWriteStats stats = Scan({Flagged(MakeCase("acme", "L1"))});
  EXPECT_EQ(stats.closed, 1);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kPending);
  EXPECT_EQ(Case("globex:shopx:L1").status, CaseStatus::kClosed);
}

// The outbox counts the pending cases of each listing it has seen, to skip looking for
// cases to close. A deferred batch that closed L1's case (OutboxBatch::defer_commit) and
// was then rolled back by a failing write must not leave its count behind: the next scan
// of L1 unflagged closes the case.
TEST_F(OutboxLifecycleTest, ARolledBackDeferredBatchLeavesNoPendingCountBehind) {
  BONAFIDE_SQLITE_ONLY();  // the PostgreSQL outbox commits every batch at once
  Scan({Flagged(MakeCase("acme", "L1"))});
  std::vector<ScannedListing> scanned(1);
  scanned[0].marketplace = "shopx";
  scanned[0].listing_id = "L1";
  scanned[0].key_hash = ListingKeyHash("shopx", "L1");
  OutboxBatch closing;
  closing.run = "rolled-back";
  closing.listings = scanned;
  closing.defer_commit = true;
  ASSERT_TRUE(outbox_->Write(closing).ok());
  CaseRecord bad = MakeCase("acme", "L2");
  bad.reasons_json = "not json";
  EXPECT_FALSE(WriteRun(*outbox_, "rolled-back", {Flagged(bad)}).ok());
  EXPECT_EQ(Case(kL1).status, CaseStatus::kPending);
  EXPECT_EQ(Scan({NotFlagged("L1")}).closed, 1);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kClosed);
}

TEST_F(OutboxLifecycleTest, ClosedCaseFlaggedAgainIsReopened) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  Scan({NotFlagged("L1")});
  const OutboxWriteStats stats = Scan({Flagged(MakeCase("acme", "L1"))});
  EXPECT_EQ(stats.reopened, 1);
  EXPECT_EQ(stats.opened + stats.updated + stats.closed, 0);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kPending);
  EXPECT_EQ(Case(kL1).revision, 3);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened", "case.closed", "case.reopened"));
  auto events = AllEvents(*outbox_);
  ASSERT_TRUE(events.ok());
  EXPECT_THAT(events->back().payload_json, HasSubstr(R"("status":"pending")"));
}

TEST_F(OutboxLifecycleTest, RejectedCaseReopensOnASignalItsVerdictDidNotSee) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  ASSERT_TRUE(Verdict(kL1, VerdictKind::kGenuine).ok());
  const OutboxWriteStats stats =
      Scan({Flagged(MakeCase("acme", "L1", "m2", "cue:cue.replica price"))});
  EXPECT_EQ(stats.reopened, 1);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kPending);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened", "case.verdict", "case.reopened"));
}

TEST_F(OutboxLifecycleTest, RejectedCaseWithOnlyChangedNumbersStaysRejected) {
  Scan({Flagged(MakeCase("acme", "L1", "m1", "cue:cue.replica price"))});
  ASSERT_TRUE(Verdict(kL1, VerdictKind::kNotOurs).ok());
  // Same signals (or fewer), another material key and score: nothing new to judge.
  CaseRecord changed = MakeCase("acme", "L1", "m2", "price");
  changed.score = 3;
  const OutboxWriteStats stats = Scan({Flagged(changed)});
  EXPECT_EQ(stats.opened + stats.updated + stats.closed + stats.reopened, 0);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kRejected);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened", "case.verdict"));
  // Later rescans with the verdict's signals again stay quiet too.
  EXPECT_EQ(Scan({Flagged(MakeCase("acme", "L1", "m3", "cue:cue.replica price"))}).reopened, 0);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kRejected);
  EXPECT_THAT(*AllEvents(*outbox_), SizeIs(2));
}

TEST_F(OutboxLifecycleTest, ScanNeverOverwritesAVerdict) {
  Scan({Flagged(MakeCase("acme", "L1")), Flagged(MakeCase("acme", "L2"))});
  ASSERT_TRUE(Verdict(kL1, VerdictKind::kCounterfeit).ok());
  ASSERT_TRUE(Verdict("acme:shopx:L2", VerdictKind::kGenuine).ok());
  // No longer flagged: only pending cases close.
  OutboxWriteStats stats = Scan({NotFlagged("L1"), NotFlagged("L2")});
  EXPECT_EQ(stats.closed, 0);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kConfirmed);
  EXPECT_EQ(Case("acme:shopx:L2").status, CaseStatus::kRejected);
  // Flagged again as before: still as judged.
  stats = Scan({Flagged(MakeCase("acme", "L1")), Flagged(MakeCase("acme", "L2"))});
  EXPECT_EQ(stats.opened + stats.updated + stats.closed + stats.reopened, 0);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kConfirmed);
  EXPECT_EQ(Case("acme:shopx:L2").status, CaseStatus::kRejected);
  EXPECT_THAT(*AllEvents(*outbox_), SizeIs(4));
}

// A listing repeated in the input, flagged by its first record only: the case never
// existed as far as anybody was told.
TEST_F(OutboxLifecycleTest, CaseOpenedAndClosedWithinOneRunIsDeletedWithoutEvent) {
  // The two records in separate batches of one run ...
  ASSERT_TRUE(WriteRun(*outbox_, "r", {Flagged(MakeCase("acme", "L1"))}).ok());
  ASSERT_TRUE(WriteRun(*outbox_, "r", {NotFlagged("L1")}).ok());
  auto stats = outbox_->Publish("r");
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->opened + stats->closed, 0);
  EXPECT_THAT(*AllCases(*outbox_), IsEmpty());
  EXPECT_THAT(EventTypes(*outbox_), IsEmpty());
}

TEST_F(OutboxLifecycleTest, CaseOpenedAndClosedWithinOneBatchIsDeletedWithoutEvent) {
  const OutboxWriteStats stats = Scan({Flagged(MakeCase("acme", "L1")), NotFlagged("L1")});
  EXPECT_EQ(stats.opened + stats.closed, 0);
  EXPECT_THAT(*AllCases(*outbox_), IsEmpty());
  EXPECT_THAT(EventTypes(*outbox_), IsEmpty());
}

TEST_F(OutboxLifecycleTest, RepeatedListingAnnouncesOnlyItsLastRecord) {
  CaseRecord first = MakeCase("acme", "L1", "m-first");
  first.score = 1.1;
  CaseRecord last = MakeCase("acme", "L1", "m-last");
  last.score = 2.2;
  OutboxWriteStats stats = Scan({Flagged(first), Flagged(last)});
  EXPECT_EQ(stats.opened, 1);
  EXPECT_EQ(stats.updated, 0);
  EXPECT_EQ(Case(kL1).score, 2.2);
  // Every rescan of the same input flips the row through the first record and back: no event.
  for (int i = 0; i < 3; ++i) {
    stats = Scan({Flagged(first), Flagged(last)});
    EXPECT_EQ(stats.opened + stats.updated + stats.closed + stats.reopened, 0);
  }
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened"));
  EXPECT_EQ(Case(kL1).score, 2.2);
}

// Last record wins for a judged case too: a repeated listing whose last record holds only
// the signals the verdict saw leaves the case rejected, whatever an earlier record held.
TEST_F(OutboxLifecycleTest, RejectedCaseRepeatedInOneRunFollowsItsLastRecord) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  ASSERT_TRUE(Verdict(kL1, VerdictKind::kGenuine).ok());
  const CaseRecord new_signal = MakeCase("acme", "L1", "m2", "cue:cue.replica price");
  OutboxWriteStats stats = Scan({Flagged(new_signal), Flagged(MakeCase("acme", "L1"))});
  EXPECT_EQ(stats.reopened + stats.closed + stats.updated, 0);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kRejected);
  stats = Scan({Flagged(new_signal), NotFlagged("L1")});
  EXPECT_EQ(stats.reopened + stats.closed + stats.updated, 0);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kRejected);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened", "case.verdict"));
}

TEST_F(OutboxLifecycleTest, PublishIsIdempotent) {
  ASSERT_TRUE(WriteRun(*outbox_, "r", {Flagged(MakeCase("acme", "L1"))}).ok());
  ASSERT_EQ(outbox_->Publish("r")->opened, 1);
  auto again = outbox_->Publish("r");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->opened + again->updated + again->closed + again->reopened + again->silent, 0);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened"));
}

// A rescan of the same unchanged file with the same rules is the same run id.
TEST_F(OutboxLifecycleTest, ARunIdUsedAgainPublishesOnlyTheNewChanges) {
  ASSERT_TRUE(WriteRun(*outbox_, "r", {Flagged(MakeCase("acme", "L1"))}).ok());
  ASSERT_EQ(outbox_->Publish("r")->opened, 1);
  ASSERT_TRUE(WriteRun(*outbox_, "r", {NotFlagged("L1")}).ok());
  auto stats = outbox_->Publish("r");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->closed, 1);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened", "case.closed"));
}

TEST_F(OutboxLifecycleTest, WriteWithoutARunPublishesInTheSameWrite) {
  auto stats = WriteCases(*outbox_, {MakeCase("acme", "L1"), MakeCase("acme", "L2")});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->opened, 2);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened", "case.opened"));
  stats = WriteCases(*outbox_, {MakeCase("acme", "L1", "m2")});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->updated, 1);
  EXPECT_THAT(*AllEvents(*outbox_), SizeIs(3));
}

TEST_F(OutboxLifecycleTest, EventIdsGrowAndEventKeysCountTheCasesRevisions) {
  Scan({Flagged(MakeCase("acme", "L1")), Flagged(MakeCase("globex", "L2"))});
  Scan({Flagged(MakeCase("acme", "L1", "m2")), Flagged(MakeCase("globex", "L2"))});
  ASSERT_TRUE(Verdict(kL1, VerdictKind::kCounterfeit).ok());
  Scan({Flagged(MakeCase("acme", "L1", "m3")), NotFlagged("L2")});
  auto events = AllEvents(*outbox_);
  ASSERT_TRUE(events.ok());
  std::vector<std::string> keys;
  for (size_t i = 0; i < events->size(); ++i) {
    if (i > 0) {
      EXPECT_GT((*events)[i].id, (*events)[i - 1].id);
    }
    keys.push_back((*events)[i].event_key);
  }
  EXPECT_THAT(keys, ElementsAre("acme:shopx:L1:1", "globex:shopx:L2:1", "acme:shopx:L1:2",
                                "acme:shopx:L1:3", "acme:shopx:L1:4", "globex:shopx:L2:2"));
  EXPECT_EQ(Case(kL1).revision, 4);
  EXPECT_EQ(Case("globex:shopx:L2").revision, 2);
}

// --- Verdicts -----------------------------------------------------------------------------

TEST_F(OutboxLifecycleTest, VerdictOnAnUnknownCaseIsNotFound) {
  EXPECT_EQ(Verdict("acme:shopx:nope", VerdictKind::kCounterfeit).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(OutboxLifecycleTest, VerdictOnAnotherHoldersCaseIsNotFoundLikeAnUnknownOne) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  VerdictRequest r;
  r.verdict = VerdictKind::kCounterfeit;
  r.rights_holder = "globex";
  r.case_key = kL1;
  const absl::Status other = outbox_->RecordVerdict(r).status();
  r.case_key = "globex:shopx:nope";
  const absl::Status unknown = outbox_->RecordVerdict(r).status();
  EXPECT_EQ(other.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(other, unknown);  // nothing tells another holder that the case exists
  EXPECT_EQ(Case(kL1).status, CaseStatus::kPending);
  EXPECT_THAT(*outbox_->ListVerdicts(kL1), IsEmpty());
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened"));
  // Its own holder may.
  r.case_key = kL1;
  r.rights_holder = "acme";
  auto own = outbox_->RecordVerdict(r);
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->status, CaseStatus::kConfirmed);
}

TEST_F(OutboxLifecycleTest, SecondVerdictIsAlreadyExistsUnlessReplaced) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  ASSERT_TRUE(Verdict(kL1, VerdictKind::kCounterfeit).ok());
  EXPECT_EQ(Verdict(kL1, VerdictKind::kGenuine).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kConfirmed);
  auto replaced = Verdict(kL1, VerdictKind::kGenuine, /*replace=*/true);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(replaced->status, CaseStatus::kRejected);
  auto verdicts = outbox_->ListVerdicts(kL1);
  ASSERT_TRUE(verdicts.ok());
  ASSERT_THAT(*verdicts, SizeIs(2));
  EXPECT_EQ((*verdicts)[0].verdict, VerdictKind::kCounterfeit);
  EXPECT_EQ((*verdicts)[1].verdict, VerdictKind::kGenuine);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened", "case.verdict", "case.verdict"));
}

TEST_F(OutboxLifecycleTest, InvalidVerdictRequestsAreInvalidArgumentAndChangeNothing) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  VerdictRequest r;
  r.case_key = kL1;
  r.verdict = VerdictKind::kCounterfeit;
  r.authorize_seller = true;  // only with genuine
  EXPECT_EQ(outbox_->RecordVerdict(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.verdict = VerdictKind::kNotOurs;
  EXPECT_EQ(outbox_->RecordVerdict(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.authorize_seller = false;
  r.comment = std::string(4097, 'x');
  EXPECT_EQ(outbox_->RecordVerdict(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.comment = "caf\xC3";  // truncated UTF-8
  EXPECT_EQ(outbox_->RecordVerdict(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.comment = "\xC0\xAF";  // overlong
  EXPECT_EQ(outbox_->RecordVerdict(r).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kPending);
  EXPECT_THAT(*outbox_->ListVerdicts(kL1), IsEmpty());
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened"));
  // 4096 bytes of UTF-8 is the most a comment may have.
  r.comment = std::string(4094, 'x') + "\xC3\xA9";
  auto ok = outbox_->RecordVerdict(r);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*outbox_->ListVerdicts(kL1))[0].comment, r.comment);
}

TEST_F(OutboxLifecycleTest, CounterfeitConfirmsGenuineAndNotOursReject) {
  Scan({Flagged(MakeCase("acme", "L1")), Flagged(MakeCase("acme", "L2")),
        Flagged(MakeCase("acme", "L3"))});
  auto counterfeit = Verdict(kL1, VerdictKind::kCounterfeit);
  auto genuine = Verdict("acme:shopx:L2", VerdictKind::kGenuine);
  auto not_ours = Verdict("acme:shopx:L3", VerdictKind::kNotOurs);
  ASSERT_TRUE(counterfeit.ok() && genuine.ok() && not_ours.ok());
  EXPECT_EQ(counterfeit->status, CaseStatus::kConfirmed);
  EXPECT_EQ(genuine->status, CaseStatus::kRejected);
  EXPECT_EQ(not_ours->status, CaseStatus::kRejected);
  EXPECT_EQ(Case(kL1).status, CaseStatus::kConfirmed);
  EXPECT_EQ(Case("acme:shopx:L2").status, CaseStatus::kRejected);
  EXPECT_EQ(Case("acme:shopx:L3").status, CaseStatus::kRejected);
}

TEST_F(OutboxLifecycleTest, VerdictEmitsCaseVerdictWithTheAnswer) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  VerdictRequest r;
  r.case_key = kL1;
  r.verdict = VerdictKind::kGenuine;
  r.comment = "ours, sold through \"outlet\"";
  r.authorize_seller = true;
  r.actor = "portal:ab12";
  auto c = outbox_->RecordVerdict(r);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->revision, 2);
  auto events = AllEvents(*outbox_);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(*events, SizeIs(2));
  const StoredEvent& e = (*events)[1];
  EXPECT_EQ(e.type, "case.verdict");
  EXPECT_EQ(e.event_key, kL1 + ":2");
  EXPECT_EQ(e.rights_holder, "acme");
  EXPECT_EQ(e.payload_json,
            R"({"case_key":"acme:shopx:L1","rights_holder":"acme","marketplace":"shopx",)"
            R"("listing_id":"L1","seller_id":"seller-7","status":"rejected",)"
            R"("verdict":"genuine","comment":"ours, sold through \"outlet\"",)"
            R"("authorize_seller":true,"revision":2})");
  auto verdicts = outbox_->ListVerdicts(kL1);
  ASSERT_TRUE(verdicts.ok());
  ASSERT_THAT(*verdicts, SizeIs(1));
  EXPECT_EQ((*verdicts)[0].rights_holder, "acme");
  EXPECT_EQ((*verdicts)[0].comment, r.comment);
  EXPECT_TRUE((*verdicts)[0].authorize_seller);
  EXPECT_EQ((*verdicts)[0].signals, "cue:cue.replica");
  EXPECT_EQ((*verdicts)[0].actor, "portal:ab12");
}

CaseRecord CaseWithPhotos(std::string listing_id, std::string seller) {
  CaseRecord c = MakeCase("acme", std::move(listing_id));
  c.seller_id = std::move(seller);
  c.evidence_json = std::string(R"({"images":[)") +
                    R"({"photo":"a.jpg","status":"hashed","pdq":")" + std::string(64, 'a') +
                    R"(","quality":90,"matched":false},)" +
                    R"({"photo":"b.jpg","status":"missing","detail":"no such file"},)" +
                    R"({"photo":"c.jpg","status":"hashed","pdq":")" + std::string(64, 'c') +
                    R"(","quality":70,"matched":true}]})";
  return c;
}

TEST_F(OutboxLifecycleTest, CounterfeitVerdictAddsTheCasesHashedPhotosToTheBank) {
  Scan({Flagged(CaseWithPhotos("L1", "s-1"))});
  ASSERT_TRUE(Verdict(kL1, VerdictKind::kCounterfeit).ok());
  auto feedback = outbox_->LoadFeedback();
  ASSERT_TRUE(feedback.ok()) << feedback.status();
  ASSERT_THAT(feedback->counterfeit_photos, SizeIs(2));
  EXPECT_EQ(feedback->counterfeit_photos[0].rights_holder, "acme");
  EXPECT_EQ(feedback->counterfeit_photos[0].pdq_hex, std::string(64, 'a'));
  EXPECT_EQ(feedback->counterfeit_photos[0].quality, 90);
  EXPECT_EQ(feedback->counterfeit_photos[0].case_key, kL1);
  EXPECT_EQ(feedback->counterfeit_photos[1].pdq_hex, std::string(64, 'c'));
  EXPECT_EQ(feedback->counterfeit_photos[1].quality, 70);
  EXPECT_THAT(feedback->authorized_sellers, IsEmpty());
}

TEST_F(OutboxLifecycleTest, GenuineVerdictWithoutAuthorizationTeachesNothing) {
  Scan({Flagged(CaseWithPhotos("L1", "s-1"))});
  ASSERT_TRUE(Verdict(kL1, VerdictKind::kGenuine).ok());
  auto feedback = outbox_->LoadFeedback();
  ASSERT_TRUE(feedback.ok());
  EXPECT_THAT(feedback->counterfeit_photos, IsEmpty());
  EXPECT_THAT(feedback->authorized_sellers, IsEmpty());
  EXPECT_THAT(feedback->seller_records, IsEmpty());
}

TEST_F(OutboxLifecycleTest, GenuineVerdictWithAuthorizeSellerRecordsTheSeller) {
  Scan({Flagged(CaseWithPhotos("L1", "s-1"))});
  VerdictRequest r;
  r.case_key = kL1;
  r.verdict = VerdictKind::kGenuine;
  r.authorize_seller = true;
  ASSERT_TRUE(outbox_->RecordVerdict(r).ok());
  auto feedback = outbox_->LoadFeedback();
  ASSERT_TRUE(feedback.ok());
  ASSERT_THAT(feedback->authorized_sellers, SizeIs(1));
  EXPECT_EQ(feedback->authorized_sellers[0].rights_holder, "acme");
  EXPECT_EQ(feedback->authorized_sellers[0].seller_id, "s-1");
  EXPECT_THAT(feedback->counterfeit_photos, IsEmpty());
}

TEST_F(OutboxLifecycleTest, ReplacedVerdictTakesBackWhatTheEarlierOneTaught) {
  Scan({Flagged(CaseWithPhotos("L1", "s-1"))});
  ASSERT_TRUE(Verdict(kL1, VerdictKind::kCounterfeit).ok());
  ASSERT_THAT(outbox_->LoadFeedback()->counterfeit_photos, SizeIs(2));
  ASSERT_THAT(outbox_->LoadFeedback()->seller_records, SizeIs(1));

  VerdictRequest r;
  r.case_key = kL1;
  r.verdict = VerdictKind::kGenuine;
  r.authorize_seller = true;
  r.replace = true;
  ASSERT_TRUE(outbox_->RecordVerdict(r).ok());
  auto feedback = outbox_->LoadFeedback();
  ASSERT_TRUE(feedback.ok());
  EXPECT_THAT(feedback->counterfeit_photos, IsEmpty());
  EXPECT_THAT(feedback->seller_records, IsEmpty());
  ASSERT_THAT(feedback->authorized_sellers, SizeIs(1));

  ASSERT_TRUE(Verdict(kL1, VerdictKind::kNotOurs, /*replace=*/true).ok());
  feedback = outbox_->LoadFeedback();
  ASSERT_TRUE(feedback.ok());
  EXPECT_THAT(feedback->authorized_sellers, IsEmpty());
  EXPECT_THAT(feedback->counterfeit_photos, IsEmpty());
}

// --- Feedback and precision ---------------------------------------------------------------

TEST_F(OutboxLifecycleTest, SellerRecordsCountConfirmedCasesPerHolderAndSeller) {
  CaseRecord a1 = CaseWithPhotos("L1", "s-1");
  CaseRecord a2 = CaseWithPhotos("L2", "s-1");
  CaseRecord a3 = CaseWithPhotos("L3", "s-2");
  CaseRecord g1 = CaseWithPhotos("L4", "s-1");
  g1.rights_holder = "globex";
  Scan({Flagged(a1), Flagged(a2), Flagged(a3), Flagged(g1)});
  for (const char* key : {"acme:shopx:L1", "acme:shopx:L2", "globex:shopx:L4"}) {
    ASSERT_TRUE(Verdict(key, VerdictKind::kCounterfeit).ok()) << key;
  }
  ASSERT_TRUE(Verdict("acme:shopx:L3", VerdictKind::kGenuine).ok());
  auto feedback = outbox_->LoadFeedback();
  ASSERT_TRUE(feedback.ok());
  ASSERT_THAT(feedback->seller_records, SizeIs(2));
  EXPECT_EQ(feedback->seller_records[0].rights_holder, "acme");
  EXPECT_EQ(feedback->seller_records[0].seller_id, "s-1");
  EXPECT_EQ(feedback->seller_records[0].confirmed, 2);
  EXPECT_EQ(feedback->seller_records[1].rights_holder, "globex");
  EXPECT_EQ(feedback->seller_records[1].seller_id, "s-1");
  EXPECT_EQ(feedback->seller_records[1].confirmed, 1);
  // The same photos of two acme cases are one bank entry; globex has its own.
  ASSERT_THAT(feedback->counterfeit_photos, SizeIs(4));
  EXPECT_EQ(feedback->counterfeit_photos[0].rights_holder, "acme");
  EXPECT_EQ(feedback->counterfeit_photos[2].rights_holder, "globex");
}

TEST_F(OutboxLifecycleTest, PrecisionReportCountsVerdictsPerSignal) {
  const std::string cue = R"({"signal":"cue","rule":"cue.replica","shadow":false})";
  const std::string shadow = R"({"signal":"cue","rule":"cue.trial","shadow":true})";
  const std::string price = R"({"signal":"price","shadow":false})";
  auto with = [](CaseRecord c, std::vector<std::string> reasons) {
    c.reasons_json = "[";
    for (size_t i = 0; i < reasons.size(); ++i) c.reasons_json += (i ? "," : "") + reasons[i];
    c.reasons_json += "]";
    return c;
  };
  CaseRecord other = with(MakeCase("globex", "L9"), {cue});
  Scan({Flagged(with(MakeCase("acme", "L1"), {cue, price})),
        Flagged(with(MakeCase("acme", "L2"), {cue, shadow})),
        Flagged(with(MakeCase("acme", "L3"), {price})),
        Flagged(with(MakeCase("acme", "L4"), {cue, cue})), Flagged(other)});
  ASSERT_TRUE(Verdict(kL1, VerdictKind::kCounterfeit).ok());
  ASSERT_TRUE(Verdict("acme:shopx:L2", VerdictKind::kGenuine).ok());
  ASSERT_TRUE(Verdict("acme:shopx:L3", VerdictKind::kNotOurs).ok());
  ASSERT_TRUE(Verdict("globex:shopx:L9", VerdictKind::kCounterfeit).ok());

  auto acme = outbox_->PrecisionReport("acme");
  ASSERT_TRUE(acme.ok()) << acme.status();
  ASSERT_THAT(*acme, SizeIs(3));
  const PrecisionRow& replica = (*acme)[0];
  EXPECT_EQ(replica.signal, "cue:cue.replica");
  EXPECT_FALSE(replica.shadow);
  EXPECT_EQ(replica.cases, 3);  // L4 names it twice: one case
  EXPECT_EQ(replica.confirmed, 1);
  EXPECT_EQ(replica.rejected, 1);
  ASSERT_TRUE(replica.precision.has_value());
  EXPECT_DOUBLE_EQ(*replica.precision, 0.5);
  const PrecisionRow& trial = (*acme)[1];
  EXPECT_EQ(trial.signal, "cue:cue.trial");
  EXPECT_TRUE(trial.shadow);
  EXPECT_EQ(trial.cases, 1);
  EXPECT_EQ(trial.rejected, 1);
  EXPECT_DOUBLE_EQ(trial.precision.value_or(-1), 0.0);
  const PrecisionRow& p = (*acme)[2];
  EXPECT_EQ(p.signal, "price");
  EXPECT_EQ(p.cases, 2);
  EXPECT_EQ(p.confirmed, 1);
  EXPECT_EQ(p.rejected, 1);

  auto all = outbox_->PrecisionReport(std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_THAT(*all, SizeIs(3));
  EXPECT_EQ((*all)[0].cases, 4);
  EXPECT_EQ((*all)[0].confirmed, 2);
  EXPECT_DOUBLE_EQ((*all)[0].precision.value_or(-1), 2.0 / 3.0);

  // A replaced verdict counts once, as it is now.
  ASSERT_TRUE(Verdict("acme:shopx:L2", VerdictKind::kCounterfeit, /*replace=*/true).ok());
  acme = outbox_->PrecisionReport("acme");
  ASSERT_TRUE(acme.ok());
  EXPECT_EQ((*acme)[0].confirmed, 2);
  EXPECT_EQ((*acme)[0].rejected, 0);
}

TEST_F(OutboxLifecycleTest, PrecisionIsUnknownBeforeAnyVerdict) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  auto report = outbox_->PrecisionReport("acme");
  ASSERT_TRUE(report.ok());
  ASSERT_THAT(*report, SizeIs(1));
  EXPECT_EQ((*report)[0].cases, 1);
  EXPECT_FALSE((*report)[0].precision.has_value());
  EXPECT_THAT(*outbox_->PrecisionReport("nobody"), IsEmpty());
}

// --- Delivery state -----------------------------------------------------------------------

TEST_F(OutboxLifecycleTest, NextDeliveryWalksEachHoldersEventsInOrder) {
  Scan({FlaggedForBoth(MakeCase("acme", "L1"), MakeCase("globex", "L1")),
        Flagged(MakeCase("acme", "L2"))});
  auto next = outbox_->NextDelivery("acme");
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->event.case_key, kL1);
  EXPECT_EQ((*next)->attempts, 0);
  EXPECT_EQ((*next)->next_attempt_ms, 0);
  const int64_t first = (*next)->event.id;

  // A failed attempt keeps the event first, counting the attempt.
  DeliveryAttempt retry;
  retry.event_id = first;
  retry.outcome = DeliveryAttempt::Outcome::kRetry;
  retry.http_status = 503;
  retry.error = "HTTP 503";
  retry.next_attempt_ms = 1'900'000'000'000;
  ASSERT_TRUE(outbox_->RecordDeliveryAttempt(retry).ok());
  ASSERT_TRUE(outbox_->RecordDeliveryAttempt(retry).ok());
  next = outbox_->NextDelivery("acme");
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->event.id, first);
  EXPECT_EQ((*next)->attempts, 2);
  EXPECT_EQ((*next)->next_attempt_ms, 1'900'000'000'000);

  // Delivered: the next one of acme, never globex's.
  DeliveryAttempt delivered;
  delivered.event_id = first;
  delivered.outcome = DeliveryAttempt::Outcome::kDelivered;
  delivered.http_status = 200;
  ASSERT_TRUE(outbox_->RecordDeliveryAttempt(delivered).ok());
  next = outbox_->NextDelivery("acme");
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->event.case_key, "acme:shopx:L2");
  EXPECT_EQ((*next)->attempts, 0);

  // Dead: moves past it too.
  DeliveryAttempt dead;
  dead.event_id = (*next)->event.id;
  dead.outcome = DeliveryAttempt::Outcome::kDead;
  ASSERT_TRUE(outbox_->RecordDeliveryAttempt(dead).ok());
  next = outbox_->NextDelivery("acme");
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());

  // globex's queue is untouched; a new acme event is next for acme.
  next = outbox_->NextDelivery("globex");
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->event.case_key, "globex:shopx:L1");
  Scan({Flagged(MakeCase("acme", "L1", "m2"))});
  next = outbox_->NextDelivery("acme");
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->event.type, "case.updated");
}

TEST_F(OutboxLifecycleTest, DeliveryStateSurvivesReopening) {
  Scan({Flagged(MakeCase("acme", "L1")), Flagged(MakeCase("acme", "L2"))});
  auto next = outbox_->NextDelivery("acme");
  ASSERT_TRUE(next.ok() && next->has_value());
  DeliveryAttempt delivered;
  delivered.event_id = (*next)->event.id;
  delivered.outcome = DeliveryAttempt::Outcome::kDelivered;
  ASSERT_TRUE(outbox_->RecordDeliveryAttempt(delivered).ok());
  outbox_.reset();
  auto reopened = OpenTestOutbox(dir_, "outbox.db", OutboxAccess::kReadOnly);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  next = (*reopened)->NextDelivery("acme");
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->event.case_key, "acme:shopx:L2");
}

TEST_F(OutboxLifecycleTest, DeliveryAttemptOfAnUnknownEventIsNotFound) {
  DeliveryAttempt a;
  a.event_id = 42;
  a.outcome = DeliveryAttempt::Outcome::kDelivered;
  EXPECT_EQ(outbox_->RecordDeliveryAttempt(a).code(), absl::StatusCode::kNotFound);
}

TEST_F(OutboxLifecycleTest, DisabledEndpointIsKeyedByHolderAndDigest) {
  EXPECT_FALSE(*outbox_->EndpointDisabled("acme", "digest-1"));
  ASSERT_TRUE(outbox_->DisableEndpoint("acme", "digest-1", "HTTP 410").ok());
  EXPECT_TRUE(*outbox_->EndpointDisabled("acme", "digest-1"));
  EXPECT_FALSE(*outbox_->EndpointDisabled("acme", "digest-2"));  // a new URL
  EXPECT_FALSE(*outbox_->EndpointDisabled("globex", "digest-1"));
  ASSERT_TRUE(outbox_->DisableEndpoint("acme", "digest-1", "HTTP 410 again").ok());
  EXPECT_TRUE(*outbox_->EndpointDisabled("acme", "digest-1"));
}

// --- Listing cases and events -------------------------------------------------------------

TEST_F(OutboxLifecycleTest, ListCasesIsNewestFirstAndFilters) {
  Scan({FlaggedForBoth(MakeCase("acme", "L1"), MakeCase("globex", "L1"))});
  usleep(3000);  // a later first_seen_at
  CaseRecord other_market = MakeCase("acme", "L2");
  other_market.marketplace = "shopy";
  Scan({Flagged(other_market), Flagged(MakeCase("acme", "L3"))});
  ASSERT_TRUE(Verdict("acme:shopx:L3", VerdictKind::kCounterfeit).ok());

  auto keys = [&](const CaseQuery& q) {
    auto page = outbox_->ListCases(q);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const StoredCase& c : page->cases) out.push_back(c.case_key);
      EXPECT_FALSE(page->next.has_value());
    }
    return out;
  };
  EXPECT_THAT(keys({}),
              ElementsAre("acme:shopy:L2", "acme:shopx:L3", "globex:shopx:L1", "acme:shopx:L1"));
  EXPECT_THAT(keys({.rights_holder = "acme"}),
              ElementsAre("acme:shopy:L2", "acme:shopx:L3", "acme:shopx:L1"));
  EXPECT_THAT(keys({.status = CaseStatus::kConfirmed}), ElementsAre("acme:shopx:L3"));
  EXPECT_THAT(keys({.rights_holder = "acme", .status = CaseStatus::kPending}),
              ElementsAre("acme:shopy:L2", "acme:shopx:L1"));
  EXPECT_THAT(keys({.marketplace = "shopy"}), ElementsAre("acme:shopy:L2"));
  const std::string second_scan = Case("acme:shopx:L3").first_seen_at;
  EXPECT_THAT(keys({.since = second_scan}), ElementsAre("acme:shopy:L2", "acme:shopx:L3"));
  EXPECT_THAT(keys({.since = "2000-01-01"}), SizeIs(4));
  EXPECT_THAT(keys({.since = "2999-01-01"}), IsEmpty());
}

TEST_F(OutboxLifecycleTest, ListCasesPagesCoverEveryCaseOnce) {
  // Several scans, so that pages cross both first_seen_at and case-key ties.
  std::set<std::string> expected;
  for (int scan = 0; scan < 4; ++scan) {
    std::vector<Judged> listings;
    for (int i = 0; i < 9; ++i) {
      CaseRecord c =
          MakeCase(i % 2 ? "acme" : "globex", "S" + std::to_string(scan) + "-" + std::to_string(i));
      expected.insert(CaseKey(c.rights_holder, c.marketplace, c.listing_id));
      listings.push_back(Flagged(std::move(c)));
    }
    Scan(listings);
    usleep(2000);
  }
  for (int limit : {1, 2, 5, 7, 36, 100}) {
    std::vector<std::string> seen;
    CaseQuery q;
    q.limit = limit;
    int pages = 0;
    for (;;) {
      auto page = outbox_->ListCases(q);
      ASSERT_TRUE(page.ok()) << page.status();
      ASSERT_LE(page->cases.size(), static_cast<size_t>(limit));
      for (const StoredCase& c : page->cases) seen.push_back(c.case_key);
      ++pages;
      if (!page->next.has_value()) break;
      q.after = page->next;
    }
    EXPECT_EQ(pages, (36 + limit - 1) / limit) << "limit " << limit;
    EXPECT_EQ(seen.size(), expected.size()) << "limit " << limit;
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), expected) << "limit " << limit;
    // Newest first throughout.
    auto all = outbox_->ListCases({});
    ASSERT_TRUE(all.ok());
    std::vector<std::string> order;
    for (const StoredCase& c : all->cases) order.push_back(c.case_key);
    EXPECT_EQ(seen, order) << "limit " << limit;
  }
  // Paging within a filter.
  std::vector<std::string> acme;
  CaseQuery q{.rights_holder = "acme", .limit = 4};
  for (;;) {
    auto page = outbox_->ListCases(q);
    ASSERT_TRUE(page.ok());
    for (const StoredCase& c : page->cases) {
      EXPECT_EQ(c.rights_holder, "acme");
      acme.push_back(c.case_key);
    }
    if (!page->next) break;
    q.after = page->next;
  }
  EXPECT_THAT(acme, SizeIs(16));
}

TEST_F(OutboxLifecycleTest, ListCasesWithABadCursorIsInvalidArgument) {
  Scan({Flagged(MakeCase("acme", "L1"))});
  for (const char* cursor : {"", "garbage", " acme:shopx:L1"}) {
    CaseQuery q;
    q.after = cursor;
    EXPECT_EQ(outbox_->ListCases(q).status().code(), absl::StatusCode::kInvalidArgument)
        << '"' << cursor << '"';
  }
}

TEST_F(OutboxLifecycleTest, ListEventsFiltersByHolderAfterIdLimitAndCase) {
  Scan({FlaggedForBoth(MakeCase("acme", "L1"), MakeCase("globex", "L1")),
        Flagged(MakeCase("acme", "L2"))});
  Scan({FlaggedForBoth(MakeCase("acme", "L1", "m2"), MakeCase("globex", "L1")),
        Flagged(MakeCase("acme", "L2"))});
  auto all = outbox_->ListEvents(std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_THAT(*all, SizeIs(4));
  auto acme = outbox_->ListEvents("acme");
  ASSERT_TRUE(acme.ok());
  ASSERT_THAT(*acme, SizeIs(3));
  auto after = outbox_->ListEvents("acme", (*acme)[0].id);
  ASSERT_TRUE(after.ok());
  ASSERT_THAT(*after, SizeIs(2));
  EXPECT_EQ((*after)[0].id, (*acme)[1].id);
  auto limited = outbox_->ListEvents("acme", 0, 1);
  ASSERT_TRUE(limited.ok());
  ASSERT_THAT(*limited, SizeIs(1));
  EXPECT_EQ((*limited)[0].id, (*acme)[0].id);
  auto of_case = outbox_->ListEvents(std::nullopt, 0, 0, kL1);
  ASSERT_TRUE(of_case.ok());
  ASSERT_THAT(*of_case, SizeIs(2));
  EXPECT_EQ((*of_case)[0].type, "case.opened");
  EXPECT_EQ((*of_case)[1].type, "case.updated");
  EXPECT_THAT(*outbox_->ListEvents("globex", 0, 0, kL1), IsEmpty());
}

// --- End to end over the example rules ----------------------------------------------------

const std::string kExampleRules = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";

class ScanLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::copy(kExampleRules, dir_.Join("rules"),
                          std::filesystem::copy_options::recursive);
    auto outbox = OpenTestOutbox(dir_);
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    outbox_ = std::move(outbox).value();
  }

  std::unique_ptr<Scanner> MakeScanner() {
    ScannerOptions options;
    options.rules_dir = dir_.Join("rules");
    auto scanner = Scanner::Create(options);
    EXPECT_TRUE(scanner.ok()) << scanner.status();
    return scanner.ok() ? std::move(scanner).value() : nullptr;
  }

  ScanSummary ScanFile(Scanner& scanner, const std::string& input) {
    ScanOptions options;
    options.threads = 2;
    options.chunk_bytes = 64 << 10;
    auto summary = scanner.ScanFiles({input}, *outbox_, options);
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary.ok() ? *summary : ScanSummary{};
  }

  // Replaces `from` with `to` in a file of the copied rules.
  void EditRules(const std::string& file, const std::string& from, const std::string& to) {
    std::string text = testing::ReadFileOrDie(dir_.Join("rules/" + file));
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    dir_.Write("rules/" + file, text);
  }

  int64_t HolderCases(const ScanSummary& s, std::string_view holder) {
    for (const auto& h : s.holders) {
      if (h.id == holder) return h.cases;
    }
    ADD_FAILURE() << "no holder " << holder;
    return -1;
  }

  testing::TempDir dir_;
  std::unique_ptr<Outbox> outbox_;
};

// Regression: refreshing FX rates (fx_date) or adding a rights holder that no listing names
// changed every price case's reasons and rules version, and announced all as case.updated.
TEST_F(ScanLifecycleTest, RulesChangeOutsideTheMaterialKeyEmitsNoUpdate) {
  const std::string input = dir_.Join("dump.jsonl");
  gen::GeneratorOptions gen_options;
  gen_options.count = 3000;
  gen_options.seed = 17;
  testing::WriteGeneratedDump(input, gen_options);
  auto scanner = MakeScanner();
  ASSERT_NE(scanner, nullptr);
  const ScanSummary first = ScanFile(*scanner, input);
  ASSERT_GT(first.outbox.opened, 50);
  ASSERT_GT(first.signals.price, 0);
  const size_t events = AllEvents(*outbox_)->size();
  auto cases_before = AllCases(*outbox_);
  ASSERT_TRUE(cases_before.ok());

  EditRules("policy.yaml", "fx_date: 2026-11-27", "fx_date: 2026-11-28");
  dir_.Write("rules/rights_holders/initech.yaml",
             "id: initech\nname: Initech\nbrands:\n  - name: Initech\n"
             "products:\n  - id: initech-tps\n    name: TPS report cover\n"
             "    keywords: [tps report cover]\n    category: office\n"
             "    reference_price: {amount: 20, currency: EUR}\n    min_price_ratio: 0.5\n");
  auto rescanner = MakeScanner();
  ASSERT_NE(rescanner, nullptr);
  const ScanSummary second = ScanFile(*rescanner, input);
  EXPECT_EQ(second.outbox.opened, 0);
  EXPECT_EQ(second.outbox.updated, 0);
  EXPECT_EQ(second.outbox.closed, 0);
  EXPECT_EQ(second.outbox.reopened, 0);
  EXPECT_GT(second.outbox.silent, 0);  // reasons (fx_date) and rules version were rewritten
  EXPECT_EQ(AllEvents(*outbox_)->size(), events);
  auto cases_after = AllCases(*outbox_);
  ASSERT_TRUE(cases_after.ok());
  ASSERT_EQ(cases_after->size(), cases_before->size());
  int with_new_fx_date = 0;
  for (const StoredCase& c : *cases_after) {
    with_new_fx_date += c.reasons_json.find("2026-11-28") != std::string::npos;
  }
  EXPECT_GT(with_new_fx_date, 0);  // the row was updated, silently
}

// Regression: two rows with the same listing id flipped the case between them on every
// rescan, each time with a case.updated.
TEST_F(ScanLifecycleTest, ListingRepeatedInTheDumpAnnouncesOnceAndRescansAreQuiet) {
  const std::string input = dir_.Write(
      "dup.jsonl",
      R"({"id":"x1","title":"Nike Air Max 90 replica","price":120,"currency":"EUR","seller_id":"s-1"})"
      "\n"
      R"({"id":"x2","title":"plain socks","price":3,"currency":"EUR","seller_id":"s-2"})"
      "\n"
      R"({"id":"x1","title":"Nike Air Max 90 replica, cheap","price":20,"currency":"EUR","seller_id":"s-1"})"
      "\n");
  auto scanner = MakeScanner();
  ASSERT_NE(scanner, nullptr);
  ScanSummary s = ScanFile(*scanner, input);
  EXPECT_EQ(s.duplicates, 1);
  EXPECT_EQ(s.outbox.opened, 1);
  EXPECT_EQ(s.outbox.updated, 0);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened"));
  auto c = outbox_->GetCase("nike:default:x1");
  ASSERT_TRUE(c.ok() && c->has_value()) << c.status();
  EXPECT_THAT((*c)->evidence_json, HasSubstr("cheap"));  // the last record wins
  for (int i = 0; i < 3; ++i) {
    s = ScanFile(*scanner, input);
    EXPECT_EQ(s.duplicates, 1);
    EXPECT_EQ(s.outbox.opened + s.outbox.updated + s.outbox.closed + s.outbox.reopened, 0);
  }
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened"));
}

// A repeated listing whose last record is no longer flagged: no case at all.
TEST_F(ScanLifecycleTest, ListingRepeatedInTheDumpWhoseLastRecordIsCleanOpensNothing) {
  const std::string input = dir_.Write(
      "dup.jsonl",
      R"({"id":"x1","title":"Nike Air Max 90 replica","price":20,"currency":"EUR","seller_id":"s-1"})"
      "\n"
      R"({"id":"x1","title":"Nike Air Max 90","price":140,"currency":"EUR","seller_id":"s-1"})"
      "\n");
  auto scanner = MakeScanner();
  ASSERT_NE(scanner, nullptr);
  const ScanSummary s = ScanFile(*scanner, input);
  EXPECT_EQ(s.duplicates, 1);
  EXPECT_EQ(HolderCases(s, "nike"), 0);
  EXPECT_EQ(s.outbox.opened + s.outbox.closed, 0);
  EXPECT_THAT(*AllCases(*outbox_), IsEmpty());
  EXPECT_THAT(EventTypes(*outbox_), IsEmpty());
}

// Regression: cases never closed. A price back to normal closes the case; low again reopens.
TEST_F(ScanLifecycleTest, PriceBackToNormalClosesAndLowAgainReopens) {
  auto scanner = MakeScanner();
  ASSERT_NE(scanner, nullptr);
  const std::string low =
      R"({"id":"a1","title":"Apple AirPods Pro 2nd generation","price":50,"currency":"EUR","seller_id":"s-9"})"
      "\n";
  const std::string normal =
      R"({"id":"a1","title":"Apple AirPods Pro 2nd generation","price":249,"currency":"EUR","seller_id":"s-9"})"
      "\n";
  const std::string input = dir_.Write("a.jsonl", low);
  ScanSummary s = ScanFile(*scanner, input);
  ASSERT_EQ(s.outbox.opened, 1);
  const std::string key = "apple:default:a1";
  dir_.Write("a.jsonl", normal);
  s = ScanFile(*scanner, input);
  EXPECT_EQ(s.outbox.closed, 1);
  EXPECT_EQ(HolderCases(s, "apple"), 0);
  auto c = outbox_->GetCase(key);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->status, CaseStatus::kClosed);
  s = ScanFile(*scanner, input);  // still normal: nothing
  EXPECT_EQ(s.outbox.closed + s.outbox.reopened, 0);
  dir_.Write("a.jsonl", low);
  s = ScanFile(*scanner, input);
  EXPECT_EQ(s.outbox.reopened, 1);
  c = outbox_->GetCase(key);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->status, CaseStatus::kPending);
  EXPECT_THAT(EventTypes(*outbox_), ElementsAre("case.opened", "case.closed", "case.reopened"));
}

// Regression: the summary's per-rights-holder counts were case writes, not cases.
TEST_F(ScanLifecycleTest, SummaryCountsPerHolderEqualTheCasesInTheOutbox) {
  const std::string input = dir_.Write(
      "dump.jsonl",
      R"({"id":"n1","title":"Nike Air Max 90 replica","price":120,"currency":"EUR","seller_id":"s-1"})"
      "\n"
      R"({"id":"n2","title":"Nike Air Max 90 fake","price":110,"currency":"EUR","seller_id":"s-2"})"
      "\n"
      R"({"id":"a1","title":"Apple AirPods Pro 2nd generation","price":50,"currency":"EUR","seller_id":"s-9"})"
      "\n"
      R"({"id":"n1","title":"Nike Air Max 90 replica!","price":120,"currency":"EUR","seller_id":"s-1"})"
      "\n"
      R"({"id":"n3","title":"Nike Air Max 90 replica","price":20,"currency":"EUR","seller_id":"s-3"})"
      "\n"
      R"({"id":"n3","title":"Nike Air Max 90","price":140,"currency":"EUR","seller_id":"s-3"})"
      "\n");
  auto scanner = MakeScanner();
  ASSERT_NE(scanner, nullptr);
  const ScanSummary s = ScanFile(*scanner, input);
  EXPECT_EQ(s.duplicates, 2);
  for (const auto& h : s.holders) {
    auto cases = AllCases(*outbox_, h.id);
    ASSERT_TRUE(cases.ok());
    EXPECT_EQ(h.cases, static_cast<int64_t>(cases->size())) << h.id;
  }
  EXPECT_EQ(HolderCases(s, "nike"), 2);
  EXPECT_EQ(HolderCases(s, "apple"), 1);
  EXPECT_EQ(s.outbox.opened, 3);
}

}  // namespace
}  // namespace bonafide
