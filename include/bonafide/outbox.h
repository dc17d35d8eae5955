// The outbox: the cases, their events, the rights holders' verdicts and the relay's
// delivery state, in one database: an SQLite file or a PostgreSQL database
// (docs/outbox-format.md).
//
//   auto outbox = bonafide::OpenOutbox("outbox.db");
//   auto summary = scanner->ScanFiles({"dump.jsonl"}, **outbox, options);
//   auto c = (*outbox)->RecordVerdict({.case_key = key, .verdict = VerdictKind::kCounterfeit});
//
// Every method is one transaction, but for Write, whose batches a scan may let share one
// (OutboxBatch::defer_commit). One Outbox object is not thread-safe; open one per
// thread (SQLite serialises writers across connections and processes; PostgreSQL runs them
// side by side and retries a transaction that lost a conflict).
#ifndef BONAFIDE_OUTBOX_H_
#define BONAFIDE_OUTBOX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "bonafide/export.h"
#include "bonafide/sink.h"

namespace bonafide {

enum class CaseStatus : uint8_t {
  kPending,    // opened, awaiting the rights holder
  kConfirmed,  // verdict: counterfeit
  kRejected,   // verdict: genuine or not the rights holder's
  kClosed,     // a rescan found the listing no longer meets the threshold before any verdict
};
// "pending", "confirmed", "rejected", "closed".
BONAFIDE_EXPORT const char* CaseStatusName(CaseStatus status);
BONAFIDE_EXPORT std::optional<CaseStatus> ParseCaseStatus(std::string_view name);

enum class VerdictKind : uint8_t { kCounterfeit, kGenuine, kNotOurs };
// "counterfeit", "genuine", "not_ours".
BONAFIDE_EXPORT const char* VerdictKindName(VerdictKind verdict);
BONAFIDE_EXPORT std::optional<VerdictKind> ParseVerdictKind(std::string_view name);

// A case as stored.
struct StoredCase {
  std::string case_key;
  std::string rights_holder;
  std::string marketplace;
  std::string listing_id;
  std::string seller_id;
  double score = 0;
  std::string reasons_json;
  std::string evidence_json;
  std::string signals;  // CaseRecord::signals
  CaseStatus status = CaseStatus::kPending;
  int64_t revision = 0;       // events announced for this case so far
  std::string first_seen_at;  // ISO 8601 UTC with milliseconds
  std::string last_seen_at;
};

struct StoredEvent {
  int64_t id = 0;         // grows in commit order
  std::string event_key;  // unique and stable: the webhook-id ("<case_key>:<revision>")
  std::string rights_holder;
  std::string case_key;
  std::string type;  // "case.opened", "case.updated", "case.closed", "case.reopened",
                     // "case.verdict"
  std::string payload_json;
  std::string created_at;
};

// A verdict's comment holds at most this many bytes.
inline constexpr size_t kMaxVerdictCommentBytes = 4096;

// A rights holder's answer.
struct VerdictRequest {
  std::string case_key;
  VerdictKind verdict = VerdictKind::kCounterfeit;
  std::string comment;            // at most kMaxVerdictCommentBytes of UTF-8
  bool authorize_seller = false;  // genuine only: never flag this seller for this holder again
  bool replace = false;           // replace an earlier verdict instead of failing
  // When set, the case must belong to this rights holder; another holder's case is
  // NotFound, exactly like an unknown key (a portal's isolation).
  std::optional<std::string> rights_holder;
  std::string actor;  // who answered, for the record ("cli", a token prefix)
};

struct StoredVerdict {
  int64_t id = 0;
  std::string case_key;
  std::string rights_holder;
  VerdictKind verdict = VerdictKind::kCounterfeit;
  std::string comment;
  bool authorize_seller = false;
  std::string signals;  // the case's signals when the verdict was given
  std::string actor;
  std::string created_at;
};

// Which cases ListCases returns, newest first (by first_seen_at, then case key).
struct CaseQuery {
  std::optional<std::string> rights_holder;
  std::optional<CaseStatus> status;
  std::optional<std::string> marketplace;
  std::optional<std::string> since;  // first_seen_at >= since (ISO 8601 prefix, e.g. 2026-12-01)
  std::optional<std::string> after;  // a cursor from CasePage::next
  int limit = 0;                     // 0 = all
};
struct CasePage {
  std::vector<StoredCase> cases;
  std::optional<std::string> next;  // cursor of the next page, when there is one
};

// What verdicts taught, read by later scans (ScannerOptions::feedback).
struct OutboxFeedback {
  struct Seller {
    std::string rights_holder;
    std::string seller_id;
  };
  struct CounterfeitPhoto {
    std::string rights_holder;
    std::string pdq_hex;  // 64 hex digits
    int32_t quality = 0;
    std::string case_key;  // the confirmed case it came from
  };
  struct SellerRecord {
    std::string rights_holder;
    std::string seller_id;
    int64_t confirmed = 0;  // confirmed counterfeit cases of this seller for this holder
    // Their case keys: a listing's own confirmed case does not count against it.
    std::vector<std::string> case_keys;
  };
  std::vector<Seller> authorized_sellers;  // authorized through a genuine verdict
  std::vector<CounterfeitPhoto> counterfeit_photos;
  std::vector<SellerRecord> seller_records;
};

// Measured precision of one signal (a cue rule, or a signal kind) for one rights holder or
// all of them.
struct PrecisionRow {
  std::string signal;  // "cue:<rule id>", "price", "image", ...
  bool shadow = false;
  int64_t cases = 0;      // cases whose reasons include it
  int64_t confirmed = 0;  // ... with a counterfeit verdict
  int64_t rejected = 0;   // ... with a genuine or not_ours verdict
  // confirmed / (confirmed + rejected); nullopt before any verdict.
  std::optional<double> precision;
};

// The relay's view of one rights holder's queue.
struct PendingDelivery {
  StoredEvent event;
  int32_t attempts = 0;         // failed attempts so far
  int64_t next_attempt_ms = 0;  // Unix ms; 0 = now
};
struct DeliveryAttempt {
  int64_t event_id = 0;
  enum class Outcome : uint8_t { kDelivered, kRetry, kDead } outcome = Outcome::kRetry;
  int32_t http_status = 0;      // 0 when no answer (timeout, refused)
  std::string error;            // why it failed, for the operator (never the secret)
  int64_t next_attempt_ms = 0;  // kRetry: when to try again (Unix ms)
};

// An access token of the portal (`bonafide serve`) as stored: never the token itself, only
// its SHA-256 and its public prefix (engine/portal_tokens.h makes and checks tokens).
struct StoredToken {
  std::string prefix;  // the token's first characters: unique, names it in lists
  std::string sha256;  // SHA-256 of the whole token, 64 lower-case hex digits
  // The rights holder whose cases it opens; nullopt for an admin token (every holder).
  std::optional<std::string> rights_holder;
  std::string created_at;
  std::optional<std::string> revoked_at;  // set once revoked: the token opens nothing
};

class BONAFIDE_EXPORT Outbox : public CaseSink {
 public:
  // --- Cases and events -------------------------------------------------------------------
  virtual absl::StatusOr<std::optional<StoredCase>> GetCase(std::string_view case_key) = 0;
  virtual absl::StatusOr<CasePage> ListCases(const CaseQuery& query) = 0;
  // Events with id > after_id, in id order, optionally of one rights holder and case;
  // limit 0 = all.
  absl::StatusOr<std::vector<StoredEvent>> ListEvents(
      std::optional<std::string_view> rights_holder = std::nullopt, int64_t after_id = 0,
      int limit = 0, std::optional<std::string_view> case_key = std::nullopt) {
    return DoListEvents(rights_holder, after_id, limit, case_key);
  }

