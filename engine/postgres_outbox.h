// The PostgreSQL backend of OpenOutbox() (include/bonafide/outbox.h), for locations that
// are libpq URIs ("postgresql://..." or "postgres://..."); docs/outbox-format.md,
// "PostgreSQL".
#ifndef BONAFIDE_ENGINE_POSTGRES_OUTBOX_H_
#define BONAFIDE_ENGINE_POSTGRES_OUTBOX_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"

#include "bonafide/outbox.h"

namespace bonafide::engine {

// Connects to `uri` and, read-write, creates the schema in a database without one.
// Unavailable when the server cannot be reached; FailedPrecondition for a database that is
// not an outbox of this schema version. Errors name the URI without its password.
absl::StatusOr<std::unique_ptr<Outbox>> OpenPostgresOutbox(std::string_view uri,
                                                           OutboxAccess access);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_POSTGRES_OUTBOX_H_
