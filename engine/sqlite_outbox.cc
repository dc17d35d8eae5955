// The SQLite outbox: an Outbox (include/bonafide/outbox.h) in a database file in WAL mode.
//
// Layout and guarantees are documented in docs/outbox-format.md; keep the two in step. In
// short: a scan's Write() stores each case's content and marks what changed for its run
// (to_publish); Publish(run) compares every marked case with what was last announced
// (announcements) and emits one event for each difference. A verdict is recorded and
// announced in one transaction.
#include "engine/sqlite_outbox.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "bonafide/outbox.h"
#include "engine/case_json_check.h"
#include "engine/case_lifecycle.h"
#include "engine/outbox_schema.h"
#include "engine/sqlite_db.h"
#include "util/hash.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide::engine {
namespace {

using sqlite::BindText;
using sqlite::ColumnText;
using sqlite::Db;
using sqlite::Op;
using sqlite::Stmt;
using sqlite::StmtScope;

// --- SQL ---------------------------------------------------------------------------------

// ?2: the run being written. The last column: the case is marked for that run.
constexpr const char* kSelectCaseForWriteSql =
    "SELECT c.id, c.fingerprint, c.status, c.signals,"
    " (SELECT signals FROM verdicts v WHERE v.case_key = ?1 ORDER BY id DESC LIMIT 1),"
    " (SELECT a.status FROM announcements a WHERE a.case_id = c.id),"
    " EXISTS (SELECT 1 FROM to_publish p WHERE p.run = ?2 AND p.case_id = c.id)"
    " FROM cases c WHERE c.case_key = ?1";
constexpr const char* kInsertCaseSql =
    "INSERT INTO cases (case_key, rights_holder, marketplace, listing_id, seller_id, score,"
    " reasons, evidence, signals, fingerprint, material, status, first_seen_at, last_seen_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending', ?12, ?12)";
constexpr const char* kUpdateCaseSql =
    "UPDATE cases SET seller_id = ?2, score = ?3, reasons = ?4, evidence = ?5, signals = ?6,"
    " fingerprint = ?7, material = ?8, last_seen_at = ?9, status = ?10 WHERE id = ?1";
constexpr const char* kTouchCaseSql = "UPDATE cases SET last_seen_at = ?2 WHERE id = ?1";
// What a rescan does to an unchanged pending case that this run has not marked (Rescan()
// keeps its status and asks for no event): it only records that it was seen. One statement
// instead of the lookup and the touch; no row changed: the case needs the lookup.
// ?1 case key, ?2 fingerprint, ?3 now, ?4 run.
constexpr const char* kTouchUnchangedSql =
    "UPDATE cases SET last_seen_at = ?3 WHERE case_key = ?1 AND fingerprint = ?2"
    " AND status = 'pending'"
    " AND NOT EXISTS (SELECT 1 FROM to_publish p WHERE p.run = ?4 AND p.case_id = cases.id)";
// Marks a case for the run's publication (?1 run, ?2 case id).
constexpr const char* kMarkSql = "INSERT OR IGNORE INTO to_publish (run, case_id) VALUES (?1, ?2)";
constexpr const char* kPendingOfListingSql =
    "SELECT id, case_key FROM cases WHERE marketplace = ?1 AND listing_id = ?2"
    " AND status = 'pending'";
// A rejected case that an earlier record of this run reopened goes back to rejected: the
// listing's last record wins, and a scan never overwrites a verdict.
constexpr const char* kCloseCaseSql =
    "UPDATE cases SET status = CASE WHEN"
    " EXISTS (SELECT 1 FROM to_publish p WHERE p.run = ?2 AND p.case_id = ?1)"
    " AND (SELECT a.status FROM announcements a WHERE a.case_id = ?1) = 'rejected'"
    " THEN 'rejected' ELSE 'closed' END, last_seen_at = ?3 WHERE id = ?1";
constexpr const char* kPendingListingsSql =
    "SELECT marketplace, listing_id FROM cases WHERE status = 'pending'";

constexpr const char* kDirtyCasesSql =
    "SELECT c.id, c.case_key, c.rights_holder, c.marketplace, c.listing_id, c.seller_id,"
    " c.score, c.reasons, c.status, c.material, a.status, a.material, coalesce(a.revision, 0)"
    " FROM to_publish p JOIN cases c ON c.id = p.case_id"
    " LEFT JOIN announcements a ON a.case_id = p.case_id"
    " WHERE p.run = ?1 ORDER BY p.case_id LIMIT 1000";
// A published chunk's marks, in one statement (?2: the chunk's last case id).
constexpr const char* kUnmarkChunkSql = "DELETE FROM to_publish WHERE run = ?1 AND case_id <= ?2";
constexpr const char* kDeleteCaseSql = "DELETE FROM cases WHERE id = ?1";
// Marks of other, unfinished runs too: they must not outlive the case.
constexpr const char* kUnmarkEverywhereSql = "DELETE FROM to_publish WHERE case_id = ?1";
// A publication writes its events and announcements this many rows per statement, the
// rest of a chunk one by one: every statement has its own start and halt, which cost about
// as much as writing the row (and for events AUTOINCREMENT reads and writes sqlite_sequence
// once per statement), while compiling a statement costs about 20k instructions per row of
// its VALUES, once per connection. 16 rows: a scan of 500 cases (8 per 1,000 listings) saves
// more than it compiles, and a scan of 10,000 loses less than 0.02% to 64.
constexpr int kRowsPerStatement = 16;

// `head` VALUES (...), ... `tail` for `rows` rows of `row_params` parameters each, numbered
// from `first_param` on; `row_end` closes each row (e.g. ",?1)" for a parameter they share).
std::string ValuesSql(std::string_view head, int rows, int first_param, int row_params,
                      std::string_view row_end, std::string_view tail) {
  std::string sql = absl::StrCat(ToAbsl(head), " VALUES ");
  for (int i = 0; i < rows; ++i) {
    sql += i == 0 ? "(" : ",(";
    for (int k = 0; k < row_params; ++k) {
      absl::StrAppend(&sql, k == 0 ? "?" : ",?", first_param + row_params * i + k);
    }
    sql += row_end;
  }
  sql += tail;
  return sql;
}

// An INSERT of `rows` events: ?1 the time, then five parameters per row (event_key,
// rights_holder, case_key, type, payload), rows in id order. An event_key seen before means
// this very event was already emitted: that row is skipped.
std::string InsertEventsSql(int rows) {
  return ValuesSql(
      "INSERT INTO events (event_key, rights_holder, case_key, type, payload, created_at)", rows, 2,
      5, ",?1)", " ON CONFLICT (event_key) DO NOTHING");
}

// The announcements of `rows` cases: four parameters per row (case_id, status, material,
// revision).
std::string UpsertAnnouncementsSql(int rows) {
  return ValuesSql("INSERT INTO announcements (case_id, status, material, revision)", rows, 1, 4,
                   ")",
                   " ON CONFLICT (case_id) DO UPDATE SET status = excluded.status,"
                   " material = excluded.material, revision = excluded.revision");
}

constexpr const char* kUpsertCheckpointSql =
    "INSERT INTO scan_checkpoints (run, input, identity, byte_offset, line, rejects_bytes,"
    " done, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    " ON CONFLICT (run, input) DO UPDATE SET identity = ?3, byte_offset = ?4, line = ?5,"
    " rejects_bytes = ?6, done = ?7, updated_at = ?8";
constexpr const char* kListCheckpointsSql =
    "SELECT run, input, identity, byte_offset, line, rejects_bytes, done"
    " FROM scan_checkpoints WHERE run = ?1 ORDER BY input";
constexpr const char* kClearCheckpointsSql = "DELETE FROM scan_checkpoints WHERE run = ?1";

// Selected FROM cases (not aliased).
constexpr const char* kCaseColumns =
    "case_key, rights_holder, marketplace, listing_id, seller_id, score, reasons, evidence,"
    " signals, status,"
    " coalesce((SELECT a.revision FROM announcements a WHERE a.case_id = cases.id), 0),"
    " first_seen_at, last_seen_at";
constexpr const char* kEventColumns =
    "id, event_key, rights_holder, case_key, type, payload, created_at";

constexpr const char* kNextDeliverySql =
    "SELECT e.id, e.event_key, e.rights_holder, e.case_key, e.type, e.payload, e.created_at,"
    " coalesce(d.attempts, 0), coalesce(d.next_attempt_ms, 0)"
    " FROM events e LEFT JOIN deliveries d ON d.event_id = e.id"
    " WHERE e.rights_holder = ?1 AND e.id > coalesce("
    "   (SELECT done_through FROM relay_cursors WHERE rights_holder = ?1), 0)"
    " ORDER BY e.id LIMIT 1";

std::string_view StatusText(CaseStatus s) { return CaseStatusName(s); }

CaseStatus StatusFromColumn(sqlite3_stmt* stmt, int col) {
  return ParseCaseStatus(ColumnText(stmt, col)).value_or(CaseStatus::kPending);
}

// Reads the columns of kCaseColumns starting at `col`.
StoredCase ReadCase(sqlite3_stmt* stmt, int col = 0) {
  StoredCase c;
  c.case_key = ColumnText(stmt, col + 0);
  c.rights_holder = ColumnText(stmt, col + 1);
  c.marketplace = ColumnText(stmt, col + 2);
  c.listing_id = ColumnText(stmt, col + 3);
  c.seller_id = ColumnText(stmt, col + 4);
  c.score = sqlite3_column_double(stmt, col + 5);
  c.reasons_json = ColumnText(stmt, col + 6);
  c.evidence_json = ColumnText(stmt, col + 7);
  c.signals = ColumnText(stmt, col + 8);
  c.status = StatusFromColumn(stmt, col + 9);
  c.revision = sqlite3_column_int64(stmt, col + 10);
  c.first_seen_at = ColumnText(stmt, col + 11);
  c.last_seen_at = ColumnText(stmt, col + 12);
  return c;
}

StoredEvent ReadEvent(sqlite3_stmt* stmt) {
  StoredEvent e;
  e.id = sqlite3_column_int64(stmt, 0);
  e.event_key = ColumnText(stmt, 1);
  e.rights_holder = ColumnText(stmt, 2);
  e.case_key = ColumnText(stmt, 3);
  e.type = ColumnText(stmt, 4);
  e.payload_json = EventPayload(ColumnText(stmt, 5), e.case_key, e.rights_holder);
  e.created_at = ColumnText(stmt, 6);
  return e;
}

// A run id no scan uses: the events of a Write with no run are published in its own
// transaction.
constexpr std::string_view kImmediateRun = "\x01immediate";

// Runs a query that returns rows of kEventColumns.
absl::StatusOr<std::vector<StoredEvent>> CollectEvents(Db& db, sqlite3_stmt* stmt) {
  std::vector<StoredEvent> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) out.push_back(ReadEvent(stmt));
  if (rc != SQLITE_DONE) return db.Error(rc, "list events", Op::kRead);
  return out;
}

