#include "engine/portal_api.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "bonafide/outbox.h"
#include "engine/portal_tokens.h"
#include "util/status_macros.h"
#include "util/strings.h"

#include "simdjson.h"

namespace bonafide::engine {
namespace {

constexpr std::string_view kApiPrefix = "/api/v1/";
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 200;
constexpr int kDefaultEventsPage = 100;
constexpr int kMaxEventsPage = 1000;
// A photo bigger than this is not served (the scanner's own limits are far below).
constexpr off_t kMaxPhotoBytes = 64 << 20;

// The one body for another holder's case, an unknown one and a malformed key.
constexpr std::string_view kNoSuchCase = "no such case";

constexpr std::pair<std::string_view, std::string_view> kSecurityHeaders[] = {
    {"Content-Security-Policy",
     "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
     "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Frame-Options", "DENY"},
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

PortalResponse Json(int status, std::string body) {
  PortalResponse r;
  r.status = status;
  r.body = std::move(body);
  // Cases are the rights holders' business: no cache keeps them.
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

PortalResponse Error(int status, std::string_view message) {
  std::string body;
  JsonObject(body).String("error", message).Close();
  return Json(status, std::move(body));
}

PortalResponse NoSuchCase() { return Error(404, kNoSuchCase); }

PortalResponse StatusResponse(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
      return Error(401, ToStd(status.message()));
    case absl::StatusCode::kPermissionDenied:
      return Error(403, ToStd(status.message()));
    case absl::StatusCode::kInvalidArgument:
      return Error(400, ToStd(status.message()));
    case absl::StatusCode::kNotFound:
      return NoSuchCase();
    case absl::StatusCode::kAlreadyExists:
      return Error(409, ToStd(status.message()));
    case absl::StatusCode::kUnavailable:
      return Error(503, "the outbox is busy; try again");
    default:
      return Error(500, "internal error");
  }
}

std::optional<int> HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// Decodes %XX escapes once; nullopt for a '%' not followed by two hex digits.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const std::optional<int> hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (!hi || !lo) return std::nullopt;
    out.push_back(static_cast<char>(*hi * 16 + *lo));
    i += 2;
  }
  return out;
}

// The rights holder part of `key` when it is a case key exactly as CaseKey() writes it,
// with no empty part and no control characters; nullopt otherwise.
std::optional<std::string> HolderOfCaseKey(std::string_view key) {
  if (key.empty() || !IsValidUtf8(key)) return std::nullopt;
  for (char c : key) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
  }
  std::optional<CaseKeyParts> parts = ParseCaseKey(key);
  if (!parts || parts->rights_holder.empty() || parts->marketplace.empty() ||
      parts->listing_id.empty()) {
    return std::nullopt;
  }
  return std::move(parts->rights_holder);
}

// The query parameter `name`, or nullopt.
std::optional<std::string_view> Param(const PortalRequest& req, std::string_view name) {
  for (const auto& [k, v] : req.query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

// Parses a query parameter that must be an integer in [min, max].
absl::StatusOr<int64_t> IntParam(const PortalRequest& req, std::string_view name, int64_t dflt,
                                 int64_t min, int64_t max) {
  const std::optional<std::string_view> text = Param(req, name);
  if (!text) return dflt;
  int64_t value = 0;
  const bool digits = !text->empty() && std::all_of(text->begin(), text->end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || !absl::SimpleAtoi(ToAbsl(*text), &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(name), " takes an integer from ", min, " to ", max));
  }
  return value;
}

std::string Hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * s.size());
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    const std::optional<int> hi = HexValue(s[i]), lo = HexValue(s[i + 1]);
    if (!hi || !lo) return std::nullopt;
    out.push_back(static_cast<char>(*hi * 16 + *lo));
  }
  return out;
}

std::string SignalsArray(std::string_view signals) {
  std::string out = "[";
  for (absl::string_view name : absl::StrSplit(ToAbsl(signals), ' ', absl::SkipEmpty())) {
    if (out.size() > 1) out.push_back(',');
    AppendJsonString(ToStd(name), out);
  }
  out.push_back(']');
  return out;
}

void AppendCase(const StoredCase& c, std::string& out) {
  JsonObject(out)
      .String("case_key", c.case_key)
      .String("rights_holder", c.rights_holder)
      .String("marketplace", c.marketplace)
      .String("listing_id", c.listing_id)
      .String("seller_id", c.seller_id)
      .String("status", CaseStatusName(c.status))
      .Raw("score", FormatDecimal(c.score))
      .Int("revision", c.revision)
      .String("first_seen_at", c.first_seen_at)
      .String("last_seen_at", c.last_seen_at)
      .Raw("signals", SignalsArray(c.signals))
      .Raw("reasons", c.reasons_json)
      .Raw("evidence", c.evidence_json)
      .Close();
}

