// What only the PostgreSQL outbox has to show (docs/outbox-format.md, "PostgreSQL"): the same
// scans store and announce the same as in SQLite; several processes' worth of connections on
// one database (concurrent writers and an event reader, a forced serialization failure,
// concurrent first opens); passwords kept out of errors.
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "engine/pg_connection.h"
#include "tests/generated_dump.h"
#include "tests/outbox_test_util.h"
#include "tests/postgres_test_server.h"
#include "tests/temp_dir.h"
#include "tools/gen/listing_generator.h"

namespace bonafide {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::PostgresTestServer;
using ::testing::SizeIs;

CaseRecord MakeCase(std::string listing_id, std::string material = "m1") {
  CaseRecord c;
  c.rights_holder = "acme";
  c.marketplace = "shopx";
  c.listing_id = std::move(listing_id);
  c.seller_id = "seller-7";
  c.score = 0.75;
  c.reasons_json = R"([{"signal":"cue","rule":"acme-cf-01","shadow":false}])";
  c.evidence_json = R"({"title":"ACME watch"})";
  c.signals = "cue:acme-cf-01";
  c.material_key = std::move(material);
  return c;
}

std::unique_ptr<Outbox> OpenOrDie(const std::string& uri) {
  auto outbox = OpenOutbox(uri);
  EXPECT_TRUE(outbox.ok()) << outbox.status();
  return outbox.ok() ? std::move(outbox).value() : nullptr;
}

// Everything a rights holder reads, with the write times left out.
std::vector<std::string> Contents(Outbox& outbox) {
  std::vector<std::string> out;
  auto cases = testing::AllCases(outbox);
  EXPECT_TRUE(cases.ok()) << cases.status();
  for (const StoredCase& c : *cases) {
    out.push_back(absl::StrCat(c.case_key, "|", c.rights_holder, "|", c.marketplace, "|",
                               c.listing_id, "|", c.seller_id, "|", c.score, "|", c.reasons_json,
                               "|", c.evidence_json, "|", c.signals, "|", CaseStatusName(c.status),
                               "|", c.revision));
  }
  auto events = testing::AllEvents(outbox);
  EXPECT_TRUE(events.ok()) << events.status();
  for (const StoredEvent& e : *events) {
    out.push_back(
        absl::StrCat(e.event_key, "|", e.rights_holder, "|", e.type, "|", e.payload_json));
  }
  return out;
}

// The same scans, verdicts and rescans into SQLite and PostgreSQL store and announce the
// same bytes (event ids aside).
TEST(PostgresOutboxTest, StoresAndAnnouncesWhatSqliteDoes) {
  testing::TempDir dir;
  gen::GeneratorOptions generated;
  generated.count = 3000;
  generated.seed = 7;
  testing::WriteGeneratedDump(dir.Join("first.jsonl"), generated);
  generated.seed = 8;  // a different night: cases close, reopen and change
  testing::WriteGeneratedDump(dir.Join("second.jsonl"), generated);
  ScannerOptions scanner_options;
  scanner_options.rules_dir = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";
  auto scanner = Scanner::Create(scanner_options);
  ASSERT_TRUE(scanner.ok()) << scanner.status();
  auto sqlite = OpenOutbox(dir.Join("outbox.db"));
  auto postgres = OpenOutbox(PostgresTestServer::Get().NewDatabase());
  ASSERT_TRUE(sqlite.ok() && postgres.ok());
  for (Outbox* outbox : {sqlite->get(), postgres->get()}) {
    ScanOptions options;
    options.threads = 2;
    options.chunk_bytes = 64 << 10;
    ASSERT_TRUE((*scanner)->ScanFiles({dir.Join("first.jsonl")}, *outbox, options).ok());
    auto cases = testing::AllCases(*outbox);
    ASSERT_TRUE(cases.ok() && cases->size() > 10);
    // Verdicts on the first cases: confirmed, rejected, rejected with the seller authorized.
    for (size_t i = 0; i < 3; ++i) {
      VerdictRequest r;
      r.case_key = (*cases)[i].case_key;
      r.verdict = i == 0 ? VerdictKind::kCounterfeit : VerdictKind::kGenuine;
      r.authorize_seller = i == 2;
      r.actor = "test";
      ASSERT_TRUE(outbox->RecordVerdict(r).ok());
    }
    ASSERT_TRUE((*scanner)->ScanFiles({dir.Join("second.jsonl")}, *outbox, options).ok());
    ASSERT_TRUE((*scanner)->ScanFiles({dir.Join("first.jsonl")}, *outbox, options).ok());
  }
  EXPECT_EQ(Contents(**sqlite), Contents(**postgres));
  // The scans went through the whole lifecycle.
  auto events = testing::AllEvents(**postgres);
  ASSERT_TRUE(events.ok()) << events.status();
  std::set<std::string> types;
  for (const StoredEvent& e : *events) types.insert(e.type);
  EXPECT_THAT(types, ::testing::IsSupersetOf(
                         {"case.opened", "case.closed", "case.reopened", "case.verdict"}))
      << ::testing::PrintToString(types);
  auto sqlite_report = (*sqlite)->PrecisionReport(std::nullopt);
  auto postgres_report = (*postgres)->PrecisionReport(std::nullopt);
  ASSERT_TRUE(sqlite_report.ok() && postgres_report.ok());
  ASSERT_EQ(sqlite_report->size(), postgres_report->size());
  for (size_t i = 0; i < sqlite_report->size(); ++i) {
    const PrecisionRow &a = (*sqlite_report)[i], &b = (*postgres_report)[i];
    EXPECT_EQ(std::tie(a.signal, a.shadow, a.cases, a.confirmed, a.rejected),
              std::tie(b.signal, b.shadow, b.cases, b.confirmed, b.rejected));
  }
  auto sqlite_feedback = (*sqlite)->LoadFeedback();
  auto postgres_feedback = (*postgres)->LoadFeedback();
  ASSERT_TRUE(sqlite_feedback.ok() && postgres_feedback.ok());
  EXPECT_EQ(sqlite_feedback->authorized_sellers.size(),
            postgres_feedback->authorized_sellers.size());
  EXPECT_EQ(sqlite_feedback->counterfeit_photos.size(),
            postgres_feedback->counterfeit_photos.size());
  EXPECT_EQ(sqlite_feedback->seller_records.size(), postgres_feedback->seller_records.size());
}

// Two writers publish events of one rights holder at once (a service's immediate writes:
// each transaction inserts its events), while a reader polls `after` like a relay or feed.
// The reader must end with every event exactly once, in id order: an id handed out before
// another transaction's but committed after it would be skipped.
TEST(PostgresOutboxTest, ConcurrentWritersNeverMakeAReaderSkipOrRepeatAnEvent) {
  const std::string uri = PostgresTestServer::Get().NewDatabase();
  ASSERT_NE(OpenOrDie(uri), nullptr);
  constexpr int kWriters = 3, kBatches = 40, kPerBatch = 5;
  std::atomic<int> writers_done{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto outbox = OpenOrDie(uri);
      for (int b = 0; b < kBatches && outbox != nullptr; ++b) {
        std::vector<CaseRecord> cases;
        for (int i = 0; i < kPerBatch; ++i) {
          cases.push_back(MakeCase("w" + std::to_string(w) + "-" + std::to_string(b * 100 + i)));
        }
        OutboxBatch batch;
        batch.cases = cases;
        auto stats = outbox->Write(batch);
        EXPECT_TRUE(stats.ok()) << stats.status();
      }
      ++writers_done;
    });
  }
  auto reader = OpenOutbox(uri, OutboxAccess::kReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::vector<int64_t> seen;
  int64_t after = 0;
  while (true) {
    const bool last_round = writers_done == kWriters;
    auto events = (*reader)->ListEvents("acme", after);
    ASSERT_TRUE(events.ok()) << events.status();
    for (const StoredEvent& e : *events) {
      seen.push_back(e.id);
      after = e.id;
    }
    if (last_round) break;
  }
  for (std::thread& t : writers) t.join();
  auto all = (*reader)->ListEvents("acme");
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), static_cast<size_t>(kWriters * kBatches * kPerBatch));
  std::vector<int64_t> ids;
  for (const StoredEvent& e : *all) ids.push_back(e.id);
  EXPECT_EQ(seen, ids);
}

