// Standard Webhooks signing (docs/relay.md): the secret format and the `webhook-signature`
// header of a delivery.
//
//   BONAFIDE_ASSIGN_OR_RETURN(WebhookKey key, WebhookKey::Parse("whsec_MfKQ9r8GKYqrTwjU..."));
//   std::string header = key.Sign(event_key, unix_seconds, body);  // "v1,K5oZfzN9..."
//
// The signed content is `<id>.<timestamp>.<body>` exactly as sent; the signature is
// HMAC-SHA256 (OpenSSL libcrypto) of it, base64-encoded with padding, after "v1,".
#ifndef BONAFIDE_ENGINE_WEBHOOK_SIGNATURE_H_
#define BONAFIDE_ENGINE_WEBHOOK_SIGNATURE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bonafide::engine {

// A webhook signing key: the secret's raw bytes. Copyable value; thread-compatible (Sign is
// const). IMPORTANT: the bytes are a secret; nothing here prints them, and callers must
// not either.
class WebhookKey {
 public:
  // The key sizes Standard Webhooks allows for HMAC-SHA256 secrets.
  static constexpr size_t kMinBytes = 24;
  static constexpr size_t kMaxBytes = 64;

  // Parses a secret as Standard Webhooks serialises it: "whsec_" followed by the standard
  // base64 (with padding) of 24 to 64 random bytes. The prefix is optional: a secret
  // without it is the same base64 text (what the reference libraries accept), never the
  // key bytes themselves. InvalidArgument, in words that never contain the secret, for
  // anything else.
  static absl::StatusOr<WebhookKey> Parse(std::string_view secret);

  // Returns "v1," + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")).
  std::string Sign(std::string_view id, int64_t timestamp, std::string_view body) const;

 private:
  explicit WebhookKey(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_WEBHOOK_SIGNATURE_H_
