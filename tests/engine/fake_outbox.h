// An in-memory Outbox with only the delivery side (events, their delivery state, disabled
// endpoints), for the relay's unit tests: every connection opened from one FakeOutboxStore
// sees the same data, like connections to one SQLite file. Everything else is
// Unimplemented.
#ifndef BONAFIDE_TESTS_ENGINE_FAKE_OUTBOX_H_
#define BONAFIDE_TESTS_ENGINE_FAKE_OUTBOX_H_

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "bonafide/outbox.h"

namespace bonafide::testing {

// The shared data. Thread-safe.
class FakeOutboxStore {
 public:
  struct Delivery {
    StoredEvent event;
    int32_t attempts = 0;
    int64_t next_attempt_ms = 0;
    std::string state = "pending";  // "pending", "delivered", "dead"
    std::vector<DeliveryAttempt> history;
  };

  // Appends an event of `rights_holder` with key "<rights_holder>:case<n>:1".
  void AddEvent(const std::string& rights_holder, const std::string& payload = "{\"n\":0}") {
    std::lock_guard<std::mutex> lock(mu);
    StoredEvent e;
    e.id = static_cast<int64_t>(deliveries.size()) + 1;
    e.event_key = rights_holder + ":case" + std::to_string(e.id) + ":1";
    e.rights_holder = rights_holder;
    e.case_key = rights_holder + ":case" + std::to_string(e.id);
    e.type = "case.opened";
    e.payload_json = payload;
    e.created_at = "2026-12-05T10:00:00.000Z";
    deliveries.push_back(Delivery{e});
  }
  std::vector<Delivery> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu);
    return deliveries;
  }
  // The number of events of every holder that are delivered or dead.
  int Settled() const {
    std::lock_guard<std::mutex> lock(mu);
    int n = 0;
    for (const Delivery& d : deliveries) n += d.state != "pending";
    return n;
  }

  std::unique_ptr<Outbox> Open();

  mutable std::mutex mu;
  std::vector<Delivery> deliveries;                        // by event id - 1
  std::set<std::pair<std::string, std::string>> disabled;  // (rights holder, digest)
  std::map<std::string, std::string> disabled_reason;
};

class FakeOutbox final : public Outbox {
 public:
  explicit FakeOutbox(FakeOutboxStore* store) : store_(store) {}

  absl::StatusOr<std::optional<PendingDelivery>> NextDelivery(
      std::string_view rights_holder) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    for (const auto& d : store_->deliveries) {
      if (d.event.rights_holder == rights_holder && d.state == "pending") {
        return PendingDelivery{d.event, d.attempts, d.next_attempt_ms};
      }
    }
    return std::nullopt;
  }
  absl::Status RecordDeliveryAttempt(const DeliveryAttempt& attempt) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    if (attempt.event_id < 1 ||
        attempt.event_id > static_cast<int64_t>(store_->deliveries.size())) {
      return absl::NotFoundError("no such event");
    }
    auto& d = store_->deliveries[attempt.event_id - 1];
    if (d.state != "pending") return absl::FailedPreconditionError("event already settled");
    d.history.push_back(attempt);
    switch (attempt.outcome) {
      case DeliveryAttempt::Outcome::kDelivered:
        d.state = "delivered";
        break;
      case DeliveryAttempt::Outcome::kDead:
        ++d.attempts;
        d.state = "dead";
        break;
      case DeliveryAttempt::Outcome::kRetry:
        ++d.attempts;
        d.next_attempt_ms = attempt.next_attempt_ms;
        break;
    }
    return absl::OkStatus();
  }
  absl::Status DisableEndpoint(std::string_view rights_holder, std::string_view endpoint_digest,
                               std::string_view reason) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    store_->disabled.emplace(rights_holder, endpoint_digest);
    store_->disabled_reason[std::string(rights_holder)] = reason;
    return absl::OkStatus();
  }
  absl::StatusOr<bool> EndpointDisabled(std::string_view rights_holder,
                                        std::string_view endpoint_digest) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    return store_->disabled.count({std::string(rights_holder), std::string(endpoint_digest)}) > 0;
  }

  // --- Not used by the relay ---
  absl::StatusOr<OutboxWriteStats> Write(const OutboxBatch&) override { return Unused(); }
  absl::StatusOr<OutboxWriteStats> Publish(std::string_view) override { return Unused(); }
  absl::StatusOr<std::optional<StoredCase>> GetCase(std::string_view) override { return Unused(); }
  absl::StatusOr<CasePage> ListCases(const CaseQuery&) override { return Unused(); }
  absl::StatusOr<std::vector<StoredEvent>> DoListEvents(std::optional<std::string_view>, int64_t,
                                                        int,
                                                        std::optional<std::string_view>) override {
    return Unused();
  }
  absl::StatusOr<StoredCase> RecordVerdict(const VerdictRequest&) override { return Unused(); }
  absl::StatusOr<std::vector<StoredVerdict>> ListVerdicts(std::string_view) override {
    return Unused();
  }
  absl::StatusOr<OutboxFeedback> LoadFeedback() override { return Unused(); }
  absl::Status CreateToken(const StoredToken&) override { return Unused(); }
  absl::StatusOr<std::optional<StoredToken>> FindToken(std::string_view) override {
    return Unused();
  }
  absl::StatusOr<std::vector<StoredToken>> ListTokens() override { return Unused(); }
  absl::Status RevokeToken(std::string_view) override { return Unused(); }
  absl::StatusOr<std::vector<PrecisionRow>> PrecisionReport(
      std::optional<std::string_view>) override {
    return Unused();
  }

 private:
  static absl::Status Unused() { return absl::UnimplementedError("not in the fake outbox"); }
  FakeOutboxStore* store_;
};

inline std::unique_ptr<Outbox> FakeOutboxStore::Open() {
  return std::make_unique<FakeOutbox>(this);
}

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_ENGINE_FAKE_OUTBOX_H_
