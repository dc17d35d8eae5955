// SqliteOutbox: the default CaseSink, an SQLite database in WAL mode.
//
// Layout and guarantees are documented in docs/outbox-format.md; keep the two in step.
// In short: one `BEGIN IMMEDIATE` ... `COMMIT` per Write(); per record, look the case up
// by case_key and then insert it (+ case.opened), update it (+ case.updated) or only
// refresh last_seen_at. Every statement is prepared once in Open() and reused.
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include <sqlite3.h>

#include "bonafide/sink.h"
#include "util/hash.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide {
namespace {

// Version stored in PRAGMA user_version; bump it (and add a migration) on schema changes.
constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 5000;

// The whole schema; run once, inside the transaction that sets user_version.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS cases (
  case_key      TEXT PRIMARY KEY NOT NULL,
  rights_holder TEXT NOT NULL,
  marketplace   TEXT NOT NULL,
  listing_id    TEXT NOT NULL,
  seller_id     TEXT NOT NULL,
  score         REAL NOT NULL,
  reasons       TEXT NOT NULL CONSTRAINT reasons_is_json CHECK (json_valid(reasons)),
  evidence      TEXT NOT NULL CONSTRAINT evidence_is_json CHECK (json_valid(evidence)),
  fingerprint   TEXT NOT NULL,
  revision      INTEGER NOT NULL DEFAULT 1,
  status        TEXT NOT NULL DEFAULT 'pending',
  first_seen_at TEXT NOT NULL,
  last_seen_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_by_rights_holder ON cases (rights_holder);
CREATE TABLE IF NOT EXISTS events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  event_key     TEXT NOT NULL UNIQUE,
  rights_holder TEXT NOT NULL,
  case_key      TEXT NOT NULL,
  type          TEXT NOT NULL,
  payload       TEXT NOT NULL,
  created_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_rights_holder ON events (rights_holder, id);
CREATE TABLE IF NOT EXISTS scan_checkpoints (
  run           TEXT NOT NULL,
  input         TEXT NOT NULL,
  identity      TEXT NOT NULL,
  byte_offset   INTEGER NOT NULL,
  line          INTEGER NOT NULL,
  rejects_bytes INTEGER NOT NULL,
  done          INTEGER NOT NULL,
  updated_at    TEXT NOT NULL,
  PRIMARY KEY (run, input)
);
PRAGMA user_version = 1;
)sql";

constexpr const char* kSelectCaseSql =
    "SELECT fingerprint, revision FROM cases WHERE case_key = ?1";
constexpr const char* kInsertCaseSql =
    "INSERT INTO cases (case_key, rights_holder, marketplace, listing_id, seller_id, score,"
    " reasons, evidence, fingerprint, revision, status, first_seen_at, last_seen_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, 'pending', ?10, ?10)";
constexpr const char* kUpdateCaseSql =
    "UPDATE cases SET seller_id = ?2, score = ?3, reasons = ?4, evidence = ?5,"
    " fingerprint = ?6, revision = ?7, last_seen_at = ?8 WHERE case_key = ?1";
constexpr const char* kTouchCaseSql = "UPDATE cases SET last_seen_at = ?2 WHERE case_key = ?1";
// An event_key seen before means this very event was already emitted: skip it.
constexpr const char* kInsertEventSql =
    "INSERT INTO events (event_key, rights_holder, case_key, type, payload, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (event_key) DO NOTHING";
constexpr const char* kUpsertCheckpointSql =
    "INSERT INTO scan_checkpoints (run, input, identity, byte_offset, line, rejects_bytes,"
    " done, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    " ON CONFLICT (run, input) DO UPDATE SET identity = ?3, byte_offset = ?4, line = ?5,"
    " rejects_bytes = ?6, done = ?7, updated_at = ?8";
constexpr const char* kListCheckpointsSql =
    "SELECT run, input, identity, byte_offset, line, rejects_bytes, done"
    " FROM scan_checkpoints WHERE run = ?1 ORDER BY input";
