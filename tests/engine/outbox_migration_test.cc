// Outboxes written by earlier builds (testdata/outbox/, see its README.md) opened with this
// one: the migration keeps every case and event, keeps the checkpoints it can tie to a run,
// happens once, and a rescan of the old build's last input announces nothing new.
//
// Each test works on a copy of a fixture in its own temporary directory; the expected
// values are read from the copy with a raw sqlite3 connection before the outbox opens it.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <simdjson.h>
#include <sqlite3.h>

#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "engine/outbox_schema.h"
#include "tests/outbox_test_util.h"
#include "tests/temp_dir.h"

namespace bonafide {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

const std::string kFixtureDir = std::string(BONAFIDE_SOURCE_DIR) + "/testdata/outbox";
// The rules the fixtures were written with, and the last input the old builds scanned.
const std::string kFixtureRules = kFixtureDir + "/rules";
const std::string kLastInput = kFixtureDir + "/listings-a2.jsonl";
// The input before it: five of its flagged listings differ from kLastInput.
const std::string kFirstInput = kFixtureDir + "/listings-a.jsonl";

using Rows = std::vector<std::vector<std::string>>;

// A raw connection, for reading what the old build wrote and what the migration left.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK)
        << path;
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Every row of `sql`, each column as text (NULL as "NULL").
  Rows Query(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
    Rows rows;
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<std::string>& row = rows.emplace_back();
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        row.emplace_back(text == nullptr ? "NULL" : reinterpret_cast<const char*>(text));
      }
    }
    sqlite3_finalize(stmt);
    return rows;
  }
  // The first column of the first row ("" if none).
  std::string Value(const std::string& sql) {
    Rows rows = Query(sql);
    return rows.empty() || rows[0].empty() ? "" : rows[0][0];
  }
  void Exec(const std::string& sql) {
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
  }

  // Cases as a version 1 outbox stores them, by case key; status as stored.
  std::vector<StoredCase> Version1Cases(std::vector<std::string>* statuses) {
    std::vector<StoredCase> cases;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_,
                                 "SELECT case_key, rights_holder, marketplace, listing_id,"
                                 " seller_id, score, reasons, evidence, revision, first_seen_at,"
                                 " last_seen_at, status FROM cases ORDER BY case_key",
                                 -1, &stmt, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db_);
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      StoredCase& c = cases.emplace_back();
      c.case_key = Text(stmt, 0);
      c.rights_holder = Text(stmt, 1);
      c.marketplace = Text(stmt, 2);
      c.listing_id = Text(stmt, 3);
      c.seller_id = Text(stmt, 4);
      c.score = sqlite3_column_double(stmt, 5);
      c.reasons_json = Text(stmt, 6);
      c.evidence_json = Text(stmt, 7);
      c.revision = sqlite3_column_int64(stmt, 8);
      c.first_seen_at = Text(stmt, 9);
      c.last_seen_at = Text(stmt, 10);
      statuses->push_back(Text(stmt, 11));
    }
    sqlite3_finalize(stmt);
    return cases;
  }

  // Events in id order.
  std::vector<StoredEvent> Events() {
    std::vector<StoredEvent> events;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_,
                                 "SELECT id, event_key, rights_holder, case_key, type, payload,"
                                 " created_at FROM events ORDER BY id",
                                 -1, &stmt, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db_);
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      StoredEvent& e = events.emplace_back();
      e.id = sqlite3_column_int64(stmt, 0);
      e.event_key = Text(stmt, 1);
      e.rights_holder = Text(stmt, 2);
      e.case_key = Text(stmt, 3);
      e.type = Text(stmt, 4);
      e.payload_json = Text(stmt, 5);
      e.created_at = Text(stmt, 6);
    }
    sqlite3_finalize(stmt);
    return events;
  }

  // Schema and every row of every table, as text: equal dumps mean equal databases.
  Rows Dump() {
    Rows dump = Query("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name");
    for (const std::vector<std::string>& table :
         Query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")) {
      for (std::vector<std::string>& row : Query("SELECT * FROM \"" + table[0] + "\"")) {
        row.insert(row.begin(), table[0]);
        dump.push_back(std::move(row));
      }
    }
    return dump;
  }

 private:
  static std::string Text(sqlite3_stmt* stmt, int column) {
    const unsigned char* text = sqlite3_column_text(stmt, column);
    return text == nullptr ? "" : reinterpret_cast<const char*>(text);
  }

  sqlite3* db_ = nullptr;
};

