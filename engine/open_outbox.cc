// OpenOutbox(): the backend is chosen by the location's form.
#include <memory>
#include <string_view>

#include "bonafide/outbox.h"
#include "engine/postgres_outbox.h"
#include "engine/sqlite_outbox.h"

namespace bonafide {

bool IsPostgresUri(std::string_view location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

absl::StatusOr<std::unique_ptr<Outbox>> OpenOutbox(std::string_view location, OutboxAccess access) {
  if (IsPostgresUri(location)) return engine::OpenPostgresOutbox(location, access);
  return engine::OpenSqliteOutbox(location, access);
}

}  // namespace bonafide
