// OpenOutbox(): the backend is chosen by the location's form.
#include <memory>
#include <string_view>

#include "bonafide/outbox.h"
#include "engine/pg_connection.h"
#include "engine/postgres_outbox.h"
#include "engine/sqlite_outbox.h"

namespace bonafide {

absl::StatusOr<std::unique_ptr<Outbox>> OpenOutbox(std::string_view location, OutboxAccess access) {
  if (engine::pg::IsPostgresUri(location)) return engine::OpenPostgresOutbox(location, access);
  return engine::OpenSqliteOutbox(location, access);
}

}  // namespace bonafide
