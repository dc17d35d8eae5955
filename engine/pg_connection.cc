#include "engine/pg_connection.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide::engine::pg {
namespace {

constexpr std::string_view kSchemes[] = {"postgresql://", "postgres://"};

// libpq ends its messages with a newline (and sometimes a DETAIL line): one line is enough.
std::string FirstLine(std::string_view message) {
  const size_t end = message.find('\n');
  return std::string(message.substr(0, end));
}

}  // namespace

std::string RedactUri(std::string_view uri) {
  std::string_view scheme;
  for (std::string_view s : kSchemes) {
    if (uri.substr(0, s.size()) == s) scheme = s;
  }
  std::string_view rest = uri.substr(scheme.size());
  const size_t query_at = rest.find('?');
  std::string_view query = query_at == std::string_view::npos ? "" : rest.substr(query_at + 1);
  std::string_view before_query = rest.substr(0, query_at);
  const size_t path_at = before_query.find('/');
  std::string_view authority = before_query.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? "" : before_query.substr(path_at);
  std::string out(scheme);
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    out.append(userinfo.substr(0, userinfo.find(':')));
    out.append(authority.substr(at));
  } else {
    out.append(authority);
  }
  out.append(path);
  std::vector<std::string_view> kept;
  for (absl::string_view param : absl::StrSplit(ToAbsl(query), '&', absl::SkipEmpty())) {
    if (!absl::StartsWith(param, "password=")) kept.emplace_back(param.data(), param.size());
  }
  if (!kept.empty()) {
    out.push_back('?');
    for (size_t i = 0; i < kept.size(); ++i) {
      if (i > 0) out.push_back('&');
      out.append(kept[i]);
    }
  }
  return out;
}

absl::Status StatusFromSqlState(std::string_view sqlstate, std::string_view location,
                                std::string_view what, std::string_view message) {
  const std::string text =
      absl::StrCat(ToAbsl(location), ": ", ToAbsl(what), ": ", FirstLine(message));
  const std::string_view cls = sqlstate.substr(0, 2);
  if (sqlstate == "40001" || sqlstate == "40P01") return absl::AbortedError(text);
  if (sqlstate == "23505") return absl::AlreadyExistsError(text);
  if (sqlstate == "53100") {
    return absl::ResourceExhaustedError(
        absl::StrCat(ToAbsl(location), ": disk full: ", ToAbsl(what), ": ", FirstLine(message)));
  }
  if (cls == "53") return absl::ResourceExhaustedError(text);
  if (sqlstate == "25006" || sqlstate == "42501") return absl::PermissionDeniedError(text);
  if (cls == "08" || cls == "57" || sqlstate.empty()) return absl::UnavailableError(text);
  if (cls == "22" || cls == "23") return absl::InvalidArgumentError(text);
  return absl::InternalError(text);
}

int64_t Result::int64(int row, int col) const {
  const std::string_view v = view(row, col);
  int64_t out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

double Result::float64(int row, int col) const {
  const std::string_view v = view(row, col);
  double out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

std::string DoubleText(double value) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, r.ptr);
}

ArrayParam& ArrayParam::Add(std::string_view element) {
  if (size_++ > 0) text_.push_back(',');
  text_.push_back('"');
  for (char c : element) {
    if (c == '"' || c == '\\') text_.push_back('\\');
    text_.push_back(c);
  }
  text_.push_back('"');
  return *this;
}

ArrayParam& ArrayParam::Add(int64_t element) {
  if (size_++ > 0) text_.push_back(',');
  absl::StrAppend(&text_, element);
  return *this;
}

ArrayParam& ArrayParam::AddNull() {
  if (size_++ > 0) text_.push_back(',');
  text_.append("NULL");
  return *this;
}

ArrayParam& ArrayParam::AddDouble(double element) {
  if (size_++ > 0) text_.push_back(',');
  text_.append(DoubleText(element));
  return *this;
}

