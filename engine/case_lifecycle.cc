#include "engine/case_lifecycle.h"

#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "util/hash.h"
#include "util/strings.h"

namespace bonafide {

// --- The public helpers of bonafide/outbox.h and sink.h -----------------------------------

const char* CaseStatusName(CaseStatus status) {
  switch (status) {
    case CaseStatus::kPending:
      return "pending";
    case CaseStatus::kConfirmed:
      return "confirmed";
    case CaseStatus::kRejected:
      return "rejected";
    case CaseStatus::kClosed:
      return "closed";
  }
  return "pending";
}

std::optional<CaseStatus> ParseCaseStatus(std::string_view name) {
  for (CaseStatus s :
       {CaseStatus::kPending, CaseStatus::kConfirmed, CaseStatus::kRejected, CaseStatus::kClosed}) {
    if (name == CaseStatusName(s)) return s;
  }
  return std::nullopt;
}

const char* VerdictKindName(VerdictKind verdict) {
  switch (verdict) {
    case VerdictKind::kCounterfeit:
      return "counterfeit";
    case VerdictKind::kGenuine:
      return "genuine";
    case VerdictKind::kNotOurs:
      return "not_ours";
  }
  return "counterfeit";
}

std::optional<VerdictKind> ParseVerdictKind(std::string_view name) {
  for (VerdictKind v : {VerdictKind::kCounterfeit, VerdictKind::kGenuine, VerdictKind::kNotOurs}) {
    if (name == VerdictKindName(v)) return v;
  }
  return std::nullopt;
}

uint64_t ListingKeyHash(std::string_view marketplace, std::string_view listing_id) {
  // absl::Hash of the Abseil string_view: Debian's Abseil hashes a std::string_view with
  // std::hash, which is several times slower.
  return absl::HashOf(ToAbsl(marketplace), ToAbsl(listing_id));
}

std::string CaseKey(std::string_view rights_holder, std::string_view marketplace,
                    std::string_view listing_id) {
  std::string key;
  key.reserve(rights_holder.size() + marketplace.size() + listing_id.size() + 2);
  key.append(rights_holder);
  for (std::string_view part : {marketplace, listing_id}) {
    key.push_back(':');
    for (char c : part) {
      if (c == '%') {
        key.append("%25");
      } else if (c == ':') {
        key.append("%3A");
      } else {
        key.push_back(c);
      }
    }
  }
  return key;
}

std::optional<CaseKeyParts> ParseCaseKey(std::string_view key) {
  const size_t last = key.rfind(':');
  if (last == std::string_view::npos || last == 0) return std::nullopt;
  const size_t middle = key.rfind(':', last - 1);
  if (middle == std::string_view::npos) return std::nullopt;
  // Only the two escapes CaseKey() writes; any other '%' stays, and the round trip below
  // refuses it (CaseKey() would write it as %25).
  auto decode = [](std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      const std::string_view escape = s.substr(i, 3);
      if (escape == "%25" || escape == "%3A") {
        out.push_back(escape == "%25" ? '%' : ':');
        i += 2;
      } else {
        out.push_back(s[i]);
      }
    }
    return out;
  };
  CaseKeyParts parts{std::string(key.substr(0, middle)),
                     decode(key.substr(middle + 1, last - middle - 1)),
                     decode(key.substr(last + 1))};
  if (CaseKey(parts.rights_holder, parts.marketplace, parts.listing_id) != key) return std::nullopt;
  return parts;
}

absl::Status ValidateVerdictRequest(const VerdictRequest& r) {
  if (r.authorize_seller && r.verdict != VerdictKind::kGenuine) {
    return absl::InvalidArgumentError("authorize_seller goes with a genuine verdict only");
  }
  if (r.comment.size() > kMaxVerdictCommentBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("comment is ", r.comment.size(), " bytes; at most ", kMaxVerdictCommentBytes));
  }
  if (!IsValidUtf8(r.comment) || !IsValidUtf8(r.actor)) {
    return absl::InvalidArgumentError("comment is not valid UTF-8");
  }
  return absl::OkStatus();
}

