// The rules of a case's life that do not depend on where the outbox keeps it: how a scan
// record is checked and fingerprinted, what a rescan does to a stored case, which event a
// publication emits, and the events' payloads. Every outbox backend (SQLite, PostgreSQL)
// applies exactly these, so that both store and announce the same thing for the same scans
// (docs/outbox-format.md, "Case lifecycle").
//
// Pure functions: thread-safe, no I/O.
#ifndef BONAFIDE_ENGINE_CASE_LIFECYCLE_H_
#define BONAFIDE_ENGINE_CASE_LIFECYCLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

#include "bonafide/outbox.h"
#include "bonafide/sink.h"

namespace bonafide::engine {

// Returns the current time as ISO 8601 UTC with milliseconds: 2024-05-01T12:34:56.789Z, the
// form of every timestamp an outbox stores.
std::string NowIso8601();

// A scan record checked and prepared for storage. Views point into the record.
struct PreparedCase {
  std::string case_key;
  std::string score;          // FormatDecimal(score): how payloads and fingerprints write it
  std::string_view reasons;   // "[]" when the record has none
  std::string_view evidence;  // "{}" when the record has none
  std::string fingerprint;    // Fingerprint() of the above
};

// Checks `c` (a non-empty rights holder, a finite score) and prepares it. InvalidArgument
// naming `location` and the case otherwise. Marketplace and listing id come from input data:
// an empty one still makes a unique key, and one odd listing must not fail a whole batch.
absl::StatusOr<PreparedCase> PrepareCase(const CaseRecord& c, std::string_view location);

// Returns the content fingerprint: Hasher128 over everything a case row stores besides its
// key, the material key included (a case whose material key alone changed is news). Equal
// fingerprints: the row needs no rewrite.
std::string Fingerprint(const CaseRecord& c, std::string_view score, std::string_view reasons,
                        std::string_view evidence);

// True when `now` holds a signal name that `before` lacks (both space-separated).
bool HasNewSignal(std::string_view now, std::string_view before);

// The status a scan record of an existing case is judged against: the one last announced
// when an earlier record of the same listing in this run already changed (marked) the case,
// so that the listing's last record wins; the stored one otherwise.
CaseStatus RescanBaseStatus(CaseStatus stored, bool marked_in_run,
                            std::optional<CaseStatus> announced);

// What a scan record does to an existing case whose base status is `base`: a verdict is
// never overwritten; a closed case is flagged again; a rejected case reopens only on a
// signal (of `signals`) its latest verdict (`verdict_signals`) did not see.
struct RescanOutcome {
  CaseStatus status;
  bool mark;  // mark the case for its run's publication
};
RescanOutcome Rescan(CaseStatus base, std::string_view signals, std::string_view verdict_signals);

// The status of a pending case whose listing no longer flags it for its rights holder:
// closed, unless an earlier record of this run reopened a rejected case, which then goes
// back to rejected (the listing's last record wins, and a scan never overwrites a verdict).
CaseStatus StatusWhenNoLongerFlagged(bool marked_in_run, std::optional<CaseStatus> announced);

// What publishing a marked case does, given what it is now and what was last announced.
struct Publication {
  enum class Action : uint8_t {
    kEvent,   // emit `type` with revision + 1, record the announcement
    kSilent,  // nothing to tell; record the announcement if it differs
    kDelete,  // opened and closed before anybody heard of it: delete the case
  } action = Action::kSilent;
  const char* type = nullptr;  // "case.opened", "case.updated", "case.closed", "case.reopened"
};
Publication DecidePublication(CaseStatus status, std::string_view material,
                              std::optional<CaseStatus> announced_status,
                              std::string_view announced_material);

// Adds a published event's type to the counters.
void CountEvent(std::string_view type, OutboxWriteStats& stats);

// Event payloads are stored without their first four members, which the event row's
// case_key and rights_holder give (case_key, rights_holder, marketplace, listing_id):
// about 120 bytes less per event. The Stored*Payload functions make that stored form
// (`{"seller_id":...}`); EventPayload() makes the whole payload of the stored one, which is
// what StoredEvent::payload_json carries to the relay, the portal and every reader
// (docs/outbox-format.md, "Payload").
//
// The stored payload of a scan event (case.opened/updated/closed/reopened) of `c` at
// `revision`.
std::string StoredCaseEventPayload(const StoredCase& c, int64_t revision);
// The stored payload of case.verdict for `c` (status and revision already the new ones).
std::string StoredVerdictEventPayload(const StoredCase& c, const VerdictRequest& request);
// The whole payload of an event of `case_key` for `rights_holder` stored as `stored`. A
// payload stored whole (by schema version 3 or earlier: it starts with "case_key") is
// returned as it is.
std::string EventPayload(std::string_view stored, std::string_view case_key,
                         std::string_view rights_holder);
// The event key of a case's `revision`th event: "<case_key>:<revision>", the webhook-id.
std::string EventKey(std::string_view case_key, int64_t revision);

// The state name a delivery attempt leaves: "delivered", "dead" or "retrying".
const char* DeliveryStateName(DeliveryAttempt::Outcome outcome);

// Checks a token before CreateToken stores it: InvalidArgument for an empty prefix or
// rights holder, or a sha256 that is not 64 lower-case hex digits.
absl::Status ValidateNewToken(const StoredToken& token);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_CASE_LIFECYCLE_H_
