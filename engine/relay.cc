#include "engine/relay.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide::engine {

std::string WebhookBody(const StoredEvent& event) {
  std::string body;
  body.reserve(event.payload_json.size() + event.event_key.size() + 96);
  JsonObject(body)
      .String("id", event.event_key)
      .String("type", event.type)
      .String("timestamp", event.created_at)
      .Raw("data", event.payload_json)
      .Close();
  return body;
}

int64_t RetryDelayMs(const RetryPolicy& policy, int failed_attempts, double random01) {
  constexpr int64_t kMaxDelayMs = 24 * 3600 * 1000LL;
  int64_t delay = std::min(policy.backoff_ms, kMaxDelayMs);
  for (int i = 1; i < failed_attempts && delay < kMaxDelayMs; ++i) delay *= 2;
  delay = std::min(delay, kMaxDelayMs);
  return delay + static_cast<int64_t>(static_cast<double>(delay) * 0.5 * random01);
}

namespace {

std::string FormatTimeMs(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

std::string Answer(const DeliveryReport& r) {
  if (r.http_status != 0) return absl::StrCat("http ", r.http_status);
  return r.error;
}

}  // namespace

std::string FormatDeliveryReport(const DeliveryReport& r) {
  using Kind = DeliveryReport::Kind;
  std::string line = absl::StrCat(FormatTimeMs(r.at_ms), " relay ", r.rights_holder, ": ");
  if (r.kind == Kind::kWaiting) {
    absl::StrAppend(&line,
                    "endpoint disabled by an earlier 410 Gone; its events wait for a new url\n");
    return line;
  }
  absl::StrAppend(&line, "event ", r.event_key, " attempt ", r.attempt, "/", r.max_attempts, ": ");
  switch (r.kind) {
    case Kind::kDelivered:
      absl::StrAppend(&line, "delivered (", Answer(r), ", ", r.elapsed_ms, " ms)\n");
      break;
    case Kind::kRetry:
      absl::StrAppend(&line, Answer(r), "; retry at ", FormatTimeMs(r.next_attempt_ms),
                      absl::StrFormat(" (in %.1f s)\n", (r.next_attempt_ms - r.at_ms) / 1000.0));
      break;
    case Kind::kDead:
      absl::StrAppend(&line, Answer(r), "; dead after ", r.attempt, " attempts\n");
      break;
    case Kind::kDisabled:
      absl::StrAppend(&line, Answer(r),
                      " Gone; endpoint disabled, its events wait for a new url\n");
      break;
    case Kind::kWaiting:
      break;
  }
  return line;
}

// One rights holder's worker: its endpoint, its transport (which the controlling thread
// cancels on a stop request) and what it did.
class Relay::Holder {
 public:
  explicit Holder(const WebhookEndpoint& e) : endpoint(e) {}

  void SetTransport(std::unique_ptr<WebhookTransport> t) {
    std::lock_guard<std::mutex> lock(mu);
    transport = std::move(t);
  }
  void Cancel() {
    std::lock_guard<std::mutex> lock(mu);
    if (transport != nullptr) transport->Cancel();
  }

  const WebhookEndpoint& endpoint;
  // Only the holder's thread posts through the transport; mu guards its replacement
  // against Cancel from the controlling thread.
  std::mutex mu;
  std::unique_ptr<WebhookTransport> transport;  // set once, before the first Post
  RelayStats stats;                             // the holder's thread's, read after join
  absl::Status status;                          // likewise
  std::thread thread;
};

Relay::Relay(RelayConfig config, OutboxOpener open_outbox, RelayOptions options)
    : config_(std::move(config)),
      open_outbox_(std::move(open_outbox)),
      options_(std::move(options)) {}

Relay::~Relay() {
  RequestStop();
  for (auto& h : holders_) {
    if (h->thread.joinable()) h->thread.join();
  }
}

bool Relay::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

void Relay::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& h : holders_) h->Cancel();
}

int64_t Relay::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return absl::ToUnixMillis(absl::Now());
}

void Relay::WaitUntil(int64_t deadline_ms) {
  if (options_.wait_until) {
    options_.wait_until(deadline_ms);
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  const int64_t wait_ms = deadline_ms - Now();
  if (wait_ms <= 0) return;
  wake_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return stopping_; });
}

void Relay::Log(const DeliveryReport& report) {
  if (!options_.log) return;
  std::lock_guard<std::mutex> lock(log_mu_);
  options_.log(report);
}

absl::StatusOr<RelayStats> Relay::Run() {
  for (const WebhookEndpoint& e : config_.endpoints) {
    holders_.push_back(std::make_unique<Holder>(e));
  }
  for (auto& h : holders_) {
    Holder* holder = h.get();
    holder->thread = std::thread([this, holder] {
      // cpp-httplib writes with send(2) flags 0: a receiver that hangs up must fail the
      // attempt, not kill the process with SIGPIPE. Blocked here, the signal stays pending
      // on this thread and the write returns EPIPE.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      holder->status = RunHolder(*holder);
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++finished_;
      }
      wake_.notify_all();
    });
  }
  const int total = static_cast<int>(holders_.size());
  for (;;) {
    bool stop_requested = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(50), [&] { return finished_ == total; });
      if (finished_ == total) break;
      stop_requested =
          !stopping_ && options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed);
    }
    if (stop_requested) RequestStop();
  }
  RelayStats stats;
  absl::Status first_error;
  for (auto& h : holders_) {
    h->thread.join();
    stats.delivered += h->stats.delivered;
    stats.failed_attempts += h->stats.failed_attempts;
    stats.dead += h->stats.dead;
    stats.disabled_endpoints += h->stats.disabled_endpoints;
    if (first_error.ok() && !h->status.ok()) first_error = h->status;
  }
  if (!first_error.ok()) return first_error;
  return stats;
}