std::string_view ArrayParam::text() {
  if (!closed_) {
    text_.push_back('}');
    closed_ = true;
  }
  return text_;
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(std::string_view uri, bool read_only) {
  std::string location = RedactUri(uri);
  const std::string conninfo(uri);
  absl::StatusOr<const LibPq*> pq = OpenLibPq();
  if (!pq.ok()) return absl::UnavailableError(absl::StrCat(location, ": ", pq.status().message()));
  PGconn* conn = (*pq)->connectdb(conninfo.c_str());
  if (conn == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(location, ": connect: out of memory"));
  }
  std::unique_ptr<Connection> c(new Connection(conn, std::move(location), read_only));
  if (Pq().status(conn) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat(c->location_, ": connect: ", FirstLine(Pq().errorMessage(conn))));
  }
  // A library prints nothing: the server's notices (e.g. "relation already exists,
  // skipping") are dropped.
  Pq().setNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  // Doubles as the shortest text that reads back exactly, whatever the server's default.
  BONAFIDE_RETURN_IF_ERROR(
      c->Exec("configure session", "SET extra_float_digits = 1; SET client_encoding = 'UTF8'"));
  if (read_only) {
    BONAFIDE_RETURN_IF_ERROR(
        c->Exec("configure session", "SET default_transaction_read_only = on"));
  }
  return c;
}

Connection::~Connection() { Pq().finish(conn_); }

absl::Status Connection::Error(PGresult* result, std::string_view what) const {
  if (result == nullptr || Pq().status(conn_) == CONNECTION_BAD) {
    return absl::UnavailableError(
        absl::StrCat(location_, ": ", ToAbsl(what), ": ", FirstLine(Pq().errorMessage(conn_))));
  }
  const char* sqlstate = Pq().resultErrorField(result, PG_DIAG_SQLSTATE);
  return StatusFromSqlState(sqlstate != nullptr ? sqlstate : "", location_, what,
                            Pq().resultErrorMessage(result));
}

absl::StatusOr<Result> Connection::Query(std::string_view what, const char* sql,
                                         const std::vector<Param>& params) {
  // Text parameters go to libpq as NUL-terminated strings.
  std::vector<std::string> storage;
  storage.reserve(params.size());
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) {
    if (!p.has_value()) {
      values.push_back(nullptr);
    } else {
      values.push_back(storage.emplace_back(*p).c_str());
    }
  }
  Result result(Pq().execParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(),
                                nullptr, nullptr, 0));
  const ExecStatusType status =
      result.get() != nullptr ? Pq().resultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Error(result.get(), what);
  }
  return result;
}

absl::Status Connection::Exec(std::string_view what, const char* sql,
                              const std::vector<Param>& params) {
  if (params.empty()) {
    // PQexec: several statements in one string (no parameters then).
    Result result(Pq().exec(conn_, sql));
    const ExecStatusType status =
        result.get() != nullptr ? Pq().resultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Error(result.get(), what);
    return absl::OkStatus();
  }
  return Query(what, sql, params).status();
}

absl::Status Connection::InTransaction(const std::function<absl::Status()>& body) {
  const char* begin = read_only_ ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                 : "BEGIN ISOLATION LEVEL REPEATABLE READ";
  thread_local std::minstd_rand jitter(std::random_device{}());
  absl::Status status;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    last_attempts_ = attempt;
    status = Exec("begin transaction", begin);
    if (status.ok()) status = body();
    if (status.ok()) status = Exec("commit", "COMMIT");
    if (status.ok()) return status;
    if (Pq().transactionStatus(conn_) != PQTRANS_IDLE) {
      Result rollback(Pq().exec(conn_, "ROLLBACK"));
    }
    if (status.code() != absl::StatusCode::kAborted) return status;
    // Another transaction won a conflict: wait a little (2 ms doubling up to 256 ms, times
    // 0.5..1.5 so that the losers do not collide again) and start over.
    const int base_ms = 2 << std::min(attempt - 1, 7);
    const int ms = base_ms / 2 + static_cast<int>(jitter() % static_cast<unsigned>(base_ms));
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  return absl::UnavailableError(
      absl::StrCat(status.message(), " (given up after ", kMaxAttempts, " attempts)"));
}

}  // namespace bonafide::engine::pg