// Everything a rights holder or relay reads of a case or an event, for comparisons.
auto CaseContent(const StoredCase& c) {
  return std::make_tuple(c.case_key, c.rights_holder, c.marketplace, c.listing_id, c.seller_id,
                         c.score, c.reasons_json, c.evidence_json, c.revision, c.first_seen_at,
                         c.last_seen_at);
}
auto EventContent(const StoredEvent& e) {
  return std::make_tuple(e.id, e.event_key, e.rights_holder, e.case_key, e.type, e.payload_json,
                         e.created_at);
}

struct Fixture {
  const char* file;
  // Checkpoints keyed by run survive the migration; the first layout's cannot be tied to a
  // run and are dropped.
  bool keeps_checkpoints;
};

void PrintTo(const Fixture& f, std::ostream* os) { *os << f.file; }

constexpr Fixture kFixtures[] = {
    {"v1-first.db", false},
    {"v1-run-checkpoints.db", true},
};

// Either layout; in the second (and version 2) the columns are run, input, identity,
// byte_offset, line, rejects_bytes, done, updated_at.
constexpr char kCheckpointsSql[] = "SELECT * FROM scan_checkpoints ORDER BY 1, 2";

class OutboxMigrationTest : public ::testing::TestWithParam<Fixture> {
 protected:
  static void SetUpTestSuite() {
    ScannerOptions options;
    options.rules_dir = kFixtureRules;
    auto scanner = Scanner::Create(options);
    ASSERT_TRUE(scanner.ok()) << scanner.status();
    scanner_ = scanner->release();
  }
  static void TearDownTestSuite() {
    delete scanner_;
    scanner_ = nullptr;
  }

  // Copies the fixture into the temporary directory (path_) and reads what it holds.
  void SetUp() override {
    std::filesystem::copy_file(kFixtureDir + "/" + GetParam().file, path_);
    RawDb raw(path_);
    ASSERT_EQ(raw.Value("PRAGMA user_version"), "1");
    old_cases_ = raw.Version1Cases(&old_statuses_);
    old_events_ = raw.Events();
    old_checkpoints_ = raw.Query(kCheckpointsSql);
    // A fixture that lost its content would make every check below vacuous.
    ASSERT_THAT(old_cases_, SizeIs(10));
    ASSERT_THAT(old_events_, SizeIs(15));
    ASSERT_THAT(old_checkpoints_, SizeIs(GetParam().keeps_checkpoints ? 1 : 0));
  }

  std::unique_ptr<Outbox> OpenOrDie(OutboxAccess access = OutboxAccess::kReadWrite) {
    auto outbox = OpenOutbox(path_, access);
    EXPECT_TRUE(outbox.ok()) << outbox.status();
    return outbox.ok() ? std::move(outbox).value() : nullptr;
  }

  ScanSummary ScanOrDie(const std::string& input, Outbox& outbox) {
    ScanOptions options;
    options.threads = 1;
    auto summary = scanner_->ScanFiles({input}, outbox, options);
    EXPECT_TRUE(summary.ok()) << summary.status();
    EXPECT_FALSE(summary.ok() && summary->interrupted);
    return summary.ok() ? *summary : ScanSummary{};
  }

  static Scanner* scanner_;
  testing::TempDir dir_;
  const std::string path_ = dir_.Join("outbox.db");
  std::vector<StoredCase> old_cases_;
  std::vector<std::string> old_statuses_;
  std::vector<StoredEvent> old_events_;
  Rows old_checkpoints_;
};

Scanner* OutboxMigrationTest::scanner_ = nullptr;