void AppendEvent(const StoredEvent& e, std::string& out) {
  JsonObject(out)
      .Int("id", e.id)
      .String("event_key", e.event_key)
      .String("type", e.type)
      .String("case_key", e.case_key)
      .String("created_at", e.created_at)
      .Raw("payload", e.payload_json)
      .Close();
}

void AppendVerdict(const StoredVerdict& v, std::string& out) {
  JsonObject(out)
      .String("verdict", VerdictKindName(v.verdict))
      .String("comment", v.comment)
      .Raw("authorize_seller", v.authorize_seller ? "true" : "false")
      .String("actor", v.actor)
      .String("created_at", v.created_at)
      .Close();
}

template <typename T, typename Append>
std::string JsonArray(const std::vector<T>& items, Append append) {
  std::string out = "[";
  for (const T& item : items) {
    if (out.size() > 1) out.push_back(',');
    append(item, out);
  }
  out.push_back(']');
  return out;
}

// The value of cookie `name` in a Cookie header, or "".
std::string_view CookieValue(std::string_view header, std::string_view name) {
  for (absl::string_view part : absl::StrSplit(ToAbsl(header), ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (part.size() > name.size() && part[name.size()] == '=' &&
        ToStd(part.substr(0, name.size())) == name) {
      return ToStd(part.substr(name.size() + 1));
    }
  }
  return {};
}

// A verdict as posted.
struct VerdictBody {
  VerdictKind verdict = VerdictKind::kCounterfeit;
  std::string comment;
  bool authorize_seller = false;
  bool replace = false;
};

absl::StatusOr<VerdictBody> ParseVerdictBody(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object object;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || doc.get_object().get(object)) {
    return absl::InvalidArgumentError("the body must be a JSON object");
  }
  VerdictBody out;
  bool has_verdict = false;
  for (auto field : object) {
    const std::string_view key = field.key;
    if (key == "verdict") {
      std::string_view name;
      if (field.value.get_string().get(name)) {
        return absl::InvalidArgumentError("verdict must be a string");
      }
      const std::optional<VerdictKind> kind = ParseVerdictKind(name);
      if (!kind) {
        return absl::InvalidArgumentError(
            "verdict must be \"counterfeit\", \"genuine\" or \"not_ours\"");
      }
      out.verdict = *kind;
      has_verdict = true;
    } else if (key == "comment") {
      std::string_view comment;
      if (field.value.get_string().get(comment)) {
        return absl::InvalidArgumentError("comment must be a string");
      }
      out.comment = std::string(comment);
    } else if (key == "authorize_seller" || key == "replace") {
      bool value = false;
      if (field.value.get_bool().get(value)) {
        return absl::InvalidArgumentError(absl::StrCat(ToAbsl(key), " must be true or false"));
      }
      (key == "replace" ? out.replace : out.authorize_seller) = value;
    }
    // Other fields are ignored, as in every JSON this project reads.
  }
  if (!has_verdict) return absl::InvalidArgumentError("the body needs a verdict");
  return out;
}

// The login body: {"token":"..."}.
std::optional<std::string> ParseLoginBody(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view token;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || doc["token"].get_string().get(token)) {
    return std::nullopt;
  }
  return std::string(token);
}

// The stored photo path for listing photo `index` of a case's evidence, and (genuine) the
// genuine photo its `image` reason matched. "" when there is none.
std::string PhotoPath(const StoredCase& c, size_t index, bool genuine) {
  simdjson::dom::parser parser;
  simdjson::dom::element evidence;
  simdjson::dom::array images;
  if (parser.parse(c.evidence_json).get(evidence) ||
      evidence["listing"]["images"].get_array().get(images)) {
    return "";
  }
  std::string_view photo;
  if (index >= images.size() || images.at(index).get_string().get(photo)) return "";
  if (!genuine) return std::string(photo);
  const std::string listing_photo(photo);
  simdjson::dom::parser reasons_parser;
  simdjson::dom::element reasons;
  simdjson::dom::array list;
  if (reasons_parser.parse(c.reasons_json).get(reasons) || reasons.get_array().get(list)) {
    return "";
  }
  for (simdjson::dom::element reason : list) {
    std::string_view signal, reason_photo, genuine_photo;
    if (reason["signal"].get_string().get(signal) || signal != "image") continue;
    if (reason["photo"].get_string().get(reason_photo) || reason_photo != listing_photo) continue;
    if (reason["genuine_photo"].get_string().get(genuine_photo)) continue;
    return std::string(genuine_photo);
  }
  return "";
}