class SqliteOutbox final : public Outbox {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteOutbox>> Open(std::string_view path,
                                                            OutboxAccess access);
  ~SqliteOutbox() override {
    // Before the writer's close, which then checkpoints the rest.
    if (checkpointer_ != nullptr) sqlite3_wal_hook(db_.get(), nullptr, nullptr);
    checkpointer_.reset();
  }

  absl::StatusOr<OutboxWriteStats> Write(const OutboxBatch& batch) override;
  bool DefersCommits() const override { return true; }
  absl::StatusOr<OutboxWriteStats> Publish(std::string_view run) override;
  absl::StatusOr<std::vector<ScanCheckpoint>> LoadCheckpoints(std::string_view run) override;
  absl::Status ClearCheckpoints(std::string_view run) override;

  absl::StatusOr<std::optional<StoredCase>> GetCase(std::string_view case_key) override;
  absl::StatusOr<CasePage> ListCases(const CaseQuery& query) override;
  absl::StatusOr<std::vector<StoredEvent>> DoListEvents(
      std::optional<std::string_view> rights_holder, int64_t after_id, int limit,
      std::optional<std::string_view> case_key) override;

  absl::StatusOr<StoredCase> RecordVerdict(const VerdictRequest& request) override;
  absl::StatusOr<std::vector<StoredVerdict>> ListVerdicts(std::string_view case_key) override;
  absl::StatusOr<OutboxFeedback> LoadFeedback() override;
  absl::StatusOr<std::vector<PrecisionRow>> PrecisionReport(
      std::optional<std::string_view> rights_holder) override;

  absl::Status CreateToken(const StoredToken& token) override;
  absl::StatusOr<std::optional<StoredToken>> FindToken(std::string_view prefix) override;
  absl::StatusOr<std::vector<StoredToken>> ListTokens() override;
  absl::Status RevokeToken(std::string_view prefix) override;

  absl::StatusOr<std::optional<PendingDelivery>> NextDelivery(
      std::string_view rights_holder) override;
  absl::Status RecordDeliveryAttempt(const DeliveryAttempt& attempt) override;
  absl::Status DisableEndpoint(std::string_view rights_holder, std::string_view endpoint_digest,
                               std::string_view reason) override;
  absl::StatusOr<bool> EndpointDisabled(std::string_view rights_holder,
                                        std::string_view endpoint_digest) override;

 private:
  SqliteOutbox() = default;
  absl::Status PrepareStatements();
  absl::Status RequireWritable(std::string_view what) const {
    if (!db_.read_only()) return absl::OkStatus();
    return absl::PermissionDeniedError(
        absl::StrCat(db_.path(), ": ", ToAbsl(what), ": outbox was opened read-only"));
  }
  // Commits the batches a Write deferred (OutboxBatch::defer_commit), if any. A failed
  // commit rolls them back, and with them the pending-case counts they added: those are
  // loaded again, as after a failed Write.
  absl::Status CommitDeferred() {
    if (!db_.commit_deferred()) return absl::OkStatus();
    absl::Status status = db_.InTransaction([] { return absl::OkStatus(); });
    if (!status.ok()) watched_loaded_ = false;
    return status;
  }
  // The start of every write but Write: RequireWritable, then CommitDeferred, so that
  // the write neither joins the deferred batches' transaction (a bare statement would
  // commit only with them) nor rolls them back when it fails.
  absl::Status StartWrite(std::string_view what) {
    BONAFIDE_RETURN_IF_ERROR(RequireWritable(what));
    return CommitDeferred();
  }
  absl::Status CaseError(int rc, std::string_view what, std::string_view case_key) const {
    return db_.Error(rc, absl::StrCat("case \"", ToAbsl(case_key), "\": ", ToAbsl(what)),
                     Op::kWrite);
  }
  // Loads the listings with pending cases and how many each has (once per connection, and
  // again after a failed Write).
  absl::Status LoadWatched();
  // PRAGMA data_version: moves when another connection commits.
  absl::StatusOr<int64_t> ReadDataVersion();
  // One case record inside Write's transaction. `listing_hash`: ListingKeyHash of its
  // listing. Returns whether the case is pending afterwards.
  absl::StatusOr<bool> WriteCase(const CaseRecord& c, uint64_t listing_hash, std::string_view run,
                                 std::string_view now);
  // Marks case `id` for the publication of `run`.
  absl::Status Mark(int64_t id, std::string_view run, std::string_view case_key);
  // Closes the pending cases of `listing` that its new cases do not name; returns how many.
  absl::StatusOr<int> CloseOthers(const ScannedListing& listing, std::span<const CaseRecord> cases,
                                  std::string_view run, std::string_view now);
  // Events are stamped `now`: a Write that publishes gives its cases and their events one
  // time.
  absl::Status PublishInTransaction(std::string_view run, std::string_view now,
                                    OutboxWriteStats& stats);
  // Publishes up to one chunk of the run's marked cases; returns how many it took.
  absl::StatusOr<size_t> PublishChunk(std::string_view run, std::string_view now,
                                      OutboxWriteStats& stats);
  // An event to insert; the views outlive the InsertEvents call.
  struct NewEvent {
    std::string event_key;
    std::string_view rights_holder, case_key, type;
    std::string payload;
  };
  // Inserts `events` in their order, stamped `now`.
  absl::Status InsertEvents(std::span<const NewEvent> events, std::string_view now);
  // What a case's announcement row is to say; the view outlives UpsertAnnouncements.
  struct Announcement {
    int64_t case_id = 0;
    std::string_view case_key;
    CaseStatus status = CaseStatus::kPending;
    std::string_view material;
    int64_t revision = 0;
  };
  absl::Status UpsertAnnouncements(std::span<const Announcement> announcements);
  // A multi-row statement and its one-row form, each prepared when first needed.
  struct RowStatements {
    Stmt many, one;
  };
  // Runs `n` rows through `statements` in order: kRowsPerStatement per statement, the rest
  // one by one. `sql(rows)` makes a statement; `bind(stmt, i, p)` binds row `i` from
  // parameter `p` on (after `shared_params` parameters all rows share, which
  // `bind_shared(stmt)` binds); `what(begin, end)` says what failed.
  template <typename Bind, typename BindShared, typename What>
  absl::Status WriteRows(size_t n, RowStatements& statements, std::string (*sql)(int),
                         int shared_params, int row_params, const Bind& bind,
                         const BindShared& bind_shared, const What& what);

