// libpq's functions as the PostgreSQL outbox calls them, from libpq opened at the first
// connection rather than linked.
//
// Debian's libpq loads Kerberos, LDAP, GnuTLS and about 20 more libraries: linked, they
// were the largest part of every process's start-up (the CLI's and an embedding service's),
// PostgreSQL or not, while a scan into SQLite never calls them. The headers still come from
// libpq-dev, so each pointer has exactly the declared function's type.
//
//   BONAFIDE_ASSIGN_OR_RETURN(const LibPq* pq, OpenLibPq());
//   PGconn* conn = pq->connectdb(conninfo);
#ifndef BONAFIDE_ENGINE_LIBPQ_H_
#define BONAFIDE_ENGINE_LIBPQ_H_

#include "absl/status/statusor.h"

#include <libpq-fe.h>

namespace bonafide::engine::pg {

// The functions used, each named by its name without the PQ prefix.
#define BONAFIDE_LIBPQ_FUNCTIONS(X) \
  X(connectdb)                      \
  X(status)                         \
  X(errorMessage)                   \
  X(setNoticeProcessor)             \
  X(finish)                         \
  X(exec)                           \
  X(execParams)                     \
  X(transactionStatus)              \
  X(resultStatus)                   \
  X(resultErrorField)               \
  X(resultErrorMessage)             \
  X(ntuples)                        \
  X(getisnull)                      \
  X(getvalue)                       \
  X(getlength)                      \
  X(clear)

struct LibPq {
// `name` is a declarator here, which parentheses would not improve.
#define BONAFIDE_LIBPQ_MEMBER(name) \
  decltype(&::PQ##name) name = nullptr;  // NOLINT(bugprone-macro-parentheses)
  BONAFIDE_LIBPQ_FUNCTIONS(BONAFIDE_LIBPQ_MEMBER)
#undef BONAFIDE_LIBPQ_MEMBER
};

// Opens libpq (by the soname the build found) and looks every function up, once for the
// process; later calls return the same table or the same error. Thread-safe. The library
// stays open until exit.
// Errors: Unavailable when libpq or one of its functions cannot be loaded (the loader's
// message says which).
absl::StatusOr<const LibPq*> OpenLibPq();

// The table, for code that only runs once OpenLibPq succeeded (a Connection and its
// results exist only then). Aborts if it did not.
const LibPq& Pq();

}  // namespace bonafide::engine::pg

#endif  // BONAFIDE_ENGINE_LIBPQ_H_