  // --- Verdicts ---------------------------------------------------------------------------
  // Records the verdict, sets the status (counterfeit: confirmed; otherwise rejected) and
  // emits case.verdict, in one transaction. NotFound for an unknown case (or another
  // holder's, see VerdictRequest::rights_holder); AlreadyExists when a verdict is in force
  // (the case is confirmed or rejected) and !replace (a case reopened after a rejection
  // takes a new verdict); InvalidArgument for authorize_seller without genuine or an
  // over-long comment. Returns the case as it is now.
  virtual absl::StatusOr<StoredCase> RecordVerdict(const VerdictRequest& request) = 0;
  virtual absl::StatusOr<std::vector<StoredVerdict>> ListVerdicts(std::string_view case_key) = 0;
  virtual absl::StatusOr<OutboxFeedback> LoadFeedback() = 0;
  // Per signal precision, over every case of `rights_holder` (or of all holders).
  virtual absl::StatusOr<std::vector<PrecisionRow>> PrecisionReport(
      std::optional<std::string_view> rights_holder) = 0;

  // --- Portal access tokens -------------------------------------------------------------
  // Stores a new token (created_at and revoked_at are set by the outbox). AlreadyExists
  // when its prefix is taken (make another token); InvalidArgument for an empty prefix or
  // rights holder, or a sha256 that is not 64 hex digits.
  virtual absl::Status CreateToken(const StoredToken& token) = 0;
  // The token with this prefix, revoked or not; nullopt when there is none.
  virtual absl::StatusOr<std::optional<StoredToken>> FindToken(std::string_view prefix) = 0;
  // Every token, oldest first.
  virtual absl::StatusOr<std::vector<StoredToken>> ListTokens() = 0;
  // Revokes the token with this prefix; NotFound when there is none or it is already
  // revoked.
  virtual absl::Status RevokeToken(std::string_view prefix) = 0;