  Db db_;
  std::unique_ptr<sqlite::WalCheckpointer> checkpointer_;  // null: SQLite's own checkpoints
  Stmt select_case_, insert_case_, update_case_, touch_case_, touch_unchanged_, pending_of_listing_,
      close_case_, mark_, dirty_cases_, unmark_chunk_, delete_case_, unmark_everywhere_,
      upsert_checkpoint_, list_checkpoints_, clear_checkpoints_, next_delivery_, data_version_stmt_;
  RowStatements insert_events_, upsert_announcements_;
  // Listings (hash of marketplace and id) that have, or had in this connection, a pending
  // case: only those need a look for cases to close. Loaded on the first Write. The count
  // is how many pending cases the listings of that hash have, kept by this connection's
  // writes; a listing whose new cases are all of them has none to close, and the look is
  // skipped. Exact only while no other connection writes (`counts_exact_`: PRAGMA
  // data_version has not moved since the load), since another scan may open a case; a
  // verdict only lowers the true count (a look that finds nothing).
  bool watched_loaded_ = false;
  absl::flat_hash_map<uint64_t, int32_t> watched_;
  bool counts_exact_ = false;
  int64_t data_version_ = 0;
  CaseJsonCheck json_check_;
};

absl::StatusOr<std::unique_ptr<SqliteOutbox>> SqliteOutbox::Open(std::string_view path,
                                                                 OutboxAccess access) {
  std::unique_ptr<SqliteOutbox> outbox(new SqliteOutbox());
  Db& db = outbox->db_;
  const bool read_only = access == OutboxAccess::kReadOnly;
  if (read_only) {
    // SQLite would create a missing file even for a read-only connection's WAL files.
    // Checked without opening the file: closing a descriptor of it would drop every POSIX
    // lock this process holds on it, including the shared lock of the process's other
    // connections; the next connection to close elsewhere would then think itself the last
    // one, delete the WAL and its index, and leave this process's connections reading a
    // stale index (seen as a portal that no longer saw new tokens).
    const std::string p(path);
    if (::access(p.c_str(), R_OK) != 0) {
      const int err = errno;
      const std::string message = absl::StrCat(p, ": open: ", std::strerror(err));
      if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(message);
      if (err == EACCES) return absl::PermissionDeniedError(message);
      return absl::UnavailableError(message);
    }
  }
  BONAFIDE_RETURN_IF_ERROR(db.Open(path, read_only));
  if (read_only) {
    BONAFIDE_RETURN_IF_ERROR(CheckOutboxVersion(db));
  } else {
    // 8 KiB pages for a new file (an existing one keeps its size: SQLite ignores this then).
    // A case row is about 2 KB, and with 4 KiB pages a scan that opens many cases wrote a
    // page per row or two, to the WAL and again to the file: 0.92-0.96x the wall time of a
    // first scan that opens 62k cases, 1.00x when few listings are flagged.
    BONAFIDE_RETURN_IF_ERROR(db.Exec("PRAGMA page_size = 8192", "set page_size", Op::kOpen));
    BONAFIDE_ASSIGN_OR_RETURN(const int64_t unused_mode,
                              db.QueryInt("PRAGMA journal_mode = WAL", "set WAL mode", Op::kOpen));
    (void)unused_mode;
    sqlite::Stmt mode;
    BONAFIDE_RETURN_IF_ERROR(db.Prepare("PRAGMA journal_mode", mode, Op::kOpen));
    const int rc = sqlite3_step(mode.get());
    if (rc != SQLITE_ROW) return db.Error(rc, "read journal_mode", Op::kOpen);
    const std::string journal = ColumnText(mode.get(), 0);
    mode.reset();
    const char* file = sqlite3_db_filename(db.get(), "main");
    const bool in_memory = file == nullptr || *file == '\0';
    if (journal != "wal" && !in_memory) {
      return absl::FailedPreconditionError(absl::StrCat(
          ToAbsl(path), ": cannot switch to WAL mode (journal_mode is ", journal, ")"));
    }
    BONAFIDE_RETURN_IF_ERROR(
        db.Exec("PRAGMA synchronous = NORMAL", "set synchronous=NORMAL", Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(CreateOrMigrateOutbox(db));
    // This connection's statements are compiled without the tables' CHECK constraints
    // (after the migration, which keeps them): it checks what they check itself, the JSON
    // columns with CaseJsonCheck and every status and verdict from its enum. SQLite's own
    // check cost more than the rest of a case row's insert: json_valid parses both columns,
    // and the status's IN list builds a temporary table for every row. Other connections
    // (the sqlite3 shell, ad-hoc writers) still have them.
    BONAFIDE_RETURN_IF_ERROR(db.Exec("PRAGMA ignore_check_constraints = ON",
                                     "compile without CHECK constraints", Op::kOpen));
    // Statement journals in memory: a statement that writes several rows inside the write
    // transaction (the 16-row inserts of events and announcements) saves each page it
    // changes so that it can be undone alone, and in a temporary file that cost two system
    // calls per page: on a first scan four times the bytes of the outbox itself. After the
    // migration, whose index builds sort the whole outbox; this connection's own sorts are
    // small (a page of cases, feedback lists that are loaded into memory anyway).
    BONAFIDE_RETURN_IF_ERROR(
        db.Exec("PRAGMA temp_store = MEMORY", "keep statement journals in memory", Op::kOpen));
    if (!in_memory) {
      outbox->checkpointer_ = sqlite::WalCheckpointer::Start(db.path(), {});
      // Replaces SQLite's automatic checkpoint, which is a WAL hook too.
      if (outbox->checkpointer_ != nullptr) {
        // SQLite writes over a WAL that starts over but never shrinks the file: one that a
        // reader made grow past the checkpointer's 8000 pages (62.5 MiB) is cut back to
        // 64 MiB when it starts over.
        BONAFIDE_RETURN_IF_ERROR(db.Exec("PRAGMA journal_size_limit = 67108864",
                                         "limit the WAL file's size", Op::kOpen));
        sqlite3_wal_hook(db.get(), &sqlite::WalCheckpointer::OnCommit, outbox->checkpointer_.get());
      }
    }
  }
  BONAFIDE_RETURN_IF_ERROR(outbox->PrepareStatements());
  return outbox;
}

absl::Status SqliteOutbox::PrepareStatements() {
  BONAFIDE_RETURN_IF_ERROR(db_.Prepare(kListCheckpointsSql, list_checkpoints_, Op::kOpen));
  BONAFIDE_RETURN_IF_ERROR(db_.Prepare(kNextDeliverySql, next_delivery_, Op::kOpen));
  if (db_.read_only()) return absl::OkStatus();
  const std::pair<const char*, Stmt*> statements[] = {
      {kSelectCaseForWriteSql, &select_case_},
      {kInsertCaseSql, &insert_case_},
      {kUpdateCaseSql, &update_case_},
      {kTouchCaseSql, &touch_case_},
      {kTouchUnchangedSql, &touch_unchanged_},
      {kPendingOfListingSql, &pending_of_listing_},
      {kCloseCaseSql, &close_case_},
      {kMarkSql, &mark_},
      {kDirtyCasesSql, &dirty_cases_},
      {kUnmarkChunkSql, &unmark_chunk_},
      {kDeleteCaseSql, &delete_case_},
      {kUnmarkEverywhereSql, &unmark_everywhere_},
      {kUpsertCheckpointSql, &upsert_checkpoint_},
      {kClearCheckpointsSql, &clear_checkpoints_},
      {"PRAGMA data_version", &data_version_stmt_},
  };
  for (const auto& [sql, stmt] : statements) {
    BONAFIDE_RETURN_IF_ERROR(db_.Prepare(sql, *stmt, Op::kOpen));
  }
  return absl::OkStatus();
}

// --- Scan writes -------------------------------------------------------------------------

absl::Status SqliteOutbox::LoadWatched() {
  if (watched_loaded_) return absl::OkStatus();
  watched_.clear();
  // Before the read: a write by another connection after it moves the version.
  BONAFIDE_ASSIGN_OR_RETURN(data_version_, ReadDataVersion());
  Stmt stmt;
  BONAFIDE_RETURN_IF_ERROR(db_.Prepare(kPendingListingsSql, stmt, Op::kRead));
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    ++watched_[ListingKeyHash(ColumnText(stmt.get(), 0), ColumnText(stmt.get(), 1))];
  }
  if (rc != SQLITE_DONE) return db_.Error(rc, "list pending cases", Op::kRead);
  watched_loaded_ = true;
  counts_exact_ = true;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteOutbox::ReadDataVersion() {
  sqlite3_stmt* stmt = data_version_stmt_.get();
  StmtScope scope(stmt);
  const int rc = sqlite3_step(stmt);
  if (rc != SQLITE_ROW) return db_.Error(rc, "read data_version", Op::kRead);
  return sqlite3_column_int64(stmt, 0);
}

absl::StatusOr<bool> SqliteOutbox::WriteCase(const CaseRecord& c, uint64_t listing_hash,
                                             std::string_view run, std::string_view now) {
  BONAFIDE_ASSIGN_OR_RETURN(PreparedCase p, PrepareCase(c, db_.path()));
  const std::string& case_key = p.case_key;
  const std::string_view reasons = p.reasons, evidence = p.evidence;
  const std::string& fingerprint = p.fingerprint;
  // Tried only on listings that had a pending case: elsewhere (a first scan) it would
  // rarely find a row, and the lookup below would follow anyway.
  if (watched_.contains(listing_hash)) {
    sqlite3_stmt* stmt = touch_unchanged_.get();
    BindText(stmt, 1, case_key);
    BindText(stmt, 2, fingerprint);
    BindText(stmt, 3, now);
    BindText(stmt, 4, run);
    BONAFIDE_RETURN_IF_ERROR(db_.StepDone(stmt, absl::StrCat("case \"", case_key, "\": touch")));
    if (sqlite3_changes(db_.get()) > 0) return true;
  }

  int64_t id = 0;
  std::optional<std::string> old_fingerprint;
  CaseStatus status = CaseStatus::kPending;
  // The status this record is judged against: the one last announced when an earlier
  // record of the same listing in this run already changed the case (the last record
  // wins), the stored one otherwise.
  CaseStatus base_status = CaseStatus::kPending;
  std::string verdict_signals;
  {
    sqlite3_stmt* stmt = select_case_.get();
    StmtScope scope(stmt);
    BindText(stmt, 1, case_key);
    BindText(stmt, 2, run);
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      id = sqlite3_column_int64(stmt, 0);
      old_fingerprint = ColumnText(stmt, 1);
      status = StatusFromColumn(stmt, 2);
      verdict_signals = ColumnText(stmt, 4);
      const bool marked_in_run = sqlite3_column_int(stmt, 6) != 0;
      base_status = RescanBaseStatus(status, marked_in_run,
                                     sqlite3_column_type(stmt, 5) != SQLITE_NULL
                                         ? std::optional(StatusFromColumn(stmt, 5))
                                         : std::nullopt);
    } else if (rc != SQLITE_DONE) {
      return CaseError(rc, "look up", case_key);
    }
  }

  if (!old_fingerprint.has_value()) {
    BONAFIDE_RETURN_IF_ERROR(json_check_.Check(p, db_.path()));
    sqlite3_stmt* stmt = insert_case_.get();
    BindText(stmt, 1, case_key);
    BindText(stmt, 2, c.rights_holder);
    BindText(stmt, 3, c.marketplace);
    BindText(stmt, 4, c.listing_id);
    BindText(stmt, 5, c.seller_id);
    sqlite3_bind_double(stmt, 6, c.score);
    BindText(stmt, 7, reasons);
    BindText(stmt, 8, evidence);
    BindText(stmt, 9, c.signals);
    BindText(stmt, 10, fingerprint);
    BindText(stmt, 11, c.material_key);
    BindText(stmt, 12, now);
    BONAFIDE_RETURN_IF_ERROR(db_.StepDone(stmt, absl::StrCat("case \"", case_key, "\": insert")));
    ++watched_[listing_hash];
    BONAFIDE_RETURN_IF_ERROR(Mark(sqlite3_last_insert_rowid(db_.get()), run, case_key));
    return true;
  }

  const auto [new_status, announce] = Rescan(base_status, c.signals, verdict_signals);
  if (*old_fingerprint == fingerprint && new_status == status) {
    sqlite3_stmt* stmt = touch_case_.get();
    sqlite3_bind_int64(stmt, 1, id);
    BindText(stmt, 2, now);
    BONAFIDE_RETURN_IF_ERROR(db_.StepDone(stmt, absl::StrCat("case \"", case_key, "\": touch")));
    return status == CaseStatus::kPending;
  }
  if (*old_fingerprint != fingerprint) BONAFIDE_RETURN_IF_ERROR(json_check_.Check(p, db_.path()));
  sqlite3_stmt* stmt = update_case_.get();
  sqlite3_bind_int64(stmt, 1, id);
  BindText(stmt, 2, c.seller_id);
  sqlite3_bind_double(stmt, 3, c.score);
  BindText(stmt, 4, reasons);
  BindText(stmt, 5, evidence);
  BindText(stmt, 6, c.signals);
  BindText(stmt, 7, fingerprint);
  BindText(stmt, 8, c.material_key);
  BindText(stmt, 9, now);
  BindText(stmt, 10, StatusText(new_status));
  BONAFIDE_RETURN_IF_ERROR(db_.StepDone(stmt, absl::StrCat("case \"", case_key, "\": update")));
  const bool pending = new_status == CaseStatus::kPending;
  if (pending != (status == CaseStatus::kPending)) watched_[listing_hash] += pending ? 1 : -1;
  if (announce) BONAFIDE_RETURN_IF_ERROR(Mark(id, run, case_key));
  return pending;
}

absl::Status SqliteOutbox::Mark(int64_t id, std::string_view run, std::string_view case_key) {
  sqlite3_stmt* stmt = mark_.get();
  BindText(stmt, 1, run);
  sqlite3_bind_int64(stmt, 2, id);
  return db_.StepDone(stmt, absl::StrCat("case \"", ToAbsl(case_key), "\": mark"));
}

absl::StatusOr<int> SqliteOutbox::CloseOthers(const ScannedListing& listing,
                                              std::span<const CaseRecord> cases,
                                              std::string_view run, std::string_view now) {
  std::vector<std::pair<int64_t, std::string>> to_close;  // id, case key
  {
    sqlite3_stmt* stmt = pending_of_listing_.get();
    StmtScope scope(stmt);
    BindText(stmt, 1, listing.marketplace);
    BindText(stmt, 2, listing.listing_id);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::string key = ColumnText(stmt, 1);
      bool still_flagged = false;
      for (uint32_t i = listing.cases_begin; i < listing.cases_end && !still_flagged; ++i) {
        still_flagged =
            key == CaseKey(cases[i].rights_holder, cases[i].marketplace, cases[i].listing_id);
      }
      if (!still_flagged) to_close.emplace_back(sqlite3_column_int64(stmt, 0), std::move(key));
    }
    if (rc != SQLITE_DONE) return db_.Error(rc, "look up the cases of a listing", Op::kWrite);
  }
  for (const auto& [id, key] : to_close) {
    sqlite3_stmt* stmt = close_case_.get();
    sqlite3_bind_int64(stmt, 1, id);
    BindText(stmt, 2, run);
    BindText(stmt, 3, now);
    BONAFIDE_RETURN_IF_ERROR(db_.StepDone(stmt, absl::StrCat("case \"", key, "\": close")));
    BONAFIDE_RETURN_IF_ERROR(Mark(id, run, key));
  }
  return static_cast<int>(to_close.size());
}

