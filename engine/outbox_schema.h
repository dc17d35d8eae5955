// The SQLite outbox's schema and its migrations (docs/outbox-format.md, "Schema versions").
//
// The version lives in PRAGMA user_version. Every schema change bumps kOutboxSchemaVersion
// and adds a step to MigrateOutbox, and a fixture outbox written by the last build of the
// old schema goes to testdata/outbox/ (its test opens it with this build).
#ifndef BONAFIDE_ENGINE_OUTBOX_SCHEMA_H_
#define BONAFIDE_ENGINE_OUTBOX_SCHEMA_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "engine/sqlite_db.h"

namespace bonafide::engine {

inline constexpr int kOutboxSchemaVersion = 4;

// Creates the schema in an empty database, or migrates an outbox of an earlier version, in
// one transaction; an outbox already at kOutboxSchemaVersion is left alone.
// FailedPrecondition for a newer version or a database that is not an outbox.
absl::Status CreateOrMigrateOutbox(sqlite::Db& db);

// For a read-only open: OK when the outbox is at kOutboxSchemaVersion; FailedPrecondition
// (saying how to migrate it) otherwise.
absl::Status CheckOutboxVersion(sqlite::Db& db);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_OUTBOX_SCHEMA_H_