  // --- Delivery (bonafide relay) ----------------------------------------------------------
  // The oldest event of `rights_holder` not yet delivered or dead, with its attempts.
  virtual absl::StatusOr<std::optional<PendingDelivery>> NextDelivery(
      std::string_view rights_holder) = 0;
  virtual absl::Status RecordDeliveryAttempt(const DeliveryAttempt& attempt) = 0;
  // The rights holder's endpoint answered 410 Gone: nothing more is delivered to an endpoint
  // with this digest (of its URL) until the configuration names another one. Events keep
  // waiting, nothing is lost.
  virtual absl::Status DisableEndpoint(std::string_view rights_holder,
                                       std::string_view endpoint_digest,
                                       std::string_view reason) = 0;
  virtual absl::StatusOr<bool> EndpointDisabled(std::string_view rights_holder,
                                                std::string_view endpoint_digest) = 0;

 protected:
  // ListEvents without default arguments (a virtual function's defaults depend on the
  // static type it is called through).
  virtual absl::StatusOr<std::vector<StoredEvent>> DoListEvents(
      std::optional<std::string_view> rights_holder, int64_t after_id, int limit,
      std::optional<std::string_view> case_key) = 0;
};

enum class OutboxAccess : uint8_t { kReadWrite, kReadOnly };

// Opens the outbox at `location`: a PostgreSQL database named by a libpq URI
// ("postgresql://user@host:5432/dbname", also "postgres://"; its schema is created on the
// first read-write open), or else an SQLite file path (created, with its schema, when
// absent and kReadWrite). An SQLite outbox of an earlier schema version is migrated in one
// transaction on a read-write open (a read-only open of one fails with
// FailedPrecondition: open it read-write once). Errors name the location (a URI without its
// password). docs/outbox-format.md describes both backends.
BONAFIDE_EXPORT absl::StatusOr<std::unique_ptr<Outbox>> OpenOutbox(
    std::string_view location, OutboxAccess access = OutboxAccess::kReadWrite);

// True when OpenOutbox(location) opens a PostgreSQL database (a "postgresql://" or
// "postgres://" URI) rather than an SQLite file.
BONAFIDE_EXPORT bool IsPostgresUri(std::string_view location);

// Checks what RecordVerdict requires of a request regardless of its case:
// authorize_seller only with a genuine verdict, a comment of at most
// kMaxVerdictCommentBytes, comment and actor valid UTF-8. InvalidArgument otherwise.
BONAFIDE_EXPORT absl::Status ValidateVerdictRequest(const VerdictRequest& request);

// Returns the case key of (rights_holder, marketplace, listing_id):
// "<rights_holder>:<marketplace>:<listing_id>" with '%' and ':' in the last two
// percent-encoded.
BONAFIDE_EXPORT std::string CaseKey(std::string_view rights_holder, std::string_view marketplace,
                                    std::string_view listing_id);

// The inverse of CaseKey(): the three parts of `key` (split at its last two colons, the
// last two parts percent-decoded), or nullopt unless CaseKey() of them gives back `key`
// exactly.
struct CaseKeyParts {
  std::string rights_holder, marketplace, listing_id;
};
BONAFIDE_EXPORT std::optional<CaseKeyParts> ParseCaseKey(std::string_view key);

}  // namespace bonafide

#endif  // BONAFIDE_OUTBOX_H_
