#include "engine/outbox_schema.h"

#include <string>

#include "absl/strings/str_cat.h"

#include "util/status_macros.h"

namespace bonafide::engine {
namespace {

using sqlite::Db;
using sqlite::Op;

// The cases table of version 2, as released; a version 1 outbox is migrated to it first
// (SQLite cannot add a CHECK constraint to an existing table), then to version 3.
constexpr const char* kCreateVersion2CasesSql = R"sql(
CREATE TABLE cases (
  case_key           TEXT PRIMARY KEY NOT NULL,
  rights_holder      TEXT NOT NULL,
  marketplace        TEXT NOT NULL,
  listing_id         TEXT NOT NULL,
  seller_id          TEXT NOT NULL,
  score              REAL NOT NULL,
  reasons            TEXT NOT NULL CONSTRAINT reasons_is_json CHECK (json_valid(reasons)),
  evidence           TEXT NOT NULL CONSTRAINT evidence_is_json CHECK (json_valid(evidence)),
  signals            TEXT NOT NULL,
  fingerprint        TEXT NOT NULL,
  material           TEXT NOT NULL,
  status             TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'confirmed', 'rejected', 'closed')),
  revision           INTEGER NOT NULL DEFAULT 0,
  announced_status   TEXT,
  announced_material TEXT,
  dirty_run          TEXT,
  first_seen_at      TEXT NOT NULL,
  last_seen_at       TEXT NOT NULL
);
)sql";

// Version 3: a case row holds what was scanned; what was last announced and what a run
// still has to publish live in two small tables keyed by the case's id. Publishing then
// writes a few dozen bytes per case instead of rewriting its ~2 KB row, and new cases get
// increasing ids, so a scan's writes to those tables land on the last pages.
constexpr const char* kCreateCasesSql = R"sql(
CREATE TABLE cases (
  id            INTEGER PRIMARY KEY,
  case_key      TEXT NOT NULL UNIQUE,
  rights_holder TEXT NOT NULL,
  marketplace   TEXT NOT NULL,
  listing_id    TEXT NOT NULL,
  seller_id     TEXT NOT NULL,
  score         REAL NOT NULL,
  reasons       TEXT NOT NULL CONSTRAINT reasons_is_json CHECK (json_valid(reasons)),
  evidence      TEXT NOT NULL CONSTRAINT evidence_is_json CHECK (json_valid(evidence)),
  signals       TEXT NOT NULL,
  fingerprint   TEXT NOT NULL,
  material      TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'confirmed', 'rejected', 'closed')),
  first_seen_at TEXT NOT NULL,
  last_seen_at  TEXT NOT NULL
);
CREATE TABLE announcements (
  case_id  INTEGER PRIMARY KEY NOT NULL,
  status   TEXT NOT NULL,
  material TEXT NOT NULL,
  revision INTEGER NOT NULL
);
CREATE TABLE to_publish (
  run     TEXT NOT NULL,
  case_id INTEGER NOT NULL,
  PRIMARY KEY (run, case_id)
) WITHOUT ROWID;
)sql";

constexpr const char* kCaseIndexesSql = R"sql(
CREATE INDEX cases_by_holder_status ON cases (rights_holder, status, first_seen_at, case_key);
CREATE INDEX cases_pending ON cases (marketplace, listing_id) WHERE status = 'pending';
CREATE INDEX cases_confirmed ON cases (rights_holder, seller_id, case_key)
  WHERE status = 'confirmed';
)sql";

constexpr const char* kCreateCheckpointsSql = R"sql(
CREATE TABLE scan_checkpoints (
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
)sql";

constexpr const char* kCreateEventsSql = R"sql(
CREATE TABLE events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  event_key     TEXT NOT NULL UNIQUE,
  rights_holder TEXT NOT NULL,
  case_key      TEXT NOT NULL,
  type          TEXT NOT NULL,
  payload       TEXT NOT NULL,
  created_at    TEXT NOT NULL
);
CREATE INDEX events_by_rights_holder ON events (rights_holder, id);
)sql";

