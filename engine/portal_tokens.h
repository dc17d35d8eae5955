// Access tokens of the rights holders' portal (`bonafide serve`, docs/portal.md).
//
// A token is "bf_" followed by 43 base64url characters: 256 random bits. The outbox keeps
// only its SHA-256 and its first kTokenPrefixLength characters (the prefix, public: it
// names the token in `bonafide token list` and in the verdicts it records). Checking a
// token finds the stored row by prefix, then compares the SHA-256 in constant time.
//
//   absl::StatusOr<std::string> token = CreateToken(*outbox, "acme");  // shown once
//   absl::StatusOr<PortalIdentity> who = AuthenticateToken(*outbox, *token);
//
// Free functions; thread-safe as far as the Outbox passed in is (one per thread).
#ifndef BONAFIDE_ENGINE_PORTAL_TOKENS_H_
#define BONAFIDE_ENGINE_PORTAL_TOKENS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

#include "bonafide/outbox.h"

namespace bonafide::engine {

inline constexpr std::string_view kTokenTag = "bf_";
inline constexpr size_t kTokenRandomBytes = 32;
inline constexpr size_t kTokenLength = 3 + 43;  // the tag, then 32 bytes in base64url
// The tag and 8 characters (48 random bits): unique in practice, and a collision is
// caught by the outbox (CreateToken makes another token).
inline constexpr size_t kTokenPrefixLength = 11;

// Who a token (or a session opened with one) acts for.
struct PortalIdentity {
  std::optional<std::string> rights_holder;  // nullopt: admin, every rights holder
  std::string token_prefix;                  // recorded as the actor of its verdicts
  bool admin() const { return !rights_holder.has_value(); }
};

// Returns `bytes` random bytes from the operating system's generator, in base64url
// without padding. Internal if the generator fails.
absl::StatusOr<std::string> RandomBase64Url(size_t bytes);

// Returns the SHA-256 of `data` as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view data);

// Compares two strings in time that depends on their lengths only.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Makes a token for `rights_holder` (nullopt: an admin token), stores its hash in `outbox`
// and returns the token: the only time it exists in clear. InvalidArgument for an empty
// rights holder; the outbox's errors otherwise.
absl::StatusOr<std::string> CreateToken(Outbox& outbox, std::optional<std::string> rights_holder);

// Returns whom `token` acts for. Unauthenticated for a token that is malformed, unknown,
// does not match its stored hash, or is revoked (all with the same message); the outbox's
// errors otherwise.
absl::StatusOr<PortalIdentity> AuthenticateToken(Outbox& outbox, std::string_view token);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_PORTAL_TOKENS_H_