absl::StatusOr<OutboxWriteStats> SqliteOutbox::Write(const OutboxBatch& batch) {
  BONAFIDE_RETURN_IF_ERROR(RequireWritable("write"));
  OutboxWriteStats stats;
  if (batch.defer_commit && batch.run.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        db_.path(), ": write: a batch published at once (no run) cannot defer its commit"));
  }
  if (batch.listings.empty() && batch.cases.empty() && batch.checkpoints.empty()) {
    if (!batch.defer_commit) BONAFIDE_RETURN_IF_ERROR(CommitDeferred());
    return stats;
  }
  BONAFIDE_RETURN_IF_ERROR(LoadWatched());
  const std::string_view run = batch.run.empty() ? kImmediateRun : batch.run;
  const std::string now = NowIso8601();
  const auto write = [&]() -> absl::Status {
    // Inside the transaction: no other connection commits until it ends.
    if (counts_exact_) {
      BONAFIDE_ASSIGN_OR_RETURN(const int64_t version, ReadDataVersion());
      counts_exact_ = version == data_version_;
    }
    // Cases handed over without their listings (a service's Write) are written as they
    // come; with listings, in listing order, each listing's cases then its closings.
    if (batch.listings.empty()) {
      for (const CaseRecord& c : batch.cases) {
        const uint64_t hash = ListingKeyHash(c.marketplace, c.listing_id);
        BONAFIDE_RETURN_IF_ERROR(WriteCase(c, hash, run, now).status());
        watched_.try_emplace(hash, 0);
      }
    }
    for (const ScannedListing& listing : batch.listings) {
      if (listing.cases_end > batch.cases.size() || listing.cases_begin > listing.cases_end) {
        return absl::InvalidArgumentError(
            absl::StrCat(db_.path(), ": write: a listing's case range is outside the batch"));
      }
      const uint64_t hash = listing.key_hash;
      int32_t named_pending = 0;  // of this listing's cases, those pending now
      for (uint32_t i = listing.cases_begin; i < listing.cases_end; ++i) {
        BONAFIDE_ASSIGN_OR_RETURN(const bool pending, WriteCase(batch.cases[i], hash, run, now));
        named_pending += pending ? 1 : 0;
      }
      if (const auto it = watched_.find(hash);
          it != watched_.end() && (!counts_exact_ || it->second != named_pending)) {
        BONAFIDE_ASSIGN_OR_RETURN(const int closed, CloseOthers(listing, batch.cases, run, now));
        watched_[hash] -= closed;
      }
      // Watched at once: a later record of the listing in this very batch may close the
      // case.
      if (listing.cases_end > listing.cases_begin) watched_.try_emplace(hash, 0);
    }
    for (const ScanCheckpoint& checkpoint : batch.checkpoints) {
      sqlite3_stmt* stmt = upsert_checkpoint_.get();
      BindText(stmt, 1, checkpoint.run);
      BindText(stmt, 2, checkpoint.input);
      BindText(stmt, 3, checkpoint.identity);
      sqlite3_bind_int64(stmt, 4, static_cast<int64_t>(checkpoint.byte_offset));
      sqlite3_bind_int64(stmt, 5, static_cast<int64_t>(checkpoint.line));
      sqlite3_bind_int64(stmt, 6, static_cast<int64_t>(checkpoint.rejects_bytes));
      sqlite3_bind_int(stmt, 7, checkpoint.done ? 1 : 0);
      BindText(stmt, 8, now);
      BONAFIDE_RETURN_IF_ERROR(
          db_.StepDone(stmt, absl::StrCat("checkpoint of \"", checkpoint.input, "\"")));
    }
    if (batch.run.empty()) return PublishInTransaction(run, now, stats);
    return absl::OkStatus();
  };
  const absl::Status status = db_.InTransaction(write, /*commit=*/!batch.defer_commit);
  if (!status.ok()) {
    // The counts took what was rolled back (this batch's and any deferred before it): load
    // them again.
    watched_loaded_ = false;
    return status;
  }
  return stats;
}

