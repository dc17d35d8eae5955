// Unit tests for the SQLite outbox (engine/sqlite_outbox.cc) against docs/outbox-format.md:
// the file, its schema, writes, errors and checkpoints. The case lifecycle, verdicts and
// delivery state are in outbox_lifecycle_test.cc. Each test works in its own temporary
// directory; a second, raw sqlite3 connection checks what other programs (a relay, `sqlite3`
// on the command line) see in the file. Built a second time as postgres_outbox_test (label
// postgresql), the same tests run against the PostgreSQL outbox (tests/outbox_test_util.h).
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <sqlite3.h>

#include "bonafide/outbox.h"
#include "bonafide/sink.h"
#include "tests/outbox_test_util.h"
#include "tests/temp_dir.h"
#include "util/hash.h"

namespace bonafide {
namespace {

using testing::AllCases;
using testing::AllEvents;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using testing::OpenTestOutbox;
using testing::PostgresOutbox;
using ::testing::SizeIs;
using testing::TestOutboxLocation;
using testing::WriteCases;

constexpr char kIsoMillis[] = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z";

CaseRecord MakeCase(std::string rights_holder, std::string listing_id, double score = 0.75) {
  CaseRecord c;
  c.rights_holder = std::move(rights_holder);
  c.marketplace = "shopx";
  c.listing_id = std::move(listing_id);
  c.seller_id = "seller-7";
  c.score = score;
  c.reasons_json = R"([{"rule":"acme-cf-01","version":3,"matched":"acme"}])";
  c.evidence_json = R"({"title":"ACME watch","rules_version":"2024.05"})";
  c.signals = "cue:acme-cf-01";
  c.material_key = "material-1";
  return c;
}

// Writes `cases` as part of the scan `checkpoint.run`, committing the checkpoint with them.
absl::StatusOr<OutboxWriteStats> WriteWithCheckpoint(Outbox& outbox,
                                                     const std::vector<CaseRecord>& cases,
                                                     const ScanCheckpoint& checkpoint) {
  OutboxBatch batch;
  batch.run = checkpoint.run;
  batch.cases = cases;
  batch.checkpoints = {&checkpoint, 1};
  return outbox.Write(batch);
}

// A raw connection to the same file, for checks from the outside.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Returns the first column of the first row of `sql` as text ("" if none).
  std::string Query(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
    std::string out;
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW &&
        sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }
  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }

 private:
  sqlite3* db_ = nullptr;
};

absl::StatusOr<std::unique_ptr<Outbox>> OpenReadOnly(const std::string& path) {
  return OpenOutbox(path, OutboxAccess::kReadOnly);
}

class SqliteOutboxTest : public ::testing::Test {
 protected:
  std::unique_ptr<Outbox> OpenOrDie() {
    auto outbox = OpenTestOutbox(dir_);
    EXPECT_TRUE(outbox.ok()) << outbox.status();
    return outbox.ok() ? std::move(outbox).value() : nullptr;
  }

  testing::TempDir dir_;
  const std::string path_ = TestOutboxLocation(dir_);
};

TEST_F(SqliteOutboxTest, OpenCreatesSchemaInWalMode) {
  BONAFIDE_SQLITE_ONLY();
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  RawDb raw(path_);
  EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.Query("PRAGMA page_size"), "8192");
  EXPECT_EQ(raw.Query("PRAGMA user_version"), "4");
  EXPECT_EQ(
      raw.Query("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema "
                "WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name)"),
      "access_tokens,announcements,authorized_sellers,cases,counterfeit_photos,deliveries,events,"
      "relay_cursors,relay_endpoints,scan_checkpoints,to_publish,verdicts");
  EXPECT_EQ(raw.Query("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema "
                      "WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name)"),
            "cases_by_holder_status,cases_confirmed,cases_pending,events_by_rights_holder,"
            "verdicts_by_case");
  for (const char* table :
       {"announcements", "to_publish", "scan_checkpoints", "verdicts", "authorized_sellers",
        "counterfeit_photos", "deliveries", "relay_cursors", "relay_endpoints", "access_tokens"}) {
    EXPECT_EQ(raw.Query(std::string("SELECT count(*) FROM ") + table), "0") << table;
  }
}