namespace engine {

std::string NowIso8601() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char buf[80];  // large enough for any int fields, which keeps -Wformat-truncation quiet
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm_utc.tm_year + 1900,
                tm_utc.tm_mon + 1, tm_utc.tm_mday, tm_utc.tm_hour, tm_utc.tm_min, tm_utc.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

absl::StatusOr<PreparedCase> PrepareCase(const CaseRecord& c, std::string_view location) {
  // The rights holder comes from the rules and is never empty unless something is broken.
  if (c.rights_holder.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(location), ": case \":", c.marketplace,
                                                   ":", c.listing_id,
                                                   "\": rights_holder must not be empty"));
  }
  PreparedCase p;
  p.case_key = CaseKey(c.rights_holder, c.marketplace, c.listing_id);
  if (!std::isfinite(c.score)) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(location), ": case \"", p.case_key, "\": score is not finite"));
  }
  // Both branches std::string_view: a `? "[]" : std::string` would make a temporary.
  p.reasons = c.reasons_json.empty() ? std::string_view("[]") : std::string_view(c.reasons_json);
  p.evidence = c.evidence_json.empty() ? std::string_view("{}") : std::string_view(c.evidence_json);
  p.score = FormatDecimal(c.score);
  p.fingerprint = Fingerprint(c, p.score, p.reasons, p.evidence);
  return p;
}

std::string Fingerprint(const CaseRecord& c, std::string_view score, std::string_view reasons,
                        std::string_view evidence) {
  Hasher128 hasher;
  for (std::string_view field : {std::string_view(c.seller_id), score, reasons, evidence,
                                 std::string_view(c.signals), std::string_view(c.material_key)}) {
    hasher.Add(field);
  }
  return hasher.Hex();
}

bool HasNewSignal(std::string_view now, std::string_view before) {
  const std::vector<absl::string_view> old_names =
      absl::StrSplit(ToAbsl(before), ' ', absl::SkipEmpty());
  for (absl::string_view name : absl::StrSplit(ToAbsl(now), ' ', absl::SkipEmpty())) {
    bool known = false;
    for (absl::string_view o : old_names) known = known || o == name;
    if (!known) return true;
  }
  return false;
}

CaseStatus RescanBaseStatus(CaseStatus stored, bool marked_in_run,
                            std::optional<CaseStatus> announced) {
  return marked_in_run && announced.has_value() ? *announced : stored;
}

RescanOutcome Rescan(CaseStatus base, std::string_view signals, std::string_view verdict_signals) {
  switch (base) {
    case CaseStatus::kPending:
    case CaseStatus::kConfirmed:
      break;
    case CaseStatus::kClosed:  // flagged again
      return {CaseStatus::kPending, true};
    case CaseStatus::kRejected:  // reopens on a signal the rights holder has not judged
      if (HasNewSignal(signals, verdict_signals)) return {CaseStatus::kPending, true};
      return {CaseStatus::kRejected, false};
  }
  return {base, true};  // mark it: Publish compares with what was announced
}

CaseStatus StatusWhenNoLongerFlagged(bool marked_in_run, std::optional<CaseStatus> announced) {
  return marked_in_run && announced == CaseStatus::kRejected ? CaseStatus::kRejected
                                                             : CaseStatus::kClosed;
}

