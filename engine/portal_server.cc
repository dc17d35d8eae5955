#include "engine/portal_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace bonafide::engine {
namespace {

// When the request being answered on this thread arrived (each request is answered by
// one worker thread from start to end).
thread_local std::chrono::steady_clock::time_point request_start;

// The request target's path, without the query, with bytes outside printable ASCII
// escaped: a client must not be able to write lines or escape sequences into the log.
std::string LoggablePath(const std::string& target) {
  std::string out;
  for (char c : target.substr(0, target.find('?'))) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e || c == '\\') {
      absl::StrAppendFormat(&out, "\\x%02x", u);
    } else {
      out.push_back(c);
    }
  }
  return out.size() > 512 ? out.substr(0, 512) + "..." : out;
}

PortalRequest ToPortalRequest(const httplib::Request& req) {
  PortalRequest r;
  r.method = req.method;
  r.path = req.target.substr(0, req.target.find('?'));
  for (const auto& [name, value] : req.params) r.query.emplace_back(name, value);
  r.authorization = req.get_header_value("Authorization");
  r.cookie = req.get_header_value("Cookie");
  r.csrf_token = req.get_header_value("X-CSRF-Token");
  r.origin = req.get_header_value("Origin");
  r.host = req.get_header_value("Host");
  r.body = req.body;
  r.body_too_large = req.body.size() > kPortalMaxBodyBytes;
  return r;
}

std::string ErrorBody(std::string_view message) {
  std::string body = "{\"error\":\"";
  body.append(message);
  body.append("\"}");
  return body;
}

void SetError(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(ErrorBody(message), "application/json");
}

// Answers with a JSON error and closes the connection once the answer is written. For a
// request whose body is refused unread: on a kept-alive connection its bytes would be
// read as the next request. httplib closes a connection when writing a response fails,
// so the body goes out through a content provider that writes it all, then reports a
// failure.
void RefuseAndClose(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_header("Connection", "close");
  res.set_content_provider(
      ErrorBody(message).size(), "application/json",
      [body = ErrorBody(message)](size_t offset, size_t length, httplib::DataSink& sink) {
        sink.write(body.data() + offset, length);
        return false;
      });
}

// httplib parses a Range header before any handler runs and then applies it to every
// answer: a few thousand ranges over one small file make a reply of many megabytes, built
// in memory. The portal serves no partial content: the ranges are dropped, and every
// answer is whole (a server may ignore Range). The Request is httplib's own non-const
// object, only handed to handlers as const, so clearing it here is defined.
void IgnoreRanges(const httplib::Request& req) {
  const_cast<httplib::Request&>(req).ranges.clear();  // NOLINT(*-const-cast)
}

// A status and message when the request's body framing is refused, else nullopt.
// httplib calls the pre-routing handler after the headers and before it reads any body;
// only a Content-Length body is bounded there (set_payload_max_length), so every other
// framing is refused unread:
// - Transfer-Encoding (chunked): read without limit; 411.
// - no Content-Length on a method whose body httplib reads (it reads until the client
//   closes): 411.
// - Content-Encoding (gzip, br): decompressed without limit; 400.
// - a Content-Length that is not one decimal number, or a body on a method httplib does
//   not read (its bytes would be taken as the next request): 400.
std::optional<std::pair<int, std::string_view>> RefusedFraming(const httplib::Request& req) {
  if (req.has_header("Transfer-Encoding")) {
    return std::make_pair(411, "send the body with a Content-Length header, not chunked");
  }
  if (req.has_header("Content-Encoding")) {
    return std::make_pair(400, "compressed bodies (Content-Encoding) are refused");
  }
  const bool reads_body = req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
                          req.method == "DELETE" || req.method == "PRI";
  if (!req.has_header("Content-Length")) {
    // httplib reads nothing for a DELETE without Content-Length.
    if (reads_body && req.method != "DELETE") {
      return std::make_pair(411, "a request with a body needs a Content-Length header");
    }
    return std::nullopt;
  }
  const std::string length = req.get_header_value("Content-Length");
  const bool digits =
      !length.empty() && length.size() <= 18 &&
      std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (req.get_header_value_count("Content-Length") != 1 || !digits) {
    return std::make_pair(400, "Content-Length must be one decimal number");
  }
  if (!reads_body && length.find_first_not_of('0') != std::string::npos) {
    return std::make_pair(400, "this method takes no body");
  }
  return std::nullopt;
}

}  // namespace

class PortalServer::Impl {
 public:
  Impl(PortalApi& api, PortalServerOptions options) : api_(api), options_(std::move(options)) {}