TEST_F(SqliteOutboxTest, FirstWriteOpensCasesAndEmitsOpenedEvents) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  auto stats = WriteCases(*outbox, {MakeCase("acme", "L1"), MakeCase("acme", "L2", 0.5)});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->opened, 2);
  EXPECT_EQ(stats->updated, 0);
  EXPECT_EQ(stats->silent, 0);

  auto cases = AllCases(*outbox);
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_THAT(*cases, SizeIs(2));
  const StoredCase& c = (*cases)[0];
  EXPECT_EQ(c.case_key, "acme:shopx:L1");
  EXPECT_EQ(c.rights_holder, "acme");
  EXPECT_EQ(c.marketplace, "shopx");
  EXPECT_EQ(c.listing_id, "L1");
  EXPECT_EQ(c.seller_id, "seller-7");
  EXPECT_EQ(c.score, 0.75);
  EXPECT_EQ(c.reasons_json, MakeCase("acme", "L1").reasons_json);
  EXPECT_EQ(c.evidence_json, MakeCase("acme", "L1").evidence_json);
  EXPECT_EQ(c.signals, "cue:acme-cf-01");
  EXPECT_EQ(c.status, CaseStatus::kPending);
  EXPECT_EQ(c.revision, 1);
  EXPECT_THAT(c.first_seen_at, MatchesRegex(kIsoMillis));
  EXPECT_EQ(c.last_seen_at, c.first_seen_at);

  auto events = AllEvents(*outbox);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(*events, SizeIs(2));
  const StoredEvent& e = (*events)[0];
  EXPECT_GT(e.id, 0);
  EXPECT_LT(e.id, (*events)[1].id);
  EXPECT_EQ(e.type, "case.opened");
  EXPECT_EQ(e.rights_holder, "acme");
  EXPECT_EQ(e.case_key, "acme:shopx:L1");
  EXPECT_EQ(e.created_at, c.first_seen_at);
  EXPECT_EQ(e.payload_json,
            R"({"case_key":"acme:shopx:L1","rights_holder":"acme","marketplace":"shopx",)"
            R"("listing_id":"L1","seller_id":"seller-7","status":"pending","score":0.75,)"
            R"("reasons":[{"rule":"acme-cf-01","version":3,"matched":"acme"}],"revision":1})");
  EXPECT_EQ(e.event_key, "acme:shopx:L1:1");

  // Seen from outside: the payload is JSON, reasons a JSON array (not a string), and the
  // event key is "<case_key>:<revision>".
  if (PostgresOutbox()) return;  // what follows reads the file with sqlite3
  RawDb raw(path_);
  EXPECT_EQ(raw.Query("SELECT json_valid(payload) FROM events WHERE id = " + std::to_string(e.id)),
            "1");
  EXPECT_EQ(raw.Query("SELECT json_type(payload, '$.reasons') FROM events WHERE id = " +
                      std::to_string(e.id)),
            "array");
  EXPECT_EQ(raw.Query("SELECT json_extract(payload, '$.score') FROM events WHERE id = " +
                      std::to_string((*events)[1].id)),
            "0.5");
  EXPECT_EQ(raw.Query("SELECT event_key FROM events WHERE id = " + std::to_string(e.id)),
            "acme:shopx:L1:1");
  EXPECT_EQ(raw.Query("SELECT status FROM cases WHERE case_key = 'acme:shopx:L1'"), "pending");
}

// A publication inserts its events many rows per statement: ids still follow the cases'
// order across statements, and an event already stored (a publication replayed after a
// crash) is skipped alone, not with the rest of its statement's rows.
TEST_F(SqliteOutboxTest, PublicationOfManyCasesInsertsTheirEventsInCaseOrder) {
  BONAFIDE_SQLITE_ONLY();
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  constexpr int kCases = 150;  // more than two statements' rows
  auto listing_id = [](int i) {
    std::string id = std::to_string(i);
    return "L" + std::string(3 - id.size(), '0') + id;
  };
  std::vector<CaseRecord> cases;
  cases.reserve(kCases);
  for (int i = 0; i < kCases; ++i) cases.push_back(MakeCase("acme", listing_id(i)));
  OutboxBatch batch;
  batch.run = "r";
  batch.cases = cases;
  ASSERT_TRUE(outbox->Write(batch).ok());
  {
    RawDb raw(path_);
    ASSERT_EQ(raw.Exec("INSERT INTO events (event_key, rights_holder, case_key, type, payload,"
                       " created_at) VALUES ('acme:shopx:L070:1', 'acme', 'acme:shopx:L070',"
                       " 'case.opened', '{\"seller_id\":\"replayed\"}',"
                       " '2026-12-05T00:00:00.000Z')"),
              SQLITE_OK);
  }
  auto stats = outbox->Publish("r");
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->opened, kCases);
  auto events = AllEvents(*outbox);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(*events, SizeIs(kCases));
  EXPECT_EQ((*events)[0].event_key, "acme:shopx:L070:1");
  EXPECT_THAT((*events)[0].payload_json, ::testing::EndsWith("\"seller_id\":\"replayed\"}"));
  std::vector<std::string> published;
  for (size_t i = 1; i < events->size(); ++i) {
    EXPECT_GT((*events)[i].id, (*events)[i - 1].id);
    published.push_back((*events)[i].event_key);
  }
  std::vector<std::string> expected;
  for (int i = 0; i < kCases; ++i) {
    if (i != 70) expected.push_back("acme:shopx:" + listing_id(i) + ":1");
  }
  EXPECT_EQ(published, expected);
}