// Reads `relative` under `root` (a realpath), never outside it: refuses an empty,
// absolute or `..` path and anything whose real path (symbolic links resolved) leaves the
// root, and reads only a regular file up to kMaxPhotoBytes. nullopt when refused or
// unreadable.
std::optional<std::string> ReadUnder(const std::string& root, std::string_view relative) {
  if (root.empty() || relative.empty() || relative.front() == '/' ||
      relative.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  for (absl::string_view part : absl::StrSplit(ToAbsl(relative), '/')) {
    if (part == "..") return std::nullopt;
  }
  const std::string joined = absl::StrCat(root, "/", ToAbsl(relative));
  char resolved[PATH_MAX];
  if (realpath(joined.c_str(), resolved) == nullptr) return std::nullopt;
  const std::string_view real(resolved);
  if (real.size() <= root.size() || real.substr(0, root.size()) != root ||
      real[root.size()] != '/') {
    return std::nullopt;
  }
  // The resolved path holds no link; O_NOFOLLOW keeps a link swapped in since out.
  const int fd = open(resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> out;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= kMaxPhotoBytes) {
    std::string bytes(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = read(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    if (done == bytes.size()) out = std::move(bytes);
  }
  close(fd);
  return out;
}

absl::StatusOr<std::string> RealDirectory(const std::string& path, std::string_view what) {
  char resolved[PATH_MAX];
  struct stat st;
  if (realpath(path.c_str(), resolved) == nullptr || stat(resolved, &st) != 0 ||
      !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(
        absl::StrCat(ToAbsl(what), " \"", path, "\" is not a directory that exists"));
  }
  return std::string(resolved);
}

}  // namespace

std::span<const std::pair<std::string_view, std::string_view>> PortalSecurityHeaders() {
  return kSecurityHeaders;
}

std::string_view ContentTypeForName(std::string_view name) {
  const auto ends = [&](std::string_view ext) { return absl::EndsWith(ToAbsl(name), ToAbsl(ext)); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json")) return "application/json";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".woff2")) return "font/woff2";
  return "application/octet-stream";
}

std::string_view ImageTypeOf(std::string_view b) {
  if (b.size() >= 3 && b.substr(0, 3) == "\xFF\xD8\xFF") return "image/jpeg";
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) {
    return "image/png";
  }
  if (b.size() >= 6 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a")) {
    return "image/gif";
  }
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") return "image/webp";
  return "";
}

// --- Outbox connections ------------------------------------------------------------------

// Read-only connections, one per concurrent request, kept for the next ones.
class ReaderPool {
 public:
  explicit ReaderPool(std::string path) : path_(std::move(path)) {}

  // A connection on loan: back to the pool when destroyed.
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<Outbox> outbox)
        : pool_(pool), outbox_(std::move(outbox)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (outbox_ != nullptr) pool_->Return(std::move(outbox_));
    }
    Outbox& operator*() const { return *outbox_; }
    Outbox* operator->() const { return outbox_.get(); }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Outbox> outbox_;
  };

  absl::StatusOr<Lease> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        std::unique_ptr<Outbox> outbox = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(outbox));
      }
    }
    BONAFIDE_ASSIGN_OR_RETURN(std::unique_ptr<Outbox> outbox,
                              OpenOutbox(path_, OutboxAccess::kReadOnly));
    return Lease(this, std::move(outbox));
  }

 private:
  void Return(std::unique_ptr<Outbox> outbox) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(outbox));
  }

  const std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Outbox>> idle_ ABSL_GUARDED_BY(mu_);
};

// --- The handler -------------------------------------------------------------------------

class PortalApi::Impl {
 public:
  Impl(PortalOptions options, std::unique_ptr<Outbox> writer, std::string image_root,
       std::string rules_dir)
      : options_(std::move(options)),
        image_root_(std::move(image_root)),
        rules_dir_(std::move(rules_dir)),
        readers_(options_.outbox_path),
        writer_(std::move(writer)) {}

  PortalResponse Handle(const PortalRequest& req);

 private:
  struct Session {
    PortalIdentity identity;
    std::string csrf_token;
    int64_t expires_ms = 0;
    // Order of creation: "oldest" without ties (many logins share a millisecond).
    uint64_t serial = 0;
  };
  // Who is asking, once authenticated.
  struct Caller {
    PortalIdentity identity;
    std::optional<Session> session;  // set when authenticated by the session cookie
  };

  PortalResponse ServeAsset(const PortalRequest& req) const;
  PortalResponse HandleSession(const PortalRequest& req);
  absl::StatusOr<Caller> Authenticate(const PortalRequest& req);
  // Checks a browser's Origin on a state-changing request: PermissionDenied when it is
  // not this server's.
  static absl::Status CheckOrigin(const PortalRequest& req);
  absl::StatusOr<std::optional<Session>> FindSession(const PortalRequest& req);
  std::string SessionBody(const PortalIdentity& identity, const std::string* csrf) const;