INSTANTIATE_TEST_SUITE_P(EarlierSchemas, OutboxMigrationTest, ::testing::ValuesIn(kFixtures),
                         [](const ::testing::TestParamInfo<Fixture>& fixture) {
                           return std::string(fixture.param.keeps_checkpoints ? "RunCheckpoints"
                                                                              : "First");
                         });

TEST_P(OutboxMigrationTest, OpenMigratesToTheCurrentVersion) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("PRAGMA user_version"), std::to_string(engine::kOutboxSchemaVersion));
  EXPECT_EQ(raw.Value("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.Value("PRAGMA integrity_check"), "ok");
  // New outboxes get 8 KiB pages; an existing file keeps the size it was written with.
  EXPECT_EQ(raw.Value("PRAGMA page_size"), "4096");
}

TEST_P(OutboxMigrationTest, KeepsEveryCaseUnchangedAndPending) {
  for (const std::string& status : old_statuses_) ASSERT_EQ(status, "pending");
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  auto cases = testing::AllCases(*outbox);
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_THAT(*cases, SizeIs(old_cases_.size()));
  for (size_t i = 0; i < old_cases_.size(); ++i) {
    EXPECT_EQ(CaseContent((*cases)[i]), CaseContent(old_cases_[i]));
    EXPECT_EQ((*cases)[i].status, CaseStatus::kPending) << (*cases)[i].case_key;
    auto one = outbox->GetCase(old_cases_[i].case_key);
    ASSERT_TRUE(one.ok()) << one.status();
    ASSERT_TRUE(one->has_value()) << old_cases_[i].case_key;
    EXPECT_EQ(CaseContent(**one), CaseContent(old_cases_[i]));
  }
}

TEST_P(OutboxMigrationTest, KeepsEveryEventUnchanged) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  auto events = testing::AllEvents(*outbox);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(*events, SizeIs(old_events_.size()));
  for (size_t i = 0; i < old_events_.size(); ++i) {
    EXPECT_EQ(EventContent((*events)[i]), EventContent(old_events_[i]));
  }
}

TEST_P(OutboxMigrationTest, KeepsCheckpointsOfARunDropsTheFirstLayouts) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  RawDb raw(path_);
  EXPECT_EQ(raw.Query(kCheckpointsSql), GetParam().keeps_checkpoints ? old_checkpoints_ : Rows{});
  if (!GetParam().keeps_checkpoints) return;
  // The kept checkpoint is the one a resume of that run loads.
  const std::vector<std::string>& old = old_checkpoints_[0];
  auto loaded = outbox->LoadCheckpoints(old[0]);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_THAT(*loaded, SizeIs(1));
  const ScanCheckpoint& c = (*loaded)[0];
  EXPECT_EQ(
      std::make_tuple(c.run, c.input, c.identity, std::to_string(c.byte_offset),
                      std::to_string(c.line), std::to_string(c.rejects_bytes), c.done ? "1" : "0"),
      std::make_tuple(old[0], old[1], old[2], old[3], old[4], old[5], old[6]));
  EXPECT_FALSE(c.done);
}

TEST_P(OutboxMigrationTest, ReadOnlyOpenOfAnUnmigratedOutboxFails) {
  auto outbox = OpenOutbox(path_, OutboxAccess::kReadOnly);
  ASSERT_FALSE(outbox.ok());
  EXPECT_EQ(outbox.status().code(), absl::StatusCode::kFailedPrecondition) << outbox.status();
  EXPECT_THAT(outbox.status().message(), HasSubstr(path_));
  // ... and leaves the file as it was.
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("PRAGMA user_version"), "1");
  EXPECT_EQ(raw.Query(kCheckpointsSql), old_checkpoints_);
}

TEST_P(OutboxMigrationTest, ReadOnlyOpenWorksOnceMigrated) {
  ASSERT_NE(OpenOrDie(), nullptr);
  auto outbox = OpenOrDie(OutboxAccess::kReadOnly);
  ASSERT_NE(outbox, nullptr);
  auto cases = testing::AllCases(*outbox);
  ASSERT_TRUE(cases.ok()) << cases.status();
  EXPECT_THAT(*cases, SizeIs(old_cases_.size()));
}