TEST_F(SqliteOutboxTest, RewritingIdenticalCasesChangesNothingVisible) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  const std::vector<CaseRecord> batch = {MakeCase("acme", "L1"), MakeCase("globex", "L2")};
  ASSERT_TRUE(WriteCases(*outbox, batch).ok());
  auto cases_before = AllCases(*outbox);
  auto events_before = AllEvents(*outbox);
  ASSERT_TRUE(cases_before.ok() && events_before.ok());

  usleep(5000);  // so that a refreshed last_seen_at differs
  auto stats = WriteCases(*outbox, batch);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->opened, 0);
  EXPECT_EQ(stats->updated, 0);
  EXPECT_EQ(stats->closed + stats->reopened, 0);

  auto cases_after = AllCases(*outbox);
  auto events_after = AllEvents(*outbox);
  ASSERT_TRUE(cases_after.ok() && events_after.ok());
  ASSERT_THAT(*cases_after, SizeIs(2));
  ASSERT_THAT(*events_after, SizeIs(2));
  for (size_t i = 0; i < 2; ++i) {
    const StoredCase& before = (*cases_before)[i];
    const StoredCase& after = (*cases_after)[i];
    EXPECT_EQ(after.case_key, before.case_key);
    EXPECT_EQ(after.score, before.score);
    EXPECT_EQ(after.reasons_json, before.reasons_json);
    EXPECT_EQ(after.evidence_json, before.evidence_json);
    EXPECT_EQ(after.first_seen_at, before.first_seen_at);
    EXPECT_GT(after.last_seen_at, before.last_seen_at);
    EXPECT_EQ(after.status, CaseStatus::kPending);
    EXPECT_EQ(after.revision, 1);
    EXPECT_EQ((*events_after)[i].id, (*events_before)[i].id);
    EXPECT_EQ((*events_after)[i].payload_json, (*events_before)[i].payload_json);
  }
}

TEST_F(SqliteOutboxTest, MaterialChangeEmitsOneUpdatedEvent) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  CaseRecord c = MakeCase("acme", "L1");
  ASSERT_TRUE(WriteCases(*outbox, {c}).ok());
  auto first = AllCases(*outbox);
  ASSERT_TRUE(first.ok());

  usleep(5000);
  CaseRecord changed = c;
  changed.score = 0.9;
  changed.reasons_json = R"([{"rule":"acme-cf-01"},{"rule":"acme-price-02"}])";
  changed.signals = "cue:acme-cf-01 price";
  changed.material_key = "material-2";
  auto stats = WriteCases(*outbox, {changed});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->opened, 0);
  EXPECT_EQ(stats->updated, 1);
  EXPECT_EQ(stats->silent, 0);

  auto cases = AllCases(*outbox);
  ASSERT_TRUE(cases.ok());
  ASSERT_THAT(*cases, SizeIs(1));
  EXPECT_EQ((*cases)[0].score, 0.9);
  EXPECT_EQ((*cases)[0].reasons_json, changed.reasons_json);
  EXPECT_EQ((*cases)[0].signals, "cue:acme-cf-01 price");
  EXPECT_EQ((*cases)[0].revision, 2);
  EXPECT_EQ((*cases)[0].first_seen_at, (*first)[0].first_seen_at);
  EXPECT_GT((*cases)[0].last_seen_at, (*first)[0].last_seen_at);

  auto events = AllEvents(*outbox);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(*events, SizeIs(2));
  EXPECT_EQ((*events)[1].type, "case.updated");
  EXPECT_EQ((*events)[1].case_key, "acme:shopx:L1");
  EXPECT_EQ((*events)[1].event_key, "acme:shopx:L1:2");
  EXPECT_THAT((*events)[1].payload_json, HasSubstr(R"("score":0.9,)"));
  EXPECT_THAT((*events)[1].payload_json,
              HasSubstr(R"("reasons":[{"rule":"acme-cf-01"},{"rule":"acme-price-02"}])"));
  EXPECT_THAT((*events)[1].payload_json, HasSubstr(R"("revision":2})"));

  // Rescanning the changed listing is quiet again; changing it back is news (revision 3).
  ASSERT_EQ(WriteCases(*outbox, {changed})->updated, 0);
  EXPECT_THAT(*AllEvents(*outbox), SizeIs(2));
  ASSERT_EQ(WriteCases(*outbox, {c})->updated, 1);
  events = AllEvents(*outbox);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(*events, SizeIs(3));
  EXPECT_EQ((*events)[2].type, "case.updated");
  EXPECT_THAT((*events)[2].payload_json, HasSubstr(R"("score":0.75,)"));
  EXPECT_THAT((*events)[2].payload_json, HasSubstr(R"("revision":3})"));
}

// Only the material key decides about an event: evidence, reasons, score and seller are
// stored, but a record whose material key did not change is written silently.
TEST_F(SqliteOutboxTest, EvidenceOrSellerChangeIsStoredSilentlyUnlessMaterial) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  CaseRecord c = MakeCase("acme", "L1");
  ASSERT_TRUE(WriteCases(*outbox, {c}).ok());
  c.evidence_json = R"({"title":"ACME watch","rules_version":"2024.06"})";
  auto stats = WriteCases(*outbox, {c});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->updated, 0);
  EXPECT_EQ(stats->silent, 1);
  c.seller_id = "seller-8";
  c.material_key = "material-2";  // the scanner's material key covers the seller
  EXPECT_EQ(WriteCases(*outbox, {c})->updated, 1);
  auto cases = AllCases(*outbox);
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ((*cases)[0].seller_id, "seller-8");
  EXPECT_EQ((*cases)[0].evidence_json, c.evidence_json);
  EXPECT_EQ((*cases)[0].revision, 2);
  EXPECT_THAT(*AllEvents(*outbox), SizeIs(2));
}