  PortalResponse ListCases(const PortalRequest& req, const Caller& caller);
  PortalResponse GetCase(const Caller& caller, const std::string& key);
  PortalResponse PostVerdict(const PortalRequest& req, const Caller& caller,
                             const std::string& key);
  PortalResponse ListEvents(const PortalRequest& req, const Caller& caller);
  PortalResponse Report(const PortalRequest& req, const Caller& caller);
  PortalResponse Photo(const PortalRequest& req, const Caller& caller, const std::string& key,
                       std::string_view index);
  // The case `key` if the caller may see it; nullopt for another holder's or an unknown
  // case (the caller answers NoSuchCase for both).
  absl::StatusOr<std::optional<StoredCase>> VisibleCase(Outbox& outbox, const Caller& caller,
                                                        const std::string& key);
  // The rights holder a list is about: the caller's own, or for an admin the
  // `rights_holder` parameter (nullopt: every holder). A holder's token ignores it.
  static std::optional<std::string> ListScope(const PortalRequest& req, const Caller& caller);

  const PortalOptions options_;
  const std::string image_root_;  // realpath, or "" when photos are not served
  const std::string rules_dir_;   // realpath, or "" when genuine photos are not served
  ReaderPool readers_;
  std::mutex write_mu_;  // verdicts, one at a time on the one read-write connection
  std::unique_ptr<Outbox> writer_ ABSL_GUARDED_BY(write_mu_);
  std::mutex session_mu_;
  // By SHA-256 of the cookie's value: a lookup's timing says nothing about live ids.
  absl::flat_hash_map<std::string, Session> sessions_ ABSL_GUARDED_BY(session_mu_);
  uint64_t session_serial_ ABSL_GUARDED_BY(session_mu_) = 0;
};

PortalResponse PortalApi::Impl::Handle(const PortalRequest& req) {
  // A token in a URL ends up in logs, histories and Referer headers: refused outright.
  if (Param(req, "token") || Param(req, "access_token")) {
    return Error(400,
                 "a token in the query string is refused: send it in the Authorization "
                 "header, or log in");
  }
  const bool read = req.method == "GET" || req.method == "HEAD";
  if (req.path == "/healthz") {
    if (!read) return Error(405, "method not allowed");
    return Json(200, R"({"status":"ok"})");
  }
  if (!absl::StartsWith(ToAbsl(req.path), "/api/")) return ServeAsset(req);
  if (!absl::StartsWith(ToAbsl(req.path), ToAbsl(kApiPrefix))) return Error(404, "not found");
  const std::vector<std::string> segments =
      absl::StrSplit(ToAbsl(req.path).substr(kApiPrefix.size()), '/');
  if (segments.size() == 1 && segments[0] == "session") return HandleSession(req);

  absl::StatusOr<Caller> caller = Authenticate(req);
  if (!caller.ok()) return StatusResponse(caller.status());

  const auto method_is = [&](std::string_view m) { return req.method == m; };
  const size_t n = segments.size();
  const std::string& first = segments[0];
  // Each path segment is decoded exactly once; a key that does not decode to a
  // well-formed case key reads as an unknown case. So does another holder's key, judged
  // by its holder part before any database read: the answer and its timing are the same
  // whether that holder's case exists or not.
  std::string key;
  const bool has_key = (first == "cases" && (n == 2 || n == 3)) || (first == "photos" && n == 3);
  if (has_key) {
    std::optional<std::string> decoded = PercentDecode(segments[1]);
    const std::optional<std::string> holder = decoded ? HolderOfCaseKey(*decoded) : std::nullopt;
    if (holder && (caller->identity.admin() || *holder == *caller->identity.rights_holder)) {
      key = *std::move(decoded);
    }
  }
  if (first == "cases" && n == 1) {
    return read ? ListCases(req, *caller) : Error(405, "method not allowed");
  }
  if (first == "cases" && n == 2) {
    if (!read) return Error(405, "method not allowed");
    return key.empty() ? NoSuchCase() : GetCase(*caller, key);
  }
  if (first == "cases" && n == 3 && segments[2] == "verdict") {
    if (!method_is("POST")) return Error(405, "method not allowed");
    return PostVerdict(req, *caller, key);
  }
  if (first == "events" && n == 1) {
    return read ? ListEvents(req, *caller) : Error(405, "method not allowed");
  }
  if (first == "report" && n == 1) {
    return read ? Report(req, *caller) : Error(405, "method not allowed");
  }
  if (first == "photos" && n == 3) {
    if (!read) return Error(405, "method not allowed");
    return key.empty() ? NoSuchCase() : Photo(req, *caller, key, segments[2]);
  }
  return Error(404, "not found");
}