// --- Publishing --------------------------------------------------------------------------

template <typename Bind, typename BindShared, typename What>
absl::Status SqliteOutbox::WriteRows(size_t n, RowStatements& statements, std::string (*sql)(int),
                                     int shared_params, int row_params, const Bind& bind,
                                     const BindShared& bind_shared, const What& what) {
  size_t begin = 0;
  while (begin < n) {
    const size_t rows = n - begin >= kRowsPerStatement ? kRowsPerStatement : 1;
    Stmt& prepared = rows == 1 ? statements.one : statements.many;
    if (prepared.get() == nullptr) {
      const std::string text = sql(static_cast<int>(rows));
      BONAFIDE_RETURN_IF_ERROR(db_.Prepare(text.c_str(), prepared, Op::kWrite));
    }
    sqlite3_stmt* stmt = prepared.get();
    bind_shared(stmt);
    for (size_t i = 0; i < rows; ++i) {
      bind(stmt, begin + i, shared_params + 1 + row_params * static_cast<int>(i));
    }
    BONAFIDE_RETURN_IF_ERROR(db_.StepDone(stmt, what(begin, begin + rows)));
    begin += rows;
  }
  return absl::OkStatus();
}

absl::Status SqliteOutbox::InsertEvents(std::span<const NewEvent> events, std::string_view now) {
  return WriteRows(
      events.size(), insert_events_, &InsertEventsSql, 1, 5,
      [&](sqlite3_stmt* stmt, size_t i, int p) {
        const NewEvent& e = events[i];
        BindText(stmt, p, e.event_key);
        BindText(stmt, p + 1, e.rights_holder);
        BindText(stmt, p + 2, e.case_key);
        BindText(stmt, p + 3, e.type);
        BindText(stmt, p + 4, e.payload);
      },
      [&](sqlite3_stmt* stmt) { BindText(stmt, 1, now); },
      [&](size_t begin, size_t end) {
        return end - begin == 1
                   ? absl::StrCat("case \"", ToAbsl(events[begin].case_key), "\": insert event")
                   : absl::StrCat("cases \"", ToAbsl(events[begin].case_key), "\" to \"",
                                  ToAbsl(events[end - 1].case_key), "\": insert events");
      });
}

absl::Status SqliteOutbox::UpsertAnnouncements(std::span<const Announcement> announcements) {
  return WriteRows(
      announcements.size(), upsert_announcements_, &UpsertAnnouncementsSql, 0, 4,
      [&](sqlite3_stmt* stmt, size_t i, int p) {
        const Announcement& a = announcements[i];
        sqlite3_bind_int64(stmt, p, a.case_id);
        BindText(stmt, p + 1, StatusText(a.status));
        BindText(stmt, p + 2, a.material);
        sqlite3_bind_int64(stmt, p + 3, a.revision);
      },
      [](sqlite3_stmt*) {},
      [&](size_t begin, size_t end) {
        return end - begin == 1 ? absl::StrCat("case \"", ToAbsl(announcements[begin].case_key),
                                               "\": record announcement")
                                : absl::StrCat("cases \"", ToAbsl(announcements[begin].case_key),
                                               "\" to \"", ToAbsl(announcements[end - 1].case_key),
                                               "\": record announcements");
      });
}

absl::Status SqliteOutbox::PublishInTransaction(std::string_view run, std::string_view now,
                                                OutboxWriteStats& stats) {
  // In chunks of kDirtyCasesSql's LIMIT, so that a run of millions of cases does not hold
  // them all in memory: each chunk's rows lose their mark (or are deleted), and the next
  // query starts after them.
  while (true) {
    BONAFIDE_ASSIGN_OR_RETURN(const size_t published, PublishChunk(run, now, stats));
    if (published == 0) return absl::OkStatus();
  }
}

absl::StatusOr<size_t> SqliteOutbox::PublishChunk(std::string_view run, std::string_view now,
                                                  OutboxWriteStats& stats) {
  struct Dirty {
    int64_t id = 0;
    StoredCase c;
    std::string material, announced_material;
    std::optional<CaseStatus> announced_status;
  };
  std::vector<Dirty> dirty;
  {
    sqlite3_stmt* stmt = dirty_cases_.get();
    StmtScope scope(stmt);
    BindText(stmt, 1, run);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      Dirty& d = dirty.emplace_back();
      d.id = sqlite3_column_int64(stmt, 0);
      d.c.case_key = ColumnText(stmt, 1);
      d.c.rights_holder = ColumnText(stmt, 2);
      d.c.marketplace = ColumnText(stmt, 3);
      d.c.listing_id = ColumnText(stmt, 4);
      d.c.seller_id = ColumnText(stmt, 5);
      d.c.score = sqlite3_column_double(stmt, 6);
      d.c.reasons_json = ColumnText(stmt, 7);
      d.c.status = StatusFromColumn(stmt, 8);
      d.material = ColumnText(stmt, 9);
      if (sqlite3_column_type(stmt, 10) != SQLITE_NULL) {
        d.announced_status = StatusFromColumn(stmt, 10);
      }
      d.announced_material = ColumnText(stmt, 11);
      d.c.revision = sqlite3_column_int64(stmt, 12);
    }
    if (rc != SQLITE_DONE) return db_.Error(rc, "list cases to publish", Op::kWrite);
  }
  std::vector<NewEvent> events;  // views into `dirty`
  events.reserve(dirty.size());
  std::vector<Announcement> announcements;  // views into `dirty`
  announcements.reserve(dirty.size());
  for (const Dirty& d : dirty) {
    const StoredCase& c = d.c;
    const CaseStatus s = c.status;
    const Publication publication =
        DecidePublication(s, d.material, d.announced_status, d.announced_material);
    if (publication.action == Publication::Action::kDelete) {
      for (sqlite3_stmt* stmt : {delete_case_.get(), unmark_everywhere_.get()}) {
        sqlite3_bind_int64(stmt, 1, d.id);
        BONAFIDE_RETURN_IF_ERROR(
            db_.StepDone(stmt, absl::StrCat("case \"", c.case_key, "\": delete")));
      }
      continue;
    }
    const char* type = publication.type;
    const int64_t revision = c.revision + (type != nullptr ? 1 : 0);
    if (type != nullptr) {
      events.push_back({EventKey(c.case_key, revision), c.rights_holder, c.case_key, type,
                        StoredCaseEventPayload(c, revision)});
      CountEvent(type, stats);
    } else {
      ++stats.silent;
    }
    if (type == nullptr && d.announced_status == s && d.announced_material == d.material) {
      continue;  // the announcement row already says this
    }
    announcements.push_back({d.id, c.case_key, s, d.material, revision});
  }
  // After the chunk's deletions, in the same transaction: only the commit makes any of it
  // visible.
  BONAFIDE_RETURN_IF_ERROR(UpsertAnnouncements(announcements));
  BONAFIDE_RETURN_IF_ERROR(InsertEvents(events, now));
  if (!dirty.empty()) {
    sqlite3_stmt* stmt = unmark_chunk_.get();
    BindText(stmt, 1, run);
    sqlite3_bind_int64(stmt, 2, dirty.back().id);
    BONAFIDE_RETURN_IF_ERROR(db_.StepDone(stmt, "unmark published cases"));
  }
  return dirty.size();
}

absl::StatusOr<OutboxWriteStats> SqliteOutbox::Publish(std::string_view run) {
  BONAFIDE_RETURN_IF_ERROR(StartWrite("publish"));
  // The scan's last batches are committed: their WAL pages are copied into the file beside
  // the publication instead of at the close, after it.
  if (checkpointer_ != nullptr) checkpointer_->Request();
  OutboxWriteStats stats;
  BONAFIDE_RETURN_IF_ERROR(db_.InTransaction(
      [&]() -> absl::Status { return PublishInTransaction(run, NowIso8601(), stats); }));
  return stats;
}