TEST_F(SqliteOutboxTest, DuplicateInOneBatchAnnouncesTheLastRecordOnce) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  auto stats = WriteCases(*outbox, {MakeCase("acme", "L1"), MakeCase("acme", "L1")});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->opened, 1);
  EXPECT_EQ(stats->updated + stats->silent, 0);
  EXPECT_THAT(*AllCases(*outbox), SizeIs(1));
  EXPECT_THAT(*AllEvents(*outbox), SizeIs(1));

  // A changed duplicate in the same batch: the later record wins, and only it is announced.
  CaseRecord later = MakeCase("acme", "L2", 0.6);
  later.material_key = "material-2";
  stats = WriteCases(*outbox, {MakeCase("acme", "L2", 0.5), later});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->opened, 1);
  EXPECT_EQ(stats->updated, 0);
  auto cases = AllCases(*outbox);
  ASSERT_TRUE(cases.ok());
  ASSERT_THAT(*cases, SizeIs(2));
  EXPECT_EQ((*cases)[1].score, 0.6);
  EXPECT_EQ((*cases)[1].revision, 1);
  auto events = AllEvents(*outbox);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(*events, SizeIs(2));
  EXPECT_EQ((*events)[1].type, "case.opened");
  EXPECT_THAT((*events)[1].payload_json, HasSubstr(R"("score":0.6,)"));
}

// The fingerprint decides whether a row needs rewriting: Hasher128 (util/hash.h, whose own
// test checks it against an independent implementation) over the stored fields.
TEST_F(SqliteOutboxTest, FingerprintIsTheHashOfTheStoredFields) {
  BONAFIDE_SQLITE_ONLY();
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  CaseRecord big = MakeCase("acme", "L2", 1);
  big.seller_id = "s";
  big.reasons_json = "[]";
  big.evidence_json = R"({"a":")" + std::string(1000, 'x') + R"("})";
  ASSERT_TRUE(WriteCases(*outbox, {big}).ok());
  RawDb raw(path_);
  Hasher128 expected;
  for (const std::string& field : {std::string("s"), std::string("1"), big.reasons_json,
                                   big.evidence_json, big.signals, big.material_key}) {
    expected.Add(field);
  }
  EXPECT_EQ(raw.Query("SELECT fingerprint FROM cases WHERE case_key = 'acme:shopx:L2'"),
            expected.Hex());
  EXPECT_EQ(raw.Query("SELECT material FROM cases WHERE case_key = 'acme:shopx:L2'"), "material-1");
}

TEST(SqliteOutboxCaseKeyTest, EscapesSeparatorsInMarketplaceAndListingId) {
  EXPECT_EQ(CaseKey("acme", "shopx", "L1"), "acme:shopx:L1");
  EXPECT_EQ(CaseKey("acme", "shop:eu", "a:b"), "acme:shop%3Aeu:a%3Ab");
  EXPECT_EQ(CaseKey("acme", "s%3A", "100%"), "acme:s%253A:100%25");
  // Without escaping these would collide.
  EXPECT_NE(CaseKey("acme", "a", "b:c"), CaseKey("acme", "a:b", "c"));
  EXPECT_NE(CaseKey("acme", "a", "b%3Ac"), CaseKey("acme", "a", "b:c"));
  // A ':' in the rights holder is kept: the last two fields never contain a raw ':'.
  EXPECT_EQ(CaseKey("a:b", "c", "d"), "a:b:c:d");
  EXPECT_NE(CaseKey("a:b", "c", "d"), CaseKey("a", "b", "c:d"));
}

TEST(SqliteOutboxCaseKeyTest, ParseCaseKeyInvertsCaseKeyAndNothingElse) {
  for (const auto& [holder, marketplace, listing] :
       std::vector<std::array<std::string, 3>>{{"acme", "shopx", "L1"},
                                               {"acme", "shop:eu", "a:b"},
                                               {"acme", "s%3A", "100%"},
                                               {"a:b", "c", "d"},
                                               {"acme", "", ""}}) {
    const std::string key = CaseKey(holder, marketplace, listing);
    const std::optional<CaseKeyParts> parts = ParseCaseKey(key);
    ASSERT_TRUE(parts.has_value()) << key;
    EXPECT_EQ(parts->rights_holder, holder) << key;
    EXPECT_EQ(parts->marketplace, marketplace) << key;
    EXPECT_EQ(parts->listing_id, listing) << key;
  }
  // Not a key CaseKey() writes: too few parts, a lone or foreign escape, lower-case %3a.
  for (const char* key :
       {"", "acme", "acme:L1", ":L1", "acme:shop:L%", "acme:shop:L%41", "acme:shop%3aeu:L1"}) {
    EXPECT_FALSE(ParseCaseKey(key).has_value()) << key;
  }
}