PortalResponse PortalApi::Impl::ServeAsset(const PortalRequest& req) const {
  if (req.method != "GET" && req.method != "HEAD") return Error(405, "method not allowed");
  const std::string_view name =
      req.path == "/" ? std::string_view("index.html") : std::string_view(req.path).substr(1);
  for (const PortalAsset& asset : options_.assets) {
    if (asset.name != name) continue;
    PortalResponse r;
    r.content_type = std::string(ContentTypeForName(asset.name));
    r.body = std::string(asset.bytes);
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  }
  return Error(404, "not found");
}

// --- Authentication ----------------------------------------------------------------------

absl::Status PortalApi::Impl::CheckOrigin(const PortalRequest& req) {
  // Browsers send Origin on every cross-origin request and on same-origin posts; API
  // clients send none. A page of another origin must not act with this origin's cookie.
  if (req.origin.empty()) return absl::OkStatus();
  if (!req.host.empty() && (req.origin == absl::StrCat("http://", req.host) ||
                            req.origin == absl::StrCat("https://", req.host))) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError("cross-origin request refused");
}

absl::StatusOr<std::optional<PortalApi::Impl::Session>> PortalApi::Impl::FindSession(
    const PortalRequest& req) {
  const std::string_view id = CookieValue(req.cookie, kPortalSessionCookie);
  if (id.empty()) return std::optional<Session>();
  const std::string digest = Sha256Hex(id);
  std::optional<Session> session;
  {
    std::lock_guard<std::mutex> lock(session_mu_);
    auto it = sessions_.find(digest);
    if (it == sessions_.end()) return std::optional<Session>();
    if (it->second.expires_ms <= NowMs()) {
      sessions_.erase(it);
      return std::optional<Session>();
    }
    session = it->second;
  }
  // A session lives no longer than its token: revoking the token ends it.
  BONAFIDE_ASSIGN_OR_RETURN(ReaderPool::Lease outbox, readers_.Acquire());
  BONAFIDE_ASSIGN_OR_RETURN(std::optional<StoredToken> token,
                            outbox->FindToken(session->identity.token_prefix));
  if (!token.has_value() || token->revoked_at.has_value()) {
    std::lock_guard<std::mutex> lock(session_mu_);
    sessions_.erase(digest);
    return std::optional<Session>();
  }
  return session;
}

absl::StatusOr<PortalApi::Impl::Caller> PortalApi::Impl::Authenticate(const PortalRequest& req) {
  const bool changes_state = req.method != "GET" && req.method != "HEAD";
  if (changes_state) BONAFIDE_RETURN_IF_ERROR(CheckOrigin(req));
  Caller caller;
  if (!req.authorization.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (req.authorization.size() <= kBearer.size() ||
        !absl::EqualsIgnoreCase(ToAbsl(req.authorization).substr(0, kBearer.size()),
                                ToAbsl(kBearer))) {
      return absl::UnauthenticatedError("the Authorization header must be \"Bearer TOKEN\"");
    }
    BONAFIDE_ASSIGN_OR_RETURN(ReaderPool::Lease outbox, readers_.Acquire());
    BONAFIDE_ASSIGN_OR_RETURN(
        caller.identity,
        AuthenticateToken(*outbox, ToStd(absl::StripAsciiWhitespace(
                                       ToAbsl(req.authorization).substr(kBearer.size())))));
    return caller;
  }
  BONAFIDE_ASSIGN_OR_RETURN(caller.session, FindSession(req));
  if (!caller.session.has_value()) {
    return absl::UnauthenticatedError(
        "not logged in: send Authorization: Bearer TOKEN, or log in at /api/v1/session");
  }
  // The cookie goes with every request the browser makes to this origin, whoever's page
  // asked for it; only this origin's page can read the CSRF token it must echo.
  if (changes_state && !ConstantTimeEquals(req.csrf_token, caller.session->csrf_token)) {
    return absl::PermissionDeniedError("missing or wrong X-CSRF-Token header");
  }
  caller.identity = caller.session->identity;
  return caller;
}

std::string PortalApi::Impl::SessionBody(const PortalIdentity& identity,
                                         const std::string* csrf) const {
  std::string body;
  JsonObject o(body);
  if (identity.rights_holder) {
    o.String("rights_holder", *identity.rights_holder);
  } else {
    o.Raw("rights_holder", "null");
  }
  o.Raw("admin", identity.admin() ? "true" : "false");
  if (csrf != nullptr) {
    o.String("csrf_token", *csrf);
  } else {
    o.Raw("csrf_token", "null");
  }
  o.Close();
  return body;
}

