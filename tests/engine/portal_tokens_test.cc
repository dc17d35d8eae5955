// Portal tokens (engine/portal_tokens.h) on a real SQLite outbox, and the portal's request
// handler (engine/portal_api.h) called without sockets.
#include "engine/portal_tokens.h"

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bonafide/outbox.h"
#include "engine/portal_api.h"
#include "tests/outbox_test_util.h"
#include "tests/raw_outbox.h"
#include "tests/temp_dir.h"

namespace bonafide::engine {
namespace {

using ::testing::HasSubstr;

// Every value of table access_tokens, as text.
std::string TokenTable(const std::string& location) {
  std::string out;
  for (const auto& row : testing::RawOutboxQuery(location, "SELECT * FROM access_tokens")) {
    for (const std::string& value : row) out += value + "|";
    out += "\n";
  }
  return out;
}

class PortalTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::TestOutboxLocation(dir_);
    outbox_ = OpenOutbox(path_).value();
  }
  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(PortalTokensTest, OnlyTheHashAndThePrefixAreStored) {
  const std::string token = CreateToken(*outbox_, "acme").value();
  ASSERT_EQ(token.size(), kTokenLength);
  EXPECT_EQ(token.substr(0, 3), "bf_");
  const std::string table = TokenTable(path_);
  EXPECT_THAT(table, HasSubstr(token.substr(0, kTokenPrefixLength) + "|" + Sha256Hex(token)));
  EXPECT_EQ(table.find(token), std::string::npos);
  EXPECT_EQ(table.find(token.substr(kTokenPrefixLength)), std::string::npos);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(PortalTokensTest, TokensAreRandomAndAuthenticateTheirHolder) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i)
    EXPECT_TRUE(seen.insert(CreateToken(*outbox_, "acme").value()).second);
  const std::string acme = CreateToken(*outbox_, "acme").value();
  const std::string admin = CreateToken(*outbox_, std::nullopt).value();
  absl::StatusOr<PortalIdentity> who = AuthenticateToken(*outbox_, acme);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->rights_holder, "acme");
  EXPECT_EQ(who->token_prefix, acme.substr(0, kTokenPrefixLength));
  EXPECT_TRUE(AuthenticateToken(*outbox_, admin)->admin());
  EXPECT_FALSE(CreateToken(*outbox_, "").ok());
}

TEST_F(PortalTokensTest, WrongMalformedAndRevokedTokensAreRefusedAlike) {
  const std::string token = CreateToken(*outbox_, "acme").value();
  std::string wrong = token;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {wrong, token.substr(0, 45), token + "A", std::string("bf_") + std::string(43, '!'),
        std::string(""), std::string("Bearer ") + token}) {
    absl::StatusOr<PortalIdentity> who = AuthenticateToken(*outbox_, bad);
    EXPECT_TRUE(absl::IsUnauthenticated(who.status())) << bad;
    EXPECT_EQ(who.status().message(), "invalid or revoked token");
  }
  ASSERT_TRUE(outbox_->RevokeToken(token.substr(0, kTokenPrefixLength)).ok());
  absl::StatusOr<PortalIdentity> revoked = AuthenticateToken(*outbox_, token);
  EXPECT_TRUE(absl::IsUnauthenticated(revoked.status()));
  EXPECT_EQ(revoked.status().message(), "invalid or revoked token");
  EXPECT_TRUE(absl::IsNotFound(outbox_->RevokeToken(token.substr(0, kTokenPrefixLength))));
  EXPECT_TRUE(absl::IsNotFound(outbox_->RevokeToken("bf_nothere")));
}

