// The webhook relay behind `bonafide relay` (docs/relay.md): delivers each rights holder's
// outbox events to its webhook, signed as Standard Webhooks describes.
//
//   BONAFIDE_ASSIGN_OR_RETURN(RelayConfig config, LoadRelayConfig("relay.yaml"));
//   RelayOptions options;
//   options.once = true;
//   options.log = [](const DeliveryReport& r) { std::fputs(FormatDeliveryReport(r).c_str(),
//   stderr); }; Relay relay(std::move(config), [] { return OpenOutbox("outbox.db"); }, options);
//   absl::StatusOr<RelayStats> stats = relay.Run();
//
// Semantics. Every rights holder has its own thread, outbox connection and HTTP connection,
// so one holder's stalled endpoint never delays another's. Within a holder, events go out
// one at a time in outbox order: the next is sent only once the previous one is delivered
// or dead. A 2xx answer delivers; any other answer, no answer or a timeout is a failed
// attempt, retried after RetryDelayMs; the policy's `attempts`-th failure makes the event
// dead and the relay goes on with the next. 410 Gone disables the endpoint (by the digest
// of its URL) without counting an attempt: that holder's events wait until the
// configuration names another URL. Every state change is one outbox transaction before the
// next request, so a killed relay resumes where it stopped, delivering at most the
// in-flight event again (at least once).
#ifndef BONAFIDE_ENGINE_RELAY_H_
#define BONAFIDE_ENGINE_RELAY_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"

#include "bonafide/outbox.h"
#include "engine/relay_config.h"
#include "engine/webhook_http.h"

namespace bonafide::engine {

// Returns the POST body of `event`: {"id":event_key,"type":type,"timestamp":created_at,
// "data":payload}, compact, the payload as stored.
std::string WebhookBody(const StoredEvent& event);

// Returns the delay before the retry that follows failed attempt number `failed_attempts`
// (1 for the first failure): backoff_ms * 2^(failed_attempts - 1), capped at one day, and
// stretched by up to half of itself by `random01` in [0, 1) (jitter, so that holders that
// failed together do not retry together). REQUIRES: failed_attempts >= 1.
int64_t RetryDelayMs(const RetryPolicy& policy, int failed_attempts, double random01);

// What happened to one delivery attempt (or to an endpoint), for the log.
struct DeliveryReport {
  enum class Kind : uint8_t {
    kDelivered,  // a 2xx answer
    kRetry,      // a failed attempt, retried at next_attempt_ms
    kDead,       // the last allowed attempt failed
    kDisabled,   // 410 Gone: the endpoint is disabled now
    kWaiting,    // the endpoint was disabled before this run: nothing is sent to it
  } kind = Kind::kDelivered;
  std::string rights_holder;
  std::string event_key;  // empty for kWaiting
  int attempt = 0;        // 1-based number of this attempt
  int max_attempts = 0;
  int http_status = 0;  // 0: no answer
  std::string error;    // why there was no answer
  int64_t at_ms = 0;    // when the attempt ended (Unix ms)
  int64_t elapsed_ms = 0;
  int64_t next_attempt_ms = 0;  // kRetry
};

// Returns one log line (with its '\n') for `report`, e.g.
// "2026-12-05T10:00:01.250Z relay nike: event nike:ebay:1:1 attempt 2/8: http 500; retry at
// 2026-12-05T10:00:03.700Z (in 2.4 s)". Holds no secret, signature or URL.
std::string FormatDeliveryReport(const DeliveryReport& report);

struct RelayStats {
  int64_t delivered = 0;
  int64_t failed_attempts = 0;  // retried or dead
  int64_t dead = 0;
  int64_t disabled_endpoints = 0;  // disabled by a 410 in this run
};

// Opens an outbox connection; called once per rights holder, on its thread.
using OutboxOpener = std::function<absl::StatusOr<std::unique_ptr<Outbox>>()>;

struct RelayOptions {
  // Deliver what is due and return once every holder's queue is empty, dead, waiting for
  // a retry that is not due yet, or behind a disabled endpoint (false: keep polling).
  bool once = false;
  // How often an idle holder looks for new events, when not `once` (1000).
  int64_t poll_ms = 1000;
  // A stop request, or null. When it reads true (checked every 50 ms), requests in flight
  // are cancelled (not counted as attempts: the event is sent again by the next run) and
  // Run returns.
  const std::atomic<bool>* stop = nullptr;
  // Called for every attempt and endpoint change, one call at a time (Run serialises
  // them), from the holders' threads. May be empty.
  std::function<void(const DeliveryReport&)> log;

  // --- Seams for tests (empty: the real thing) -------------------------------------------
  // The time, in Unix ms.
  std::function<int64_t()> now_ms;
  // Blocks until now_ms() >= deadline_ms. A stop request cuts the real wait short; a test's
  // wait should return promptly.
  std::function<void(int64_t deadline_ms)> wait_until;
  // A uniform random number in [0, 1) for the jitter; called from the holders' threads.
  std::function<double()> random01;
  // The transport to one endpoint (default: NewHttpTransport).
  std::function<std::unique_ptr<WebhookTransport>(const WebhookEndpoint&)> transport;
};

// Thread-compatible; Run is called once. Not copyable (it owns threads while running).
// IMPORTANT: keeps the config (with its secrets) for its lifetime and never prints it.
class Relay {
 public:
  Relay(RelayConfig config, OutboxOpener open_outbox, RelayOptions options);
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;
  ~Relay();

  // Delivers until `once` finds nothing due, or a stop request. Returns what was done, or
  // the first outbox error (any holder's; it stops every holder, and nothing is lost: the
  // next run resumes from the outbox). Blocks SIGPIPE in the threads it starts.
  absl::StatusOr<RelayStats> Run();

 private:
  class Holder;
  // Runs one holder's loop on its own thread.
  absl::Status RunHolder(Holder& holder);
  bool stopping() const;
  void RequestStop();
  int64_t Now() const;
  // Waits until `deadline_ms` or a stop request.
  void WaitUntil(int64_t deadline_ms);
  void Log(const DeliveryReport& report);

  const RelayConfig config_;
  const OutboxOpener open_outbox_;
  const RelayOptions options_;
  std::vector<std::unique_ptr<Holder>> holders_;
  mutable std::mutex mu_;
  std::condition_variable wake_;  // signalled on a stop request and when a holder finishes
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int finished_ ABSL_GUARDED_BY(mu_) = 0;  // holders whose loop returned
  std::mutex log_mu_;                      // one log call at a time
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_RELAY_H_