Publication DecidePublication(CaseStatus s, std::string_view material,
                              std::optional<CaseStatus> announced_status,
                              std::string_view announced_material) {
  if (!announced_status.has_value()) {
    // Opened and closed again before anybody heard of it (an input that repeats a listing):
    // nothing to tell, nothing to keep.
    if (s == CaseStatus::kClosed) return {Publication::Action::kDelete, nullptr};
    return {Publication::Action::kEvent, "case.opened"};
  }
  const CaseStatus was = *announced_status;
  // An empty announced material key: a case from an outbox of schema version 1, whose first
  // rescan adopts its material key without an event.
  const bool material_changed = !announced_material.empty() && material != announced_material;
  if (s == CaseStatus::kPending && (was == CaseStatus::kClosed || was == CaseStatus::kRejected)) {
    return {Publication::Action::kEvent, "case.reopened"};
  }
  if (s == CaseStatus::kClosed && was != CaseStatus::kClosed) {
    return {Publication::Action::kEvent, "case.closed"};
  }
  if ((s == CaseStatus::kPending || s == CaseStatus::kConfirmed) && s == was && material_changed) {
    return {Publication::Action::kEvent, "case.updated"};
  }
  return {Publication::Action::kSilent, nullptr};
}

void CountEvent(std::string_view type, OutboxWriteStats& stats) {
  if (type == "case.opened") ++stats.opened;
  if (type == "case.updated") ++stats.updated;
  if (type == "case.closed") ++stats.closed;
  if (type == "case.reopened") ++stats.reopened;
}

std::string StoredCaseEventPayload(const StoredCase& c, int64_t revision) {
  std::string payload;
  payload.reserve(c.seller_id.size() + c.reasons_json.size() + 96);
  JsonObject(payload)
      .String("seller_id", c.seller_id)
      .String("status", CaseStatusName(c.status))
      .Raw("score", FormatDecimal(c.score))
      .Raw("reasons", c.reasons_json)
      .Int("revision", revision)
      .Close();
  return payload;
}

std::string StoredVerdictEventPayload(const StoredCase& c, const VerdictRequest& r) {
  std::string payload;
  JsonObject(payload)
      .String("seller_id", c.seller_id)
      .String("status", CaseStatusName(c.status))
      .String("verdict", VerdictKindName(r.verdict))
      .String("comment", r.comment)
      .Raw("authorize_seller", r.authorize_seller ? "true" : "false")
      .Int("revision", c.revision)
      .Close();
  return payload;
}

std::string EventPayload(std::string_view stored, std::string_view case_key,
                         std::string_view rights_holder) {
  const std::optional<CaseKeyParts> parts = ParseCaseKey(case_key);
  // Whole already (stored before version 4), or a key CaseKey() never makes: as stored.
  if (stored.size() < 2 || stored.front() != '{' || stored.starts_with("{\"case_key\":") ||
      !parts.has_value()) {
    return std::string(stored);
  }
  std::string payload;
  payload.reserve(stored.size() + 2 * case_key.size() + 64);
  JsonObject(payload)
      .String("case_key", case_key)
      .String("rights_holder", rights_holder)
      .String("marketplace", parts->marketplace)
      .String("listing_id", parts->listing_id);
  // The stored members follow; "{}" (no members) closes the object as it is.
  if (stored.size() > 2) payload.push_back(',');
  payload.append(stored.substr(1));
  return payload;
}

std::string EventKey(std::string_view case_key, int64_t revision) {
  return absl::StrCat(ToAbsl(case_key), ":", revision);
}

const char* DeliveryStateName(DeliveryAttempt::Outcome outcome) {
  switch (outcome) {
    case DeliveryAttempt::Outcome::kDelivered:
      return "delivered";
    case DeliveryAttempt::Outcome::kDead:
      return "dead";
    case DeliveryAttempt::Outcome::kRetry:
      return "retrying";
  }
  return "retrying";
}

absl::Status ValidateNewToken(const StoredToken& token) {
  auto is_sha256_hex = [](std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
  };
  if (token.prefix.empty() || !is_sha256_hex(token.sha256) ||
      (token.rights_holder.has_value() && token.rights_holder->empty())) {
    return absl::InvalidArgumentError(
        "a token needs a prefix, a SHA-256 in hex and a non-empty rights holder (or none for "
        "admin)");
  }
  return absl::OkStatus();
}

}  // namespace engine
}  // namespace bonafide
