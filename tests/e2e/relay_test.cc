// bonafide relay end to end: the SQLite outbox, real HTTP to a receiver on loopback that
// checks every signature and fails, stalls and answers 410, and the `bonafide relay` binary
// killed with SIGKILL and restarted (docs/relay.md).
#include "engine/relay.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bonafide/outbox.h"
#include "tests/outbox_test_util.h"
#include "tests/raw_outbox.h"
#include "tests/temp_dir.h"
#include "tests/tools/cli_runner.h"
#include "tests/webhook_receiver.h"

namespace bonafide {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

engine::WebhookKey Key() { return *engine::WebhookKey::Parse(kSecret); }

// Opens `count` cases of each holder in `holders` through the outbox API; returns each
// holder's event keys in delivery order.
std::map<std::string, std::vector<std::string>> OpenCases(const std::string& outbox_path,
                                                          const std::vector<std::string>& holders,
                                                          int count) {
  auto outbox = OpenOutbox(outbox_path);
  EXPECT_TRUE(outbox.ok()) << outbox.status();
  // One batch: listing i of the marketplace holds a case for every holder (a listing
  // scanned without a holder's case would close that holder's case).
  std::vector<CaseRecord> cases;
  // Reserved: the listings' views point into the cases' strings.
  cases.reserve(static_cast<size_t>(count) * holders.size());
  std::vector<ScannedListing> listings;
  for (int i = 0; i < count; ++i) {
    const uint32_t begin = static_cast<uint32_t>(cases.size());
    for (const std::string& h : holders) {
      CaseRecord c;
      c.rights_holder = h;
      c.marketplace = "ebay";
      c.listing_id = "L" + std::to_string(i);
      c.seller_id = "s" + std::to_string(i);
      c.score = 0.9;
      c.reasons_json = R"([{"signal":"price"}])";
      c.evidence_json = R"({"title":"Air Max \"90\""})";
      c.signals = "price";
      c.material_key = "m" + std::to_string(i);
      cases.push_back(std::move(c));
    }
    listings.push_back(ScannedListing{.marketplace = "ebay",
                                      .listing_id = cases[begin].listing_id,
                                      .key_hash = ListingKeyHash("ebay", cases[begin].listing_id),
                                      .cases_begin = begin,
                                      .cases_end = static_cast<uint32_t>(cases.size())});
  }
  OutboxBatch batch;  // an empty run: published in this Write
  batch.listings = listings;
  batch.cases = cases;
  auto stats = (*outbox)->Write(batch);
  EXPECT_TRUE(stats.ok()) << stats.status();
  std::map<std::string, std::vector<std::string>> keys;
  auto events = (*outbox)->ListEvents(std::nullopt);
  EXPECT_TRUE(events.ok()) << events.status();
  for (const StoredEvent& e : *events) keys[e.rights_holder].push_back(e.event_key);
  for (const std::string& h : holders) EXPECT_EQ(keys[h].size(), static_cast<size_t>(count)) << h;
  return keys;
}

// The delivery state of every event of `holder` in the outbox, by event id: "delivered",
// "dead", "retrying" or "" (never attempted).
std::vector<std::pair<std::string, int>> DeliveryStates(const std::string& outbox_path,
                                                        const std::string& holder) {
  std::vector<std::pair<std::string, int>> states;
  for (const auto& row :
       testing::RawOutboxQuery(outbox_path,
                               "SELECT coalesce(d.state, ''), coalesce(d.attempts, 0) FROM events e"
                               " LEFT JOIN deliveries d ON d.event_id = e.id"
                               " WHERE e.rights_holder = '" +
                                   holder + "' ORDER BY e.id")) {
    states.emplace_back(row[0], std::stoi(row[1]));
  }
  return states;
}

// The ids `holder` received, in arrival order, and that order with repeats of the same id
// in a row collapsed (a retry, or the event in flight when a relay was killed).
std::vector<std::string> Arrivals(const std::vector<testing::Received>& received,
                                  const std::string& holder, bool collapse) {
  std::vector<std::string> ids;
  for (const testing::Received& r : received) {
    if (r.rights_holder != holder) continue;
    if (collapse && !ids.empty() && ids.back() == r.id) continue;
    ids.push_back(r.id);
  }
  return ids;
}

std::string RelayYaml(const testing::WebhookReceiver& receiver,
                      const std::vector<std::string>& holders, const std::string& extra) {
  std::string yaml = "backoff_s: 0.02\ntimeout_s: 0.5\nrights_holders:\n";
  for (const std::string& h : holders) {
    yaml += "  " + h + ":\n    url: " + receiver.Url(h) + "\n    secret: " + kSecret + "\n";
    if (h == "dud") yaml += "    attempts: 2\n";
  }
  return yaml + extra;
}