TEST_P(OutboxMigrationTest, MigratingTwiceIsANoOp) {
  ASSERT_NE(OpenOrDie(), nullptr);
  Rows once;
  {
    RawDb raw(path_);
    once = raw.Dump();
  }
  ASSERT_NE(OpenOrDie(), nullptr);
  RawDb raw(path_);
  EXPECT_EQ(raw.Dump(), once);
}

// The important part: the first scan by this build of the input the old build scanned last
// must not re-announce anything to the rights holders.
TEST_P(OutboxMigrationTest, RescanOfTheLastInputAnnouncesNothing) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  const ScanSummary summary = ScanOrDie(kLastInput, *outbox);
  EXPECT_EQ(summary.outbox.opened, 0);
  EXPECT_EQ(summary.outbox.updated, 0);
  EXPECT_EQ(summary.outbox.closed, 0);
  EXPECT_EQ(summary.outbox.reopened, 0);
  EXPECT_EQ(summary.outbox.silent, static_cast<int64_t>(old_cases_.size()));

  auto events = testing::AllEvents(*outbox);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(*events, SizeIs(old_events_.size()));
  auto cases = testing::AllCases(*outbox);
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_THAT(*cases, SizeIs(old_cases_.size()));
  for (size_t i = 0; i < old_cases_.size(); ++i) {
    const StoredCase& c = (*cases)[i];
    EXPECT_EQ(c.case_key, old_cases_[i].case_key);
    EXPECT_EQ(c.status, CaseStatus::kPending) << c.case_key;
    EXPECT_EQ(c.revision, old_cases_[i].revision) << c.case_key;
    EXPECT_EQ(c.first_seen_at, old_cases_[i].first_seen_at) << c.case_key;
  }
}

// The signal names of a case's reasons as a scan stores them (CaseRecord::signals): every
// reason but a shadow rule's, "cue:<rule id>" for a cue, sorted, space-separated.
std::string SignalNames(const std::string& reasons_json) {
  simdjson::dom::parser parser;
  simdjson::dom::array reasons;
  EXPECT_EQ(parser.parse(reasons_json).get(reasons), simdjson::SUCCESS) << reasons_json;
  std::vector<std::string> names;
  for (simdjson::dom::element r : reasons) {
    bool shadow = false;
    if (r["shadow"].get(shadow) == simdjson::SUCCESS && shadow) continue;
    std::string name(r["signal"].get_string().value());
    if (name == "cue") name += ":" + std::string(r["rule"].get_string().value());
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : " ") + n;
  return out;
}

// The signal names the migration derives from the old reasons follow the rule by which a scan
// names its own, so that a verdict given before the first rescan judges the same names:
// checked on the migrated cases, then on the same cases rescanned by this build (whose
// reasons may differ where detection improved since the fixture was written).
TEST_P(OutboxMigrationTest, DerivedSignalsNameTheReasonsAsAScanDoes) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  auto cases = testing::AllCases(*outbox);
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_FALSE(cases->empty());
  for (const StoredCase& c : *cases) {
    EXPECT_EQ(c.signals, SignalNames(c.reasons_json)) << "migrated " << c.case_key;
  }
  ScanOrDie(kLastInput, *outbox);
  cases = testing::AllCases(*outbox);
  ASSERT_TRUE(cases.ok()) << cases.status();
  for (const StoredCase& c : *cases) {
    EXPECT_EQ(c.signals, SignalNames(c.reasons_json)) << "rescanned " << c.case_key;
  }
}