TEST_F(SqliteOutboxTest, ListingIdsWithSeparatorsAreDistinctCases) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  CaseRecord a = MakeCase("acme", "b:c");
  a.marketplace = "a";
  CaseRecord b = MakeCase("acme", "c");
  b.marketplace = "a:b";
  auto stats = WriteCases(*outbox, {a, b});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->opened, 2);
  auto cases = AllCases(*outbox);
  ASSERT_TRUE(cases.ok());
  ASSERT_THAT(*cases, SizeIs(2));
  // Ordered by case_key: '%' sorts before ':'.
  EXPECT_EQ((*cases)[0].case_key, "acme:a%3Ab:c");
  EXPECT_EQ((*cases)[0].marketplace, "a:b");
  EXPECT_EQ((*cases)[1].case_key, "acme:a:b%3Ac");
  EXPECT_EQ((*cases)[1].listing_id, "b:c");
}

TEST_F(SqliteOutboxTest, ListsFilterByRightsHolder) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  ASSERT_TRUE(WriteCases(*outbox,
                         {MakeCase("acme", "L1"), MakeCase("globex", "L1"), MakeCase("acme", "L2")})
                  .ok());
  auto acme = AllCases(*outbox, "acme");
  ASSERT_TRUE(acme.ok());
  ASSERT_THAT(*acme, SizeIs(2));
  EXPECT_EQ((*acme)[0].case_key, "acme:shopx:L1");
  EXPECT_EQ((*acme)[1].case_key, "acme:shopx:L2");
  auto globex_events = AllEvents(*outbox, "globex");
  ASSERT_TRUE(globex_events.ok());
  ASSERT_THAT(*globex_events, SizeIs(1));
  EXPECT_EQ((*globex_events)[0].case_key, "globex:shopx:L1");
  EXPECT_THAT(*AllCases(*outbox, "initech"), SizeIs(0));
  EXPECT_THAT(*AllEvents(*outbox), SizeIs(3));
  EXPECT_THAT(*AllCases(*outbox, std::nullopt), SizeIs(3));
}

TEST_F(SqliteOutboxTest, OpenReadOnlyOfMissingFileIsNotFound) {
  BONAFIDE_SQLITE_ONLY();
  auto outbox = OpenReadOnly(dir_.Join("missing.db"));
  EXPECT_EQ(outbox.status().code(), absl::StatusCode::kNotFound) << outbox.status();
  EXPECT_THAT(outbox.status().message(), HasSubstr("missing.db"));
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("missing.db")));
}

TEST_F(SqliteOutboxTest, OpenInMissingDirectoryFails) {
  BONAFIDE_SQLITE_ONLY();
  auto outbox = OpenOutbox(dir_.Join("no/such/dir/outbox.db"));
  EXPECT_FALSE(outbox.ok());
  EXPECT_THAT(outbox.status().message(), HasSubstr("no/such/dir/outbox.db"));
}

TEST_F(SqliteOutboxTest, WriteThroughReadOnlyOutboxIsPermissionDenied) {
  {
    auto outbox = OpenOrDie();
    ASSERT_NE(outbox, nullptr);
    ASSERT_TRUE(WriteCases(*outbox, {MakeCase("acme", "L1")}).ok());
  }
  if (!PostgresOutbox()) {
    ASSERT_EQ(chmod(path_.c_str(), 0444), 0);
  }
  auto read_only = OpenReadOnly(path_);
  ASSERT_TRUE(read_only.ok()) << read_only.status();
  auto stats = WriteCases(**read_only, {MakeCase("acme", "L2")});
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kPermissionDenied) << stats.status();
  EXPECT_THAT(stats.status().message(), HasSubstr(path_));
  auto cases = AllCases(**read_only);
  ASSERT_TRUE(cases.ok()) << cases.status();
  EXPECT_THAT(*cases, SizeIs(1));
  EXPECT_THAT(*AllEvents(**read_only), SizeIs(1));
}

TEST_F(SqliteOutboxTest, ReadOnlySeesWritesOfALiveWriter) {
  auto writer = OpenOrDie();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(WriteCases(*writer, {MakeCase("acme", "L1")}).ok());
  auto reader = OpenReadOnly(path_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_THAT(*AllCases(**reader), SizeIs(1));
  ASSERT_TRUE(WriteCases(*writer, {MakeCase("acme", "L2")}).ok());
  EXPECT_THAT(*AllEvents(**reader), SizeIs(2));
}

TEST_F(SqliteOutboxTest, ReopeningKeepsTheData) {
  {
    auto outbox = OpenOrDie();
    ASSERT_NE(outbox, nullptr);
    ASSERT_TRUE(WriteCases(*outbox, {MakeCase("acme", "L1"), MakeCase("acme", "L2")}).ok());
  }
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  EXPECT_THAT(*AllCases(*outbox), SizeIs(2));
  EXPECT_THAT(*AllEvents(*outbox), SizeIs(2));
  // A rescan after the restart is still recognised as unchanged.
  auto stats = WriteCases(*outbox, {MakeCase("acme", "L1")});
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->opened + stats->updated + stats->closed + stats->reopened, 0);
  EXPECT_THAT(*AllEvents(*outbox), SizeIs(2));
}

