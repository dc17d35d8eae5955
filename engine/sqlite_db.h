// Small pieces for talking to SQLite: prepared statements that reset themselves, the
// translation of result codes into absl::Status, a connection with the usual helpers, and
// the WAL checkpointer thread. Used by the SQLite outbox only.
#ifndef BONAFIDE_ENGINE_SQLITE_DB_H_
#define BONAFIDE_ENGINE_SQLITE_DB_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <sqlite3.h>

namespace bonafide::engine::sqlite {

// What was being done when an error happened: decides NotFound vs PermissionDenied.
enum class Op { kOpen, kRead, kWrite };

// Maps an SQLite result code to a Status whose message starts with `path` and says `what`
// failed: disk full is ResourceExhausted, read-only PermissionDenied, busy Unavailable,
// corruption DataLoss, constraint violations InvalidArgument.
absl::Status SqliteError(int code, sqlite3* db, std::string_view path, std::string_view what,
                         Op op);

// Owns one prepared statement.
struct StmtDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

// Resets a statement (and drops its bindings) when leaving a scope, so a reused
// statement never keeps a read transaction open or points at freed strings.
class StmtScope {
 public:
  explicit StmtScope(sqlite3_stmt* stmt) : stmt_(stmt) {}
  StmtScope(const StmtScope&) = delete;
  StmtScope& operator=(const StmtScope&) = delete;
  ~StmtScope() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_;
};

// Binds text without copying; the caller keeps `s` alive until the statement is reset.
inline int BindText(sqlite3_stmt* stmt, int index, std::string_view s) {
  return sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
}

std::string ColumnText(sqlite3_stmt* stmt, int col);

// For a program that owns its process (the CLI): turns off SQLite's global memory
// statistics, which put a mutex and two counters around every allocation (an UPDATE of a
// case row makes about 25) and which nothing here reads. Call it first thing in main,
// before any thread: sqlite3_config is not thread-safe and works only before SQLite's
// first use (later it changes nothing). The library never calls it: in a service that
// embeds bonafide, SQLite's process-wide settings are the service's.
void DisableMemoryStatistics();

// One connection with the path it names in errors. Move-only.
class Db {
 public:
  Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Opens (creating when read-write) `path`; busy timeout, extended result codes.
  absl::Status Open(std::string_view path, bool read_only);
  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }
  bool read_only() const { return read_only_; }

  absl::Status Error(int code, std::string_view what, Op op) const {
    return SqliteError(code, db_, path_, what, op);
  }
  absl::Status Exec(const char* sql, std::string_view what, Op op);
  // InTransaction left a transaction open for a later call to commit.
  bool commit_deferred() const { return commit_deferred_; }
  // Prepares `sql` once for reuse (SQLITE_PREPARE_PERSISTENT).
  absl::Status Prepare(const char* sql, Stmt& out, Op op);
  // Runs a statement that returns no rows (or whose rows do not matter), then resets it.
  absl::Status StepDone(sqlite3_stmt* stmt, std::string_view what, Op op = Op::kWrite);
  // Runs a one-row query and returns its first column as an integer.
  absl::StatusOr<int64_t> QueryInt(const char* sql, std::string_view what, Op op);
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back when it (or COMMIT) fails.
  // A transaction left open by an earlier call with `commit` false is joined instead of
  // begun; `commit` false leaves this one open (nothing of it is visible to other
  // connections until a later call commits).
  template <typename Body>
  absl::Status InTransaction(Body&& body, bool commit = true) {
    if (!commit_deferred_) {
      if (absl::Status s = Exec("BEGIN IMMEDIATE", "begin transaction", Op::kWrite); !s.ok()) {
        return s;
      }
    }
    commit_deferred_ = false;
    absl::Status status = body();
    if (status.ok() && commit) status = Exec("COMMIT", "commit", Op::kWrite);
    if (!status.ok()) {
      // SQLite may already have rolled back (e.g. SQLITE_FULL); then there is nothing to do.
      if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return status;
    }
    commit_deferred_ = !commit;
    return status;
  }

 private:
  std::string path_;
  bool read_only_ = false;
  sqlite3* db_ = nullptr;
  bool commit_deferred_ = false;
};

// Checkpoints the WAL on a thread and connection of its own. SQLite's automatic checkpoint
// runs inside the writer's commit: it copies the WAL into the database file and calls
// fdatasync twice, tens of milliseconds on a VM disk every 1000 pages, during which the
// scan's serial sink stage, and soon the whole pipeline, waits (measured: 15% of a 1-thread
// scan, 0.8 s of idle core time in a 1.9 s 2-thread scan). A passive checkpoint from another
// connection runs beside the writer's commits instead.
//
// That alone seldom lets the WAL start over: SQLite rewinds it only when a write
// transaction begins with every frame copied and no reader in the WAL, and a writer that
// keeps committing nearly always has new frames by then. The WAL held everything a scan
// wrote (up to 153 MiB for a 53 MiB outbox). So a commit that leaves the WAL at or above
// restart_pages checkpoints what is left (the thread has copied most of it by then) before
// it returns, and the writer's next transaction rewinds the WAL. A reader that keeps frames
// from being copied only delays that: the commit then leaves the copying to the thread and
// tries again restart_pages later.
class WalCheckpointer {
 public:
  struct Options {  // both at least 1
    // New WAL pages that call for a background checkpoint (SQLite's own default).
    int request_pages = 1000;
    // WAL size, in pages, at or above which a commit checkpoints the rest itself.
    int restart_pages = 8000;
  };

  // Returns null when the second connection cannot be opened (the writer then keeps
  // SQLite's automatic checkpoints).
  static std::unique_ptr<WalCheckpointer> Start(const std::string& path, Options options);

  // Stops the thread and closes its connection; what is left in the WAL is checkpointed by
  // the writer's close (the last connection to a database checkpoints it). Remove the
  // hook (sqlite3_wal_hook(writer, nullptr, nullptr)) first, or destroy it on the thread
  // that commits.
  ~WalCheckpointer();

  // The writer connection's WAL hook: called after every commit, on the writer's thread
  // (SQLite has released the write lock by then). Asks for a checkpoint each time the WAL
  // has grown by request_pages, and checkpoints before returning when it has reached
  // restart_pages.
  static int OnCommit(void* self, sqlite3*, const char*, int wal_pages);

  // Asks for a checkpoint now, whatever the WAL's growth (returns at once).
  void Request();

 private:
  WalCheckpointer(sqlite3* db, Options options)
      : db_(db), options_(options), thread_([this] { Run(); }) {}
  void Run();
  // One passive checkpoint on db_, one at a time (the thread's and the writer's); true
  // when it copied every frame.
  bool Checkpoint();

  sqlite3* const db_;
  const Options options_;
  int last_pages_ = 0;                         // WAL size at the last commit (writer only)
  int next_request_ = options_.request_pages;  // WAL size that asks for a checkpoint (idem)
  int next_restart_ = options_.restart_pages;  // WAL size that checkpoints in the commit
  std::mutex checkpoint_mu_;                   // held while db_ checkpoints
  std::mutex mu_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace bonafide::engine::sqlite

#endif  // BONAFIDE_ENGINE_SQLITE_DB_H_