// After that first rescan, the migrated cases behave like any other: a real change (the five
// listings that differ between the two inputs, changed back) is announced once each, with
// the next revision and an event id after the old ones.
TEST_P(OutboxMigrationTest, ChangesAfterTheFirstRescanAreAnnouncedOnce) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  ScanOrDie(kLastInput, *outbox);
  const ScanSummary summary = ScanOrDie(kFirstInput, *outbox);
  EXPECT_EQ(summary.outbox.opened, 0);
  EXPECT_EQ(summary.outbox.updated, 5);
  EXPECT_EQ(summary.outbox.closed, 0);

  auto events = outbox->ListEvents(std::nullopt, old_events_.back().id);
  ASSERT_TRUE(events.ok()) << events.status();
  std::vector<std::string> announced;
  for (const StoredEvent& e : *events) {
    EXPECT_EQ(e.type, "case.updated");
    auto c = outbox->GetCase(e.case_key);
    ASSERT_TRUE(c.ok() && c->has_value()) << e.case_key;
    EXPECT_EQ((*c)->revision, 3) << e.case_key;  // opened, updated by the old build, now
    announced.push_back(e.case_key);
  }
  EXPECT_THAT(announced, UnorderedElementsAre(
                             "apple:default:lst-000000025", "apple:default:lst-000000047",
                             "louis_vuitton:default:lst-000000008",
                             "louis_vuitton:default:lst-000000016", "ugg:shop%3Aeu:lst-000000006"));
}

// --- Version 2 ---------------------------------------------------------------------------

// v2.db: ten cases (one confirmed, two rejected by verdicts, seven pending), 22 events,
// three verdicts, one authorized seller, and an interrupted run whose first batch marked
// two cases for a publication that has not happened (testdata/outbox/README.md).
class OutboxMigrationVersion2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::copy_file(kFixtureDir + "/v2.db", path_);
    RawDb raw(path_);
    ASSERT_EQ(raw.Value("PRAGMA user_version"), "2");
    old_cases_ = raw.Query(
        "SELECT case_key, rights_holder, marketplace, listing_id, seller_id, score, reasons,"
        " evidence, signals, fingerprint, material, status, first_seen_at, last_seen_at"
        " FROM cases ORDER BY rowid");
    old_announced_ = raw.Query(
        "SELECT case_key, announced_status, announced_material, revision FROM cases"
        " WHERE announced_status IS NOT NULL ORDER BY rowid");
    old_marks_ = raw.Query(
        "SELECT dirty_run, case_key FROM cases WHERE dirty_run IS NOT NULL ORDER BY case_key");
    old_rest_ = OtherTables(raw);
    // A fixture that lost its content would make every check below vacuous.
    ASSERT_THAT(old_cases_, SizeIs(10));
    ASSERT_THAT(old_announced_, SizeIs(10));
    ASSERT_THAT(old_marks_, SizeIs(2));
    ASSERT_EQ(raw.Value("SELECT count(*) FROM events"), "22");
    ASSERT_EQ(raw.Value("SELECT count(*) FROM verdicts"), "3");
    ASSERT_EQ(raw.Value("SELECT count(*) FROM authorized_sellers"), "1");
    ASSERT_EQ(raw.Value("SELECT count(*) FROM scan_checkpoints WHERE done = 0"), "1");
  }

  // Every row of the tables version 3 did not change.
  static Rows OtherTables(RawDb& raw) {
    Rows rows;
    for (const char* table :
         {"events", "verdicts", "authorized_sellers", "counterfeit_photos", "deliveries",
          "relay_cursors", "relay_endpoints", "scan_checkpoints"}) {
      for (std::vector<std::string>& row :
           raw.Query(std::string("SELECT * FROM ") + table + " ORDER BY 1, 2")) {
        row.insert(row.begin(), table);
        rows.push_back(std::move(row));
      }
    }
    return rows;
  }

  std::unique_ptr<Outbox> OpenOrDie() {
    auto outbox = OpenOutbox(path_, OutboxAccess::kReadWrite);
    EXPECT_TRUE(outbox.ok()) << outbox.status();
    return outbox.ok() ? std::move(outbox).value() : nullptr;
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.Join("outbox.db");
  Rows old_cases_, old_announced_, old_marks_, old_rest_;
};