constexpr const char* kClearCheckpointsSql = "DELETE FROM scan_checkpoints WHERE run = ?1";
constexpr const char* kListCasesSql =
    "SELECT case_key, rights_holder, marketplace, listing_id, seller_id, score, reasons,"
    " evidence, status, first_seen_at, last_seen_at FROM cases"
    " WHERE ?1 IS NULL OR rights_holder = ?1 ORDER BY case_key";
constexpr const char* kListEventsSql =
    "SELECT id, rights_holder, case_key, type, payload, created_at FROM events"
    " WHERE ?1 IS NULL OR rights_holder = ?1 ORDER BY id";

// ---------------------------------------------------------------------------------------
// Error translation: the one place that maps SQLite result codes to absl::Status.

enum class Op { kOpen, kRead, kWrite };

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

// Returns the content fingerprint: Hasher128 (util/hash.h) over the fields seller_id,
// score, reasons and evidence. Everything that an event payload or a rights holder's view
// depends on besides the key.
std::string Fingerprint(std::string_view seller_id, std::string_view score,
                        std::string_view reasons, std::string_view evidence) {
  Hasher128 hasher;
  for (std::string_view field : {seller_id, score, reasons, evidence}) hasher.Add(field);
  return hasher.Hex();
}

// Returns the current time as ISO 8601 UTC with milliseconds: 2024-05-01T12:34:56.789Z.
std::string NowIso8601() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char buf[80];  // large enough for any int fields, which keeps -Wformat-truncation quiet
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm_utc.tm_year + 1900,
                tm_utc.tm_mon + 1, tm_utc.tm_mday, tm_utc.tm_hour, tm_utc.tm_min, tm_utc.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

void AppendPercentEncoded(std::string_view s, std::string& out) {
  for (char c : s) {
    if (c == '%') {
      out.append("%25");
    } else if (c == ':') {
      out.append("%3A");
    } else {
      out.push_back(c);
    }
  }
}

// Builds the event payload: {"case_key":..,"rights_holder":..,"marketplace":..,
// "listing_id":..,"seller_id":..,"score":..,"reasons":<JSON value>,"revision":..}.
// REQUIRES: `reasons` is valid JSON (checked by the cases table before this runs).
std::string EventPayload(std::string_view case_key, const CaseRecord& c, std::string_view score,
                         std::string_view reasons, int64_t revision) {
  std::string out;
  out.reserve(128 + case_key.size() * 2 + reasons.size());
  JsonObject(out)
      .String("case_key", case_key)
      .String("rights_holder", c.rights_holder)
      .String("marketplace", c.marketplace)
      .String("listing_id", c.listing_id)
      .String("seller_id", c.seller_id)
      .Raw("score", score)
      .Raw("reasons", reasons)
      .Int("revision", revision)
      .Close();
  return out;
}

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
int BindText(sqlite3_stmt* stmt, int index, std::string_view s) {
  return sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
}

std::string ColumnText(sqlite3_stmt* stmt, int col) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
  if (text == nullptr) return std::string();
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
}

}  // namespace

// Checkpoints the WAL on a thread and connection of its own. SQLite's automatic checkpoint
// runs inside the writer's commit: it copies the WAL into the database file and calls
// fdatasync twice, tens of milliseconds on a VM disk every 1000 pages, during which the
// scan's serial sink stage, and soon the whole pipeline, waits (measured: 15% of a 1-thread
// scan, 0.8 s of idle core time in a 1.9 s 2-thread scan). A passive checkpoint from another
// connection runs beside the writer's commits instead.
class WalCheckpointer {
 public:
  // WAL pages after a commit that call for a checkpoint (SQLite's own default).
  static constexpr int kPages = 1000;

