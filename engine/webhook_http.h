// The HTTP side of webhook delivery, the one place that knows the HTTP library
// (cpp-httplib): webhook URLs and a POST with a deadline.
//
//   BONAFIDE_ASSIGN_OR_RETURN(WebhookUrl url, ParseWebhookUrl("https://hooks.example/bonafide"));
//   std::unique_ptr<WebhookTransport> transport = NewHttpTransport(url, /*timeout_ms=*/10000);
//   HttpAnswer answer = transport->Post({{"webhook-id", id}, ...}, body);
//
// https is supported (Debian's cpp-httplib is built with OpenSSL): the server certificate is
// verified against the system's CA store, with its host name. Redirects are not followed
// (a 3xx is a failed attempt, as Standard Webhooks asks).
//
// IMPORTANT: cpp-httplib writes to sockets with send(2) flags 0, so a receiver closing its
// end can raise SIGPIPE in the posting thread; block or ignore SIGPIPE there.
#ifndef BONAFIDE_ENGINE_WEBHOOK_HTTP_H_
#define BONAFIDE_ENGINE_WEBHOOK_HTTP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace bonafide::engine {

// A parsed http(s) URL. Plain value.
struct WebhookUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // a name, an IPv4 address or a bracketed IPv6 address ("[::1]")
  int port = 0;        // the URL's, else 80 / 443
  std::string target;  // path and query as sent in the request line ("/" at least)
};

// Parses `url` ("http[s]://host[:port][/path][?query]"). InvalidArgument, naming what is
// wrong but never quoting the URL (it may hold a token), for another scheme, user info
// ("user:pass@"), a fragment, a bad port, spaces or control characters.
absl::StatusOr<WebhookUrl> ParseWebhookUrl(std::string_view url);

// What came back from one POST.
struct HttpAnswer {
  int status = 0;     // the HTTP status; 0 when there was no answer
  std::string error;  // why there was no answer ("timeout", "connection refused", ...)
  // How long the receiver asked to be left alone (its Retry-After), in ms; 0 = not asked.
  int64_t retry_after_ms = 0;
};

// The delay a Retry-After header value asks for, in ms from `now_unix_ms`: delay-seconds
// ("120") or an HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT"), at most one day; 0 for a
// date in the past, an empty or unreadable value.
int64_t RetryAfterMs(std::string_view value, int64_t now_unix_ms);

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Posts webhooks to one endpoint, reusing its connection. One-per-thread, except Cancel.
// Not copyable.
class WebhookTransport {
 public:
  virtual ~WebhookTransport() = default;
  // POSTs `body` with `headers` to the endpoint. The answer's body is read and dropped.
  virtual HttpAnswer Post(const HttpHeaders& headers, std::string_view body) = 0;
  // Makes a Post in flight (and every later one) return at once with status 0 and error
  // "cancelled". Thread-safe.
  virtual void Cancel() = 0;
};

// Returns a transport to `url`. Each Post gives up with error "timeout" when connecting,
// sending or any wait for the answer takes longer than `timeout_ms`, or when the answer's
// body is still arriving `timeout_ms` after the Post began. REQUIRES: timeout_ms > 0.
std::unique_ptr<WebhookTransport> NewHttpTransport(const WebhookUrl& url, int64_t timeout_ms);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_WEBHOOK_HTTP_H_