// --- Checkpoints -------------------------------------------------------------------------

absl::StatusOr<std::vector<ScanCheckpoint>> SqliteOutbox::LoadCheckpoints(std::string_view run) {
  sqlite3_stmt* stmt = list_checkpoints_.get();
  StmtScope scope(stmt);
  BindText(stmt, 1, run);
  std::vector<ScanCheckpoint> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    ScanCheckpoint& c = out.emplace_back();
    c.run = ColumnText(stmt, 0);
    c.input = ColumnText(stmt, 1);
    c.identity = ColumnText(stmt, 2);
    c.byte_offset = static_cast<uint64_t>(sqlite3_column_int64(stmt, 3));
    c.line = static_cast<uint64_t>(sqlite3_column_int64(stmt, 4));
    c.rejects_bytes = static_cast<uint64_t>(sqlite3_column_int64(stmt, 5));
    c.done = sqlite3_column_int(stmt, 6) != 0;
  }
  if (rc != SQLITE_DONE) return db_.Error(rc, "list checkpoints", Op::kRead);
  return out;
}

absl::Status SqliteOutbox::ClearCheckpoints(std::string_view run) {
  if (db_.read_only()) return absl::OkStatus();
  BONAFIDE_RETURN_IF_ERROR(CommitDeferred());
  sqlite3_stmt* stmt = clear_checkpoints_.get();
  BindText(stmt, 1, run);
  return db_.StepDone(stmt, "clear checkpoints");
}

// --- Reading -----------------------------------------------------------------------------

absl::StatusOr<std::optional<StoredCase>> SqliteOutbox::GetCase(std::string_view case_key) {
  Stmt stmt;
  const std::string sql = absl::StrCat("SELECT ", kCaseColumns, " FROM cases WHERE case_key = ?1");
  BONAFIDE_RETURN_IF_ERROR(db_.Prepare(sql.c_str(), stmt, Op::kRead));
  BindText(stmt.get(), 1, case_key);
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return std::optional<StoredCase>();
  if (rc != SQLITE_ROW) return db_.Error(rc, "read case", Op::kRead);
  return std::optional<StoredCase>(ReadCase(stmt.get()));
}

absl::StatusOr<CasePage> SqliteOutbox::ListCases(const CaseQuery& q) {
  // Cursor: "<first_seen_at> <case_key>" of the last case of the previous page.
  std::optional<std::pair<std::string, std::string>> after;
  if (q.after.has_value()) {
    const size_t space = q.after->find(' ');
    if (space == std::string::npos || space == 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad cursor \"", *q.after, "\""));
    }
    after.emplace(q.after->substr(0, space), q.after->substr(space + 1));
  }
  // Only the filters given, so that SQLite walks cases_by_holder_status newest first and
  // stops after one page (with "?1 IS NULL OR ..." it read and sorted every case). A holder
  // without a status reads and sorts that holder's cases.
  std::string sql = absl::StrCat("SELECT ", kCaseColumns, " FROM cases WHERE 1");
  if (q.rights_holder) sql += " AND rights_holder = ?1";
  if (q.status) sql += " AND status = ?2";
  if (q.marketplace) sql += " AND marketplace = ?3";
  if (q.since) sql += " AND first_seen_at >= ?4";
  if (after) sql += " AND (first_seen_at, case_key) < (?5, ?6)";
  sql += " ORDER BY first_seen_at DESC, case_key DESC LIMIT ?7";
  Stmt stmt;
  BONAFIDE_RETURN_IF_ERROR(db_.Prepare(sql.c_str(), stmt, Op::kRead));
  sqlite3_stmt* s = stmt.get();
  if (q.rights_holder) BindText(s, 1, *q.rights_holder);
  if (q.status) BindText(s, 2, CaseStatusName(*q.status));
  if (q.marketplace) BindText(s, 3, *q.marketplace);
  if (q.since) BindText(s, 4, *q.since);
  if (after) {
    BindText(s, 5, after->first);
    BindText(s, 6, after->second);
  }
  // One more than asked: tells whether there is a next page.
  sqlite3_bind_int64(s, 7, q.limit > 0 ? static_cast<int64_t>(q.limit) + 1 : -1);
  CasePage page;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) page.cases.push_back(ReadCase(s));
  if (rc != SQLITE_DONE) return db_.Error(rc, "list cases", Op::kRead);
  if (q.limit > 0 && page.cases.size() > static_cast<size_t>(q.limit)) {
    page.cases.resize(q.limit);
    page.next = absl::StrCat(page.cases.back().first_seen_at, " ", page.cases.back().case_key);
  }
  return page;
}

absl::StatusOr<std::vector<StoredEvent>> SqliteOutbox::DoListEvents(
    std::optional<std::string_view> rights_holder, int64_t after_id, int limit,
    std::optional<std::string_view> case_key) {
  // Only the filters given, so that SQLite takes an index (with "?3 IS NULL OR ..." it read
  // every event). A case's events are the key range "<case_key>:".."<case_key>;" of the
  // unique index on event_key ("case_key = ?3" too: a rights holder may contain ':', so
  // another case's keys could start with the same text); the unary `+` keeps the planner
  // from walking the ids in order instead, and the few events of one case are sorted.
  std::string sql = absl::StrCat("SELECT ", kEventColumns, " FROM events WHERE ");
  sql += case_key ? "+id > ?2 AND event_key >= ?5 AND event_key < ?6 AND case_key = ?3" : "id > ?2";
  if (rights_holder) sql += case_key ? " AND +rights_holder = ?1" : " AND rights_holder = ?1";
  sql += " ORDER BY id LIMIT ?4";
  Stmt stmt;
  BONAFIDE_RETURN_IF_ERROR(db_.Prepare(sql.c_str(), stmt, Op::kRead));
  if (rights_holder) BindText(stmt.get(), 1, *rights_holder);
  sqlite3_bind_int64(stmt.get(), 2, after_id);
  std::string first_key, past_last_key;  // bound without a copy: alive until the end
  if (case_key) {
    first_key = absl::StrCat(ToAbsl(*case_key), ":");
    past_last_key = absl::StrCat(ToAbsl(*case_key), ";");
    BindText(stmt.get(), 3, *case_key);
    BindText(stmt.get(), 5, first_key);
    BindText(stmt.get(), 6, past_last_key);
  }
  sqlite3_bind_int64(stmt.get(), 4, limit > 0 ? limit : -1);
  return CollectEvents(db_, stmt.get());
}

// --- Verdicts ----------------------------------------------------------------------------

