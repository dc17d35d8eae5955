// A thin layer over libpq for the PostgreSQL outbox: one connection, parameterised queries
// in text format, results that free themselves, transactions retried as a whole on a
// serialization failure or deadlock, and the translation of SQLSTATEs into absl::Status.
//
// libpq directly rather than libpqxx: one Debian package fewer, no exceptions to translate,
// and the outbox needs little (text parameters, arrays, a retry loop).
//
// A Connection is not thread-safe: one per thread, like every Outbox.
#ifndef BONAFIDE_ENGINE_PG_CONNECTION_H_
#define BONAFIDE_ENGINE_PG_CONNECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "engine/libpq.h"

#include <libpq-fe.h>

namespace bonafide::engine::pg {

// `uri` without its password (the userinfo's ":password" and any password= parameter), for
// error messages and logs.
std::string RedactUri(std::string_view uri);

// Maps a failed result's SQLSTATE to a Status "<location>: <what>: <server message>":
// 40001/40P01 (serialization failure, deadlock) Aborted, which InTransaction retries;
// connection exceptions (class 08, 57) Unavailable; 23505 (unique violation)
// AlreadyExists; other integrity and data errors (classes 22, 23) InvalidArgument; class 53
// (disk full, out of memory) ResourceExhausted; 25006 (read-only transaction) and 42501
// PermissionDenied; anything else Internal.
absl::Status StatusFromSqlState(std::string_view sqlstate, std::string_view location,
                                std::string_view what, std::string_view message);

// Owns a PGresult.
class Result {
 public:
  Result() = default;
  explicit Result(PGresult* result) : result_(result) {}
  PGresult* get() const { return result_.get(); }
  int rows() const { return result_ ? Pq().ntuples(result_.get()) : 0; }
  bool null(int row, int col) const { return Pq().getisnull(result_.get(), row, col) != 0; }
  std::string_view view(int row, int col) const {
    return {Pq().getvalue(result_.get(), row, col),
            static_cast<size_t>(Pq().getlength(result_.get(), row, col))};
  }
  std::string text(int row, int col) const { return std::string(view(row, col)); }
  std::optional<std::string> optional_text(int row, int col) const {
    if (null(row, col)) return std::nullopt;
    return text(row, col);
  }
  int64_t int64(int row, int col) const;   // 0 for NULL
  double float64(int row, int col) const;  // 0 for NULL
  bool boolean(int row, int col) const { return view(row, col) == "t"; }

 private:
  struct Deleter {
    void operator()(PGresult* r) const { Pq().clear(r); }
  };
  std::unique_ptr<PGresult, Deleter> result_;
};

// A query parameter in text format; nullopt is SQL NULL.
using Param = std::optional<std::string_view>;

// Builds the text form of a one-dimensional array parameter ('{"a","b",NULL}'), for
// `= ANY($1::text[])` and `unnest($1::text[], ...)`: one parameter for a whole batch.
class ArrayParam {
 public:
  ArrayParam& Add(std::string_view element);
  ArrayParam& Add(int64_t element);
  ArrayParam& AddNull();
  // Shortest text that reads back as the same double.
  ArrayParam& AddDouble(double element);
  std::string_view text();  // closes the literal; Add after it is a bug
  size_t size() const { return size_; }

 private:
  std::string text_ = "{";
  size_t size_ = 0;
  bool closed_ = false;
};

// Shortest text that reads back as the same double (std::to_chars).
std::string DoubleText(double value);

class Connection {
 public:
  // Connects to `uri`. A read-only connection has default_transaction_read_only on, so the
  // server refuses any write. Unavailable when the server cannot be reached; the message
  // names the URI without its password.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(std::string_view uri, bool read_only);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  const std::string& location() const { return location_; }  // the URI without password
  bool read_only() const { return read_only_; }

  // Runs one statement with text parameters ($1, $2, ...). `what` names it in errors.
  absl::StatusOr<Result> Query(std::string_view what, const char* sql,
                               const std::vector<Param>& params = {});
  // Query() for a statement whose rows do not matter.
  absl::Status Exec(std::string_view what, const char* sql, const std::vector<Param>& params = {});

  // Runs `body` in a REPEATABLE READ transaction (READ ONLY on a read-only connection) and
  // commits it. A serialization failure or deadlock (Aborted, from the body or the commit)
  // rolls back and runs the body again, up to kMaxAttempts times with a jittered backoff;
  // then Unavailable. Any other error rolls back and is returned. The body must therefore
  // keep no state across attempts other than what it recomputes.
  static constexpr int kMaxAttempts = 12;
  absl::Status InTransaction(const std::function<absl::Status()>& body);
  // Attempts the last InTransaction made (1 when it did not retry).
  int last_attempts() const { return last_attempts_; }

  // The error of a failed query (or of the connection), as StatusFromSqlState.
  absl::Status Error(PGresult* result, std::string_view what) const;

 private:
  Connection(PGconn* conn, std::string location, bool read_only)
      : conn_(conn), location_(std::move(location)), read_only_(read_only) {}

  PGconn* conn_;
  std::string location_;
  bool read_only_;
  int last_attempts_ = 0;
};

}  // namespace bonafide::engine::pg

#endif  // BONAFIDE_ENGINE_PG_CONNECTION_H_
