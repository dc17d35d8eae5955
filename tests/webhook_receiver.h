// A real webhook receiver on loopback for the relay's tests and benchmark: a cpp-httplib
// server on a free port of 127.0.0.1 that checks every request's Standard Webhooks
// signature and answers as the test scripts it.
//
//   testing::WebhookReceiver receiver({{"nike", *WebhookKey::Parse(kSecret)}});
//   receiver.set_behaviour([](const testing::Received& r) { return r.attempt == 1 ? 500 : 200; });
//   ... relay to receiver.Url("nike") ...
//   for (const testing::Received& r : receiver.received()) EXPECT_TRUE(r.signature_ok);
//
// The path names the rights holder ("/nike"). Thread-safe. Ignores SIGPIPE for the whole
// process (a stalled answer is written to a socket the relay already closed).
#ifndef BONAFIDE_TESTS_WEBHOOK_RECEIVER_H_
#define BONAFIDE_TESTS_WEBHOOK_RECEIVER_H_

#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/webhook_signature.h"

namespace bonafide::testing {

// One request as received.
struct Received {
  std::string rights_holder;  // from the path
  std::string id;             // webhook-id
  int64_t timestamp = 0;      // webhook-timestamp
  std::string body;
  bool signature_ok = false;  // webhook-signature matches the holder's key, the body names
                              // the id, and the timestamp is within 5 minutes of now
  int attempt = 0;            // 1 for the first request with this id, 2 for the next, ...
  int answered = 0;           // the status it was answered with
  std::chrono::steady_clock::time_point at;  // when it arrived
};

// What to answer: an HTTP status, or kStall to hang `stall_ms` before answering 200.
inline constexpr int kStall = -1;

class WebhookReceiver {
 public:
  explicit WebhookReceiver(std::map<std::string, engine::WebhookKey> keys)
      : keys_(std::move(keys)) {
    std::signal(SIGPIPE, SIG_IGN);
    // Without it, an answer's header and body writes meet delayed ACKs: 40 ms per request.
    server_.set_tcp_nodelay(true);
    server_.Post(R"(/([A-Za-z0-9_-]+))",
                 [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) {
      std::fprintf(stderr, "webhook receiver: cannot bind to 127.0.0.1\n");
      std::abort();
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // The socket listens from bind on; waiting for the accept loop makes stop() effective.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~WebhookReceiver() {
    server_.stop();
    thread_.join();
  }
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  std::string Url(const std::string& rights_holder) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + rights_holder;
  }
  // Decides each answer (default: 200). Called on the server's threads, one at a time.
  void set_behaviour(std::function<int(const Received&)> behaviour) {
    std::lock_guard<std::mutex> lock(mu_);
    behaviour_ = std::move(behaviour);
  }
  void set_stall_ms(int stall_ms) { stall_ms_ = stall_ms; }
  std::vector<Received> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  void Handle(const httplib::Request& req, httplib::Response& res) {
    Received r;
    r.rights_holder = req.matches[1];
    r.id = req.get_header_value("webhook-id");
    r.timestamp = std::atoll(req.get_header_value("webhook-timestamp").c_str());
    r.body = req.body;
    r.at = std::chrono::steady_clock::now();
    const std::string signature = req.get_header_value("webhook-signature");
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    int status = 200;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto key = keys_.find(r.rights_holder);
      r.signature_ok = key != keys_.end() && !r.id.empty() &&
                       signature == key->second.Sign(r.id, r.timestamp, r.body) &&
                       r.body.find("\"id\":\"" + r.id + "\"") != std::string::npos &&
                       req.get_header_value("content-type") == "application/json" &&
                       std::llabs(now - r.timestamp) <= 300;
      r.attempt = ++attempts_[r.id];
      if (behaviour_) status = behaviour_(r);
      r.answered = status == kStall ? 200 : status;
      received_.push_back(r);
    }
    if (status == kStall) {
      std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms_));
      status = 200;
    }
    res.status = status;
    res.set_content("{}", "application/json");
  }

  const std::map<std::string, engine::WebhookKey> keys_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> stall_ms_{2000};
  mutable std::mutex mu_;
  std::function<int(const Received&)> behaviour_;
  std::map<std::string, int> attempts_;
  std::vector<Received> received_;
};

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_WEBHOOK_RECEIVER_H_
