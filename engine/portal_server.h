// The portal on HTTP: a cpp-httplib server in front of a PortalApi (docs/portal.md).
//
//   auto server = PortalServer::Bind(*api, {.host = "127.0.0.1", .port = 0}).value();
//   std::printf("listening on http://127.0.0.1:%d\n", server->port());
//   std::thread stopper([&] { WaitForSignal(); server->Stop(); });
//   absl::Status s = server->Serve();  // returns once Stop() was called and in-flight
//                                      // requests are answered
//
// A bounded pool of worker threads answers requests (more connections wait in a queue);
// read and write timeouts drop stalled clients (per read, not per request: see
// docs/portal.md, "Deployment"); a body over kPortalMaxBodyBytes is refused with 400
// before the handler sees it, and a body that cannot be bounded before it is read
// (Transfer-Encoding, Content-Encoding, no Content-Length) is refused unread, with the
// connection closed. Range headers are ignored. Every response carries
// PortalSecurityHeaders().
// Thread-safe: Stop() may be called from any thread (not from a signal handler).
// IMPORTANT: the PortalApi must outlive the server.
#ifndef BONAFIDE_ENGINE_PORTAL_SERVER_H_
#define BONAFIDE_ENGINE_PORTAL_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "engine/portal_api.h"

namespace bonafide::engine {

struct PortalServerOptions {
  // Address to listen on ("127.0.0.1": loopback only; a platform that exposes the portal
  // puts a TLS proxy in front).
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = any free port (see port())
  // Parameters that affect performance:
  int threads = 8;                   // worker threads (8): requests answered at once
  int read_timeout_ms = 10000;       // a request must arrive within this (10 s)
  int write_timeout_ms = 10000;      // a response must be taken within this (10 s)
  int keep_alive_timeout_ms = 5000;  // an idle kept-alive connection is closed after (5 s)
  // Called once per answered request, from the worker thread that answered it, with a
  // line "<client> <METHOD> <path without query> <status> <bytes> <ms>ms" (no newline):
  // never a header, a query string or a body, so never a token or a cookie. Unset: no
  // access log.
  std::function<void(std::string_view line)> access_log;
};

class PortalServer {
 public:
  // Binds the address. Unavailable when it cannot be bound (in use, not local).
  static absl::StatusOr<std::unique_ptr<PortalServer>> Bind(PortalApi& api,
                                                            PortalServerOptions options);
  ~PortalServer();
  PortalServer(const PortalServer&) = delete;
  PortalServer& operator=(const PortalServer&) = delete;

  // The bound port.
  int port() const;

  // Accepts and answers requests until Stop(); then waits for the requests in flight.
  // Internal when the listening socket fails.
  absl::Status Serve();

  // Stops accepting; Serve() returns once the requests in flight are answered.
  void Stop();

 private:
  class Impl;
  explicit PortalServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_PORTAL_SERVER_H_
