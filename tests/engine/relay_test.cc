// The delivery loop against an in-memory outbox, a scripted transport and a fake clock:
// retries and their schedule, dead events, 410, order per rights holder, --once, stop.
// (tests/e2e/relay_test.cc runs it over real HTTP and the SQLite outbox.)
#include "engine/relay.h"

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/engine/fake_outbox.h"

namespace bonafide::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr int64_t kStartMs = 1764928800000;  // 2025-12-05T10:00:00Z

WebhookEndpoint Endpoint(const std::string& holder, int attempts = 8, int64_t backoff_ms = 1000,
                         const std::string& url = "") {
  const std::string u = url.empty() ? "http://127.0.0.1:9/" + holder : url;
  RelayConfig config = *ParseRelayConfig(
      "rights_holders:\n  " + holder + ":\n    url: " + u + "\n    secret: " + kSecret +
          "\n    attempts: " + std::to_string(attempts) +
          "\n    backoff_s: " + std::to_string(backoff_ms / 1000.0) + "\n",
      "relay.yaml");
  return config.endpoints[0];
}

// One POST as the scripted transport saw it.
struct Post {
  std::string holder, id;
  int64_t at_ms;
  bool signature_ok;
};

// Scripts the answers of every holder's endpoint and keeps what was posted. Thread-safe.
class Script {
 public:
  // answer(holder, id, attempt) -> status (0: no answer).
  explicit Script(std::function<int(const std::string&, const std::string&, int)> answer)
      : answer_(std::move(answer)) {}

  std::unique_ptr<WebhookTransport> Transport(const WebhookEndpoint& e,
                                              std::function<int64_t()> now) {
    return std::make_unique<Transport_>(this, e, std::move(now));
  }
  std::vector<Post> posts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return posts_;
  }

 private:
  class Transport_ final : public WebhookTransport {
   public:
    Transport_(Script* script, const WebhookEndpoint& e, std::function<int64_t()> now)
        : script_(script), endpoint_(e), now_(std::move(now)) {}
    HttpAnswer Post(const HttpHeaders& headers, std::string_view body) override {
      std::map<std::string, std::string> h(headers.begin(), headers.end());
      const std::string& id = h["webhook-id"];
      const int64_t ts = std::stoll(h["webhook-timestamp"]);
      const bool ok =
          h["webhook-signature"] == endpoint_.key.Sign(id, ts, body) && ts == now_() / 1000;
      std::lock_guard<std::mutex> lock(script_->mu_);
      const int attempt = ++script_->attempts_[id];
      script_->posts_.push_back({endpoint_.rights_holder, id, now_(), ok});
      const int status = script_->answer_(endpoint_.rights_holder, id, attempt);
      HttpAnswer answer{status, status == 0 ? "timeout" : ""};
      if (status < 200 || status > 299) answer.retry_after_ms = script_->retry_after_ms;
      return answer;
    }
    void Cancel() override {}

   private:
    Script* script_;
    const WebhookEndpoint endpoint_;
    std::function<int64_t()> now_;
  };

  std::function<int(const std::string&, const std::string&, int)> answer_;

 public:
  // The Retry-After every failed answer carries (0 = none).
  int64_t retry_after_ms = 0;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> attempts_;
  std::vector<Post> posts_;
};

// Runs the relay over `store` with a fake clock that jumps to every deadline, until
// `settled` events are delivered or dead (or, with `once`, until Run returns).
struct Harness {
  testing::FakeOutboxStore store;
  std::atomic<int64_t> now{kStartMs};
  std::atomic<bool> stop{false};
  std::vector<std::string> log;
  std::mutex log_mu;

  absl::StatusOr<RelayStats> Run(std::vector<WebhookEndpoint> endpoints, Script& script, bool once,
                                 int settled) {
    RelayOptions options;
    options.once = once;
    options.stop = &stop;
    options.now_ms = [this] { return now.load(); };
    options.wait_until = [this, settled](int64_t deadline) {
      int64_t current = now.load();
      while (current < deadline && !now.compare_exchange_weak(current, deadline)) {
      }
      if (store.Settled() >= settled) stop = true;
      std::this_thread::yield();
    };
    options.random01 = [] { return 0.0; };
    options.transport = [this, &script](const WebhookEndpoint& e) {
      return script.Transport(e, [this] { return now.load(); });
    };
    options.log = [this](const DeliveryReport& r) {
      std::lock_guard<std::mutex> lock(log_mu);
      log.push_back(FormatDeliveryReport(r));
    };
    Relay relay(
        RelayConfig{std::move(endpoints)}, [this] { return store.Open(); }, std::move(options));
    return relay.Run();
  }
};