// Tables that version 2 added (and its index events_by_case, which version 4 dropped: a
// case's events are the range of their unique event_key).
constexpr const char* kCreateVersion2TablesSql = R"sql(
CREATE TABLE verdicts (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  case_key         TEXT NOT NULL,
  rights_holder    TEXT NOT NULL,
  verdict          TEXT NOT NULL CHECK (verdict IN ('counterfeit', 'genuine', 'not_ours')),
  comment          TEXT NOT NULL,
  authorize_seller INTEGER NOT NULL,
  seller_id        TEXT NOT NULL,
  signals          TEXT NOT NULL,
  actor            TEXT NOT NULL,
  created_at       TEXT NOT NULL
);
CREATE INDEX verdicts_by_case ON verdicts (case_key, id);
CREATE TABLE authorized_sellers (
  rights_holder TEXT NOT NULL,
  seller_id     TEXT NOT NULL,
  case_key      TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  PRIMARY KEY (rights_holder, seller_id, case_key)
);
CREATE TABLE counterfeit_photos (
  rights_holder TEXT NOT NULL,
  pdq           TEXT NOT NULL,
  quality       INTEGER NOT NULL,
  case_key      TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  PRIMARY KEY (rights_holder, pdq, case_key)
);
CREATE TABLE deliveries (
  event_id        INTEGER PRIMARY KEY NOT NULL,
  rights_holder   TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('retrying', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  last_status     INTEGER NOT NULL,
  last_error      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);
CREATE TABLE relay_cursors (
  rights_holder TEXT PRIMARY KEY NOT NULL,
  done_through  INTEGER NOT NULL
);
CREATE TABLE relay_endpoints (
  rights_holder   TEXT NOT NULL,
  endpoint_digest TEXT NOT NULL,
  reason          TEXT NOT NULL,
  disabled_at     TEXT NOT NULL,
  PRIMARY KEY (rights_holder, endpoint_digest)
);
)sql";

// Version 3 added the portal's access tokens: only a token's SHA-256 is kept, with its public
// prefix (how a token is named in lists and revoked) and whose it is. An admin token has no
// rights holder.
constexpr const char* kCreateTokensSql = R"sql(
CREATE TABLE access_tokens (
  prefix        TEXT PRIMARY KEY NOT NULL,
  sha256        TEXT NOT NULL,
  rights_holder TEXT,
  admin         INTEGER NOT NULL CHECK ((admin = 1) = (rights_holder IS NULL)),
  created_at    TEXT NOT NULL,
  revoked_at    TEXT
);
)sql";

// Version 1 cases keep everything (into the version 2 table); what version 1 did not store is
// derived: the signal names from the reasons, and an empty material key, which the first rescan
// adopts without an event (the old build announced these cases; their material key was never
// computed).
constexpr const char* kCopyVersion1CasesSql = R"sql(
INSERT INTO cases (case_key, rights_holder, marketplace, listing_id, seller_id, score, reasons,
                   evidence, signals, fingerprint, material, status, revision,
                   announced_status, announced_material, dirty_run, first_seen_at,
                   last_seen_at)
SELECT case_key, rights_holder, marketplace, listing_id, seller_id, score, reasons, evidence,
       coalesce((SELECT group_concat(name, ' ') FROM (
                   SELECT CASE json_extract(r.value, '$.signal')
                            WHEN 'cue' THEN 'cue:' || json_extract(r.value, '$.rule')
                            ELSE json_extract(r.value, '$.signal') END AS name
                   FROM json_each(old.reasons) AS r
                   WHERE NOT json_extract(r.value, '$.shadow') ORDER BY name)), ''),
       fingerprint, '', 'pending', revision, 'pending', '', NULL, first_seen_at, last_seen_at
FROM cases_v1 AS old;
)sql";

