#include "engine/sqlite_db.h"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

#include "util/strings.h"

namespace bonafide::engine::sqlite {
namespace {
constexpr int kBusyTimeoutMs = 5000;
}  // namespace

absl::Status SqliteError(int code, sqlite3* db, std::string_view path, std::string_view what,
                         Op op) {
  const char* errmsg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  const int primary = code & 0xff;
  // The OS error behind an I/O or open failure says more than "disk I/O error".
  const int sys_errno = db != nullptr && (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN)
                            ? sqlite3_system_errno(db)
                            : 0;
  std::string detail = absl::StrCat(ToAbsl(what), ": ", errmsg);
  if (sys_errno != 0) absl::StrAppend(&detail, " (", std::strerror(sys_errno), ")");
  const std::string message = absl::StrCat(ToAbsl(path), ": ", detail);
  // SQLite reports ENOSPC as SQLITE_FULL; a quota or file size limit (EDQUOT, EFBIG) comes
  // as SQLITE_IOERR_WRITE but means the same to an operator.
  if (primary == SQLITE_FULL ||
      (primary == SQLITE_IOERR &&
       (sys_errno == ENOSPC || sys_errno == EDQUOT || sys_errno == EFBIG))) {
    return absl::ResourceExhaustedError(absl::StrCat(ToAbsl(path), ": disk full: ", detail));
  }
  switch (primary) {
    case SQLITE_NOMEM:
      return absl::ResourceExhaustedError(message);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::PermissionDeniedError(message);
    case SQLITE_CANTOPEN:
      if (op != Op::kWrite && (sys_errno == ENOENT || sys_errno == ENOTDIR)) {
        return absl::NotFoundError(message);
      }
      return absl::PermissionDeniedError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL:
    case SQLITE_IOERR:
      return absl::UnavailableError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    case SQLITE_CONSTRAINT:  // CHECK (json_valid(...)), NOT NULL
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

std::string ColumnText(sqlite3_stmt* stmt, int col) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
  if (text == nullptr) return std::string();
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
}

Db::~Db() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

void DisableMemoryStatistics() { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

absl::Status Db::Open(std::string_view path, bool read_only) {
  path_ = std::string(path);
  read_only_ = read_only;
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "open", Op::kOpen);
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  if (!read_only && sqlite3_db_readonly(db_, "main") == 1) {
    // SQLite silently falls back to read-only when the file is not writable.
    return absl::PermissionDeniedError(absl::StrCat(path_, ": open: database file is read-only"));
  }
  return absl::OkStatus();
}

absl::Status Db::Exec(const char* sql, std::string_view what, Op op) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, what, op);
  return absl::OkStatus();
}

absl::Status Db::Prepare(const char* sql, Stmt& out, Op op) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(
        rc, absl::StrCat("prepare \"", ToAbsl(std::string_view(sql).substr(0, 40)), "...\""), op);
  }
  out.reset(stmt);
  return absl::OkStatus();
}

absl::Status Db::StepDone(sqlite3_stmt* stmt, std::string_view what, Op op) {
  StmtScope scope(stmt);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  if (rc == SQLITE_DONE) return absl::OkStatus();
  return Error(rc, what, op);
}

absl::StatusOr<int64_t> Db::QueryInt(const char* sql, std::string_view what, Op op) {
  Stmt stmt;
  if (absl::Status s = Prepare(sql, stmt, op); !s.ok()) return s;
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return Error(rc, what, op);
  return sqlite3_column_int64(stmt.get(), 0);
}

std::unique_ptr<WalCheckpointer> WalCheckpointer::Start(const std::string& path, Options options) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  // A connection reads the file lazily; until it has, it does not know the file is in
  // WAL mode and its checkpoints do nothing. Ask.
  bool wal = false;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      wal = mode != nullptr && std::string_view(mode) == "wal";
    }
    sqlite3_finalize(stmt);
  }
  if (!wal) {
    sqlite3_close_v2(db);
    return nullptr;
  }
  options.request_pages = std::max(options.request_pages, 1);
  options.restart_pages = std::max(options.restart_pages, 1);
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(db, options));
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_close_v2(db_);
}

int WalCheckpointer::OnCommit(void* self, sqlite3*, const char*, int wal_pages) {
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  const Options& options = checkpointer->options_;
  if (wal_pages < checkpointer->last_pages_) {  // the WAL started over
    checkpointer->next_request_ = options.request_pages;
    checkpointer->next_restart_ = options.restart_pages;
  }
  checkpointer->last_pages_ = wal_pages;
  if (wal_pages >= checkpointer->next_restart_) {
    const bool copied_all = checkpointer->Checkpoint();
    // A reader keeps frames from being copied and the WAL from starting over: leave the
    // copying to the thread, and wait in a commit again only restart_pages later.
    checkpointer->next_restart_ =
        wal_pages + (copied_all ? options.request_pages : options.restart_pages);
    checkpointer->next_request_ = wal_pages + options.request_pages;
  } else if (wal_pages >= checkpointer->next_request_) {
    checkpointer->next_request_ = wal_pages + options.request_pages;
    checkpointer->Request();
  }
  return SQLITE_OK;
}

bool WalCheckpointer::Checkpoint() {
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  // PASSIVE: copies what it can without waiting for the writer; a failure (busy, disk
  // full) loses nothing, the frames stay in the WAL for the next attempt or the close.
  int frames = -1, copied = -1;
  const int rc =
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
  return rc == SQLITE_OK && copied == frames;
}

void WalCheckpointer::Request() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requested_ = true;
  }
  wake_.notify_one();
}

void WalCheckpointer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return requested_ || stop_; });
    if (stop_) return;
    requested_ = false;
    lock.unlock();
    Checkpoint();
    lock.lock();
  }
}

}  // namespace bonafide::engine::sqlite
