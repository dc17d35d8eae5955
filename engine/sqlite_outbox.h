// The SQLite backend of OpenOutbox() (include/bonafide/outbox.h): a database file in WAL
// mode (docs/outbox-format.md).
#ifndef BONAFIDE_ENGINE_SQLITE_OUTBOX_H_
#define BONAFIDE_ENGINE_SQLITE_OUTBOX_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"

#include "bonafide/outbox.h"

namespace bonafide::engine {

// Opens the outbox file at `path` (created, with its schema, when absent and kReadWrite;
// migrated from an earlier schema version on a read-write open).
absl::StatusOr<std::unique_ptr<Outbox>> OpenSqliteOutbox(std::string_view path,
                                                         OutboxAccess access);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_SQLITE_OUTBOX_H_