TEST_F(OutboxMigrationVersion2Test, KeepsEveryCaseRowInItsOrder) {
  ASSERT_NE(OpenOrDie(), nullptr);
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("PRAGMA user_version"), std::to_string(engine::kOutboxSchemaVersion));
  EXPECT_EQ(raw.Value("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(raw.Query("SELECT case_key, rights_holder, marketplace, listing_id, seller_id, score,"
                      " reasons, evidence, signals, fingerprint, material, status,"
                      " first_seen_at, last_seen_at FROM cases ORDER BY id"),
            old_cases_);
}

TEST_F(OutboxMigrationVersion2Test, MovesAnnouncementsAndPublicationMarks) {
  ASSERT_NE(OpenOrDie(), nullptr);
  RawDb raw(path_);
  EXPECT_EQ(raw.Query("SELECT c.case_key, a.status, a.material, a.revision FROM announcements a"
                      " JOIN cases c ON c.id = a.case_id ORDER BY c.id"),
            old_announced_);
  EXPECT_EQ(raw.Query("SELECT p.run, c.case_key FROM to_publish p JOIN cases c"
                      " ON c.id = p.case_id ORDER BY c.case_key"),
            old_marks_);
  EXPECT_EQ(raw.Value("SELECT count(*) FROM pragma_table_info('cases')"
                      " WHERE name IN ('revision', 'announced_status', 'announced_material',"
                      " 'dirty_run')"),
            "0");
}

TEST_F(OutboxMigrationVersion2Test, KeepsEventsVerdictsDeliveryStateAndCheckpoints) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  {
    RawDb raw(path_);
    EXPECT_EQ(OtherTables(raw), old_rest_);
  }
  // ... and reads them back as before: revisions, statuses, verdicts, feedback.
  auto cases = testing::AllCases(*outbox);
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_THAT(*cases, SizeIs(old_cases_.size()));
  for (const StoredCase& c : *cases) {
    bool found = false;
    for (const std::vector<std::string>& a : old_announced_) {
      if (a[0] != c.case_key) continue;
      found = true;
      EXPECT_EQ(std::to_string(c.revision), a[3]) << c.case_key;
    }
    EXPECT_TRUE(found) << c.case_key;
  }
  auto verdicts = outbox->ListVerdicts("adidas:default:lst-000000005");
  ASSERT_TRUE(verdicts.ok()) << verdicts.status();
  ASSERT_THAT(*verdicts, SizeIs(1));
  EXPECT_EQ((*verdicts)[0].verdict, VerdictKind::kCounterfeit);
  EXPECT_EQ((*verdicts)[0].comment, "fake: wrong stitching");
  auto feedback = outbox->LoadFeedback();
  ASSERT_TRUE(feedback.ok()) << feedback.status();
  ASSERT_THAT(feedback->authorized_sellers, SizeIs(1));
  EXPECT_EQ(feedback->authorized_sellers[0].rights_holder, "apple");
  ASSERT_THAT(feedback->seller_records, SizeIs(1));
  EXPECT_EQ(feedback->seller_records[0].case_keys,
            std::vector<std::string>{"adidas:default:lst-000000005"});
}

// The interrupted run's marks survive: publishing that run announces exactly the cases its
// first batch changed, once, with the next revision; doing it again announces nothing.
TEST_F(OutboxMigrationVersion2Test, PublishingTheInterruptedRunAnnouncesItsMarkedCases) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  auto before = testing::AllEvents(*outbox);
  ASSERT_TRUE(before.ok()) << before.status();
  const std::string run = old_marks_[0][0];
  auto stats = outbox->Publish(run);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->opened + stats->closed + stats->reopened, 0);
  EXPECT_EQ(stats->updated + stats->silent, static_cast<int64_t>(old_marks_.size()));
  EXPECT_GT(stats->updated, 0);
  auto events = outbox->ListEvents(std::nullopt, before->back().id);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(*events, SizeIs(stats->updated));
  for (const StoredEvent& e : *events) {
    EXPECT_EQ(e.type, "case.updated");
    bool marked = false;
    for (const std::vector<std::string>& m : old_marks_) marked = marked || m[1] == e.case_key;
    EXPECT_TRUE(marked) << e.case_key;
    std::string old_revision;
    for (const std::vector<std::string>& a : old_announced_) {
      if (a[0] == e.case_key) old_revision = a[3];
    }
    auto c = outbox->GetCase(e.case_key);
    ASSERT_TRUE(c.ok() && c->has_value()) << e.case_key;
    EXPECT_EQ(std::to_string((*c)->revision - 1), old_revision) << e.case_key;
  }
  auto again = outbox->Publish(run);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->updated + again->silent, 0);
}

