// One throwaway PostgreSQL server per test process (tests/services/postgresql.sh), started
// on first use and stopped when the process exits, and a fresh database for each caller.
//
//   const std::string uri = testing::PostgresTestServer::Get().NewDatabase();
//   auto outbox = OpenOutbox(uri);
//
// A server that cannot start aborts the process with the script's message: a test built for
// PostgreSQL has nothing to test without one. A process that dies without exiting (a crash,
// SIGKILL) leaves its server running in $TMPDIR/bonafide-test-*: end it with
// `tests/services/postgresql.sh stop DIR`. Thread-safe.
#ifndef BONAFIDE_TESTS_POSTGRES_TEST_SERVER_H_
#define BONAFIDE_TESTS_POSTGRES_TEST_SERVER_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "tests/temp_dir.h"

#include <libpq-fe.h>

namespace bonafide::testing {

class PostgresTestServer {
 public:
  static PostgresTestServer& Get() {
    // Not destroyed in static destruction order, which could come before a test's own
    // statics are done with it: an atexit handler stops the server and deletes the object,
    // whose TempDir then removes the data directory (gigabytes after the resume tests).
    static PostgresTestServer* server = [] {
      auto* s = new PostgresTestServer();
      std::atexit([] {
        server->Stop();
        delete server;
      });
      return s;
    }();
    return *server;
  }

  // postgresql://postgres@127.0.0.1:PORT (append /DBNAME).
  const std::string& base_uri() const { return base_uri_; }

  // Creates an empty database and returns its URI.
  std::string NewDatabase() {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string name = "t" + std::to_string(++databases_);
    const std::string admin = base_uri_ + "/postgres";
    PGconn* conn = PQconnectdb(admin.c_str());
    if (PQstatus(conn) != CONNECTION_OK) Die("connect", PQerrorMessage(conn));
    PGresult* r = PQexec(conn, ("CREATE DATABASE " + name).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) Die("create database", PQerrorMessage(conn));
    PQclear(r);
    PQfinish(conn);
    return base_uri_ + "/" + name;
  }

  // Runs `sql` on the database at `uri` (for tests that look under the outbox); returns the
  // first column of the first row, or "" when there is none. Aborts on an error.
  static std::string Query(const std::string& uri, const std::string& sql) {
    PGconn* conn = PQconnectdb(uri.c_str());
    if (PQstatus(conn) != CONNECTION_OK) Die("connect", PQerrorMessage(conn));
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) Die(sql, PQerrorMessage(conn));
    std::string out =
        PQntuples(r) > 0 && PQnfields(r) > 0 ? std::string(PQgetvalue(r, 0, 0)) : std::string();
    PQclear(r);
    PQfinish(conn);
    return out;
  }

 private:
  PostgresTestServer() {
    const std::string command = Script() + " start " + dir_.path();
    FILE* out = popen(command.c_str(), "r");
    if (out == nullptr) Die("start", command);
    char line[512];
    while (std::fgets(line, sizeof(line), out) != nullptr) base_uri_ += line;
    const int status = pclose(out);
    while (!base_uri_.empty() && (base_uri_.back() == '\n' || base_uri_.back() == '\r')) {
      base_uri_.pop_back();
    }
    if (status != 0 || base_uri_.rfind("postgresql://", 0) != 0) Die("start", command);
  }

  void Stop() {
    const std::string command = Script() + " stop " + dir_.path();
    if (std::system(command.c_str()) != 0)
      std::fprintf(stderr, "could not run %s\n", command.c_str());
  }

  static std::string Script() {
    return std::string("bash ") + BONAFIDE_SOURCE_DIR + "/tests/services/postgresql.sh";
  }

  [[noreturn]] static void Die(const std::string& what, const std::string& detail) {
    std::fprintf(stderr, "postgres test server: %s: %s\n", what.c_str(), detail.c_str());
    std::abort();
  }

  TempDir dir_;
  std::string base_uri_;
  std::mutex mu_;
  int databases_ = 0;
};

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_POSTGRES_TEST_SERVER_H_
