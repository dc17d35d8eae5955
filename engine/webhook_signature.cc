#include "engine/webhook_signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include "util/strings.h"

namespace bonafide::engine {

absl::StatusOr<WebhookKey> WebhookKey::Parse(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.substr(0, kPrefix.size()) == kPrefix) secret.remove_prefix(kPrefix.size());
  if (secret.empty()) return absl::InvalidArgumentError("empty secret after \"whsec_\"");
  std::string bytes;
  // absl::Base64Unescape also takes unpadded and non-canonical text; requiring the text to
  // be exactly what encoding the bytes gives back makes one secret have one spelling.
  if (!absl::Base64Unescape(ToAbsl(secret), &bytes) ||
      absl::Base64Escape(bytes) != ToAbsl(secret)) {
    return absl::InvalidArgumentError(
        "secret is not \"whsec_\" followed by standard base64 with padding");
  }
  if (bytes.size() < kMinBytes || bytes.size() > kMaxBytes) {
    return absl::InvalidArgumentError(absl::StrCat("secret decodes to ", bytes.size(),
                                                   " bytes; a webhook secret has ", kMinBytes,
                                                   " to ", kMaxBytes, " random bytes"));
  }
  return WebhookKey(std::move(bytes));
}

std::string WebhookKey::Sign(std::string_view id, int64_t timestamp, std::string_view body) const {
  std::string content;
  const std::string ts = std::to_string(timestamp);
  content.reserve(id.size() + ts.size() + body.size() + 2);
  content.append(id).append(".").append(ts).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), bytes_.data(), static_cast<int>(bytes_.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &mac_size);
  return absl::StrCat(
      "v1,", absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(mac), mac_size)));
}

}  // namespace bonafide::engine