PortalResponse PortalApi::Impl::HandleSession(const PortalRequest& req) {
  if (req.method == "POST") {
    if (absl::Status s = CheckOrigin(req); !s.ok()) return StatusResponse(s);
    if (req.body_too_large || req.body.size() > kPortalMaxBodyBytes) {
      return Error(400, "the body is over 64 KiB");
    }
    const std::optional<std::string> token = ParseLoginBody(req.body);
    if (!token) return Error(400, "the body must be {\"token\":\"...\"}");
    absl::StatusOr<PortalIdentity> identity = [&]() -> absl::StatusOr<PortalIdentity> {
      BONAFIDE_ASSIGN_OR_RETURN(ReaderPool::Lease outbox, readers_.Acquire());
      return AuthenticateToken(*outbox, *token);
    }();
    if (!identity.ok()) return StatusResponse(identity.status());
    absl::StatusOr<std::string> id = RandomBase64Url(32);
    absl::StatusOr<std::string> csrf = RandomBase64Url(32);
    if (!id.ok() || !csrf.ok()) return Error(500, "internal error");
    Session session{*identity, *csrf, NowMs() + options_.session_ttl_ms};
    {
      std::lock_guard<std::mutex> lock(session_mu_);
      if (sessions_.size() >= options_.max_sessions) {
        const int64_t now = NowMs();
        absl::erase_if(sessions_, [now](const auto& s) { return s.second.expires_ms <= now; });
      }
      // One token keeps at most max_sessions_per_token sessions, its oldest dropped, so
      // that logging in again and again with it never drops other tokens' sessions.
      for (;;) {
        size_t own = 0;
        auto oldest = sessions_.end();
        for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
          if (it->second.identity.token_prefix != identity->token_prefix) continue;
          ++own;
          if (oldest == sessions_.end() || it->second.serial < oldest->second.serial) {
            oldest = it;
          }
        }
        if (own < std::max<size_t>(options_.max_sessions_per_token, 1)) break;
        sessions_.erase(oldest);
      }
      while (sessions_.size() >= options_.max_sessions) {
        auto oldest = std::min_element(
            sessions_.begin(), sessions_.end(),
            [](const auto& a, const auto& b) { return a.second.serial < b.second.serial; });
        sessions_.erase(oldest);
      }
      session.serial = ++session_serial_;
      sessions_[Sha256Hex(*id)] = session;
    }
    PortalResponse r = Json(200, SessionBody(session.identity, &session.csrf_token));
    r.headers.emplace_back("Set-Cookie", absl::StrCat(ToAbsl(kPortalSessionCookie), "=", *id,
                                                      "; Path=/; HttpOnly; SameSite=Strict"));
    return r;
  }
  if (req.method != "GET" && req.method != "HEAD" && req.method != "DELETE") {
    return Error(405, "method not allowed");
  }
  absl::StatusOr<Caller> caller = Authenticate(req);
  if (!caller.ok()) return StatusResponse(caller.status());
  if (req.method == "DELETE") {
    if (caller->session.has_value()) {
      const std::string digest = Sha256Hex(CookieValue(req.cookie, kPortalSessionCookie));
      std::lock_guard<std::mutex> lock(session_mu_);
      sessions_.erase(digest);
    }
    PortalResponse r;
    r.status = 204;
    r.content_type.clear();
    r.headers.emplace_back("Set-Cookie",
                           absl::StrCat(ToAbsl(kPortalSessionCookie),
                                        "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"));
    return r;
  }
  return Json(200,
              SessionBody(caller->identity,
                          caller->session.has_value() ? &caller->session->csrf_token : nullptr));
}

// --- Endpoints ---------------------------------------------------------------------------

std::optional<std::string> PortalApi::Impl::ListScope(const PortalRequest& req,
                                                      const Caller& caller) {
  if (!caller.identity.admin()) return caller.identity.rights_holder;
  const std::optional<std::string_view> holder = Param(req, "rights_holder");
  if (holder && !holder->empty()) return std::string(*holder);
  return std::nullopt;
}

absl::StatusOr<std::optional<StoredCase>> PortalApi::Impl::VisibleCase(Outbox& outbox,
                                                                       const Caller& caller,
                                                                       const std::string& key) {
  BONAFIDE_ASSIGN_OR_RETURN(std::optional<StoredCase> c, outbox.GetCase(key));
  if (c.has_value() && !caller.identity.admin() &&
      c->rights_holder != *caller.identity.rights_holder) {
    return std::optional<StoredCase>();
  }
  return c;
}