  absl::Status Bind() {
    const int threads = options_.threads > 0 ? options_.threads : 1;
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_.set_read_timeout(std::chrono::milliseconds(options_.read_timeout_ms));
    server_.set_write_timeout(std::chrono::milliseconds(options_.write_timeout_ms));
    server_.set_keep_alive_timeout(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::milliseconds(std::max(options_.keep_alive_timeout_ms, 1000)))
            .count());
    server_.set_payload_max_length(kPortalMaxBodyBytes);
    server_.set_tcp_nodelay(true);
    httplib::Headers headers;
    for (const auto& [name, value] : PortalSecurityHeaders()) {
      headers.emplace(std::string(name), std::string(value));
    }
    server_.set_default_headers(std::move(headers));
    server_.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      request_start = std::chrono::steady_clock::now();
      IgnoreRanges(req);
      if (const auto refused = RefusedFraming(req)) {
        RefuseAndClose(res, refused->first, refused->second);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      PortalResponse r = api_.Handle(ToPortalRequest(req));
      res.status = r.status;
      for (auto& [name, value] : r.headers) res.set_header(name.c_str(), value);
      if (!r.content_type.empty()) res.set_content(r.body, r.content_type.c_str());
    };
    // Routing is the PortalApi's (on the raw path); httplib's matches every path.
    const char* kAnyPath = R"(/[\s\S]*)";
    server_.Get(kAnyPath, handler);
    server_.Post(kAnyPath, handler);
    server_.Delete(kAnyPath, handler);
    server_.Put(kAnyPath, handler);
    server_.Patch(kAnyPath, handler);
    server_.Options(kAnyPath, handler);
    // What httplib answers by itself (a body over the limit, a bad request line) gets a
    // JSON body like every other error; an answer of the handler is left as it is.
    server_.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
          // httplib answers a malformed Range itself (416) with whatever ranges it had
          // parsed so far, before the pre-routing handler could drop them.
          IgnoreRanges(req);
          if (!res.body.empty() || res.content_provider_) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          if (res.status == 413) {
            SetError(res, 400, "the body is over 64 KiB");
          } else if (res.status == 404) {
            SetError(res, 404, "not found");
          } else {
            SetError(res, res.status, "bad request");
          }
          return httplib::Server::HandlerResponse::Handled;
        }));
    server_.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
          SetError(res, 500, "internal error");
        });
    if (options_.access_log) {
      server_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        // A request refused before routing (a bad request line) has no start time.
        std::string ms = "-";
        if (request_start != std::chrono::steady_clock::time_point()) {
          ms = absl::StrFormat("%.1fms", std::chrono::duration<double, std::milli>(
                                             std::chrono::steady_clock::now() - request_start)
                                             .count());
          request_start = {};
        }
        options_.access_log(absl::StrFormat(
            "%s %s %s %d %d %s", req.remote_addr.empty() ? "-" : req.remote_addr,
            req.method.empty() ? "-" : req.method, LoggablePath(req.target), res.status,
            res.content_provider_ ? res.content_length_ : res.body.size(), ms));
      });
    }
    // httplib listens with a backlog of 5: a burst of clients beyond that has its
    // handshakes dropped and retried, and in tests some requests failed. The options
    // callback sees the listening socket before it is bound, so it can be listened on
    // again with the system's backlog once bound.
    server_.set_socket_options([this](socket_t sock) {
      const int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_socket_ = sock;
    });
    if (options_.port == 0) {
      port_ = server_.bind_to_any_port(options_.host);
    } else if (server_.bind_to_port(options_.host, options_.port)) {
      port_ = options_.port;
    }
    if (port_ > 0 && listen_socket_ >= 0) ::listen(listen_socket_, SOMAXCONN);
    if (port_ <= 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.host, ":",
                                                 options_.port,
                                                 " (in use, or not an address "
                                                 "of this machine)"));
    }
    return absl::OkStatus();
  }

  int port() const { return port_; }

  absl::Status Serve() {
    if (!server_.listen_after_bind() && !stopped_.load(std::memory_order_acquire)) {
      return absl::InternalError("the listening socket failed");
    }
    return absl::OkStatus();
  }

  void Stop() {
    // Release: Serve() reads it after listen_after_bind returns.
    stopped_.store(true, std::memory_order_release);
    server_.stop();
  }

 private:
  PortalApi& api_;
  const PortalServerOptions options_;
  httplib::Server server_;
  int port_ = 0;
  socket_t listen_socket_ = -1;
  std::atomic<bool> stopped_{false};
};

absl::StatusOr<std::unique_ptr<PortalServer>> PortalServer::Bind(PortalApi& api,
                                                                 PortalServerOptions options) {
  auto impl = std::make_unique<Impl>(api, std::move(options));
  if (absl::Status s = impl->Bind(); !s.ok()) return s;
  return std::unique_ptr<PortalServer>(new PortalServer(std::move(impl)));
}

PortalServer::PortalServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PortalServer::~PortalServer() = default;
int PortalServer::port() const { return impl_->port(); }
absl::Status PortalServer::Serve() { return impl_->Serve(); }
void PortalServer::Stop() { impl_->Stop(); }

}  // namespace bonafide::engine
