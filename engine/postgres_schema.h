// The PostgreSQL outbox's schema (docs/outbox-format.md, "PostgreSQL"): the same tables,
// columns and meaning as the SQLite outbox at kOutboxSchemaVersion, in PostgreSQL's types.
// The version lives in outbox_meta (key 'schema_version') instead of SQLite's user_version.
#ifndef BONAFIDE_ENGINE_POSTGRES_SCHEMA_H_
#define BONAFIDE_ENGINE_POSTGRES_SCHEMA_H_

#include "absl/status/status.h"

#include "engine/pg_connection.h"

namespace bonafide::engine {

// Creates the schema in a database (its current schema, normally public) that has no
// tables, or migrates an outbox of version 3 (the first released for PostgreSQL), in one
// transaction under an advisory lock, so that processes opening a fresh database at once
// create it once; an outbox at kOutboxSchemaVersion is left alone.
// FailedPrecondition for a newer version or a database whose tables are not an outbox.
absl::Status CreatePostgresOutbox(pg::Connection& conn);

// For a read-only open: OK when the database holds an outbox at kOutboxSchemaVersion;
// FailedPrecondition otherwise.
absl::Status CheckPostgresOutboxVersion(pg::Connection& conn);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_POSTGRES_SCHEMA_H_
