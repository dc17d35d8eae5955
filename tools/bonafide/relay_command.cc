// bonafide relay --outbox FILE --config relay.yaml [--once]: delivers the outbox's events to
// the rights holders' webhooks (docs/relay.md).
#include <atomic>
#include <cstdio>
#include <optional>

#include "bonafide/outbox.h"
#include "engine/relay.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"

namespace bonafide::cli {
int RelayCommand(int argc, char** argv) {
  std::string outbox_path = "outbox.db";
  std::string config_path;
  bool once = false;
  int poll_ms = 1000;
  FlagSet flags(
      "bonafide relay", "--outbox FILE --config relay.yaml [--once]",
      "Delivers each rights holder's outbox events to its webhook, signed as Standard\n"
      "Webhooks describes, in order per rights holder, at least once, retrying failures\n"
      "with exponential backoff. Delivery state is kept in the outbox: a stopped or killed\n"
      "relay resumes where it stopped. One line per attempt goes to stderr (never a secret).\n"
      "Without --once it keeps polling for new events until SIGINT or SIGTERM, which\n"
      "cancel the requests in flight (sent again by the next run) and exit with 130.",
      "0    done: with --once, every queue is empty, dead, waiting for a retry or behind an\n"
      "     endpoint disabled by 410 Gone\n"
      "1    the outbox failed (nothing is lost: run it again)\n"
      "2    bad usage or a bad relay.yaml\n"
      "130  stopped by SIGINT or SIGTERM");
  flags.String("outbox", "outbox: an SQLite file or a postgresql:// URI", &outbox_path);
  flags.String("config", "relay.yaml: each rights holder's url and secret (required)",
               &config_path);
  flags.Bool("once", "deliver what is due, then exit instead of polling", &once);
  flags.Int("poll-ms", "how often an idle rights holder looks for new events", &poll_ms, 10,
            3600000);
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (config_path.empty()) return flags.UsageError("need --config relay.yaml");
  if (!positional.empty()) return flags.UsageError("unexpected argument \"" + positional[0] + "\"");

  absl::StatusOr<engine::RelayConfig> config = engine::LoadRelayConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "bonafide relay: %s\n", std::string(config.status().message()).c_str());
    return kExitUsage;
  }
  // Open once up front so that a missing or unreadable outbox is reported before any
  // thread starts; each rights holder then opens its own connection.
  if (absl::StatusOr<std::unique_ptr<Outbox>> probe = OpenOutbox(outbox_path); !probe.ok()) {
    std::fprintf(stderr, "bonafide relay: %s\n", std::string(probe.status().message()).c_str());
    return kExitFailure;
  }
  const std::atomic<bool>* stop = InstallStopHandler();
  engine::RelayOptions options;
  options.once = once;
  options.poll_ms = poll_ms;
  options.stop = stop;
  options.log = [](const engine::DeliveryReport& report) {
    const std::string line = engine::FormatDeliveryReport(report);
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
  engine::Relay relay(
      *std::move(config), [&outbox_path] { return OpenOutbox(outbox_path); }, std::move(options));
  absl::StatusOr<engine::RelayStats> stats = relay.Run();
  if (!stats.ok()) {
    std::fprintf(stderr, "bonafide relay: %s\n", std::string(stats.status().message()).c_str());
    return kExitFailure;
  }
  std::fprintf(stderr,
               "bonafide relay: %lld delivered, %lld failed attempts, %lld dead, %lld endpoints "
               "disabled\n",
               static_cast<long long>(stats->delivered),
               static_cast<long long>(stats->failed_attempts), static_cast<long long>(stats->dead),
               static_cast<long long>(stats->disabled_endpoints));
  return stop->load(std::memory_order_relaxed) ? kExitInterrupted : kExitOk;
}

}  // namespace bonafide::cli
