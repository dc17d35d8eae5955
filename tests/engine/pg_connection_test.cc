// The libpq layer's pure parts (engine/pg_connection.h): URIs without passwords, SQLSTATEs
// as Status codes, array parameters. No server needed; the retry loop and the outbox under
// concurrency are in postgres_only_test.cc.
#include "engine/pg_connection.h"

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bonafide/outbox.h"

namespace bonafide::engine::pg {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PgConnectionTest, RedactUriDropsThePasswordOnly) {
  EXPECT_EQ(RedactUri("postgresql://bob:s3cret@db.example:5432/outbox"),
            "postgresql://bob@db.example:5432/outbox");
  EXPECT_EQ(RedactUri("postgres://bob:p%40ss@host/db?sslmode=require&password=x&connect_timeout=3"),
            "postgres://bob@host/db?sslmode=require&connect_timeout=3");
  EXPECT_EQ(RedactUri("postgresql://host/db?password=x"), "postgresql://host/db");
  EXPECT_EQ(RedactUri("postgresql://bob@[::1]:5432/db"), "postgresql://bob@[::1]:5432/db");
  EXPECT_EQ(RedactUri("postgresql://"), "postgresql://");
  // A password with '@' in it (unescaped): everything up to the last '@' is userinfo.
  EXPECT_EQ(RedactUri("postgresql://bob:a@b@host/db"), "postgresql://bob@host/db");
}

TEST(PgConnectionTest, IsPostgresUri) {
  EXPECT_TRUE(IsPostgresUri("postgresql://host/db"));
  EXPECT_TRUE(IsPostgresUri("postgres://host/db"));
  EXPECT_FALSE(IsPostgresUri("outbox.db"));
  EXPECT_FALSE(IsPostgresUri("./postgresql://x"));
}

TEST(PgConnectionTest, SqlStatesMapToStatusCodes) {
  auto code = [](const char* state) {
    return StatusFromSqlState(state, "postgresql://h/db", "write", "ERROR: x\nDETAIL: y").code();
  };
  EXPECT_EQ(code("40001"), absl::StatusCode::kAborted);
  EXPECT_EQ(code("40P01"), absl::StatusCode::kAborted);
  EXPECT_EQ(code("23505"), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(code("23514"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("22P02"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("53100"), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(code("53200"), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(code("25006"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(code("42501"), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(code("08006"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(code("57P01"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(code("42P01"), absl::StatusCode::kInternal);
  const absl::Status full = StatusFromSqlState("53100", "postgresql://h/db", "insert cases",
                                               "ERROR: could not extend file\nHINT: free space");
  EXPECT_EQ(full.message(),
            "postgresql://h/db: disk full: insert cases: ERROR: could not extend file");
}

TEST(PgConnectionTest, ArrayParamQuotesEveryElement) {
  ArrayParam a;
  a.Add("plain").Add("with \"quote\" and \\ backslash").Add("{,}").AddNull().Add("");
  EXPECT_EQ(a.text(), R"({"plain","with \"quote\" and \\ backslash","{,}",NULL,""})");
  EXPECT_EQ(a.size(), 5u);
  ArrayParam numbers;
  numbers.Add(int64_t{-3}).AddDouble(0.1).AddDouble(1e300);
  EXPECT_EQ(numbers.text(), "{-3,0.1,1e+300}");
  EXPECT_EQ(ArrayParam().text(), "{}");
}

TEST(PgConnectionTest, DoubleTextReadsBackExactly) {
  for (double d : {0.75, 0.1 + 0.2, 1.0 / 3.0, 123456789.123456789, 5e-324}) {
    EXPECT_EQ(std::strtod(DoubleText(d).c_str(), nullptr), d) << DoubleText(d);
  }
}

TEST(PgConnectionTest, AnUnreachableServerIsUnavailableWithoutThePassword) {
  // Port 1 on loopback: nothing listens there.
  auto conn =
      Connection::Open("postgresql://bob:s3cret@127.0.0.1:1/outbox?connect_timeout=2", false);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable) << conn.status();
  EXPECT_THAT(conn.status().message(), HasSubstr("postgresql://bob@127.0.0.1:1/outbox"));
  EXPECT_THAT(conn.status().message(), Not(HasSubstr("s3cret")));
  auto outbox = OpenOutbox("postgres://bob:s3cret@127.0.0.1:1/outbox?password=s3cret");
  EXPECT_EQ(outbox.status().code(), absl::StatusCode::kUnavailable) << outbox.status();
  EXPECT_THAT(outbox.status().message(), Not(HasSubstr("s3cret")));
}

}  // namespace
}  // namespace bonafide::engine::pg