// --- Version 3 ---------------------------------------------------------------------------

// v3.db: the v2.db story written by the last build of version 3, plus portal tokens and the
// relay's delivery state (adidas delivered, apple dead, dior's endpoint disabled), and an
// interrupted run with two cases marked for publication (testdata/outbox/README.md).
class OutboxMigrationVersion3Test : public ::testing::Test {
 protected:
  // Every table a version 3 outbox holds rows in, in a fixed order.
  static constexpr const char* kTables[] = {
      "cases",         "announcements",      "to_publish",         "events",
      "verdicts",      "authorized_sellers", "counterfeit_photos", "deliveries",
      "relay_cursors", "relay_endpoints",    "scan_checkpoints",   "access_tokens"};

  void SetUp() override {
    std::filesystem::copy_file(kFixtureDir + "/v3.db", path_);
    RawDb raw(path_);
    ASSERT_EQ(raw.Value("PRAGMA user_version"), "3");
    old_rows_ = AllRows(raw);
    // A fixture that lost its content would make every check below vacuous.
    ASSERT_EQ(raw.Value("SELECT count(*) FROM cases"), "10");
    ASSERT_EQ(raw.Value("SELECT count(*) FROM events"), "22");
    ASSERT_EQ(raw.Value("SELECT count(*) FROM to_publish"), "2");
    ASSERT_EQ(raw.Value("SELECT count(*) FROM deliveries"), "10");
    ASSERT_EQ(raw.Value("SELECT count(*) FROM relay_cursors"), "2");
    ASSERT_EQ(raw.Value("SELECT count(*) FROM relay_endpoints"), "1");
    ASSERT_EQ(raw.Value("SELECT count(*) FROM access_tokens"), "2");
    ASSERT_EQ(raw.Value("SELECT count(*) FROM scan_checkpoints WHERE done = 0"), "1");
    marked_run_ = raw.Value("SELECT DISTINCT run FROM to_publish");
  }

  static Rows AllRows(RawDb& raw) {
    Rows rows;
    for (const char* table : kTables) {
      for (std::vector<std::string>& row :
           raw.Query(std::string("SELECT * FROM ") + table + " ORDER BY 1, 2")) {
        row.insert(row.begin(), table);
        rows.push_back(std::move(row));
      }
    }
    return rows;
  }

  std::unique_ptr<Outbox> OpenOrDie() {
    auto outbox = OpenOutbox(path_, OutboxAccess::kReadWrite);
    EXPECT_TRUE(outbox.ok()) << outbox.status();
    return outbox.ok() ? std::move(outbox).value() : nullptr;
  }

  testing::TempDir dir_;
  const std::string path_ = dir_.Join("outbox.db");
  Rows old_rows_;
  std::string marked_run_;
};