// Two scans of disjoint listings (shards: each its own run) into one rights holder, both
// publishing at the end, while their batches interleave: every case once, every event once.
TEST(PostgresOutboxTest, TwoShardsOfOneRunWriteAndPublishSideBySide) {
  const std::string uri = PostgresTestServer::Get().NewDatabase();
  ASSERT_NE(OpenOrDie(uri), nullptr);
  constexpr int kBatches = 30, kPerBatch = 20;
  std::vector<std::thread> shards;
  for (int s = 0; s < 2; ++s) {
    shards.emplace_back([&, s] {
      auto outbox = OpenOrDie(uri);
      if (outbox == nullptr) return;
      const std::string run = "run-shard-" + std::to_string(s);
      for (int b = 0; b < kBatches; ++b) {
        std::vector<CaseRecord> cases;
        std::vector<ScannedListing> listings;
        for (int i = 0; i < kPerBatch; ++i) {
          cases.push_back(MakeCase("s" + std::to_string(s) + "-" + std::to_string(b * 100 + i)));
        }
        for (uint32_t i = 0; i < cases.size(); ++i) {
          listings.push_back({cases[i].marketplace, cases[i].listing_id, 0, i, i + 1});
        }
        OutboxBatch batch;
        batch.run = run;
        batch.cases = cases;
        batch.listings = listings;
        auto stats = outbox->Write(batch);
        EXPECT_TRUE(stats.ok()) << stats.status();
      }
      auto published = outbox->Publish(run);
      ASSERT_TRUE(published.ok()) << published.status();
      EXPECT_EQ(published->opened, kBatches * kPerBatch);
    });
  }
  for (std::thread& t : shards) t.join();
  auto outbox = OpenOrDie(uri);
  ASSERT_NE(outbox, nullptr);
  auto events = outbox->ListEvents("acme");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 2u * kBatches * kPerBatch);
  auto page = outbox->ListCases({});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->cases.size(), 2u * kBatches * kPerBatch);
  EXPECT_EQ(PostgresTestServer::Query(uri, "SELECT count(*) FROM to_publish"), "0");
}