PortalResponse PortalApi::Impl::ListCases(const PortalRequest& req, const Caller& caller) {
  CaseQuery query;
  query.rights_holder = ListScope(req, caller);
  if (const std::optional<std::string_view> status = Param(req, "status")) {
    query.status = ParseCaseStatus(*status);
    if (!query.status) {
      return Error(400, "status must be pending, confirmed, rejected or closed");
    }
  }
  absl::StatusOr<int64_t> limit = IntParam(req, "limit", kDefaultPageSize, 1, kMaxPageSize);
  if (!limit.ok()) return StatusResponse(limit.status());
  query.limit = static_cast<int>(*limit);
  if (const std::optional<std::string_view> after = Param(req, "after")) {
    // The cursor is opaque to clients: the outbox's cursor in hex.
    query.after = Unhex(*after);
    if (!query.after || query.after->find(' ') == std::string::npos) {
      return Error(400, "after must be a cursor from an earlier page's next");
    }
  }
  absl::StatusOr<ReaderPool::Lease> outbox = readers_.Acquire();
  if (!outbox.ok()) return StatusResponse(outbox.status());
  absl::StatusOr<CasePage> page = (*outbox)->ListCases(query);
  if (!page.ok()) return StatusResponse(page.status());
  std::string body;
  JsonObject(body)
      .Raw("cases", JsonArray(page->cases, AppendCase))
      .Raw("next", page->next ? absl::StrCat("\"", Hex(*page->next), "\"") : "null")
      .Close();
  return Json(200, std::move(body));
}

PortalResponse PortalApi::Impl::GetCase(const Caller& caller, const std::string& key) {
  absl::StatusOr<ReaderPool::Lease> outbox = readers_.Acquire();
  if (!outbox.ok()) return StatusResponse(outbox.status());
  absl::StatusOr<std::optional<StoredCase>> c = VisibleCase(**outbox, caller, key);
  if (!c.ok()) return StatusResponse(c.status());
  if (!c->has_value()) return NoSuchCase();
  const StoredCase& found = **c;
  absl::StatusOr<std::vector<StoredEvent>> events =
      (*outbox)->ListEvents(found.rights_holder, 0, 0, found.case_key);
  if (!events.ok()) return StatusResponse(events.status());
  absl::StatusOr<std::vector<StoredVerdict>> verdicts = (*outbox)->ListVerdicts(found.case_key);
  if (!verdicts.ok()) return StatusResponse(verdicts.status());
  std::string case_json;
  AppendCase(found, case_json);
  std::string body;
  JsonObject(body)
      .Raw("case", case_json)
      .Raw("events", JsonArray(*events, AppendEvent))
      .Raw("verdicts", JsonArray(*verdicts, AppendVerdict))
      .Close();
  return Json(200, std::move(body));
}

PortalResponse PortalApi::Impl::PostVerdict(const PortalRequest& req, const Caller& caller,
                                            const std::string& key) {
  // The body is judged before the key, so that every key (another holder's, an unknown
  // or a malformed one) gets the same answer to the same body.
  if (req.body_too_large || req.body.size() > kPortalMaxBodyBytes) {
    return Error(400, "the body is over 64 KiB");
  }
  absl::StatusOr<VerdictBody> body = ParseVerdictBody(req.body);
  if (!body.ok()) return StatusResponse(body.status());
  VerdictRequest request;
  request.verdict = body->verdict;
  request.comment = std::move(body->comment);
  request.authorize_seller = body->authorize_seller;
  request.replace = body->replace;
  request.rights_holder = caller.identity.rights_holder;  // the holder's scope; admin: none
  request.actor = caller.identity.token_prefix;
  // Everything the outbox would refuse whatever the case is refused here, key unseen.
  if (absl::Status s = ValidateVerdictRequest(request); !s.ok()) return StatusResponse(s);
  if (key.empty()) return NoSuchCase();
  request.case_key = key;
  absl::StatusOr<StoredCase> c = [&]() {
    std::lock_guard<std::mutex> lock(write_mu_);
    return writer_->RecordVerdict(request);
  }();
  if (absl::IsAlreadyExists(c.status())) {
    return Error(409, "the case already has a verdict; send \"replace\":true to change it");
  }
  if (!c.ok()) return StatusResponse(c.status());
  std::string case_json;
  AppendCase(*c, case_json);
  std::string out;
  JsonObject(out).Raw("case", case_json).Close();
  return Json(200, std::move(out));
}