TEST_F(SqliteOutboxTest, FailedWriteLeavesNothingBehind) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  CaseRecord bad = MakeCase("acme", "L2");
  bad.reasons_json = "[not json";
  auto stats = WriteCases(*outbox, {MakeCase("acme", "L1"), bad});
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument) << stats.status();
  EXPECT_THAT(stats.status().message(), HasSubstr("acme:shopx:L2"));
  EXPECT_THAT(*AllCases(*outbox), SizeIs(0));
  EXPECT_THAT(*AllEvents(*outbox), SizeIs(0));
  // The outbox is still usable afterwards.
  EXPECT_EQ(WriteCases(*outbox, {MakeCase("acme", "L1")})->opened, 1);
}

TEST_F(SqliteOutboxTest, RejectsInvalidRecords) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  CaseRecord no_holder = MakeCase("", "L1");
  EXPECT_EQ(WriteCases(*outbox, {no_holder}).status().code(), absl::StatusCode::kInvalidArgument);
  CaseRecord nan_score = MakeCase("acme", "L1", std::nan(""));
  EXPECT_EQ(WriteCases(*outbox, {nan_score}).status().code(), absl::StatusCode::kInvalidArgument);
  CaseRecord bad_evidence = MakeCase("acme", "L1");
  bad_evidence.evidence_json = "{";
  EXPECT_EQ(WriteCases(*outbox, {bad_evidence}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Empty marketplace or listing id come from input data; they are odd but still unique keys.
  CaseRecord no_id = MakeCase("acme", "");
  no_id.marketplace.clear();
  ASSERT_EQ(WriteCases(*outbox, {no_id})->opened, 1);
  EXPECT_EQ((*AllCases(*outbox))[0].case_key, "acme::");
  ASSERT_EQ(WriteCases(*outbox, {no_id})->opened, 0);
  EXPECT_THAT(*AllEvents(*outbox), SizeIs(1));
  // Empty JSON fields mean "none": [] and {}.
  CaseRecord empty_json = MakeCase("acme", "L1");
  empty_json.reasons_json.clear();
  empty_json.evidence_json.clear();
  ASSERT_EQ(WriteCases(*outbox, {empty_json})->opened, 1);
  auto cases = AllCases(*outbox);
  ASSERT_TRUE(cases.ok());
  ASSERT_THAT(*cases, SizeIs(2));
  EXPECT_EQ((*cases)[1].case_key, "acme:shopx:L1");
  EXPECT_EQ((*cases)[1].reasons_json, "[]");
  EXPECT_EQ((*cases)[1].evidence_json, "{}");
  EXPECT_THAT((*AllEvents(*outbox))[1].payload_json, HasSubstr(R"("reasons":[])"));
}

TEST_F(SqliteOutboxTest, LockedDatabaseIsUnavailable) {
  BONAFIDE_SQLITE_ONLY();
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  RawDb other(path_);
  ASSERT_EQ(other.Exec("PRAGMA busy_timeout = 0; BEGIN IMMEDIATE"), SQLITE_OK);
  auto stats = WriteCases(*outbox, {MakeCase("acme", "L1")});  // waits out the 5 s busy timeout
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kUnavailable) << stats.status();
  EXPECT_THAT(stats.status().message(), HasSubstr(path_));
  ASSERT_EQ(other.Exec("ROLLBACK"), SQLITE_OK);
  EXPECT_EQ(WriteCases(*outbox, {MakeCase("acme", "L1")})->opened, 1);
}

TEST_F(SqliteOutboxTest, NotADatabaseIsDataLoss) {
  BONAFIDE_SQLITE_ONLY();
  {
    std::ofstream out(path_, std::ios::binary);
    out << std::string(8192, 'x');
  }
  auto outbox = OpenOutbox(path_);
  EXPECT_EQ(outbox.status().code(), absl::StatusCode::kDataLoss) << outbox.status();
  EXPECT_THAT(outbox.status().message(), HasSubstr(path_));
  auto read_only = OpenReadOnly(path_);
  EXPECT_EQ(read_only.status().code(), absl::StatusCode::kDataLoss) << read_only.status();
}

TEST_F(SqliteOutboxTest, RefusesForeignAndNewerDatabases) {
  BONAFIDE_SQLITE_ONLY();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.Join("other.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE cases (x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_EQ(OpenOutbox(dir_.Join("other.db")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(OpenReadOnly(dir_.Join("other.db")).status().code(),
            absl::StatusCode::kFailedPrecondition);

  ASSERT_NE(OpenOrDie(), nullptr);
  {
    RawDb raw(path_);
    ASSERT_EQ(raw.Exec("PRAGMA user_version = 5"), SQLITE_OK);
  }
  auto outbox = OpenOutbox(path_);
  EXPECT_EQ(outbox.status().code(), absl::StatusCode::kFailedPrecondition) << outbox.status();
  EXPECT_THAT(outbox.status().message(), HasSubstr("version 5"));
  auto read_only = OpenReadOnly(path_);
  EXPECT_EQ(read_only.status().code(), absl::StatusCode::kFailedPrecondition) << read_only.status();
  EXPECT_THAT(read_only.status().message(), HasSubstr("version 5"));
}