absl::Status Relay::RunHolder(Holder& holder) {
  absl::Status status = [&]() -> absl::Status {
    const WebhookEndpoint& endpoint = holder.endpoint;
    const std::string& name = endpoint.rights_holder;
    BONAFIDE_ASSIGN_OR_RETURN(std::unique_ptr<Outbox> outbox, open_outbox_());
    holder.SetTransport(options_.transport
                            ? options_.transport(endpoint)
                            : NewHttpTransport(endpoint.parsed_url, endpoint.retry.timeout_ms));
    std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    auto random01 = [&] { return options_.random01 ? options_.random01() : uniform(rng); };
    bool reported_waiting = false;
    while (!stopping()) {
      BONAFIDE_ASSIGN_OR_RETURN(bool disabled,
                                outbox->EndpointDisabled(name, endpoint.endpoint_digest));
      if (disabled) {
        if (!reported_waiting) {
          Log(DeliveryReport{
              .kind = DeliveryReport::Kind::kWaiting, .rights_holder = name, .at_ms = Now()});
          reported_waiting = true;
        }
        if (options_.once) return absl::OkStatus();
        WaitUntil(Now() + options_.poll_ms);
        continue;
      }
      BONAFIDE_ASSIGN_OR_RETURN(std::optional<PendingDelivery> next, outbox->NextDelivery(name));
      if (!next.has_value()) {
        if (options_.once) return absl::OkStatus();
        WaitUntil(Now() + options_.poll_ms);
        continue;
      }
      const int64_t start = Now();
      if (next->next_attempt_ms > start) {
        if (options_.once) return absl::OkStatus();
        WaitUntil(next->next_attempt_ms);
        continue;
      }
      const StoredEvent& event = next->event;
      const std::string body = WebhookBody(event);
      const int64_t timestamp = start / 1000;
      const HttpHeaders headers = {
          {"webhook-id", event.event_key},
          {"webhook-timestamp", std::to_string(timestamp)},
          {"webhook-signature", endpoint.key.Sign(event.event_key, timestamp, body)},
      };
      const HttpAnswer answer = holder.transport->Post(headers, body);
      const int64_t end = Now();
      // Cancelled by a stop request: no answer is not the receiver's failure, so it is not
      // counted; the next run sends the event again.
      if (answer.status == 0 && stopping()) return absl::OkStatus();
      DeliveryReport report{.rights_holder = name,
                            .event_key = event.event_key,
                            .attempt = next->attempts + 1,
                            .max_attempts = endpoint.retry.attempts,
                            .http_status = answer.status,
                            .error = answer.error,
                            .at_ms = end,
                            .elapsed_ms = end - start};
      DeliveryAttempt attempt{.event_id = event.id,
                              .http_status = answer.status,
                              .error = answer.status == 0 ? answer.error : ""};
      if (answer.status >= 200 && answer.status <= 299) {
        attempt.outcome = DeliveryAttempt::Outcome::kDelivered;
        report.kind = DeliveryReport::Kind::kDelivered;
        ++holder.stats.delivered;
      } else if (answer.status == 410) {
        BONAFIDE_RETURN_IF_ERROR(outbox->DisableEndpoint(
            name, endpoint.endpoint_digest,
            absl::StrCat("410 Gone answering event ", event.event_key, " at ", FormatTimeMs(end))));
        report.kind = DeliveryReport::Kind::kDisabled;
        ++holder.stats.disabled_endpoints;
        reported_waiting = true;  // this report says it
        Log(report);
        continue;
      } else if (report.attempt >= endpoint.retry.attempts) {
        attempt.outcome = DeliveryAttempt::Outcome::kDead;
        report.kind = DeliveryReport::Kind::kDead;
        ++holder.stats.failed_attempts;
        ++holder.stats.dead;
      } else {
        attempt.outcome = DeliveryAttempt::Outcome::kRetry;
        // A receiver that says when to come back (429, 503 with Retry-After) is not asked
        // sooner; the backoff still grows for one that asks for less.
        attempt.next_attempt_ms =
            end + std::max(RetryDelayMs(endpoint.retry, report.attempt, random01()),
                           answer.retry_after_ms);
        report.kind = DeliveryReport::Kind::kRetry;
        report.next_attempt_ms = attempt.next_attempt_ms;
        ++holder.stats.failed_attempts;
      }
      if (answer.status != 0 && attempt.outcome != DeliveryAttempt::Outcome::kDelivered) {
        attempt.error = absl::StrCat("http ", answer.status);
      }
      BONAFIDE_RETURN_IF_ERROR(outbox->RecordDeliveryAttempt(attempt));
      Log(report);
    }
    return absl::OkStatus();
  }();
  if (!status.ok()) {
    status = absl::Status(status.code(), absl::StrCat("relay ", holder.endpoint.rights_holder, ": ",
                                                      status.message()));
    RequestStop();  // the outbox is shared: the others would fail the same way
  }
  return status;
}

}  // namespace bonafide::engine