PortalResponse PortalApi::Impl::ListEvents(const PortalRequest& req, const Caller& caller) {
  absl::StatusOr<int64_t> after = IntParam(req, "after", 0, 0, INT64_MAX);
  if (!after.ok()) return StatusResponse(after.status());
  absl::StatusOr<int64_t> limit = IntParam(req, "limit", kDefaultEventsPage, 1, kMaxEventsPage);
  if (!limit.ok()) return StatusResponse(limit.status());
  const std::optional<std::string> scope = ListScope(req, caller);
  absl::StatusOr<ReaderPool::Lease> outbox = readers_.Acquire();
  if (!outbox.ok()) return StatusResponse(outbox.status());
  absl::StatusOr<std::vector<StoredEvent>> events =
      (*outbox)->ListEvents(scope ? std::optional<std::string_view>(*scope) : std::nullopt, *after,
                            static_cast<int>(*limit));
  if (!events.ok()) return StatusResponse(events.status());
  std::string body;
  JsonObject(body)
      .Raw("events", JsonArray(*events, AppendEvent))
      .Int("next_after", events->empty() ? *after : events->back().id)
      .Close();
  return Json(200, std::move(body));
}

PortalResponse PortalApi::Impl::Report(const PortalRequest& req, const Caller& caller) {
  const std::optional<std::string> scope = ListScope(req, caller);
  absl::StatusOr<ReaderPool::Lease> outbox = readers_.Acquire();
  if (!outbox.ok()) return StatusResponse(outbox.status());
  absl::StatusOr<std::vector<PrecisionRow>> rows =
      (*outbox)->PrecisionReport(scope ? std::optional<std::string_view>(*scope) : std::nullopt);
  if (!rows.ok()) return StatusResponse(rows.status());
  std::string body;
  JsonObject(body)
      .Raw("rows", JsonArray(*rows,
                             [](const PrecisionRow& row, std::string& out) {
                               const bool cue = absl::StartsWith(row.signal, "cue:");
                               JsonObject(out)
                                   .String("kind", cue ? "cue" : "signal")
                                   .String("name", cue ? std::string_view(row.signal).substr(4)
                                                       : std::string_view(row.signal))
                                   .Int("cases", row.cases)
                                   .Int("confirmed", row.confirmed)
                                   .Int("rejected", row.rejected)
                                   .Raw("precision",
                                        row.precision ? FormatDecimal(*row.precision) : "null")
                                   .Close();
                             }))
      .Close();
  return Json(200, std::move(body));
}

PortalResponse PortalApi::Impl::Photo(const PortalRequest& req, const Caller& caller,
                                      const std::string& key, std::string_view index_text) {
  absl::StatusOr<ReaderPool::Lease> outbox = readers_.Acquire();
  if (!outbox.ok()) return StatusResponse(outbox.status());
  absl::StatusOr<std::optional<StoredCase>> c = VisibleCase(**outbox, caller, key);
  if (!c.ok()) return StatusResponse(c.status());
  if (!c->has_value()) return NoSuchCase();
  const auto no_photo = [] { return Error(404, "no such photo"); };
  size_t index = 0;
  const bool digits = !index_text.empty() && index_text.size() <= 4 &&
                      std::all_of(index_text.begin(), index_text.end(),
                                  [](char ch) { return ch >= '0' && ch <= '9'; });
  if (!digits || !absl::SimpleAtoi(ToAbsl(index_text), &index)) return no_photo();
  const std::optional<std::string_view> genuine_param = Param(req, "genuine");
  const bool genuine = genuine_param.has_value() && *genuine_param == "1";
  const std::string relative = PhotoPath(**c, index, genuine);
  if (relative.empty()) return no_photo();
  const std::optional<std::string> bytes = ReadUnder(genuine ? rules_dir_ : image_root_, relative);
  if (!bytes) return no_photo();
  const std::string_view type = ImageTypeOf(*bytes);
  if (type.empty()) return no_photo();
  PortalResponse r;
  r.content_type = std::string(type);
  r.body = *bytes;
  r.headers.emplace_back("Cache-Control", "private, no-cache");
  return r;
}

// --- PortalApi ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<PortalApi>> PortalApi::Create(PortalOptions options) {
  if (options.outbox_path.empty()) return absl::InvalidArgumentError("no outbox given");
  std::string image_root, rules_dir;
  if (!options.image_root.empty()) {
    BONAFIDE_ASSIGN_OR_RETURN(image_root, RealDirectory(options.image_root, "image root"));
  }
  if (!options.rules_dir.empty()) {
    BONAFIDE_ASSIGN_OR_RETURN(rules_dir, RealDirectory(options.rules_dir, "rules directory"));
  }
  BONAFIDE_ASSIGN_OR_RETURN(std::unique_ptr<Outbox> writer,
                            OpenOutbox(options.outbox_path, OutboxAccess::kReadWrite));
  auto impl = std::make_unique<Impl>(std::move(options), std::move(writer), std::move(image_root),
                                     std::move(rules_dir));
  return std::unique_ptr<PortalApi>(new PortalApi(std::move(impl)));
}

PortalApi::PortalApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PortalApi::~PortalApi() = default;

PortalResponse PortalApi::Handle(const PortalRequest& request) { return impl_->Handle(request); }

}  // namespace bonafide::engine