// Version 2 to 3: the announcement columns move to their own tables; case rows keep their
// order (ids follow the old rowids). `cases_by_listing` and `cases_to_publish` are gone
// (the partial `cases_pending` serves the scan's lookups by listing), and
// `cases_by_rights_holder` gives way to `cases_by_holder_status`. A version 1 outbox
// arrives here without the version 2 indexes.
constexpr const char* kMigrateVersion2CasesSql = R"sql(
DROP INDEX IF EXISTS cases_by_rights_holder;
DROP INDEX IF EXISTS cases_by_listing;
DROP INDEX IF EXISTS cases_to_publish;
DROP INDEX IF EXISTS cases_pending;
DROP INDEX IF EXISTS cases_confirmed;
ALTER TABLE cases RENAME TO cases_v2;
)sql";
constexpr const char* kCopyVersion2CasesSql = R"sql(
INSERT INTO cases (id, case_key, rights_holder, marketplace, listing_id, seller_id, score,
                   reasons, evidence, signals, fingerprint, material, status, first_seen_at,
                   last_seen_at)
SELECT rowid, case_key, rights_holder, marketplace, listing_id, seller_id, score, reasons,
       evidence, signals, fingerprint, material, status, first_seen_at, last_seen_at
FROM cases_v2;
INSERT INTO announcements (case_id, status, material, revision)
SELECT rowid, announced_status, coalesce(announced_material, ''), revision
FROM cases_v2 WHERE announced_status IS NOT NULL;
INSERT INTO to_publish (run, case_id)
SELECT dirty_run, rowid FROM cases_v2 WHERE dirty_run IS NOT NULL;
DROP TABLE cases_v2;
)sql";

absl::StatusOr<bool> HasColumn(Db& db, const char* table, std::string_view column) {
  sqlite::Stmt stmt;
  const std::string sql = absl::StrCat("PRAGMA table_info(", table, ")");
  BONAFIDE_RETURN_IF_ERROR(db.Prepare(sql.c_str(), stmt, Op::kOpen));
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    if (sqlite::ColumnText(stmt.get(), 1) == column) return true;
  }
  if (rc != SQLITE_DONE) return db.Error(rc, "read table columns", Op::kOpen);
  return false;
}

absl::Status CreateCurrent(Db& db) {
  BONAFIDE_RETURN_IF_ERROR(db.Exec(kCreateCasesSql, "create cases", Op::kOpen));
  BONAFIDE_RETURN_IF_ERROR(db.Exec(kCaseIndexesSql, "create case indexes", Op::kOpen));
  BONAFIDE_RETURN_IF_ERROR(db.Exec(kCreateEventsSql, "create events", Op::kOpen));
  BONAFIDE_RETURN_IF_ERROR(db.Exec(kCreateCheckpointsSql, "create checkpoints", Op::kOpen));
  BONAFIDE_RETURN_IF_ERROR(db.Exec(kCreateVersion2TablesSql, "create version 2 tables", Op::kOpen));
  return db.Exec(kCreateTokensSql, "create access tokens", Op::kOpen);
}

// Version 1 was released twice with the same number: first with checkpoints keyed by input
// only, then keyed by (run, input). Checkpoints of the first kind cannot be tied to a run;
// they are dropped, so a scan the old build left unfinished starts again from the
// beginning (rescanning is idempotent).
absl::Status MigrateFromVersion1(Db& db) {
  BONAFIDE_ASSIGN_OR_RETURN(const bool per_run, HasColumn(db, "scan_checkpoints", "run"));
  if (!per_run) {
    BONAFIDE_RETURN_IF_ERROR(
        db.Exec("DROP TABLE scan_checkpoints", "drop version 1 checkpoints", Op::kOpen));
    BONAFIDE_RETURN_IF_ERROR(db.Exec(kCreateCheckpointsSql, "create checkpoints", Op::kOpen));
  }
  BONAFIDE_RETURN_IF_ERROR(
      db.Exec("DROP INDEX IF EXISTS cases_by_rights_holder;"
              "ALTER TABLE cases RENAME TO cases_v1;",
              "rename version 1 cases", Op::kOpen));
  BONAFIDE_RETURN_IF_ERROR(db.Exec(kCreateVersion2CasesSql, "create cases", Op::kOpen));
  BONAFIDE_RETURN_IF_ERROR(db.Exec(kCopyVersion1CasesSql, "copy version 1 cases", Op::kOpen));
  BONAFIDE_RETURN_IF_ERROR(db.Exec("DROP TABLE cases_v1", "drop version 1 cases", Op::kOpen));
  return db.Exec(kCreateVersion2TablesSql, "create version 2 tables", Op::kOpen);
}

