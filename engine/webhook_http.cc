#include "engine/webhook_http.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

#include "util/strings.h"

namespace bonafide::engine {

int64_t RetryAfterMs(std::string_view value, int64_t now_unix_ms) {
  constexpr int64_t kMaxMs = 24 * 3600 * 1000LL;
  const std::string trimmed(absl::StripAsciiWhitespace(ToAbsl(value)));
  if (trimmed.empty()) return 0;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(trimmed, &seconds)) {
    if (seconds <= 0) return 0;
    return seconds >= kMaxMs / 1000 ? kMaxMs : seconds * 1000;
  }
  absl::Time at;
  std::string error;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", trimmed, absl::UTCTimeZone(), &at, &error)) {
    return 0;
  }
  const int64_t delay = absl::ToUnixMillis(at) - now_unix_ms;
  return delay <= 0 ? 0 : std::min(delay, kMaxMs);
}

absl::StatusOr<WebhookUrl> ParseWebhookUrl(std::string_view url) {
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return absl::InvalidArgumentError("url contains a space or a control character");
    }
  }
  WebhookUrl out;
  const size_t colon = url.find("://");
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError("url must start with http:// or https://");
  }
  out.scheme = absl::AsciiStrToLower(absl::string_view(url.data(), colon));
  if (out.scheme != "http" && out.scheme != "https") {
    return absl::InvalidArgumentError("url must start with http:// or https://");
  }
  std::string_view rest = url.substr(colon + 3);
  if (rest.find('#') != std::string_view::npos) {
    return absl::InvalidArgumentError("url has a fragment (#...), which is never sent");
  }
  const size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  out.target =
      authority_end == std::string_view::npos ? "/" : std::string(rest.substr(authority_end));
  if (out.target[0] == '?') out.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "url has user info (user:password@); put credentials in the secret, not the url");
  }
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("url has an IPv6 host without its closing ']'");
    }
    out.host = std::string(authority.substr(0, close + 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return absl::InvalidArgumentError("url has junk after its IPv6 host");
      port = after.substr(1);
      if (port.empty()) return absl::InvalidArgumentError("url has an empty port");
    }
  } else {
    const size_t port_colon = authority.find(':');
    out.host = std::string(authority.substr(0, port_colon));
    if (port_colon != std::string_view::npos) {
      port = authority.substr(port_colon + 1);
      if (port.empty()) return absl::InvalidArgumentError("url has an empty port");
    }
  }
  if (out.host.empty() || out.host == "[]") return absl::InvalidArgumentError("url has no host");
  out.port = out.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      return absl::InvalidArgumentError("url has a port that is not a number from 1 to 65535");
    }
    out.port = value;
  }
  return out;
}

namespace {

// cpp-httplib's Client reuses one keep-alive connection; its stop() shuts the socket of a
// request in flight down from another thread, which is what Cancel needs.
class HttpTransport final : public WebhookTransport {
 public:
  HttpTransport(const WebhookUrl& url, int64_t timeout_ms)
      : client_(absl::StrCat(url.scheme, "://", url.host, ":", url.port)),
        target_(url.target),
        timeout_(std::chrono::milliseconds(timeout_ms)) {
    client_.set_connection_timeout(timeout_);
    client_.set_read_timeout(timeout_);
    client_.set_write_timeout(timeout_);
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);
    client_.set_follow_location(false);
  }

  HttpAnswer Post(const HttpHeaders& headers, std::string_view body) override {
    if (cancelled_.load(std::memory_order_relaxed)) return HttpAnswer{0, "cancelled"};
    httplib::Request request;
    request.method = "POST";
    request.path = target_;
    for (const auto& [name, value] : headers) request.set_header(name, value);
    request.set_header("Content-Type", "application/json");
    request.body = std::string(body);
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    bool late = false;
    // Drops the answer's body (nobody reads it) and cuts one that is still coming in at the
    // deadline, so that a trickling receiver cannot hold the relay.
    request.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) {
      late = std::chrono::steady_clock::now() > deadline;
      return !late;
    };
    httplib::Result result = client_.send(request);
    if (cancelled_.load(std::memory_order_relaxed)) return HttpAnswer{0, "cancelled"};
    if (late) return HttpAnswer{0, "timeout"};
    if (!result) return HttpAnswer{0, Describe(result.error())};
    HttpAnswer answer{result->status, ""};
    if (result->has_header("Retry-After")) {
      answer.retry_after_ms =
          RetryAfterMs(result->get_header_value("Retry-After"), absl::ToUnixMillis(absl::Now()));
    }
    return answer;
  }

  void Cancel() override {
    cancelled_.store(true, std::memory_order_relaxed);
    client_.stop();
  }

 private:
  static std::string Describe(httplib::Error error) {
    switch (error) {
      case httplib::Error::Connection:
        return "cannot connect";
      case httplib::Error::Read:
        return "timeout or connection closed while waiting for the answer";
      case httplib::Error::Write:
        return "timeout or connection closed while sending";
      case httplib::Error::ConnectionTimeout:
        return "timeout while connecting";
      case httplib::Error::SSLConnection:
        return "tls handshake failed";
      case httplib::Error::SSLServerVerification:
        return "tls: the server certificate does not verify";
      default:
        return "http: " + httplib::to_string(error);
    }
  }

  httplib::Client client_;
  const std::string target_;
  const std::chrono::milliseconds timeout_;
  // Relaxed: a flag checked before and after a request; client_.stop() does the waking.
  std::atomic<bool> cancelled_{false};
};

}  // namespace

std::unique_ptr<WebhookTransport> NewHttpTransport(const WebhookUrl& url, int64_t timeout_ms) {
  return std::make_unique<HttpTransport>(url, timeout_ms);
}

}  // namespace bonafide::engine
