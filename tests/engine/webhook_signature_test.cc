#include "engine/webhook_signature.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bonafide::engine {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The test vector of the Standard Webhooks reference libraries (libraries/go/webhook_test.go,
// TestSign, and the same values in the C#, Java and other suites).
constexpr char kSpecSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kSpecId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kSpecTimestamp = 1614265330;
constexpr char kSpecPayload[] = R"({"test": 2432232314})";
constexpr char kSpecSignature[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST(WebhookKeyTest, SignsTheStandardWebhooksTestVector) {
  absl::StatusOr<WebhookKey> key = WebhookKey::Parse(kSpecSecret);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->Sign(kSpecId, kSpecTimestamp, kSpecPayload), kSpecSignature);
}

TEST(WebhookKeyTest, SecretWithoutPrefixIsTheSameBase64) {
  absl::StatusOr<WebhookKey> key = WebhookKey::Parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->Sign(kSpecId, kSpecTimestamp, kSpecPayload), kSpecSignature);
}

TEST(WebhookKeyTest, SignatureCoversIdTimestampAndBody) {
  const WebhookKey key = *WebhookKey::Parse(kSpecSecret);
  const std::string reference = key.Sign(kSpecId, kSpecTimestamp, kSpecPayload);
  EXPECT_NE(key.Sign("msg_other", kSpecTimestamp, kSpecPayload), reference);
  EXPECT_NE(key.Sign(kSpecId, kSpecTimestamp + 1, kSpecPayload), reference);
  EXPECT_NE(key.Sign(kSpecId, kSpecTimestamp, R"({"test": 2432232315})"), reference);
  const WebhookKey other = *WebhookKey::Parse("whsec_" + std::string(32, 'A'));
  EXPECT_NE(other.Sign(kSpecId, kSpecTimestamp, kSpecPayload), reference);
}

TEST(WebhookKeyTest, RejectsMalformedSecretsWithoutQuotingThem) {
  const std::string not_base64 = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!w";
  const std::string unpadded = "whsec_" + std::string(34, 'A');   // 34 chars: needs "=="
  const std::string short_key = "whsec_" + std::string(28, 'A');  // 21 bytes
  const std::string long_key = "whsec_" + std::string(88, 'A');   // 66 bytes
  for (const std::string& secret :
       {not_base64, unpadded, short_key, long_key, std::string("whsec_"), std::string("")}) {
    absl::StatusOr<WebhookKey> key = WebhookKey::Parse(secret);
    ASSERT_FALSE(key.ok()) << secret;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
    if (secret.size() > 6) {
      EXPECT_THAT(key.status().message(), Not(HasSubstr(secret.substr(6))));
    }
  }
  EXPECT_THAT(WebhookKey::Parse(short_key).status().message(), HasSubstr("21 bytes"));
  EXPECT_THAT(WebhookKey::Parse(not_base64).status().message(), HasSubstr("base64"));
}

TEST(WebhookKeyTest, AcceptsTheAllowedKeySizes) {
  EXPECT_TRUE(WebhookKey::Parse("whsec_" + std::string(32, 'A')).ok());           // 24 bytes
  EXPECT_TRUE(WebhookKey::Parse("whsec_" + std::string(84, 'A') + "AA==").ok());  // 64 bytes
}

}  // namespace
}  // namespace bonafide::engine