// Disk full, simulated with a file size limit in a child process (the limit and SIGXFSZ
// must not leak into the test runner). SQLite reports ENOSPC as SQLITE_FULL and EFBIG as
// SQLITE_IOERR_WRITE; the outbox maps both to ResourceExhausted ("disk full").
TEST_F(SqliteOutboxTest, DiskFullIsResourceExhausted) {
  BONAFIDE_SQLITE_ONLY();
  ASSERT_NE(OpenOrDie(), nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto outbox = OpenOutbox(path_);
    if (!outbox.ok()) _exit(10);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {64 * 1024, 64 * 1024};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(11);
    std::vector<CaseRecord> batch;
    batch.reserve(5000);
    for (int i = 0; i < 5000; ++i) batch.push_back(MakeCase("acme", "L" + std::to_string(i)));
    auto stats = WriteCases(**outbox, batch);
    if (stats.ok()) _exit(12);
    if (stats.status().code() != absl::StatusCode::kResourceExhausted) {
      fprintf(stderr, "%s\n", stats.status().ToString().c_str());
      _exit(13);
    }
    if (stats.status().message().find("disk full") == std::string::npos) _exit(14);
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
  // Nothing of the failed batch is visible.
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  EXPECT_THAT(*AllCases(*outbox), SizeIs(0));
}

TEST_F(SqliteOutboxTest, WritesTenThousandCasesQuickly) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  std::vector<CaseRecord> batch;
  batch.reserve(10000);
  for (int i = 0; i < 10000; ++i) batch.push_back(MakeCase("acme", "L" + std::to_string(i)));
  const auto start = std::chrono::steady_clock::now();
  auto stats = WriteCases(*outbox, batch);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->opened, 10000);
  // Generous bound (sanitizer builds, loaded CI); the benchmark has the real numbers.
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

}  // namespace
}  // namespace bonafide

namespace bonafide {
namespace {

TEST_F(SqliteOutboxTest, CheckpointsAreCommittedWithTheCasesAndCleared) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  ScanCheckpoint c;
  c.run = "run-1";
  c.input = "dump.jsonl";
  c.identity = "500:1700000000";
  c.byte_offset = 4096;
  c.line = 9;
  c.rejects_bytes = 120;
  ASSERT_TRUE(WriteWithCheckpoint(*outbox, {MakeCase("acme", "L1")}, c).ok());
  c.byte_offset = 8192;
  c.line = 17;
  c.done = true;
  ASSERT_TRUE(WriteWithCheckpoint(*outbox, {}, c).ok());  // a checkpoint alone is written too

  auto loaded = outbox->LoadCheckpoints("run-1");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_THAT(*loaded, SizeIs(1));
  EXPECT_EQ((*loaded)[0].input, "dump.jsonl");
  EXPECT_EQ((*loaded)[0].identity, "500:1700000000");
  EXPECT_EQ((*loaded)[0].byte_offset, 8192u);
  EXPECT_EQ((*loaded)[0].line, 17u);
  EXPECT_EQ((*loaded)[0].rejects_bytes, 120u);
  EXPECT_TRUE((*loaded)[0].done);
  EXPECT_THAT(*outbox->LoadCheckpoints("another-run"), SizeIs(0));

  ASSERT_TRUE(outbox->ClearCheckpoints("run-1").ok());
  EXPECT_THAT(*outbox->LoadCheckpoints("run-1"), SizeIs(0));
}

TEST_F(SqliteOutboxTest, AFailedWriteKeepsTheOldCheckpoint) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  ScanCheckpoint c;
  c.run = "r";
  c.input = "in";
  c.byte_offset = 10;
  ASSERT_TRUE(WriteWithCheckpoint(*outbox, {MakeCase("acme", "L1")}, c).ok());
  CaseRecord bad = MakeCase("", "L2");  // an empty rights holder fails the write
  c.byte_offset = 20;
  EXPECT_FALSE(WriteWithCheckpoint(*outbox, {MakeCase("acme", "L3"), bad}, c).ok());
  auto loaded = outbox->LoadCheckpoints("r");
  ASSERT_TRUE(loaded.ok());
  ASSERT_THAT(*loaded, SizeIs(1));
  EXPECT_EQ((*loaded)[0].byte_offset, 10u);
  EXPECT_THAT(*AllCases(*outbox), SizeIs(1));
}

// The position `byte_offset` in input "in" of scan "r".
ScanCheckpoint CheckpointAt(uint64_t byte_offset) {
  ScanCheckpoint c;
  c.run = "r";
  c.input = "in";
  c.byte_offset = byte_offset;
  return c;
}

// A batch of scan "r" whose commit waits for a later write (OutboxBatch::defer_commit).
absl::StatusOr<OutboxWriteStats> WriteDeferred(Outbox& outbox, const std::vector<CaseRecord>& cases,
                                               const ScanCheckpoint* checkpoint = nullptr) {
  OutboxBatch batch;
  batch.run = "r";
  batch.cases = cases;
  if (checkpoint != nullptr) batch.checkpoints = {checkpoint, 1};
  batch.defer_commit = true;
  return outbox.Write(batch);
}