// A transaction that loses a conflict is run again. Forced: another session locks the case
// the outbox is about to write, waits until the outbox's transaction queues behind the lock,
// then changes the case and commits; under REPEATABLE READ the outbox's transaction can only
// fail with a serialization failure, and must then succeed on its second attempt.
TEST(PostgresOutboxTest, ASerializationFailureIsRetried) {
  const std::string uri = PostgresTestServer::Get().NewDatabase();
  auto outbox = OpenOrDie(uri);
  ASSERT_NE(outbox, nullptr);
  OutboxBatch first;
  const std::vector<CaseRecord> v1 = {MakeCase("L1", "m1")};
  first.cases = v1;
  ASSERT_TRUE(outbox->Write(first).ok());

  PGconn* other = PQconnectdb(uri.c_str());
  ASSERT_EQ(PQstatus(other), CONNECTION_OK);
  auto exec = [&](const char* sql) {
    PGresult* r = PQexec(other, sql);
    const ExecStatusType status = PQresultStatus(r);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) << PQerrorMessage(other);
    PQclear(r);
  };
  exec("BEGIN");
  exec("SELECT 1 FROM cases WHERE case_key = 'acme:shopx:L1' FOR UPDATE");

  absl::StatusOr<OutboxWriteStats> second;
  const std::vector<CaseRecord> v2 = {MakeCase("L1", "m2")};
  std::thread writer([&] {
    OutboxBatch batch;
    batch.cases = v2;
    second = outbox->Write(batch);
  });
  // Until the outbox's transaction waits for the lock.
  for (int i = 0; i < 500; ++i) {
    if (PostgresTestServer::Query(uri,
                                  "SELECT count(*) FROM pg_stat_activity"
                                  " WHERE wait_event_type = 'Lock'") != "0") {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  exec("UPDATE cases SET last_seen_at = 'changed meanwhile' WHERE case_key = 'acme:shopx:L1'");
  exec("COMMIT");
  writer.join();
  PQfinish(other);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->updated, 1);
  auto c = outbox->GetCase("acme:shopx:L1");
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_NE((*c)->last_seen_at, "changed meanwhile");
  auto events = outbox->ListEvents("acme");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].type, "case.updated");
}

