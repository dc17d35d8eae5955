// Tests for the WAL checkpointer of engine/sqlite_db: a writer that keeps committing has its
// WAL start over near the restart bound, a reader's snapshot only delays that, and every
// committed row is in the file after the close.
#include "engine/sqlite_db.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include <sqlite3.h>

#include "tests/temp_dir.h"

namespace bonafide::engine::sqlite {
namespace {

using testing::TempDir;

constexpr int kRowsPerCommit = 20;  // of 3,000 bytes: about 20 WAL pages of 4 KiB a commit

// A writer connection whose commits go through the checkpointer's hook, recording the WAL
// size (in pages) that each commit reports.
class Writer {
 public:
  Writer(const std::string& path, WalCheckpointer::Options options) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    Exec("PRAGMA page_size = 4096");
    Exec("PRAGMA journal_mode = WAL");
    Exec("PRAGMA synchronous = NORMAL");
    Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
    checkpointer_ = WalCheckpointer::Start(path, options);
    EXPECT_NE(checkpointer_, nullptr);  // without it no commit is recorded: the tests fail
    if (checkpointer_ != nullptr) sqlite3_wal_hook(db_, &Writer::OnCommit, this);
  }
  ~Writer() {
    sqlite3_wal_hook(db_, nullptr, nullptr);
    checkpointer_.reset();  // before the close, which checkpoints the rest
    sqlite3_close(db_);
  }

  void Commit() {
    Exec("BEGIN");
    for (int i = 0; i < kRowsPerCommit; ++i) {
      Exec("INSERT INTO t (v) VALUES (zeroblob(3000))");
    }
    Exec("COMMIT");
  }

  const std::vector<int>& wal_pages() const { return wal_pages_; }
  // How many times the WAL started over: a commit that reports fewer pages than the last.
  int restarts() const {
    int n = 0;
    for (size_t i = 1; i < wal_pages_.size(); ++i) n += wal_pages_[i] < wal_pages_[i - 1];
    return n;
  }

 private:
  static int OnCommit(void* self, sqlite3* db, const char* name, int pages) {
    auto* writer = static_cast<Writer*>(self);
    writer->wal_pages_.push_back(pages);
    return WalCheckpointer::OnCommit(writer->checkpointer_.get(), db, name, pages);
  }
  void Exec(const char* sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &error), SQLITE_OK)
        << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }

  sqlite3* db_ = nullptr;
  std::unique_ptr<WalCheckpointer> checkpointer_;
  std::vector<int> wal_pages_;
};

int64_t CountRows(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &stmt, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  const int64_t n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

TEST(WalCheckpointerTest, TheWalStartsOverNearTheRestartBound) {
  TempDir dir;
  const std::string path = dir.Join("w.db");
  constexpr int kRestart = 200;
  {
    Writer writer(path, {.request_pages = 50, .restart_pages = kRestart});
    // About 2,000 WAL pages in all: without the bound, a WAL of them all (the thread's
    // passive checkpoints run between commits, never before the next one starts).
    for (int i = 0; i < 100; ++i) writer.Commit();
    const std::vector<int>& pages = writer.wal_pages();
    ASSERT_EQ(pages.size(), 100u);
    EXPECT_GE(writer.restarts(), 5);
    // At most the bound plus one commit's pages (rows, the table's last page, the root).
    EXPECT_LE(*std::max_element(pages.begin(), pages.end()), kRestart + 2 * kRowsPerCommit);
  }
  EXPECT_EQ(CountRows(path), 100 * kRowsPerCommit);
}

TEST(WalCheckpointerTest, AReadersSnapshotOnlyDelaysTheRestart) {
  TempDir dir;
  const std::string path = dir.Join("w.db");
  constexpr int kRestart = 200;
  Writer writer(path, {.request_pages = 50, .restart_pages = kRestart});
  writer.Commit();
  // A reader in the middle of a read transaction: the frames after its snapshot cannot be
  // copied into the file, so the WAL cannot start over while it reads.
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(reader, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_stmt* count = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(reader, "SELECT count(*) FROM t", -1, &count, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(count, 0), kRowsPerCommit);
  sqlite3_reset(count);

  for (int i = 0; i < 30; ++i) writer.Commit();  // about 600 pages, three times the bound
  EXPECT_EQ(writer.restarts(), 0);
  EXPECT_GT(writer.wal_pages().back(), 2 * kRestart);
  ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);  // the reader still sees its snapshot
  EXPECT_EQ(sqlite3_column_int64(count, 0), kRowsPerCommit);
  sqlite3_finalize(count);
  ASSERT_EQ(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(reader);

  // Once it is done, the WAL starts over at the latest when the commits that wait for a
  // checkpoint come round again, restart_pages later.
  int commits = 0;
  while (writer.restarts() == 0 && commits < 30) {
    writer.Commit();
    ++commits;
  }
  EXPECT_EQ(writer.restarts(), 1);
  EXPECT_LE(commits, kRestart / kRowsPerCommit + 2);
}

}  // namespace
}  // namespace bonafide::engine::sqlite
