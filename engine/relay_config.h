// relay.yaml: where `bonafide relay` delivers each rights holder's events (docs/relay.md).
//
//   attempts: 8          # optional, here or per rights holder
//   timeout_s: 10
//   backoff_s: 1
//   rights_holders:
//     nike:
//       url: https://hooks.nike.example/bonafide
//       secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
//       timeout_s: 30
//
//   BONAFIDE_ASSIGN_OR_RETURN(RelayConfig config, LoadRelayConfig("relay.yaml"));
#ifndef BONAFIDE_ENGINE_RELAY_CONFIG_H_
#define BONAFIDE_ENGINE_RELAY_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "engine/webhook_http.h"
#include "engine/webhook_signature.h"

namespace bonafide::engine {

// How one rights holder's deliveries are retried. Plain value.
struct RetryPolicy {
  int attempts = 8;            // failed attempts before an event is dead (8)
  int64_t timeout_ms = 10000;  // per request (timeout_s: 10)
  int64_t backoff_ms = 1000;   // delay before the first retry, doubled for each next (backoff_s: 1)
};

// One rights holder's webhook. Copyable value. IMPORTANT: `key` is a secret; `url` may
// hold a token in its query, so neither is printed anywhere.
struct WebhookEndpoint {
  std::string rights_holder;
  std::string url;  // as configured
  WebhookUrl parsed_url;
  std::string
      endpoint_digest;  // digest of `url`: what a 410 Gone disables (Outbox::DisableEndpoint)
  WebhookKey key;
  RetryPolicy retry;
};

struct RelayConfig {
  std::vector<WebhookEndpoint> endpoints;  // by rights holder, at least one
};

// Parses `text`, the contents of the file named `path` in messages. InvalidArgument with
// "path:line:column: " and the problem in plain words for malformed YAML, unknown or
// duplicate keys, a missing url or secret, a bad url, secret or number. Messages never
// contain a secret or a url.
absl::StatusOr<RelayConfig> ParseRelayConfig(std::string_view text, std::string_view path);

// Reads and parses the file at `path`; also NotFound / PermissionDenied when it cannot be
// read.
absl::StatusOr<RelayConfig> LoadRelayConfig(const std::string& path);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_RELAY_CONFIG_H_