TEST_F(PortalTokensTest, ListsByPrefixOldestFirstAndRefusesATakenPrefix) {
  const std::string a = CreateToken(*outbox_, "acme").value();
  const std::string b = CreateToken(*outbox_, std::nullopt).value();
  ASSERT_TRUE(outbox_->RevokeToken(a.substr(0, kTokenPrefixLength)).ok());
  const std::vector<StoredToken> tokens = outbox_->ListTokens().value();
  ASSERT_EQ(tokens.size(), 2u);
  std::set<std::string> prefixes = {tokens[0].prefix, tokens[1].prefix};
  EXPECT_EQ(prefixes, (std::set<std::string>{a.substr(0, 11), b.substr(0, 11)}));
  for (const StoredToken& t : tokens) {
    if (t.prefix == a.substr(0, 11)) {
      EXPECT_EQ(t.rights_holder, "acme");
      EXPECT_TRUE(t.revoked_at.has_value());
    } else {
      EXPECT_EQ(t.rights_holder, std::nullopt);
      EXPECT_FALSE(t.revoked_at.has_value());
    }
  }
  StoredToken clash = tokens[0];
  EXPECT_TRUE(absl::IsAlreadyExists(outbox_->CreateToken(clash)));
  clash.prefix = "bf_new";
  clash.sha256 = "not hex";
  EXPECT_TRUE(absl::IsInvalidArgument(outbox_->CreateToken(clash)));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

// The handler without sockets: what needs no scan.
class PortalApiTest : public PortalTokensTest {
 protected:
  void SetUp() override {
    PortalTokensTest::SetUp();
    token_ = CreateToken(*outbox_, "acme").value();
    PortalOptions options;
    options.outbox_path = path_;
    options.assets = kAssets;
    api_ = PortalApi::Create(options).value();
  }
  PortalResponse Get(const std::string& path, const std::string& token = "") {
    PortalRequest r;
    r.method = "GET";
    r.path = path;
    if (!token.empty()) r.authorization = "Bearer " + token;
    return api_->Handle(r);
  }
  static constexpr PortalAsset kAssets[] = {{"index.html", "<html>"}, {"app.js", "x()"}};
  std::string token_;
  std::unique_ptr<PortalApi> api_;
};

TEST_F(PortalApiTest, ServesAssetsWithTheirTypes) {
  EXPECT_EQ(Get("/").body, "<html>");
  EXPECT_EQ(Get("/").content_type, "text/html; charset=utf-8");
  EXPECT_EQ(Get("/app.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Get("/app.css").status, 404);
  EXPECT_EQ(Get("/%2e%2e/outbox.db").status, 404);
  EXPECT_EQ(ImageTypeOf("\xFF\xD8\xFF\xE0"), "image/jpeg");
  EXPECT_EQ(ImageTypeOf("GIF89a..."), "image/gif");
  EXPECT_EQ(ImageTypeOf("RIFF1234WEBPVP8 "), "image/webp");
  EXPECT_EQ(ImageTypeOf("<svg>"), "");
}

TEST_F(PortalApiTest, BodiesOverTheLimitAreRefusedBeforeAnythingElse) {
  PortalRequest r;
  r.method = "POST";
  r.path = "/api/v1/cases/acme%3Ashop%3AL1/verdict";
  r.authorization = "Bearer " + token_;
  r.body =
      R"({"verdict":"counterfeit","comment":")" + std::string(kPortalMaxBodyBytes, 'x') + "\"}";
  PortalResponse res = api_->Handle(r);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body, R"({"error":"the body is over 64 KiB"})");
  r.body = R"({"verdict":"counterfeit"})";
  res = api_->Handle(r);
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"error":"no such case"})");
}

TEST_F(PortalApiTest, UnknownRoutesAndMethods) {
  EXPECT_EQ(Get("/api/v1/nothing", token_).status, 404);
  EXPECT_EQ(Get("/api/v2/cases", token_).status, 404);
  EXPECT_EQ(Get("/api/v1/cases/a:b:c/verdict", token_).status, 405);
  EXPECT_EQ(Get("/api/v1/cases", "").status, 401);
  EXPECT_EQ(Get("/api/v1/cases", token_).body, R"({"cases":[],"next":null})");
  EXPECT_EQ(Get("/api/v1/report", token_).body, R"({"rows":[]})");
}

}  // namespace
}  // namespace bonafide::engine