TEST(PostgresOutboxTest, ProcessesOpeningAFreshDatabaseAtOnceCreateTheSchemaOnce) {
  const std::string uri = PostgresTestServer::Get().NewDatabase();
  constexpr int kOpeners = 6;
  std::vector<std::thread> openers;
  std::atomic<int> ok{0};
  for (int i = 0; i < kOpeners; ++i) {
    openers.emplace_back([&] {
      auto outbox = OpenOutbox(uri);
      EXPECT_TRUE(outbox.ok()) << outbox.status();
      if (outbox.ok()) ++ok;
    });
  }
  for (std::thread& t : openers) t.join();
  EXPECT_EQ(ok, kOpeners);
  EXPECT_EQ(
      PostgresTestServer::Query(uri, "SELECT value FROM outbox_meta WHERE key = 'schema_version'"),
      "4");
  EXPECT_EQ(PostgresTestServer::Query(uri, "SELECT count(*) FROM outbox_meta"), "1");
}

// Version 3, the first released for PostgreSQL, differs from version 4 by one index on
// events (no build of it is kept for a fixture, as testdata/outbox/v3.db is for SQLite):
// a database put back to version 3's form is migrated on a read-write open, keeps its cases
// and events, and still lists a case's events; a read-only open refuses it first.
TEST(PostgresOutboxTest, MigratesAVersion3Outbox) {
  const std::string uri = PostgresTestServer::Get().NewDatabase();
  std::vector<StoredEvent> events_before;
  {
    auto outbox = OpenOrDie(uri);
    ASSERT_NE(outbox, nullptr);
    const std::vector<CaseRecord> first = {MakeCase("L1", "m1"), MakeCase("L2", "m1")};
    ASSERT_TRUE(outbox->Write(OutboxBatch{.cases = first}).ok());
    const std::vector<CaseRecord> second = {MakeCase("L1", "m2")};
    ASSERT_TRUE(outbox->Write(OutboxBatch{.cases = second}).ok());
    auto events = testing::AllEvents(*outbox);
    ASSERT_TRUE(events.ok()) << events.status();
    events_before = std::move(events).value();
    ASSERT_THAT(events_before, SizeIs(3));
  }
  PostgresTestServer::Query(uri,
                            "CREATE INDEX events_by_case ON events (case_key, id);"
                            " UPDATE outbox_meta SET value = '3' WHERE key = 'schema_version'");
  auto read_only = OpenOutbox(uri, OutboxAccess::kReadOnly);
  ASSERT_FALSE(read_only.ok());
  EXPECT_EQ(read_only.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(read_only.status().message(), HasSubstr("version 3 needs migrating"));

  auto outbox = OpenOrDie(uri);
  ASSERT_NE(outbox, nullptr);
  EXPECT_EQ(
      PostgresTestServer::Query(uri, "SELECT value FROM outbox_meta WHERE key = 'schema_version'"),
      "4");
  EXPECT_EQ(PostgresTestServer::Query(uri, "SELECT to_regclass('events_by_case') IS NULL"), "t");
  auto events = testing::AllEvents(*outbox);
  ASSERT_TRUE(events.ok()) << events.status();
  std::vector<std::string> keys_and_payloads, before;
  for (const StoredEvent& e : *events) keys_and_payloads.push_back(e.event_key + e.payload_json);
  for (const StoredEvent& e : events_before) before.push_back(e.event_key + e.payload_json);
  EXPECT_EQ(keys_and_payloads, before);
  const std::string l1 = CaseKey("acme", "shopx", "L1");
  auto of_l1 = outbox->ListEvents(std::nullopt, 0, 0, l1);
  ASSERT_TRUE(of_l1.ok()) << of_l1.status();
  std::vector<std::string> l1_keys;
  for (const StoredEvent& e : *of_l1) l1_keys.push_back(e.event_key);
  EXPECT_EQ(l1_keys, (std::vector<std::string>{l1 + ":1", l1 + ":2"}));
}

TEST(PostgresOutboxTest, APasswordNeverAppearsInAnError) {
  const std::string uri = PostgresTestServer::Get().NewDatabase();
  // The test server trusts loopback, so the password is accepted and ignored.
  std::string with_password = uri;
  with_password.insert(with_password.find('@'), ":s3cret");
  ASSERT_NE(with_password.find("postgres:s3cret@"), std::string::npos) << with_password;
  ASSERT_NE(OpenOrDie(with_password), nullptr);
  auto read_only = OpenOutbox(with_password, OutboxAccess::kReadOnly);
  ASSERT_TRUE(read_only.ok()) << read_only.status();
  OutboxBatch batch;
  const std::vector<CaseRecord> cases = {MakeCase("L1")};
  batch.cases = cases;
  auto written = (*read_only)->Write(batch);
  EXPECT_EQ(written.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(written.status().message(), HasSubstr(uri));
  EXPECT_THAT(written.status().message(), Not(HasSubstr("s3cret")));
  // A database that is not there: the server's error, still without the password.
  const std::string missing = with_password.substr(0, with_password.rfind('/')) + "/no_such_db";
  auto none = OpenOutbox(missing);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnavailable) << none.status();
  EXPECT_THAT(none.status().message(), HasSubstr("no_such_db"));
  EXPECT_THAT(none.status().message(), Not(HasSubstr("s3cret")));
}

// A database with tables of its own is not taken over; a newer outbox is refused.
TEST(PostgresOutboxTest, RefusesForeignAndNewerDatabases) {
  const std::string foreign = PostgresTestServer::Get().NewDatabase();
  PostgresTestServer::Query(foreign, "CREATE TABLE cases (x int)");
  auto outbox = OpenOutbox(foreign);
  EXPECT_EQ(outbox.status().code(), absl::StatusCode::kFailedPrecondition) << outbox.status();
  EXPECT_EQ(OpenOutbox(foreign, OutboxAccess::kReadOnly).status().code(),
            absl::StatusCode::kFailedPrecondition);
  const std::string newer = PostgresTestServer::Get().NewDatabase();
  ASSERT_NE(OpenOrDie(newer), nullptr);
  PostgresTestServer::Query(newer, "UPDATE outbox_meta SET value = '5'");
  auto opened = OpenOutbox(newer);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition) << opened.status();
  EXPECT_THAT(opened.status().message(), HasSubstr("version 5"));
  // A fresh database opened read-only first: nothing is created.
  const std::string fresh = PostgresTestServer::Get().NewDatabase();
  EXPECT_EQ(OpenOutbox(fresh, OutboxAccess::kReadOnly).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(PostgresTestServer::Query(fresh, "SELECT to_regclass('outbox_meta') IS NULL"), "t");
}

}  // namespace
}  // namespace bonafide