  // Returns null when the second connection cannot be opened (the writer then keeps
  // SQLite's automatic checkpoints).
  static std::unique_ptr<WalCheckpointer> Start(const std::string& path) {
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
    return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(db));
  }

  // Stops the thread and closes its connection; what is left in the WAL is checkpointed by
  // the writer's close (the last connection to a database checkpoints it).
  ~WalCheckpointer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
    sqlite3_close_v2(db_);
  }

  // The writer connection's WAL hook: called after every commit, on the writer's thread.
  // Asks for a checkpoint each time the WAL has grown by kPages: while the writer keeps
  // committing, a passive checkpoint never lets the WAL start over, so its size alone
  // would ask after every commit.
  static int OnCommit(void* self, sqlite3*, const char*, int wal_pages) {
    auto* checkpointer = static_cast<WalCheckpointer*>(self);
    if (wal_pages < checkpointer->last_pages_) checkpointer->next_request_ = kPages;  // restarted
    checkpointer->last_pages_ = wal_pages;
    if (wal_pages >= checkpointer->next_request_) {
      checkpointer->next_request_ = wal_pages + kPages;
      checkpointer->Request();
    }
    return SQLITE_OK;
  }

 private:
  explicit WalCheckpointer(sqlite3* db) : db_(db), thread_([this] { Run(); }) {}

  void Request() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      requested_ = true;
    }
    wake_.notify_one();
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      wake_.wait(lock, [this] { return requested_ || stop_; });
      if (stop_) return;
      requested_ = false;
      lock.unlock();
      // PASSIVE: copies what it can without waiting for the writer; a failure (busy, disk
      // full) loses nothing, the frames stay in the WAL for the next attempt or the close.
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
  }

  sqlite3* const db_;
  int last_pages_ = 0;         // WAL size at the last commit (writer's thread only)
  int next_request_ = kPages;  // WAL size that asks for the next checkpoint (idem)
  std::mutex mu_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

// ---------------------------------------------------------------------------------------

struct SqliteOutbox::Impl {
  std::string path;
  bool read_only = false;
  sqlite3* db = nullptr;
  std::unique_ptr<WalCheckpointer> checkpointer;  // null: SQLite's own checkpoints
  Stmt select_case, insert_case, update_case, touch_case, insert_event, upsert_checkpoint,
      list_checkpoints, clear_checkpoints;
  Stmt list_cases, list_events;
  Stmt begin, commit, rollback;

  ~Impl() {
    checkpointer.reset();  // before the writer's close, which then checkpoints the rest
    // Statements must go before the connection.
    for (Stmt* s : {&select_case, &insert_case, &update_case, &touch_case, &insert_event,
                    &upsert_checkpoint, &list_checkpoints, &clear_checkpoints, &list_cases,
                    &list_events, &begin, &commit, &rollback}) {
      s->reset();
    }
    if (db != nullptr) sqlite3_close_v2(db);
  }

  absl::Status Error(int code, std::string_view what, Op op) const {
    return SqliteError(code, db, path, what, op);
  }

  absl::Status Exec(const char* sql, std::string_view what, Op op) {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return Error(rc, what, op);
    return absl::OkStatus();
  }

