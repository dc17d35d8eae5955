// Plain SQL on an outbox beside the Outbox API, as an operator's `sqlite3` or `psql` would
// run it: for tests that check what is stored or change it behind the outbox's back. The
// location is an SQLite path or a postgresql:// URI (tests/outbox_test_util.h); keep the
// SQL to what both dialects accept. Failures are test failures (EXPECT), not exceptions.
#ifndef BONAFIDE_TESTS_RAW_OUTBOX_H_
#define BONAFIDE_TESTS_RAW_OUTBOX_H_

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "bonafide/outbox.h"

#include <libpq-fe.h>

namespace bonafide::testing {

using RawRows = std::vector<std::vector<std::string>>;

// Runs `sql` (several statements are allowed; the rows are the last one's) and returns its
// rows, every value as text and NULL as "NULL".
inline RawRows RawOutboxQuery(const std::string& location, const std::string& sql) {
  RawRows rows;
  if (IsPostgresUri(location)) {
    PGconn* conn = PQconnectdb(location.c_str());
    EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << sql << ": " << PQerrorMessage(conn);
    for (int i = 0; i < PQntuples(r); ++i) {
      auto& row = rows.emplace_back();
      for (int j = 0; j < PQnfields(r); ++j) {
        row.push_back(PQgetisnull(r, i, j) ? "NULL" : PQgetvalue(r, i, j));
      }
    }
    PQclear(r);
    PQfinish(conn);
    return rows;
  }
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(location.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  char* error = nullptr;
  auto collect = [](void* out, int columns, char** values, char**) {
    auto& row = static_cast<RawRows*>(out)->emplace_back();
    for (int j = 0; j < columns; ++j) row.push_back(values[j] == nullptr ? "NULL" : values[j]);
    return 0;
  };
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), collect, &rows, &error), SQLITE_OK)
      << sql << ": " << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
  return rows;
}

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_RAW_OUTBOX_H_
