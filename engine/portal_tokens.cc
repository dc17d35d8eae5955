#include "engine/portal_tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

#include "util/status_macros.h"

namespace bonafide::engine {
namespace {

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64Url(const unsigned char* data, size_t size) {
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  for (size_t i = 0; i < size; i += 3) {
    uint32_t n = static_cast<uint32_t>(data[i]) << 16;
    if (i + 1 < size) n |= static_cast<uint32_t>(data[i + 1]) << 8;
    if (i + 2 < size) n |= data[i + 2];
    out.push_back(kBase64Url[(n >> 18) & 63]);
    out.push_back(kBase64Url[(n >> 12) & 63]);
    if (i + 1 < size) out.push_back(kBase64Url[(n >> 6) & 63]);
    if (i + 2 < size) out.push_back(kBase64Url[n & 63]);
  }
  return out;
}

bool IsWellFormedToken(std::string_view token) {
  if (token.size() != kTokenLength || token.substr(0, kTokenTag.size()) != kTokenTag) return false;
  for (char c : token.substr(kTokenTag.size())) {
    if (std::string_view(kBase64Url, 64).find(c) == std::string_view::npos) return false;
  }
  return true;
}

absl::Status InvalidToken() { return absl::UnauthenticatedError("invalid or revoked token"); }

}  // namespace

absl::StatusOr<std::string> RandomBase64Url(size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
    return absl::InternalError("the random number generator failed");
  }
  std::string out = Base64Url(buffer.data(), buffer.size());
  OPENSSL_cleanse(buffer.data(), buffer.size());
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<std::string> CreateToken(Outbox& outbox, std::optional<std::string> rights_holder) {
  if (rights_holder.has_value() && rights_holder->empty()) {
    return absl::InvalidArgumentError("a token's rights holder must not be empty");
  }
  // A taken prefix (48 random bits: about one chance in 10^14 per pair of tokens) only
  // costs another draw.
  for (int attempt = 0;; ++attempt) {
    BONAFIDE_ASSIGN_OR_RETURN(std::string random, RandomBase64Url(kTokenRandomBytes));
    std::string token = std::string(kTokenTag) + random;
    StoredToken stored;
    stored.prefix = token.substr(0, kTokenPrefixLength);
    stored.sha256 = Sha256Hex(token);
    stored.rights_holder = rights_holder;
    absl::Status status = outbox.CreateToken(stored);
    if (status.ok()) return token;
    if (!absl::IsAlreadyExists(status) || attempt == 3) return status;
  }
}

absl::StatusOr<PortalIdentity> AuthenticateToken(Outbox& outbox, std::string_view token) {
  if (!IsWellFormedToken(token)) return InvalidToken();
  BONAFIDE_ASSIGN_OR_RETURN(std::optional<StoredToken> stored,
                            outbox.FindToken(token.substr(0, kTokenPrefixLength)));
  // Hash the presented token even when no row matched, so that an unknown prefix takes as
  // long as a wrong secret.
  const std::string presented = Sha256Hex(token);
  const bool matches = stored.has_value() && ConstantTimeEquals(presented, stored->sha256);
  if (!matches || stored->revoked_at.has_value()) return InvalidToken();
  PortalIdentity identity;
  identity.rights_holder = std::move(stored->rights_holder);
  identity.token_prefix = std::move(stored->prefix);
  return identity;
}

}  // namespace bonafide::engine