absl::Status MigrateFromVersion2(Db& db) {
  BONAFIDE_RETURN_IF_ERROR(db.Exec(kMigrateVersion2CasesSql, "rename version 2 cases", Op::kOpen));
  BONAFIDE_RETURN_IF_ERROR(db.Exec(kCreateCasesSql, "create cases", Op::kOpen));
  BONAFIDE_RETURN_IF_ERROR(db.Exec(kCopyVersion2CasesSql, "copy version 2 cases", Op::kOpen));
  BONAFIDE_RETURN_IF_ERROR(db.Exec(kCaseIndexesSql, "create case indexes", Op::kOpen));
  return db.Exec(kCreateTokensSql, "create access tokens", Op::kOpen);
}

// Version 3 to 4: `events_by_case` goes. A case's events are the key range
// "<case_key>:".."<case_key>;" of the unique index on event_key, so the second index only
// cost every event insert a B-tree insert and ~45 bytes.
absl::Status MigrateFromVersion3(Db& db) {
  return db.Exec("DROP INDEX IF EXISTS events_by_case", "drop events_by_case", Op::kOpen);
}

absl::Status NewerVersionError(const Db& db, int64_t version) {
  return absl::FailedPreconditionError(absl::StrCat(db.path(), ": outbox schema version ", version,
                                                    " is newer than this build supports (",
                                                    kOutboxSchemaVersion, ")"));
}

}  // namespace

absl::Status CreateOrMigrateOutbox(Db& db) {
  return db.InTransaction([&]() -> absl::Status {
    BONAFIDE_ASSIGN_OR_RETURN(const int64_t version,
                              db.QueryInt("PRAGMA user_version", "read schema version", Op::kOpen));
    if (version == kOutboxSchemaVersion) return absl::OkStatus();
    if (version > kOutboxSchemaVersion) return NewerVersionError(db, version);
    if (version == 0) {
      BONAFIDE_ASSIGN_OR_RETURN(
          const int64_t tables,
          db.QueryInt("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'",
                      "read schema", Op::kOpen));
      if (tables != 0) {
        return absl::FailedPreconditionError(
            absl::StrCat(db.path(), ": not a bonafide outbox (has tables but no schema version)"));
      }
      BONAFIDE_RETURN_IF_ERROR(CreateCurrent(db));
    } else {
      // One step per version, each leaving the schema of the next.
      if (version <= 1) BONAFIDE_RETURN_IF_ERROR(MigrateFromVersion1(db));
      if (version <= 2) BONAFIDE_RETURN_IF_ERROR(MigrateFromVersion2(db));
      BONAFIDE_RETURN_IF_ERROR(MigrateFromVersion3(db));
    }
    const std::string set_version = absl::StrCat("PRAGMA user_version = ", kOutboxSchemaVersion);
    return db.Exec(set_version.c_str(), "set schema version", Op::kOpen);
  });
}

absl::Status CheckOutboxVersion(Db& db) {
  BONAFIDE_ASSIGN_OR_RETURN(const int64_t version,
                            db.QueryInt("PRAGMA user_version", "read schema version", Op::kRead));
  if (version == kOutboxSchemaVersion) return absl::OkStatus();
  if (version == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(db.path(), ": not a bonafide outbox (no schema version)"));
  }
  if (version > kOutboxSchemaVersion) return NewerVersionError(db, version);
  return absl::FailedPreconditionError(
      absl::StrCat(db.path(), ": outbox schema version ", version, " needs migrating to version ",
                   kOutboxSchemaVersion,
                   ", which a read-only open does not do: run `bonafide outbox migrate "
                   "--outbox ",
                   db.path(), "` (or any command that writes to it) first"));
}

}  // namespace bonafide::engine
