// Test helpers for reading and writing an outbox in one call, and the seam that runs an
// outbox test against either backend.
//
// A test opens its outboxes through OpenTestOutbox(dir, name) (or passes
// TestOutboxLocation(dir, name) to the CLI). That is the SQLite file `name` in `dir`, unless
// the environment has BONAFIDE_TEST_OUTBOX=postgresql (CTest sets it for the postgres_*
// tests, which run the same binaries: tests/CMakeLists.txt, label postgresql): then it is a
// fresh database of the process's PostgreSQL test server, the same one for the same dir and
// name. Tests of what only SQLite has start with BONAFIDE_SQLITE_ONLY().
#ifndef BONAFIDE_TESTS_OUTBOX_TEST_UTIL_H_
#define BONAFIDE_TESTS_OUTBOX_TEST_UTIL_H_

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "bonafide/outbox.h"
#include "tests/postgres_test_server.h"
#include "tests/temp_dir.h"

namespace bonafide::testing {

// True when this test process runs against PostgreSQL (see the top of this file).
inline bool PostgresOutbox() {
  static const bool postgres = [] {
    const char* backend = std::getenv("BONAFIDE_TEST_OUTBOX");
    return backend != nullptr && std::string_view(backend) == "postgresql";
  }();
  return postgres;
}

// Skips the rest of a test in the PostgreSQL run (SQLite files, WAL, migrations of SQLite
// fixtures, disk full).
#define BONAFIDE_SQLITE_ONLY()                                                \
  do {                                                                        \
    if (::bonafide::testing::PostgresOutbox()) GTEST_SKIP() << "SQLite only"; \
  } while (0)

// The location of the test outbox `name` in `dir` (see the top of this file).
inline std::string TestOutboxLocation(const TempDir& dir, std::string_view name = "outbox.db") {
  if (PostgresOutbox()) {
    static std::mutex mu;
    static std::map<std::string, std::string>* databases = new std::map<std::string, std::string>;
    std::lock_guard<std::mutex> lock(mu);
    std::string& uri = (*databases)[dir.Join(name)];
    if (uri.empty()) uri = PostgresTestServer::Get().NewDatabase();
    return uri;
  }
  return dir.Join(name);
}

inline absl::StatusOr<std::unique_ptr<Outbox>> OpenTestOutbox(
    const TempDir& dir, std::string_view name = "outbox.db",
    OutboxAccess access = OutboxAccess::kReadWrite) {
  return OpenOutbox(TestOutboxLocation(dir, name), access);
}

// Every case (of one rights holder), ordered by case key.
inline absl::StatusOr<std::vector<StoredCase>> AllCases(
    Outbox& outbox, std::optional<std::string> rights_holder = std::nullopt) {
  CaseQuery query;
  query.rights_holder = std::move(rights_holder);
  absl::StatusOr<CasePage> page = outbox.ListCases(query);
  if (!page.ok()) return page.status();
  std::sort(page->cases.begin(), page->cases.end(),
            [](const StoredCase& a, const StoredCase& b) { return a.case_key < b.case_key; });
  return std::move(page->cases);
}

// Every event (of one rights holder), in id order.
inline absl::StatusOr<std::vector<StoredEvent>> AllEvents(
    Outbox& outbox, std::optional<std::string_view> rights_holder = std::nullopt) {
  return outbox.ListEvents(rights_holder);
}

// Writes `cases` as a service would (no listings, no run): the events are published in the
// same transaction.
inline absl::StatusOr<OutboxWriteStats> WriteCases(CaseSink& sink,
                                                   const std::vector<CaseRecord>& cases) {
  OutboxBatch batch;
  batch.cases = cases;
  return sink.Write(batch);
}

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_OUTBOX_TEST_UTIL_H_