TEST_F(OutboxMigrationVersion3Test, KeepsEveryRowOfEveryTable) {
  ASSERT_NE(OpenOrDie(), nullptr);
  RawDb raw(path_);
  EXPECT_EQ(raw.Value("PRAGMA user_version"), std::to_string(engine::kOutboxSchemaVersion));
  EXPECT_EQ(raw.Value("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(AllRows(raw), old_rows_);
}

// The relay goes on where the old build's stopped: nothing left for adidas (delivered) and
// apple (dead), a never-configured holder from its first event, dior's endpoint still
// disabled; the revoked token stays revoked.
TEST_F(OutboxMigrationVersion3Test, RelayAndPortalStateReadsAsBefore) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  RawDb raw(path_);
  // adidas and apple: every event delivered or dead; nike (no endpoint then): its first.
  for (const char* holder : {"adidas", "apple"}) {
    auto next = outbox->NextDelivery(holder);
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_FALSE(next->has_value()) << holder;
  }
  auto nike = outbox->NextDelivery("nike");
  ASSERT_TRUE(nike.ok()) << nike.status();
  ASSERT_TRUE(nike->has_value());
  EXPECT_EQ(std::to_string((*nike)->event.id),
            raw.Value("SELECT min(id) FROM events WHERE rights_holder = 'nike'"));
  auto dior = outbox->EndpointDisabled(
      "dior",
      raw.Value("SELECT endpoint_digest FROM relay_endpoints WHERE rights_holder = 'dior'"));
  ASSERT_TRUE(dior.ok()) << dior.status();
  EXPECT_TRUE(*dior);
  auto tokens = outbox->ListTokens();
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_THAT(*tokens, SizeIs(2));
  for (const StoredToken& t : *tokens) {
    EXPECT_EQ(t.revoked_at.has_value(), t.rights_holder.has_value()) << t.prefix;
  }
}

// The interrupted run's marks survive: publishing it announces what its first batch changed,
// once, each event key new; doing it again announces nothing.
TEST_F(OutboxMigrationVersion3Test, PublishingTheInterruptedRunAnnouncesItsMarkedCases) {
  auto outbox = OpenOrDie();
  ASSERT_NE(outbox, nullptr);
  auto before = testing::AllEvents(*outbox);
  ASSERT_TRUE(before.ok()) << before.status();
  auto stats = outbox->Publish(marked_run_);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->opened + stats->closed + stats->reopened, 0);
  EXPECT_EQ(stats->updated + stats->silent, 2);
  EXPECT_GT(stats->updated, 0);
  auto events = outbox->ListEvents(std::nullopt, before->back().id);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(*events, SizeIs(stats->updated));
  for (const StoredEvent& e : *events) {
    EXPECT_EQ(e.type, "case.updated");
    auto c = outbox->GetCase(e.case_key);
    ASSERT_TRUE(c.ok() && c->has_value()) << e.case_key;
    EXPECT_EQ(e.event_key, e.case_key + ":" + std::to_string((*c)->revision));
    auto of_case = outbox->ListEvents(std::nullopt, 0, 0, e.case_key);
    ASSERT_TRUE(of_case.ok()) << of_case.status();
    ASSERT_THAT(*of_case, SizeIs((*c)->revision)) << e.case_key;
    EXPECT_EQ(of_case->back().id, e.id);
  }
  auto again = outbox->Publish(marked_run_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->updated + again->silent, 0);
}

// No build of the first layout wrote a checkpoint, so its fixture's table is empty; a row
// put there by hand shows that the migration drops the table's content, not just its form.
TEST(OutboxMigrationFirstLayoutTest, DropsCheckpointRows) {
  testing::TempDir dir;
  const std::string path = dir.Join("outbox.db");
  std::filesystem::copy_file(kFixtureDir + "/v1-first.db", path);
  {
    RawDb raw(path);
    raw.Exec(
        "INSERT INTO scan_checkpoints (input, byte_offset, line, updated_at)"
        " VALUES ('listings-a2.jsonl', 3935, 9, '2026-12-05T02:10:01.569Z')");
  }
  auto outbox = OpenOutbox(path);
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  RawDb raw(path);
  EXPECT_THAT(raw.Query(kCheckpointsSql), IsEmpty());
  EXPECT_THAT(raw.Query("SELECT name FROM pragma_table_info('scan_checkpoints') ORDER BY cid"),
              ::testing::ElementsAre(
                  std::vector<std::string>{"run"}, std::vector<std::string>{"input"},
                  std::vector<std::string>{"identity"}, std::vector<std::string>{"byte_offset"},
                  std::vector<std::string>{"line"}, std::vector<std::string>{"rejects_bytes"},
                  std::vector<std::string>{"done"}, std::vector<std::string>{"updated_at"}));
}

}  // namespace
}  // namespace bonafide