  absl::Status Prepare(const char* sql, Stmt& out, Op op) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return Error(rc, "prepare", op);
    }
    out.reset(stmt);
    return absl::OkStatus();
  }

  // Runs a statement that returns no rows (or whose rows do not matter).
  absl::Status StepDone(sqlite3_stmt* stmt, std::string_view what) {
    return StepDone(stmt, what, {});
  }
  // For a statement on one case: the message names the case, and is built only on failure
  // (every case runs several statements).
  absl::Status StepDone(sqlite3_stmt* stmt, std::string_view what, std::string_view case_key) {
    StmtScope scope(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc == SQLITE_DONE) return absl::OkStatus();
    if (case_key.empty()) return Error(rc, what, Op::kWrite);
    return Error(rc, absl::StrCat("case \"", ToAbsl(case_key), "\": ", ToAbsl(what)), Op::kWrite);
  }

  absl::StatusOr<int> UserVersion(Op op) {
    Stmt stmt;
    BONAFIDE_RETURN_IF_ERROR(Prepare("PRAGMA user_version", stmt, op));
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) return Error(rc, "read schema version", op);
    return sqlite3_column_int(stmt.get(), 0);
  }

  // Creates the schema in an empty database; checks the version of an existing one.
  absl::Status EnsureSchema() {
    BONAFIDE_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE", "begin schema transaction", Op::kOpen));
    absl::Status status = EnsureSchemaInTransaction();
    if (status.ok()) {
      status = Exec("COMMIT", "commit schema", Op::kOpen);
    }
    if (!status.ok() && !sqlite3_get_autocommit(db)) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    return status;
  }

  absl::Status EnsureSchemaInTransaction() {
    BONAFIDE_ASSIGN_OR_RETURN(const int version, UserVersion(Op::kOpen));
    if (version == kSchemaVersion) return absl::OkStatus();
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(path, ": outbox schema version ", version,
                                                        " is newer than this build supports (",
                                                        kSchemaVersion, ")"));
    }
    // Version 0: either a fresh file or somebody else's database.
    Stmt count;
    BONAFIDE_RETURN_IF_ERROR(Prepare(
        "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'", count, Op::kOpen));
    const int rc = sqlite3_step(count.get());
    if (rc != SQLITE_ROW) return Error(rc, "read schema", Op::kOpen);
    if (sqlite3_column_int(count.get(), 0) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": not a bonafide outbox (has tables but no schema version)"));
    }
    count.reset();
    return Exec(kSchemaSql, "create schema", Op::kOpen);
  }

  absl::Status PrepareAll() {
    BONAFIDE_RETURN_IF_ERROR(Prepare(kListCasesSql, list_cases, Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(Prepare(kListEventsSql, list_events, Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(Prepare(kListCheckpointsSql, list_checkpoints, Op::kOpen));
    if (read_only) return absl::OkStatus();
    BONAFIDE_RETURN_IF_ERROR(Prepare(kSelectCaseSql, select_case, Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(Prepare(kInsertCaseSql, insert_case, Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(Prepare(kUpdateCaseSql, update_case, Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(Prepare(kTouchCaseSql, touch_case, Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(Prepare(kInsertEventSql, insert_event, Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(Prepare(kUpsertCheckpointSql, upsert_checkpoint, Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(Prepare(kClearCheckpointsSql, clear_checkpoints, Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(Prepare("BEGIN IMMEDIATE", begin, Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(Prepare("COMMIT", commit, Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(Prepare("ROLLBACK", rollback, Op::kOpen));
    return absl::OkStatus();
  }

  // Opens the connection and applies per-connection settings.
  static absl::StatusOr<std::unique_ptr<Impl>> Connect(std::string_view path, bool read_only) {
    auto impl = std::make_unique<Impl>();
    impl->path = std::string(path);
    impl->read_only = read_only;
    const int flags =
        (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
        SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    const int rc = sqlite3_open_v2(impl->path.c_str(), &impl->db, flags, nullptr);
    if (rc != SQLITE_OK) return impl->Error(rc, "open", Op::kOpen);
    sqlite3_extended_result_codes(impl->db, 1);
    sqlite3_busy_timeout(impl->db, kBusyTimeoutMs);
    if (!read_only && sqlite3_db_readonly(impl->db, "main") == 1) {
      // SQLite silently falls back to read-only when the file is not writable.
      return absl::PermissionDeniedError(
          absl::StrCat(impl->path, ": open: database file is read-only"));
    }
    return impl;
  }

  // Sets WAL mode (persistent in the file) and synchronous=NORMAL (per connection).
  absl::Status SetJournalMode() {
    Stmt stmt;
    BONAFIDE_RETURN_IF_ERROR(Prepare("PRAGMA journal_mode = WAL", stmt, Op::kOpen));
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) return Error(rc, "set journal_mode=WAL", Op::kOpen);
    const std::string mode = ColumnText(stmt.get(), 0);
    stmt.reset();
    const bool in_memory =
        sqlite3_db_filename(db, "main") == nullptr || *sqlite3_db_filename(db, "main") == '\0';
    if (mode != "wal" && !in_memory) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": cannot switch to WAL mode (journal_mode is ", mode, ")"));
    }
    return Exec("PRAGMA synchronous = NORMAL", "set synchronous=NORMAL", Op::kOpen);
  }

  // One record inside Write()'s transaction.
  absl::Status WriteOne(const CaseRecord& c, std::string_view now, OutboxWriteStats& stats) {
    // The rights holder comes from the rules and is never empty unless something is broken.
    // Marketplace and listing id come from input data: an empty one still makes a unique
    // key, and one odd listing must not fail a whole batch.
    if (c.rights_holder.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": case \":", c.marketplace, ":",
                                                     c.listing_id,
                                                     "\": rights_holder must not be empty"));
    }
    const std::string case_key = CaseKey(c.rights_holder, c.marketplace, c.listing_id);
    if (!std::isfinite(c.score)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": case \"", case_key, "\": score is not finite"));
    }
    // Both branches std::string_view: a `? "[]" : std::string` would make a temporary.
    const std::string_view reasons =
        c.reasons_json.empty() ? std::string_view("[]") : std::string_view(c.reasons_json);
    const std::string_view evidence =
        c.evidence_json.empty() ? std::string_view("{}") : std::string_view(c.evidence_json);
    const std::string score = FormatDecimal(c.score);
    const std::string fingerprint = Fingerprint(c.seller_id, score, reasons, evidence);

    // Look the case up.
    std::optional<std::string> old_fingerprint;
    int64_t revision = 0;
    {
      sqlite3_stmt* stmt = select_case.get();
      StmtScope scope(stmt);
      BindText(stmt, 1, case_key);
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) {
        old_fingerprint = ColumnText(stmt, 0);
        revision = sqlite3_column_int64(stmt, 1);
      } else if (rc != SQLITE_DONE) {
        return Error(rc, absl::StrCat("case \"", case_key, "\": look up"), Op::kWrite);
      }
    }

    if (old_fingerprint == fingerprint) {
      sqlite3_stmt* stmt = touch_case.get();
      BindText(stmt, 1, case_key);
      BindText(stmt, 2, now);
      BONAFIDE_RETURN_IF_ERROR(StepDone(stmt, "touch", case_key));
      ++stats.unchanged;
      return absl::OkStatus();
    }

    const bool opened = !old_fingerprint.has_value();
    revision = opened ? 1 : revision + 1;
    if (opened) {
      sqlite3_stmt* stmt = insert_case.get();
      BindText(stmt, 1, case_key);
      BindText(stmt, 2, c.rights_holder);
      BindText(stmt, 3, c.marketplace);
      BindText(stmt, 4, c.listing_id);
      BindText(stmt, 5, c.seller_id);
      sqlite3_bind_double(stmt, 6, c.score);
      BindText(stmt, 7, reasons);
      BindText(stmt, 8, evidence);
      BindText(stmt, 9, fingerprint);
      BindText(stmt, 10, now);
      BONAFIDE_RETURN_IF_ERROR(StepDone(stmt, "insert", case_key));
      ++stats.opened;
    } else {
      sqlite3_stmt* stmt = update_case.get();
      BindText(stmt, 1, case_key);
      BindText(stmt, 2, c.seller_id);
      sqlite3_bind_double(stmt, 3, c.score);
      BindText(stmt, 4, reasons);
      BindText(stmt, 5, evidence);
      BindText(stmt, 6, fingerprint);
      sqlite3_bind_int64(stmt, 7, revision);
      BindText(stmt, 8, now);
      BONAFIDE_RETURN_IF_ERROR(StepDone(stmt, "update", case_key));
      ++stats.updated;
    }

    // The case row's CHECK constraint has validated `reasons` as JSON by now.
    const std::string event_key = absl::StrCat(case_key, ":", fingerprint, ":", revision);
    const std::string payload = EventPayload(case_key, c, score, reasons, revision);
    sqlite3_stmt* stmt = insert_event.get();
    BindText(stmt, 1, event_key);
    BindText(stmt, 2, c.rights_holder);
    BindText(stmt, 3, case_key);
    BindText(stmt, 4, opened ? "case.opened" : "case.updated");
    BindText(stmt, 5, payload);
    BindText(stmt, 6, now);
    return StepDone(stmt, "insert event", case_key);
  }
};

SqliteOutbox::SqliteOutbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteOutbox::~SqliteOutbox() = default;

absl::StatusOr<std::unique_ptr<SqliteOutbox>> SqliteOutbox::Open(std::string_view path) {
  BONAFIDE_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl, Impl::Connect(path, false));
  BONAFIDE_RETURN_IF_ERROR(impl->SetJournalMode());
  BONAFIDE_RETURN_IF_ERROR(impl->EnsureSchema());
  BONAFIDE_RETURN_IF_ERROR(impl->PrepareAll());
  const char* file = sqlite3_db_filename(impl->db, "main");
  if (file != nullptr && *file != '\0') {  // not in memory: the file is in WAL mode
    impl->checkpointer = WalCheckpointer::Start(impl->path);
    // Replaces SQLite's automatic checkpoint, which is a WAL hook too.
    if (impl->checkpointer != nullptr) {
      sqlite3_wal_hook(impl->db, &WalCheckpointer::OnCommit, impl->checkpointer.get());
    }
  }
  return std::unique_ptr<SqliteOutbox>(new SqliteOutbox(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<SqliteOutbox>> SqliteOutbox::OpenReadOnly(std::string_view path) {
  const std::string path_str(path);
  struct stat st;
  if (::stat(path_str.c_str(), &st) != 0) {
    const int err = errno;
    const std::string message = absl::StrCat(path_str, ": open: ", std::strerror(err));
    if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  BONAFIDE_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl, Impl::Connect(path, true));
  BONAFIDE_ASSIGN_OR_RETURN(const int version, impl->UserVersion(Op::kRead));
  if (version != kSchemaVersion) {
    return absl::FailedPreconditionError(
        version == 0 ? absl::StrCat(path_str, ": not a bonafide outbox (no schema version)")
                     : absl::StrCat(path_str, ": outbox schema version ", version,
                                    " is not supported (expected ", kSchemaVersion, ")"));
  }
  BONAFIDE_RETURN_IF_ERROR(impl->PrepareAll());
  return std::unique_ptr<SqliteOutbox>(new SqliteOutbox(std::move(impl)));
}

absl::StatusOr<OutboxWriteStats> SqliteOutbox::Write(const std::vector<CaseRecord>& cases,
                                                     const ScanCheckpoint* checkpoint) {
  Impl& impl = *impl_;
  if (impl.read_only) {
    return absl::PermissionDeniedError(
        absl::StrCat(impl.path, ": write: outbox was opened read-only"));
  }
  OutboxWriteStats stats;
  if (cases.empty() && checkpoint == nullptr) return stats;

  BONAFIDE_RETURN_IF_ERROR(impl.StepDone(impl.begin.get(), "begin transaction"));
  const std::string now = NowIso8601();
  absl::Status status;
  for (const CaseRecord& c : cases) {
    status = impl.WriteOne(c, now, stats);
    if (!status.ok()) break;
  }
  if (status.ok() && checkpoint != nullptr) {
    sqlite3_stmt* stmt = impl.upsert_checkpoint.get();
    BindText(stmt, 1, checkpoint->run);
    BindText(stmt, 2, checkpoint->input);
    BindText(stmt, 3, checkpoint->identity);
    sqlite3_bind_int64(stmt, 4, static_cast<int64_t>(checkpoint->byte_offset));
    sqlite3_bind_int64(stmt, 5, static_cast<int64_t>(checkpoint->line));
    sqlite3_bind_int64(stmt, 6, static_cast<int64_t>(checkpoint->rejects_bytes));
    sqlite3_bind_int(stmt, 7, checkpoint->done ? 1 : 0);
    BindText(stmt, 8, now);
    status = impl.StepDone(stmt, absl::StrCat("checkpoint of \"", checkpoint->input, "\""));
  }
  if (status.ok()) status = impl.StepDone(impl.commit.get(), "commit");
  if (!status.ok()) {
    // SQLite may already have rolled back (e.g. SQLITE_FULL); then there is nothing to do.
    if (!sqlite3_get_autocommit(impl.db)) {
      impl.StepDone(impl.rollback.get(), "rollback").IgnoreError();
    }
    return status;
  }
  return stats;
}

absl::StatusOr<std::vector<ScanCheckpoint>> SqliteOutbox::LoadCheckpoints(std::string_view run) {
  sqlite3_stmt* stmt = impl_->list_checkpoints.get();
  StmtScope scope(stmt);
  BindText(stmt, 1, run);
  std::vector<ScanCheckpoint> out;
  while (true) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return impl_->Error(rc, "list checkpoints", Op::kRead);
    ScanCheckpoint c;
    c.run = ColumnText(stmt, 0);
    c.input = ColumnText(stmt, 1);
    c.identity = ColumnText(stmt, 2);
    c.byte_offset = static_cast<uint64_t>(sqlite3_column_int64(stmt, 3));
    c.line = static_cast<uint64_t>(sqlite3_column_int64(stmt, 4));
    c.rejects_bytes = static_cast<uint64_t>(sqlite3_column_int64(stmt, 5));
    c.done = sqlite3_column_int(stmt, 6) != 0;
    out.push_back(std::move(c));
  }
  return out;
}

absl::Status SqliteOutbox::ClearCheckpoints(std::string_view run) {
  if (impl_->read_only) return absl::OkStatus();
  sqlite3_stmt* stmt = impl_->clear_checkpoints.get();
  BindText(stmt, 1, run);
  return impl_->StepDone(stmt, "clear checkpoints");
}

absl::StatusOr<std::vector<StoredCase>> SqliteOutbox::ListCases(
    std::optional<std::string_view> rights_holder) const {
  sqlite3_stmt* stmt = impl_->list_cases.get();
  StmtScope scope(stmt);
  if (rights_holder.has_value()) BindText(stmt, 1, *rights_holder);
  std::vector<StoredCase> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    StoredCase& c = out.emplace_back();
    c.case_key = ColumnText(stmt, 0);
    c.rights_holder = ColumnText(stmt, 1);
    c.marketplace = ColumnText(stmt, 2);
    c.listing_id = ColumnText(stmt, 3);
    c.seller_id = ColumnText(stmt, 4);
    c.score = sqlite3_column_double(stmt, 5);
    c.reasons_json = ColumnText(stmt, 6);
    c.evidence_json = ColumnText(stmt, 7);
    c.status = ColumnText(stmt, 8);
    c.first_seen_at = ColumnText(stmt, 9);
    c.last_seen_at = ColumnText(stmt, 10);
  }
  if (rc != SQLITE_DONE) return impl_->Error(rc, "list cases", Op::kRead);
  return out;
}

absl::StatusOr<std::vector<StoredEvent>> SqliteOutbox::ListEvents(
    std::optional<std::string_view> rights_holder) const {
  sqlite3_stmt* stmt = impl_->list_events.get();
  StmtScope scope(stmt);
  if (rights_holder.has_value()) BindText(stmt, 1, *rights_holder);
  std::vector<StoredEvent> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    StoredEvent& e = out.emplace_back();
    e.id = sqlite3_column_int64(stmt, 0);
    e.rights_holder = ColumnText(stmt, 1);
    e.case_key = ColumnText(stmt, 2);
    e.type = ColumnText(stmt, 3);
    e.payload_json = ColumnText(stmt, 4);
    e.created_at = ColumnText(stmt, 5);
  }
  if (rc != SQLITE_DONE) return impl_->Error(rc, "list events", Op::kRead);
  return out;
}

std::string SqliteOutbox::CaseKey(std::string_view rights_holder, std::string_view marketplace,
                                  std::string_view listing_id) {
  std::string key;
  key.reserve(rights_holder.size() + marketplace.size() + listing_id.size() + 2);
  key.append(rights_holder);
  key.push_back(':');
  AppendPercentEncoded(marketplace, key);
  key.push_back(':');
  AppendPercentEncoded(listing_id, key);
  return key;
}

}  // namespace bonafide
