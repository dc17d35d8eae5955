#include "engine/relay_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/temp_dir.h"

namespace bonafide::engine {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string ErrorOf(std::string_view yaml) {
  absl::StatusOr<RelayConfig> config = ParseRelayConfig(yaml, "relay.yaml");
  EXPECT_FALSE(config.ok()) << yaml;
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

TEST(RelayConfigTest, ReadsHoldersWithDefaultsAndOverrides) {
  absl::StatusOr<RelayConfig> config =
      ParseRelayConfig(std::string("backoff_s: 0.5\n"
                                   "rights_holders:\n"
                                   "  nike:\n"
                                   "    url: https://hooks.nike.example/bonafide?token=t0ken\n"
                                   "    secret: ") +
                           kSecret +
                           "\n"
                           "    attempts: 3\n"
                           "    timeout_s: 2.5\n"
                           "  acme:\n"
                           "    url: http://127.0.0.1:8080/hook\n"
                           "    secret: MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
                       "relay.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->endpoints.size(), 2u);
  const WebhookEndpoint& acme = config->endpoints[0];  // sorted by rights holder
  const WebhookEndpoint& nike = config->endpoints[1];
  EXPECT_EQ(acme.rights_holder, "acme");
  EXPECT_EQ(acme.retry.attempts, 8);
  EXPECT_EQ(acme.retry.timeout_ms, 10000);
  EXPECT_EQ(acme.retry.backoff_ms, 500);
  EXPECT_EQ(acme.parsed_url.scheme, "http");
  EXPECT_EQ(acme.parsed_url.host, "127.0.0.1");
  EXPECT_EQ(acme.parsed_url.port, 8080);
  EXPECT_EQ(acme.parsed_url.target, "/hook");
  EXPECT_EQ(nike.rights_holder, "nike");
  EXPECT_EQ(nike.retry.attempts, 3);
  EXPECT_EQ(nike.retry.timeout_ms, 2500);
  EXPECT_EQ(nike.retry.backoff_ms, 500);
  EXPECT_EQ(nike.parsed_url.port, 443);
  EXPECT_EQ(nike.parsed_url.target, "/bonafide?token=t0ken");
  // The digest keys a 410: it follows the URL, so a new URL is a new endpoint.
  EXPECT_EQ(nike.endpoint_digest.size(), 32u);
  EXPECT_NE(nike.endpoint_digest, acme.endpoint_digest);
  // Both spellings of the secret are the same key.
  EXPECT_EQ(nike.key.Sign("id", 1, "{}"), acme.key.Sign("id", 1, "{}"));
}

TEST(RelayConfigTest, UnknownKeysAreErrorsAtTheirPlace) {
  EXPECT_EQ(ErrorOf("rights_holders: {}\nretries: 3\n"),
            "relay.yaml:2:1: relay config: unknown key \"retries\" (expected one of: "
            "rights_holders, attempts, timeout_s, backoff_s)");
  EXPECT_THAT(ErrorOf(std::string("rights_holders:\n  nike:\n    url: http://h/\n    secret: ") +
                      kSecret + "\n    timeout: 3\n"),
              StartsWith("relay.yaml:5:5: rights_holders.nike: unknown key \"timeout\""));
}

TEST(RelayConfigTest, MissingAndEmptyPartsAreNamed) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("relay.yaml:1:1: empty file"));
  EXPECT_THAT(ErrorOf("attempts: 3\n"), HasSubstr("missing \"rights_holders:\""));
  EXPECT_THAT(ErrorOf("rights_holders: {}\n"), HasSubstr("at least one rights holder"));
  EXPECT_THAT(ErrorOf("rights_holders:\n  nike:\n    url: http://h/\n"),
              StartsWith("relay.yaml:2:3: rights_holders.nike.secret: missing"));
  EXPECT_THAT(ErrorOf(std::string("rights_holders:\n  nike:\n    secret: ") + kSecret + "\n"),
              StartsWith("relay.yaml:2:3: rights_holders.nike.url: missing"));
  EXPECT_THAT(ErrorOf("rights_holders:\n  nike:\n"),
              StartsWith("relay.yaml:2:3: rights_holders.nike: expected a mapping"));
}

TEST(RelayConfigTest, BadValuesAreExplained) {
  const std::string holder =
      std::string("rights_holders:\n  nike:\n    url: http://h/\n    secret: ") + kSecret + "\n";
  EXPECT_EQ(ErrorOf(holder + "    attempts: 0\n"),
            "relay.yaml:5:15: rights_holders.nike.attempts: expected a whole number from 1 to "
            "1000, got \"0\"");
  EXPECT_THAT(ErrorOf(holder + "    attempts: 2.5\n"), HasSubstr("whole number"));
  EXPECT_EQ(ErrorOf("timeout_s: soon\n" + holder),
            "relay.yaml:1:12: timeout_s: expected a number of seconds from 0.001 to 3600, got "
            "\"soon\"");
  EXPECT_THAT(ErrorOf("backoff_s: -1\n" + holder), StartsWith("relay.yaml:1:12: backoff_s:"));
  EXPECT_THAT(ErrorOf("backoff_s: [1]\n" + holder), HasSubstr("got a list"));
  EXPECT_THAT(ErrorOf("rights_holders:\n  nike:\n    url: ftp://h/\n    secret: x\n"),
              StartsWith("relay.yaml:3:10: rights_holders.nike.url: url must start with http://"));
  EXPECT_THAT(
      ErrorOf(std::string("rights_holders:\n  nike:\n    url: http://h/\n  nike:\n"
                          "    url: http://h/\n")),
      StartsWith("relay.yaml:4:3: rights_holders: \"nike\" appears twice (first on line 2)"));
}

TEST(RelayConfigTest, SecretsAndUrlsNeverAppearInMessages) {
  const std::string secret = "whsec_YS1zaG9ydC1zZWNyZXQtMjJieXRlcw==";  // 22 bytes
  const std::string message =
      ErrorOf("rights_holders:\n  nike:\n    url: http://h/\n    secret: " + secret + "\n");
  EXPECT_THAT(message, StartsWith("relay.yaml:4:13: rights_holders.nike.secret: secret decodes to "
                                  "22 bytes"));
  EXPECT_THAT(message, Not(HasSubstr("YS1zaG9ydC1zZWNyZXQ")));
  const std::string url_message =
      ErrorOf("rights_holders:\n  nike:\n    url: http://user:pa55@h/\n    secret: x\n");
  EXPECT_THAT(url_message, HasSubstr("user info"));
  EXPECT_THAT(url_message, Not(HasSubstr("pa55")));
  EXPECT_THAT(ErrorOf("rights_holders:\n  nike:\n    url: http://h/\n    secret: [a]\n"),
              HasSubstr("secret: expected a text value, got a list"));
}

TEST(RelayConfigTest, MalformedYamlHasItsLine) {
  EXPECT_THAT(ErrorOf("rights_holders:\n  nike: [\n"), StartsWith("relay.yaml:3:"));
  EXPECT_THAT(ErrorOf("rights_holders:\n  nike: {url: \"x}\n"), HasSubstr("malformed yaml"));
}

TEST(RelayConfigTest, LoadsAFileAndNamesAMissingOne) {
  testing::TempDir dir;
  const std::string path = dir.Write(
      "relay.yaml",
      std::string("rights_holders:\n  nike:\n    url: http://h/\n    secret: ") + kSecret + "\n");
  absl::StatusOr<RelayConfig> config = LoadRelayConfig(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->endpoints.size(), 1u);
  absl::StatusOr<RelayConfig> missing = LoadRelayConfig(dir.Join("nope.yaml"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.yaml"));
}

TEST(WebhookUrlTest, ParsesHostsPortsAndTargets) {
  absl::StatusOr<WebhookUrl> url = ParseWebhookUrl("HTTPS://[::1]:8443?x=1");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "[::1]");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->target, "/?x=1");
  url = ParseWebhookUrl("http://example.com");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target, "/");
  for (const char* bad :
       {"example.com/hook", "http://", "http://h:0/", "http://h:70000/", "http://h:/",
        "http://h/a b", "http://h/#frag", "http://[::1/", "http://u@h/", "mailto://h"}) {
    EXPECT_FALSE(ParseWebhookUrl(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace bonafide::engine
