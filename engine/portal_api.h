// The rights holders' portal as a request handler: the JSON API under /api/v1/, the web
// page's files, /healthz, tokens and sessions, each rights holder isolated from the
// others (docs/portal.md is the contract). No sockets: engine/portal_server.h puts it on
// HTTP, and tests call Handle() directly.
//
//   PortalOptions options;
//   options.outbox_path = "outbox.db";
//   options.assets = kPortalAssets;  // the page's files, embedded at build time
//   auto api = PortalApi::Create(options).value();
//   PortalResponse r = api->Handle(request);  // from any thread
//
// Isolation: every case, event, verdict, report and photo is read with the identity's
// rights holder in the query (an admin token has none). Another holder's case, an unknown
// case and a malformed case key give the same 404 body; another holder's key is refused
// by its holder part, before any database read.
#ifndef BONAFIDE_ENGINE_PORTAL_API_H_
#define BONAFIDE_ENGINE_PORTAL_API_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace bonafide::engine {

// One file of the web page, served at "/<name>" ("/" is "index.html").
struct PortalAsset {
  std::string_view name;   // e.g. "app.js"
  std::string_view bytes;  // the file's content
};

// Every request body, and so the whole JSON of a verdict, is at most this big; a bigger
// one is refused with 400 and changes nothing.
inline constexpr size_t kPortalMaxBodyBytes = 64 * 1024;
// The session cookie's name.
inline constexpr std::string_view kPortalSessionCookie = "bonafide_session";

struct PortalOptions {
  // The SQLite outbox (required). Opened read-write once (migrating an older outbox) for
  // verdicts, and read-only once per concurrent reader.
  std::string outbox_path;
  // Where the listings' photo paths are resolved (scan --images); "" = photos are not
  // served ("").
  std::string image_root;
  // The rules directory, under which genuine photo paths are resolved; "" = genuine photos
  // are not served ("").
  std::string rules_dir;
  // The web page's files (none). IMPORTANT: the bytes must outlive the PortalApi.
  std::span<const PortalAsset> assets;
  // A session ends this long after its login (12 hours).
  int64_t session_ttl_ms = 12 * 3600 * 1000;
  // Live sessions kept at most; a login beyond drops the oldest (10000).
  size_t max_sessions = 10000;
  // Live sessions of one token kept at most; its login beyond drops its own oldest (20).
  // So one token cannot push other tokens' sessions out of max_sessions.
  size_t max_sessions_per_token = 20;
};

// A parsed HTTP request: what the handler needs of it, nothing more.
struct PortalRequest {
  std::string method;  // "GET", "POST", ...
  // The request target's path as sent, still percent-encoded (the handler decodes each
  // segment once), without the query.
  std::string path;
  // The query's parameters, decoded.
  std::vector<std::pair<std::string, std::string>> query;
  std::string authorization;  // the Authorization header ("" when absent)
  std::string cookie;         // the Cookie header
  std::string csrf_token;     // the X-CSRF-Token header
  std::string origin;         // the Origin header (sent by browsers on posts)
  std::string host;           // the Host header
  std::string body;
  // The body was longer than kPortalMaxBodyBytes and was not kept.
  bool body_too_large = false;
};

struct PortalResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Further headers: Set-Cookie, Cache-Control.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Headers that go on every response of the portal, whatever produced it: the content
// security policy and friends.
std::span<const std::pair<std::string_view, std::string_view>> PortalSecurityHeaders();

// Returns the content type served for a file name, by its extension.
std::string_view ContentTypeForName(std::string_view name);

// Returns the image type of `bytes` from their magic number ("image/jpeg", "image/png",
// "image/gif", "image/webp"), or "" for anything else.
std::string_view ImageTypeOf(std::string_view bytes);

// Thread-safe: Handle() may run on many threads at once. Reads use one read-only outbox
// connection per concurrent call (kept for reuse); verdicts go through one read-write
// connection, one at a time. Sessions live in memory. Not copyable or movable.
class PortalApi {
 public:
  // Opens the outbox read-write (creating or migrating it) and checks the directories.
  // NotFound / FailedPrecondition from the outbox or for a directory that is not one.
  static absl::StatusOr<std::unique_ptr<PortalApi>> Create(PortalOptions options);
  ~PortalApi();
  PortalApi(const PortalApi&) = delete;
  PortalApi& operator=(const PortalApi&) = delete;

  // Answers one request. Never fails: an outbox error is a 500 with a message that names
  // no token.
  PortalResponse Handle(const PortalRequest& request);

 private:
  class Impl;
  explicit PortalApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_PORTAL_API_H_