absl::StatusOr<StoredCase> SqliteOutbox::RecordVerdict(const VerdictRequest& r) {
  BONAFIDE_RETURN_IF_ERROR(StartWrite("verdict"));
  BONAFIDE_RETURN_IF_ERROR(ValidateVerdictRequest(r));
  StoredCase result;
  const absl::Status status = db_.InTransaction([&]() -> absl::Status {
    Stmt stmt;
    const std::string select =
        absl::StrCat("SELECT ", kCaseColumns,
                     ", (SELECT count(*) FROM verdicts v WHERE v.case_key = ?1)"
                     " FROM cases WHERE case_key = ?1");
    BONAFIDE_RETURN_IF_ERROR(db_.Prepare(select.c_str(), stmt, Op::kWrite));
    BindText(stmt.get(), 1, r.case_key);
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_.Error(rc, "read case", Op::kWrite);
    // Another holder's case reads exactly like an unknown one.
    if (rc == SQLITE_DONE ||
        (r.rights_holder.has_value() && ColumnText(stmt.get(), 1) != *r.rights_holder)) {
      return absl::NotFoundError("no such case");
    }
    result = ReadCase(stmt.get());
    const int64_t earlier_verdicts = sqlite3_column_int64(stmt.get(), 13);
    stmt.reset();
    // A verdict in force (the case is confirmed or rejected) is replaced only on purpose;
    // a case that reopened after a rejection takes a fresh verdict.
    const bool verdict_in_force =
        result.status == CaseStatus::kConfirmed || result.status == CaseStatus::kRejected;
    if (earlier_verdicts > 0 && verdict_in_force && !r.replace) {
      return absl::AlreadyExistsError(absl::StrCat(
          "case \"", r.case_key, "\" already has a verdict (replace it to change it)"));
    }
    const std::string now = NowIso8601();
    auto exec = [&](const char* sql, std::string_view what,
                    std::initializer_list<std::string_view> args) -> absl::Status {
      Stmt s;
      BONAFIDE_RETURN_IF_ERROR(db_.Prepare(sql, s, Op::kWrite));
      int i = 1;
      for (std::string_view a : args) BindText(s.get(), i++, a);
      return db_.StepDone(s.get(), absl::StrCat("case \"", r.case_key, "\": ", ToAbsl(what)));
    };
    // A replaced verdict takes back what it taught.
    BONAFIDE_RETURN_IF_ERROR(exec("DELETE FROM authorized_sellers WHERE case_key = ?1",
                                  "forget authorization", {r.case_key}));
    BONAFIDE_RETURN_IF_ERROR(exec("DELETE FROM counterfeit_photos WHERE case_key = ?1",
                                  "forget counterfeit photos", {r.case_key}));
    const char* verdict = VerdictKindName(r.verdict);
    BONAFIDE_RETURN_IF_ERROR(exec(
        "INSERT INTO verdicts (case_key, rights_holder, verdict, comment, authorize_seller,"
        " seller_id, signals, actor, created_at) VALUES (?1, ?2, ?3, ?4, ?5 = '1', ?6, ?7, ?8, ?9)",
        "record verdict",
        {r.case_key, result.rights_holder, verdict, r.comment, r.authorize_seller ? "1" : "0",
         result.seller_id, result.signals, r.actor, now}));
    if (r.verdict == VerdictKind::kCounterfeit) {
      BONAFIDE_RETURN_IF_ERROR(
          exec("INSERT OR IGNORE INTO counterfeit_photos (rights_holder, pdq, quality, case_key,"
               " created_at) SELECT ?1, json_extract(p.value, '$.pdq'),"
               " json_extract(p.value, '$.quality'), ?2, ?3"
               " FROM cases c, json_each(c.evidence, '$.images') AS p"
               " WHERE c.case_key = ?2 AND json_extract(p.value, '$.status') = 'hashed'",
               "remember counterfeit photos", {result.rights_holder, r.case_key, now}));
    }
    if (r.authorize_seller) {
      BONAFIDE_RETURN_IF_ERROR(
          exec("INSERT OR IGNORE INTO authorized_sellers (rights_holder, seller_id, case_key,"
               " created_at) VALUES (?1, ?2, ?3, ?4)",
               "authorize seller", {result.rights_holder, result.seller_id, r.case_key, now}));
    }
    // A case judged before the run that wrote it published it (a verdict given while the
    // scan still runs) is announced first, as that publication would have: a receiver never
    // hears a verdict on a case it was not told of.
    if (result.revision == 0) {
      result.revision = 1;
      const NewEvent opened = {EventKey(result.case_key, 1), result.rights_holder, result.case_key,
                               "case.opened", StoredCaseEventPayload(result, 1)};
      BONAFIDE_RETURN_IF_ERROR(InsertEvents({&opened, 1}, now));
    }
    result.status =
        r.verdict == VerdictKind::kCounterfeit ? CaseStatus::kConfirmed : CaseStatus::kRejected;
    ++result.revision;
    const std::string revision = std::to_string(result.revision);
    BONAFIDE_RETURN_IF_ERROR(exec("UPDATE cases SET status = ?2 WHERE case_key = ?1", "set status",
                                  {r.case_key, CaseStatusName(result.status)}));
    // A case judged before its first publication keeps its material key as announced.
    BONAFIDE_RETURN_IF_ERROR(
        exec("INSERT INTO announcements (case_id, status, material, revision)"
             " SELECT id, ?2, material, ?3 FROM cases WHERE case_key = ?1"
             " ON CONFLICT (case_id) DO UPDATE SET status = excluded.status,"
             " revision = excluded.revision",
             "record announcement", {r.case_key, CaseStatusName(result.status), revision}));
    const NewEvent verdict_event = {EventKey(result.case_key, result.revision),
                                    result.rights_holder, result.case_key, "case.verdict",
                                    StoredVerdictEventPayload(result, r)};
    return InsertEvents({&verdict_event, 1}, now);
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::vector<StoredVerdict>> SqliteOutbox::ListVerdicts(std::string_view case_key) {
  Stmt stmt;
  BONAFIDE_RETURN_IF_ERROR(db_.Prepare(
      "SELECT id, case_key, rights_holder, verdict, comment, authorize_seller, signals, actor,"
      " created_at FROM verdicts WHERE case_key = ?1 ORDER BY id",
      stmt, Op::kRead));
  BindText(stmt.get(), 1, case_key);
  std::vector<StoredVerdict> out;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    StoredVerdict& v = out.emplace_back();
    sqlite3_stmt* s = stmt.get();
    v.id = sqlite3_column_int64(s, 0);
    v.case_key = ColumnText(s, 1);
    v.rights_holder = ColumnText(s, 2);
    v.verdict = ParseVerdictKind(ColumnText(s, 3)).value_or(VerdictKind::kCounterfeit);
    v.comment = ColumnText(s, 4);
    v.authorize_seller = sqlite3_column_int(s, 5) != 0;
    v.signals = ColumnText(s, 6);
    v.actor = ColumnText(s, 7);
    v.created_at = ColumnText(s, 8);
  }
  if (rc != SQLITE_DONE) return db_.Error(rc, "list verdicts", Op::kRead);
  return out;
}

absl::StatusOr<OutboxFeedback> SqliteOutbox::LoadFeedback() {
  OutboxFeedback feedback;
  auto each_row = [&](const char* sql, std::string_view what, auto&& row) -> absl::Status {
    Stmt stmt;
    BONAFIDE_RETURN_IF_ERROR(db_.Prepare(sql, stmt, Op::kRead));
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) row(stmt.get());
    if (rc != SQLITE_DONE) return db_.Error(rc, what, Op::kRead);
    return absl::OkStatus();
  };
  BONAFIDE_RETURN_IF_ERROR(
      each_row("SELECT DISTINCT rights_holder, seller_id FROM authorized_sellers ORDER BY 1, 2",
               "read authorized sellers", [&](sqlite3_stmt* s) {
                 feedback.authorized_sellers.push_back({ColumnText(s, 0), ColumnText(s, 1)});
               }));
  BONAFIDE_RETURN_IF_ERROR(each_row(
      "SELECT rights_holder, pdq, max(quality), min(case_key) FROM counterfeit_photos"
      " GROUP BY rights_holder, pdq ORDER BY 1, 2",
      "read counterfeit photos", [&](sqlite3_stmt* s) {
        feedback.counterfeit_photos.push_back(
            {ColumnText(s, 0), ColumnText(s, 1), sqlite3_column_int(s, 2), ColumnText(s, 3)});
      }));
  BONAFIDE_RETURN_IF_ERROR(
      each_row("SELECT rights_holder, seller_id, case_key FROM cases WHERE status = 'confirmed'"
               " ORDER BY 1, 2, 3",
               "read seller records", [&](sqlite3_stmt* s) {
                 std::string holder = ColumnText(s, 0), seller = ColumnText(s, 1);
                 auto& records = feedback.seller_records;
                 if (records.empty() || records.back().rights_holder != holder ||
                     records.back().seller_id != seller) {
                   records.push_back({std::move(holder), std::move(seller), 0, {}});
                 }
                 ++records.back().confirmed;
                 records.back().case_keys.push_back(ColumnText(s, 2));
               }));
  return feedback;
}

absl::StatusOr<std::vector<PrecisionRow>> SqliteOutbox::PrecisionReport(
    std::optional<std::string_view> rights_holder) {
  // Per case, each signal of its reasons once; the case's latest verdict decides. The
  // holder filter only when given, so that SQLite reads that holder's cases through
  // cases_by_holder_status ("?1 IS NULL OR ..." read all of them: 15 s instead of 0.5 s
  // for one holder's 33k cases among 1M).
  constexpr const char* kSqlHead = R"sql(
WITH latest AS (
  SELECT case_key, verdict FROM verdicts
  WHERE id IN (SELECT max(id) FROM verdicts GROUP BY case_key)),
signals AS (
  SELECT DISTINCT c.case_key,
         CASE json_extract(r.value, '$.signal')
           WHEN 'cue' THEN 'cue:' || json_extract(r.value, '$.rule')
           ELSE json_extract(r.value, '$.signal') END AS name,
         json_extract(r.value, '$.shadow') AS shadow
  FROM cases c, json_each(c.reasons) AS r
)sql";
  constexpr const char* kSqlTail = R"sql()
SELECT name, max(shadow), count(*),
       sum(l.verdict = 'counterfeit'), sum(l.verdict IN ('genuine', 'not_ours'))
FROM signals LEFT JOIN latest l USING (case_key)
GROUP BY name ORDER BY name
)sql";
  const std::string sql =
      absl::StrCat(kSqlHead, rights_holder ? "  WHERE c.rights_holder = ?1" : "", kSqlTail);
  Stmt stmt;
  BONAFIDE_RETURN_IF_ERROR(db_.Prepare(sql.c_str(), stmt, Op::kRead));
  if (rights_holder) BindText(stmt.get(), 1, *rights_holder);
  std::vector<PrecisionRow> out;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    sqlite3_stmt* s = stmt.get();
    PrecisionRow& row = out.emplace_back();
    row.signal = ColumnText(s, 0);
    row.shadow = sqlite3_column_int(s, 1) != 0;
    row.cases = sqlite3_column_int64(s, 2);
    row.confirmed = sqlite3_column_int64(s, 3);
    row.rejected = sqlite3_column_int64(s, 4);
    if (row.confirmed + row.rejected > 0) {
      row.precision =
          static_cast<double>(row.confirmed) / static_cast<double>(row.confirmed + row.rejected);
    }
  }
  if (rc != SQLITE_DONE) return db_.Error(rc, "precision report", Op::kRead);
  return out;
}