// A deferred batch is invisible to other connections until a write that commits, here one
// with nothing in it; its checkpoint commits with it. The PostgreSQL outbox commits every
// batch (CaseSink::DefersCommits).
TEST_F(SqliteOutboxTest, DeferredBatchesCommitWithTheNextCommittingWrite) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  EXPECT_EQ(outbox->DefersCommits(), !PostgresOutbox());
  ScanCheckpoint c = CheckpointAt(10);
  ASSERT_TRUE(WriteDeferred(*outbox, {MakeCase("acme", "L1")}, &c).ok());
  c = CheckpointAt(20);
  ASSERT_TRUE(WriteDeferred(*outbox, {MakeCase("acme", "L2")}, &c).ok());
  auto other = OpenReadOnly(path_);  // a writer would wait for the open transaction
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_THAT(*AllCases(**other), SizeIs(outbox->DefersCommits() ? 0 : 2));
  OutboxBatch nothing;
  nothing.run = c.run;
  ASSERT_TRUE(outbox->Write(nothing).ok());
  EXPECT_THAT(*AllCases(**other), SizeIs(2));
  auto loaded = (*other)->LoadCheckpoints("r");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_THAT(*loaded, SizeIs(1));
  EXPECT_EQ((*loaded)[0].byte_offset, 20u);
  // A write that commits at once still works after the group.
  ASSERT_TRUE(WriteWithCheckpoint(*outbox, {MakeCase("acme", "L3")}, c).ok());
  EXPECT_THAT(*AllCases(**other), SizeIs(3));
}

TEST_F(SqliteOutboxTest, AFailedWriteRollsBackTheBatchesDeferredBeforeIt) {
  BONAFIDE_SQLITE_ONLY();
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  ASSERT_TRUE(WriteWithCheckpoint(*outbox, {MakeCase("acme", "L1")}, CheckpointAt(10)).ok());
  const ScanCheckpoint deferred = CheckpointAt(20);
  ASSERT_TRUE(WriteDeferred(*outbox, {MakeCase("acme", "L2")}, &deferred).ok());
  EXPECT_FALSE(WriteWithCheckpoint(*outbox, {MakeCase("", "L3")}, CheckpointAt(30)).ok());
  // Only what the first write committed: the resume point is before the deferred batch.
  EXPECT_THAT(*AllCases(*outbox), SizeIs(1));
  EXPECT_EQ((*outbox->LoadCheckpoints("r"))[0].byte_offset, 10u);
  // The next write starts a transaction of its own.
  ASSERT_TRUE(WriteWithCheckpoint(*outbox, {MakeCase("acme", "L4")}, CheckpointAt(40)).ok());
  EXPECT_THAT(*AllCases(*OpenOrDie()), SizeIs(2));
}

TEST_F(SqliteOutboxTest, PublishCommitsADeferredBatch) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  ASSERT_TRUE(WriteDeferred(*outbox, {MakeCase("acme", "L1")}).ok());
  auto other = OpenReadOnly(path_);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_THAT(*AllCases(**other), SizeIs(outbox->DefersCommits() ? 0 : 1));
  auto published = outbox->Publish("r");
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->opened, 1);
  EXPECT_THAT(*AllCases(**other), SizeIs(1));
  EXPECT_THAT(*AllEvents(**other), SizeIs(1));
}

// A write other than Write commits the deferred batches before its own transaction: its
// failure (a verdict on a case that does not exist) leaves them committed, and a bare
// statement (clearing checkpoints) does not wait for them.
TEST_F(SqliteOutboxTest, OtherWritesCommitTheDeferredBatchesFirst) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  auto other = OpenReadOnly(path_);
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(WriteDeferred(*outbox, {MakeCase("acme", "L1")}).ok());
  VerdictRequest verdict;
  verdict.case_key = "acme:shopx:no-such-listing";
  EXPECT_EQ(outbox->RecordVerdict(verdict).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(*AllCases(**other), SizeIs(1));

  const ScanCheckpoint c = CheckpointAt(10);
  ASSERT_TRUE(WriteDeferred(*outbox, {MakeCase("acme", "L2")}, &c).ok());
  ASSERT_TRUE(outbox->ClearCheckpoints("r").ok());
  EXPECT_THAT(*AllCases(**other), SizeIs(2));
  EXPECT_THAT(*(*other)->LoadCheckpoints("r"), SizeIs(0));
}

TEST_F(SqliteOutboxTest, ABatchPublishedAtOnceCannotDeferItsCommit) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  if (!outbox->DefersCommits()) GTEST_SKIP() << "this outbox commits every batch";
  const std::vector<CaseRecord> cases = {MakeCase("acme", "L1")};
  OutboxBatch batch;  // no run: its events are published in the same Write
  batch.cases = cases;
  batch.defer_commit = true;
  EXPECT_EQ(outbox->Write(batch).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(*AllCases(*outbox), SizeIs(0));
}

}  // namespace
}  // namespace bonafide