TEST(RelayE2eTest, DeliversOverHttpThroughFailuresStallsAndGone) {
  testing::TempDir dir;
  const std::string outbox_path = testing::TestOutboxLocation(dir);
  const std::vector<std::string> holders = {"acme", "brandy", "dud", "gone"};
  auto keys = OpenCases(outbox_path, holders, 4);
  testing::WebhookReceiver receiver(
      {{"acme", Key()}, {"brandy", Key()}, {"dud", Key()}, {"gone", Key()}});
  receiver.set_stall_ms(1500);  // past timeout_s 0.5
  const std::string acme_retried = keys["acme"][1], brandy_stalled = keys["brandy"][0];
  receiver.set_behaviour([&](const testing::Received& r) {
    if (r.rights_holder == "gone") return 410;
    if (r.rights_holder == "dud") return 503;
    if (r.id == acme_retried && r.attempt <= 2) return 500;
    if (r.id == brandy_stalled && r.attempt == 1) return testing::kStall;
    return 200;
  });
  absl::StatusOr<engine::RelayConfig> config =
      engine::ParseRelayConfig(RelayYaml(receiver, holders, ""), "relay.yaml");
  ASSERT_TRUE(config.ok()) << config.status();

  std::atomic<bool> stop{false};
  std::vector<std::string> log;
  engine::RelayOptions options;
  options.poll_ms = 20;
  options.stop = &stop;
  options.log = [&log](const engine::DeliveryReport& r) {
    log.push_back(engine::FormatDeliveryReport(r));
  };
  engine::Relay relay(
      *std::move(config), [&] { return OpenOutbox(outbox_path); }, options);
  // Stops the relay once every queue is settled (delivered, dead or behind the 410).
  std::thread watcher([&] {
    auto outbox = OpenOutbox(outbox_path, OutboxAccess::kReadOnly);
    ASSERT_TRUE(outbox.ok());
    for (int i = 0; i < 1000 && !stop; ++i) {
      bool settled = true;
      for (const char* h : {"acme", "brandy", "dud"}) {
        settled = settled && !(*outbox)->NextDelivery(h).value().has_value();
      }
      settled = settled && receiver.received().size() >= 14;
      if (settled) stop = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop = true;
  });
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<engine::RelayStats> stats = relay.Run();
  watcher.join();
  ASSERT_TRUE(stats.ok()) << stats.status();

  const std::vector<testing::Received> received = receiver.received();
  for (const testing::Received& r : received) EXPECT_TRUE(r.signature_ok) << r.id << " " << r.body;
  // In order per holder, each event once except the retried ones.
  EXPECT_THAT(Arrivals(received, "acme", true), ElementsAreArray(keys["acme"]));
  EXPECT_EQ(Arrivals(received, "acme", false).size(), 6u);  // one event 3 times
  EXPECT_THAT(Arrivals(received, "brandy", true), ElementsAreArray(keys["brandy"]));
  EXPECT_EQ(Arrivals(received, "brandy", false).size(), 5u);  // the stalled one twice
  EXPECT_EQ(Arrivals(received, "dud", false).size(), 8u);     // 2 attempts each
  EXPECT_EQ(Arrivals(received, "gone", false).size(), 1u);    // then disabled
  // Brandy's stalled request did not hold acme back: acme was done before it timed out.
  std::chrono::steady_clock::time_point acme_done, brandy_stall;
  for (const testing::Received& r : received) {
    if (r.rights_holder == "acme") acme_done = r.at;
    if (r.id == brandy_stalled && r.attempt == 1) brandy_stall = r.at;
  }
  EXPECT_LT(acme_done, brandy_stall + std::chrono::milliseconds(500));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));

  // The outbox holds the outcome.
  using State = std::pair<std::string, int>;
  EXPECT_THAT(DeliveryStates(outbox_path, "acme"),
              ElementsAreArray(std::vector<State>{
                  {"delivered", 1}, {"delivered", 3}, {"delivered", 1}, {"delivered", 1}}));
  EXPECT_THAT(DeliveryStates(outbox_path, "brandy"),
              ElementsAreArray(std::vector<State>{
                  {"delivered", 2}, {"delivered", 1}, {"delivered", 1}, {"delivered", 1}}));
  EXPECT_THAT(
      DeliveryStates(outbox_path, "dud"),
      ElementsAreArray(std::vector<State>{{"dead", 2}, {"dead", 2}, {"dead", 2}, {"dead", 2}}));
  EXPECT_THAT(DeliveryStates(outbox_path, "gone"),
              ElementsAreArray(std::vector<State>(4, {"", 0})));  // waiting, none lost
  EXPECT_EQ(stats->delivered, 8);
  EXPECT_EQ(stats->dead, 4);
  EXPECT_EQ(stats->disabled_endpoints, 1);
  for (const std::string& line : log) {
    EXPECT_THAT(line, Not(HasSubstr("MfKQ9r8G")));
    EXPECT_THAT(line, Not(HasSubstr("127.0.0.1")));
    EXPECT_THAT(line, Not(HasSubstr("v1,")));
  }
}