TEST(RetryDelayTest, DoublesFromTheFirstDelayWithUpToHalfOfJitter) {
  const RetryPolicy policy{.attempts = 8, .timeout_ms = 10000, .backoff_ms = 1000};
  std::vector<int64_t> delays;
  for (int n = 1; n <= 6; ++n) delays.push_back(RetryDelayMs(policy, n, 0.0));
  EXPECT_THAT(delays, ElementsAre(1000, 2000, 4000, 8000, 16000, 32000));
  EXPECT_EQ(RetryDelayMs(policy, 3, 0.5), 5000);
  EXPECT_EQ(RetryDelayMs(policy, 3, 0.999999), 5999);
  EXPECT_EQ(RetryDelayMs(policy, 60, 0.0), 24 * 3600 * 1000LL);  // capped, no overflow
  EXPECT_EQ(RetryDelayMs(RetryPolicy{.backoff_ms = 0}, 5, 0.7), 0);
}

TEST(WebhookBodyTest, IsTheStandardWebhooksEnvelope) {
  StoredEvent e;
  e.event_key = "nike:ebay:1:2";
  e.type = "case.updated";
  e.created_at = "2026-12-05T10:00:00.000Z";
  e.payload_json = R"({"case_key":"nike:ebay:1","revision":2})";
  EXPECT_EQ(WebhookBody(e),
            R"({"id":"nike:ebay:1:2","type":"case.updated","timestamp":"2026-12-05T10:00:00.000Z",)"
            R"("data":{"case_key":"nike:ebay:1","revision":2}})");
}

TEST(DeliveryReportTest, SaysWhatHappenedWithoutSecrets) {
  DeliveryReport r{.kind = DeliveryReport::Kind::kRetry,
                   .rights_holder = "nike",
                   .event_key = "nike:ebay:1:1",
                   .attempt = 2,
                   .max_attempts = 8,
                   .http_status = 500,
                   .at_ms = kStartMs + 250,
                   .elapsed_ms = 12,
                   .next_attempt_ms = kStartMs + 2650};
  EXPECT_EQ(FormatDeliveryReport(r),
            "2025-12-05T10:00:00.250Z relay nike: event nike:ebay:1:1 attempt 2/8: http 500; "
            "retry at 2025-12-05T10:00:02.650Z (in 2.4 s)\n");
  r.kind = DeliveryReport::Kind::kDead;
  r.http_status = 0;
  r.error = "timeout while connecting";
  EXPECT_THAT(FormatDeliveryReport(r), HasSubstr("attempt 2/8: timeout while connecting; dead"));
  r.kind = DeliveryReport::Kind::kDelivered;
  r.http_status = 204;
  EXPECT_THAT(FormatDeliveryReport(r), HasSubstr("delivered (http 204, 12 ms)"));
}

TEST(RelayTest, RetriesOnTheBackoffScheduleThenDelivers) {
  Harness h;
  h.store.AddEvent("nike");
  Script script(
      [](const std::string&, const std::string&, int attempt) { return attempt <= 3 ? 500 : 200; });
  absl::StatusOr<RelayStats> stats = h.Run({Endpoint("nike")}, script, /*once=*/false, 1);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->delivered, 1);
  EXPECT_EQ(stats->failed_attempts, 3);
  const std::vector<Post> posts = script.posts();
  ASSERT_EQ(posts.size(), 4u);
  // Retries 1 s, 2 s and 4 s after each failure (jitter 0).
  EXPECT_EQ(posts[1].at_ms - posts[0].at_ms, 1000);
  EXPECT_EQ(posts[2].at_ms - posts[1].at_ms, 2000);
  EXPECT_EQ(posts[3].at_ms - posts[2].at_ms, 4000);
  for (const Post& p : posts) EXPECT_TRUE(p.signature_ok);
  const auto d = h.store.Snapshot()[0];
  EXPECT_EQ(d.state, "delivered");
  ASSERT_EQ(d.history.size(), 4u);
  EXPECT_EQ(d.history[0].http_status, 500);
  EXPECT_EQ(d.history[0].error, "http 500");
  EXPECT_EQ(d.history[0].next_attempt_ms, posts[1].at_ms);
  EXPECT_EQ(d.history[3].outcome, DeliveryAttempt::Outcome::kDelivered);
}