// --- Portal access tokens --------------------------------------------------------------

constexpr const char* kTokenColumns = "prefix, sha256, rights_holder, created_at, revoked_at";

StoredToken ReadToken(sqlite3_stmt* stmt) {
  StoredToken t;
  t.prefix = ColumnText(stmt, 0);
  t.sha256 = ColumnText(stmt, 1);
  if (sqlite3_column_type(stmt, 2) != SQLITE_NULL) t.rights_holder = ColumnText(stmt, 2);
  t.created_at = ColumnText(stmt, 3);
  if (sqlite3_column_type(stmt, 4) != SQLITE_NULL) t.revoked_at = ColumnText(stmt, 4);
  return t;
}

absl::Status SqliteOutbox::CreateToken(const StoredToken& token) {
  BONAFIDE_RETURN_IF_ERROR(StartWrite("create token"));
  BONAFIDE_RETURN_IF_ERROR(ValidateNewToken(token));
  Stmt stmt;
  BONAFIDE_RETURN_IF_ERROR(
      db_.Prepare("INSERT INTO access_tokens (prefix, sha256, rights_holder, admin, created_at)"
                  " VALUES (?1, ?2, ?3, ?3 IS NULL, ?4) ON CONFLICT (prefix) DO NOTHING",
                  stmt, Op::kWrite));
  const std::string now = NowIso8601();
  BindText(stmt.get(), 1, token.prefix);
  BindText(stmt.get(), 2, token.sha256);
  if (token.rights_holder) BindText(stmt.get(), 3, *token.rights_holder);
  BindText(stmt.get(), 4, now);
  BONAFIDE_RETURN_IF_ERROR(db_.StepDone(stmt.get(), "create token"));
  if (sqlite3_changes(db_.get()) == 0) {
    return absl::AlreadyExistsError(absl::StrCat("token prefix ", token.prefix, " is taken"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<StoredToken>> SqliteOutbox::FindToken(std::string_view prefix) {
  Stmt stmt;
  const std::string sql =
      absl::StrCat("SELECT ", kTokenColumns, " FROM access_tokens WHERE prefix = ?1");
  BONAFIDE_RETURN_IF_ERROR(db_.Prepare(sql.c_str(), stmt, Op::kRead));
  BindText(stmt.get(), 1, prefix);
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return std::optional<StoredToken>();
  if (rc != SQLITE_ROW) return db_.Error(rc, "read token", Op::kRead);
  return std::optional<StoredToken>(ReadToken(stmt.get()));
}

absl::StatusOr<std::vector<StoredToken>> SqliteOutbox::ListTokens() {
  Stmt stmt;
  const std::string sql =
      absl::StrCat("SELECT ", kTokenColumns, " FROM access_tokens ORDER BY created_at, prefix");
  BONAFIDE_RETURN_IF_ERROR(db_.Prepare(sql.c_str(), stmt, Op::kRead));
  std::vector<StoredToken> out;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) out.push_back(ReadToken(stmt.get()));
  if (rc != SQLITE_DONE) return db_.Error(rc, "list tokens", Op::kRead);
  return out;
}

absl::Status SqliteOutbox::RevokeToken(std::string_view prefix) {
  BONAFIDE_RETURN_IF_ERROR(StartWrite("revoke token"));
  Stmt stmt;
  BONAFIDE_RETURN_IF_ERROR(db_.Prepare(
      "UPDATE access_tokens SET revoked_at = ?2 WHERE prefix = ?1 AND revoked_at IS NULL", stmt,
      Op::kWrite));
  const std::string now = NowIso8601();
  BindText(stmt.get(), 1, prefix);
  BindText(stmt.get(), 2, now);
  BONAFIDE_RETURN_IF_ERROR(db_.StepDone(stmt.get(), "revoke token"));
  if (sqlite3_changes(db_.get()) == 0) {
    return absl::NotFoundError(
        absl::StrCat("no active token with prefix \"", ToAbsl(prefix), "\""));
  }
  return absl::OkStatus();
}

// --- Delivery ----------------------------------------------------------------------------

absl::StatusOr<std::optional<PendingDelivery>> SqliteOutbox::NextDelivery(
    std::string_view rights_holder) {
  sqlite3_stmt* stmt = next_delivery_.get();
  StmtScope scope(stmt);
  BindText(stmt, 1, rights_holder);
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::optional<PendingDelivery>();
  if (rc != SQLITE_ROW) return db_.Error(rc, "next delivery", Op::kRead);
  PendingDelivery d;
  d.event = ReadEvent(stmt);
  d.attempts = sqlite3_column_int(stmt, 7);
  d.next_attempt_ms = sqlite3_column_int64(stmt, 8);
  return std::optional<PendingDelivery>(std::move(d));
}

absl::Status SqliteOutbox::RecordDeliveryAttempt(const DeliveryAttempt& a) {
  BONAFIDE_RETURN_IF_ERROR(StartWrite("record delivery"));
  const char* state = DeliveryStateName(a.outcome);
  return db_.InTransaction([&]() -> absl::Status {
    Stmt stmt;
    BONAFIDE_RETURN_IF_ERROR(db_.Prepare(
        "INSERT INTO deliveries (event_id, rights_holder, state, attempts, next_attempt_ms,"
        " last_status, last_error, updated_at)"
        " SELECT id, rights_holder, ?2, 1, ?3, ?4, ?5, ?6 FROM events WHERE id = ?1"
        " ON CONFLICT (event_id) DO UPDATE SET state = ?2, attempts = attempts + 1,"
        " next_attempt_ms = ?3, last_status = ?4, last_error = ?5, updated_at = ?6",
        stmt, Op::kWrite));
    const std::string now = NowIso8601();
    sqlite3_bind_int64(stmt.get(), 1, a.event_id);
    BindText(stmt.get(), 2, state);
    sqlite3_bind_int64(stmt.get(), 3, a.next_attempt_ms);
    sqlite3_bind_int(stmt.get(), 4, a.http_status);
    BindText(stmt.get(), 5, a.error);
    BindText(stmt.get(), 6, now);
    BONAFIDE_RETURN_IF_ERROR(db_.StepDone(stmt.get(), "record delivery attempt"));
    if (sqlite3_changes(db_.get()) == 0) {
      return absl::NotFoundError(absl::StrCat("no event ", a.event_id));
    }
    if (a.outcome == DeliveryAttempt::Outcome::kRetry) return absl::OkStatus();
    Stmt cursor;
    BONAFIDE_RETURN_IF_ERROR(
        db_.Prepare("INSERT INTO relay_cursors (rights_holder, done_through)"
                    " SELECT rights_holder, id FROM events WHERE id = ?1"
                    " ON CONFLICT (rights_holder) DO UPDATE SET"
                    " done_through = max(done_through, excluded.done_through)",
                    cursor, Op::kWrite));
    sqlite3_bind_int64(cursor.get(), 1, a.event_id);
    return db_.StepDone(cursor.get(), "advance delivery cursor");
  });
}

absl::Status SqliteOutbox::DisableEndpoint(std::string_view rights_holder,
                                           std::string_view endpoint_digest,
                                           std::string_view reason) {
  BONAFIDE_RETURN_IF_ERROR(StartWrite("disable endpoint"));
  Stmt stmt;
  BONAFIDE_RETURN_IF_ERROR(
      db_.Prepare("INSERT OR REPLACE INTO relay_endpoints (rights_holder, endpoint_digest, reason,"
                  " disabled_at) VALUES (?1, ?2, ?3, ?4)",
                  stmt, Op::kWrite));
  const std::string now = NowIso8601();
  BindText(stmt.get(), 1, rights_holder);
  BindText(stmt.get(), 2, endpoint_digest);
  BindText(stmt.get(), 3, reason);
  BindText(stmt.get(), 4, now);
  return db_.StepDone(stmt.get(), "disable endpoint");
}

absl::StatusOr<bool> SqliteOutbox::EndpointDisabled(std::string_view rights_holder,
                                                    std::string_view endpoint_digest) {
  Stmt stmt;
  BONAFIDE_RETURN_IF_ERROR(db_.Prepare(
      "SELECT count(*) FROM relay_endpoints WHERE rights_holder = ?1 AND endpoint_digest = ?2",
      stmt, Op::kRead));
  BindText(stmt.get(), 1, rights_holder);
  BindText(stmt.get(), 2, endpoint_digest);
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return db_.Error(rc, "read endpoint state", Op::kRead);
  return sqlite3_column_int64(stmt.get(), 0) > 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Outbox>> OpenSqliteOutbox(std::string_view path,
                                                         OutboxAccess access) {
  BONAFIDE_ASSIGN_OR_RETURN(std::unique_ptr<SqliteOutbox> outbox, SqliteOutbox::Open(path, access));
  return std::unique_ptr<Outbox>(std::move(outbox));
}

}  // namespace bonafide::engine