// Starts `bonafide relay` with stderr to `err`; returns its pid.
pid_t StartRelay(const std::vector<std::string>& args, const std::string& err) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(err.c_str(), "a", stderr);
    if (f == nullptr) _exit(127);
    std::vector<char*> argv;
    static const std::string relay = "relay";
    argv.push_back(const_cast<char*>(testing::kCli.c_str()));
    argv.push_back(const_cast<char*>(relay.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(testing::kCli.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int WaitFor(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(RelayE2eTest, KilledRelayResumesAndEveryEventArrivesInOrder) {
  testing::TempDir dir;
  const std::string outbox_path = testing::TestOutboxLocation(dir);
  const std::vector<std::string> holders = {"acme", "brandy", "cobalt"};
  const int kEvents = 40;
  auto keys = OpenCases(outbox_path, holders, kEvents);
  testing::WebhookReceiver receiver({{"acme", Key()}, {"brandy", Key()}, {"cobalt", Key()}});
  // Slow enough that a kill lands mid-run (and sometimes mid-request); one first attempt
  // in seven fails.
  receiver.set_stall_ms(0);
  receiver.set_behaviour([](const testing::Received& r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(4));
    return r.attempt == 1 && std::hash<std::string>()(r.id) % 7 == 0 ? 500 : 200;
  });
  const std::string config = dir.Write("relay.yaml", RelayYaml(receiver, holders, ""));
  const std::string err = dir.Join("relay.err");
  const std::vector<std::string> args = {"--outbox", outbox_path, "--config",
                                         config,     "--poll-ms", "20"};
  const size_t total = holders.size() * kEvents;
  // Two runs killed with SIGKILL part way through.
  for (size_t kill_after : {total / 4, total / 2}) {
    const pid_t pid = StartRelay(args, err);
    while (receiver.received().size() < kill_after) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    kill(pid, SIGKILL);
    EXPECT_EQ(WaitFor(pid), 128 + SIGKILL);
  }
  ASSERT_LT(receiver.received().size(), total);
  // A last run finishes the queues; SIGTERM then stops it gracefully.
  const pid_t pid = StartRelay(args, err);
  auto outbox = OpenOutbox(outbox_path, OutboxAccess::kReadOnly);
  ASSERT_TRUE(outbox.ok());
  for (int i = 0; i < 1500; ++i) {
    bool settled = true;
    for (const std::string& h : holders) {
      settled = settled && !(*outbox)->NextDelivery(h).value().has_value();
    }
    if (settled) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGTERM);
  EXPECT_EQ(WaitFor(pid), 130);

  const std::vector<testing::Received> received = receiver.received();
  for (const testing::Received& r : received) EXPECT_TRUE(r.signature_ok) << r.id;
  for (const std::string& h : holders) {
    // Every event arrived, in order, none skipped; an id repeats only right after itself
    // (a retry, or the request in flight when the relay was killed).
    EXPECT_THAT(Arrivals(received, h, true), ElementsAreArray(keys[h])) << h;
    for (const auto& [state, attempts] : DeliveryStates(outbox_path, h)) {
      EXPECT_EQ(state, "delivered") << h;
    }
  }
  const std::string log = testing::ReadFileOrDie(err);
  EXPECT_THAT(log, HasSubstr("delivered (http 200"));
  EXPECT_THAT(log, HasSubstr("http 500; retry at"));
  EXPECT_THAT(log, Not(HasSubstr("MfKQ9r8G")));
}

TEST(RelayCliTest, BadConfigIsAUsageErrorThatKeepsTheSecret) {
  testing::TempDir dir;
  const std::string config = dir.Write("relay.yaml",
                                       "rights_holders:\n  nike:\n    url: http://127.0.0.1:9/\n"
                                       "    secret: whsec_YS1zaG9ydC1zZWNyZXQtMjJieXRlcw==\n");
  testing::CliRun r = testing::RunCli("relay --outbox " + testing::ShellQuote(dir.Join("o.db")) +
                                      " --config " + testing::ShellQuote(config));
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_THAT(r.err, HasSubstr("relay.yaml:4:13: rights_holders.nike.secret: secret decodes to 22 "
                               "bytes"));
  EXPECT_THAT(r.err, Not(HasSubstr("YS1zaG9ydC1zZWNyZXQ")));
  EXPECT_EQ(testing::RunCli("relay --outbox x.db").exit_status, 2);
}

TEST(RelayCliTest, OnceOnAnEmptyOutboxExitsAtOnce) {
  testing::TempDir dir;
  const std::string config =
      dir.Write("relay.yaml", std::string("rights_holders:\n  nike:\n    url: http://127.0.0.1:9/\n"
                                          "    secret: ") +
                                  kSecret + "\n");
  testing::CliRun r = testing::RunCli(
      "relay --once --outbox " + testing::ShellQuote(testing::TestOutboxLocation(dir, "o.db")) +
      " --config " + testing::ShellQuote(config));
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("0 delivered, 0 failed attempts, 0 dead"));
}

}  // namespace
}  // namespace bonafide