// A receiver's Retry-After (429, 503) is respected when it asks for longer than the
// backoff; the backoff schedule goes on underneath.
TEST(RelayTest, RetryAfterPostponesTheNextAttempt) {
  Harness h;
  h.store.AddEvent("nike");
  Script script(
      [](const std::string&, const std::string&, int attempt) { return attempt <= 2 ? 429 : 200; });
  script.retry_after_ms = 1500;
  absl::StatusOr<RelayStats> stats = h.Run({Endpoint("nike")}, script, /*once=*/false, 1);
  ASSERT_TRUE(stats.ok()) << stats.status();
  const std::vector<Post> posts = script.posts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts[1].at_ms - posts[0].at_ms, 1500);  // asked for more than the 1 s backoff
  EXPECT_EQ(posts[2].at_ms - posts[1].at_ms, 2000);  // asked for less than the 2 s backoff
}

TEST(RetryAfterTest, ReadsSecondsAndHttpDatesUpToADay) {
  const int64_t now = 1'790'000'000'000;  // 2026-09-21T14:13:20Z
  EXPECT_EQ(RetryAfterMs("120", now), 120'000);
  EXPECT_EQ(RetryAfterMs(" 7 ", now), 7'000);
  EXPECT_EQ(RetryAfterMs("0", now), 0);
  EXPECT_EQ(RetryAfterMs("-5", now), 0);
  EXPECT_EQ(RetryAfterMs("999999999", now), 86'400'000);
  EXPECT_EQ(RetryAfterMs("Mon, 21 Sep 2026 14:15:00 GMT", now), 100'000);
  EXPECT_EQ(RetryAfterMs("Mon, 21 Sep 2026 14:00:00 GMT", now), 0);  // in the past
  EXPECT_EQ(RetryAfterMs("soon", now), 0);
  EXPECT_EQ(RetryAfterMs("", now), 0);
}

TEST(RelayTest, DeadAfterTheAttemptsThenGoesOnInOrder) {
  Harness h;
  h.store.AddEvent("nike");  // 1: never acknowledged
  h.store.AddEvent("nike");  // 2
  h.store.AddEvent("nike");  // 3
  Script script([](const std::string&, const std::string& id, int) {
    return id == "nike:case1:1" ? 0 : 200;
  });
  absl::StatusOr<RelayStats> stats = h.Run({Endpoint("nike", /*attempts=*/3)}, script, false, 3);
  ASSERT_TRUE(stats.ok()) << stats.status();
  std::vector<std::string> ids;
  for (const Post& p : script.posts()) ids.push_back(p.id);
  EXPECT_THAT(ids, ElementsAre("nike:case1:1", "nike:case1:1", "nike:case1:1", "nike:case2:1",
                               "nike:case3:1"));
  const auto deliveries = h.store.Snapshot();
  EXPECT_EQ(deliveries[0].state, "dead");
  EXPECT_EQ(deliveries[0].attempts, 3);
  EXPECT_EQ(deliveries[0].history.back().error, "timeout");
  EXPECT_EQ(deliveries[1].state, "delivered");
  EXPECT_EQ(deliveries[2].state, "delivered");
  EXPECT_EQ(stats->dead, 1);
  EXPECT_THAT(h.log[2], HasSubstr("attempt 3/3: timeout; dead after 3 attempts"));
}

TEST(RelayTest, GoneDisablesTheEndpointAndEventsWaitForANewUrl) {
  Harness h;
  h.store.AddEvent("nike");
  h.store.AddEvent("nike");
  h.store.AddEvent("acme");
  Script gone([](const std::string& holder, const std::string&, int) {
    return holder == "nike" ? 410 : 200;
  });
  absl::StatusOr<RelayStats> stats =
      h.Run({Endpoint("acme"), Endpoint("nike")}, gone, /*once=*/true, 0);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->disabled_endpoints, 1);
  EXPECT_EQ(stats->delivered, 1);  // acme's
  auto deliveries = h.store.Snapshot();
  EXPECT_EQ(deliveries[0].state, "pending");
  EXPECT_TRUE(deliveries[0].history.empty());  // a 410 is not a failed attempt
  EXPECT_EQ(deliveries[1].state, "pending");
  EXPECT_EQ(deliveries[2].state, "delivered");
  EXPECT_THAT(h.store.disabled_reason["nike"], HasSubstr("410 Gone answering event nike:case1:1"));

  // The same URL on the next run: nothing is sent to it.
  Script never([](const std::string&, const std::string&, int) { return 200; });
  ASSERT_TRUE(h.Run({Endpoint("nike")}, never, true, 0).ok());
  EXPECT_TRUE(never.posts().empty());
  EXPECT_THAT(h.log.back(), HasSubstr("relay nike: endpoint disabled by an earlier 410 Gone"));

  // A new URL is a new endpoint: the waiting events go out, in order.
  ASSERT_TRUE(h.Run({Endpoint("nike", 8, 1000, "http://127.0.0.1:9/v2")}, never, true, 0).ok());
  ASSERT_EQ(never.posts().size(), 2u);
  EXPECT_EQ(never.posts()[0].id, "nike:case1:1");
  EXPECT_EQ(never.posts()[1].id, "nike:case2:1");
}

TEST(RelayTest, OnceStopsAtARetryThatIsNotDue) {
  Harness h;
  h.store.AddEvent("nike");
  h.store.AddEvent("nike");
  Script script([](const std::string&, const std::string&, int) { return 503; });
  absl::StatusOr<RelayStats> stats = h.Run({Endpoint("nike")}, script, /*once=*/true, 0);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(script.posts().size(), 1u);  // event 2 waits behind event 1's retry
  auto deliveries = h.store.Snapshot();
  EXPECT_EQ(deliveries[0].attempts, 1);
  EXPECT_EQ(deliveries[0].next_attempt_ms, kStartMs + 1000);
  EXPECT_EQ(deliveries[1].attempts, 0);
  // Once it is due, the next --once run retries it.
  h.now = kStartMs + 1000;
  ASSERT_TRUE(h.Run({Endpoint("nike")}, script, true, 0).ok());
  EXPECT_EQ(script.posts().size(), 2u);
  EXPECT_EQ(h.store.Snapshot()[0].attempts, 2);
}

TEST(RelayTest, OneHoldersFailuresDoNotHoldAnothersEvents) {
  Harness h;
  for (int i = 0; i < 3; ++i) h.store.AddEvent("slow");
  for (int i = 0; i < 3; ++i) h.store.AddEvent("fast");
  Script script([](const std::string& holder, const std::string&, int) {
    return holder == "slow" ? 500 : 200;
  });
  absl::StatusOr<RelayStats> stats =
      h.Run({Endpoint("fast"), Endpoint("slow", 2)}, script, /*once=*/false, 6);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->delivered, 3);
  EXPECT_EQ(stats->dead, 3);
}

TEST(RelayTest, StopCancelsTheRequestInFlightWithoutCountingIt) {
  testing::FakeOutboxStore store;
  store.AddEvent("nike");
  std::atomic<bool> stop{false};
  // A transport that blocks until cancelled, like a receiver that never answers.
  class Blocking final : public WebhookTransport {
   public:
    explicit Blocking(std::atomic<bool>* stop) : stop_(stop) {}
    HttpAnswer Post(const HttpHeaders&, std::string_view) override {
      stop_->store(true);  // ask to stop while this request is in flight
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return cancelled_; });
      return HttpAnswer{0, "cancelled"};
    }
    void Cancel() override {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
      cv_.notify_all();
    }

   private:
    std::atomic<bool>* stop_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool cancelled_ = false;
  };
  RelayOptions options;
  options.stop = &stop;
  options.transport = [&stop](const WebhookEndpoint&) { return std::make_unique<Blocking>(&stop); };
  Relay relay(
      RelayConfig{{Endpoint("nike")}}, [&store] { return store.Open(); }, options);
  absl::StatusOr<RelayStats> stats = relay.Run();
  ASSERT_TRUE(stats.ok()) << stats.status();
  const auto d = store.Snapshot()[0];
  EXPECT_EQ(d.state, "pending");
  EXPECT_EQ(d.attempts, 0);
  EXPECT_TRUE(d.history.empty());
}

TEST(RelayTest, AnOutboxErrorStopsTheRelayAndNamesTheHolder) {
  RelayOptions options;
  options.once = true;
  Relay relay(
      RelayConfig{{Endpoint("nike")}},
      [] {
        return absl::StatusOr<std::unique_ptr<Outbox>>(absl::UnavailableError("outbox.db: locked"));
      },
      options);
  absl::StatusOr<RelayStats> stats = relay.Run();
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(stats.status().message(), HasSubstr("relay nike: outbox.db: locked"));
  EXPECT_THAT(stats.status().message(), Not(HasSubstr("whsec")));
}

}  // namespace
}  // namespace bonafide::engine
