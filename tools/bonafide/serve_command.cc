// bonafide serve --outbox OUTBOX [--listen HOST:PORT] [--image-root DIR] [--rules DIR]: the
// rights holders' portal, an HTTP API and web page on the outbox (docs/portal.md).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "engine/portal_api.h"
#include "engine/portal_server.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"
#include "tools/bonafide/portal_assets.h"
#include "util/strings.h"

namespace bonafide::cli {
namespace {

// Splits "HOST:PORT" ("[::1]:PORT" for IPv6); nullopt when malformed.
std::optional<std::pair<std::string, int>> ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  if (!absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return std::nullopt;
  }
  return std::make_pair(host, port);
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

}  // namespace

int ServeCommand(int argc, char** argv) {
  std::string outbox_path;
  std::string listen = "127.0.0.1:8080";
  std::string image_root;
  std::string rules_dir;
  int threads = 8;
  FlagSet flags(
      "bonafide serve", "--outbox OUTBOX [--listen HOST:PORT] [--image-root DIR] [--rules DIR]",
      "Serves the rights holders' portal: a JSON API under /api/v1/ and a web page at /,\n"
      "each rights holder seeing and answering only its own cases (tokens: `bonafide\n"
      "token create`). Prints `listening on http://HOST:PORT` once it accepts\n"
      "connections, one access line per request on stderr (never a token), and stops\n"
      "on SIGINT or SIGTERM after answering the requests in flight.",
      "0  stopped by SIGINT or SIGTERM\n"
      "1  the outbox could not be opened, or the address could not be bound\n"
      "2  bad usage");
  flags.String("outbox", "outbox (an SQLite file that exists, or a postgresql:// URI; required)",
               &outbox_path);
  flags.String("listen",
               "address and port; port 0 picks a free one. Anything but loopback should sit "
               "behind a TLS proxy",
               &listen);
  flags.String("image-root", "the scan's --images directory: listing photos are served from it",
               &image_root);
  flags.String("rules", "the rules directory: genuine photos are served from it", &rules_dir);
  flags.Int("threads", "worker threads: requests answered at once", &threads, 1, 256);
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (!positional.empty()) return flags.UsageError("unexpected argument \"" + positional[0] + "\"");
  if (outbox_path.empty()) return flags.UsageError("need --outbox OUTBOX");
  const std::optional<std::pair<std::string, int>> address = ParseListen(listen);
  if (!address) return flags.UsageError("--listen takes HOST:PORT, e.g. 127.0.0.1:8080");
  if (!OutboxExists(outbox_path)) {
    std::fprintf(stderr, "bonafide serve: no outbox at \"%s\"\n", outbox_path.c_str());
    return kExitFailure;
  }

  engine::PortalOptions options;
  options.outbox_path = outbox_path;
  options.image_root = image_root;
  options.rules_dir = rules_dir;
  options.assets = PortalAssets();
  absl::StatusOr<std::unique_ptr<engine::PortalApi>> api = engine::PortalApi::Create(options);
  if (!api.ok()) {
    std::fprintf(stderr, "bonafide serve: %s\n", std::string(api.status().message()).c_str());
    return kExitFailure;
  }
  engine::PortalServerOptions server_options;
  server_options.host = address->first;
  server_options.port = address->second;
  server_options.threads = threads;
  server_options.access_log = [](std::string_view line) {
    const std::string out = absl::StrCat(ToAbsl(line), "\n");
    std::fwrite(out.data(), 1, out.size(), stderr);
  };
  absl::StatusOr<std::unique_ptr<engine::PortalServer>> server =
      engine::PortalServer::Bind(**api, server_options);
  if (!server.ok()) {
    std::fprintf(stderr, "bonafide serve: %s\n", std::string(server.status().message()).c_str());
    return kExitFailure;
  }
  if (!IsLoopback(address->first)) {
    std::fprintf(stderr,
                 "bonafide serve: warning: listening on %s, not loopback: tokens and cookies "
                 "travel in clear unless a TLS proxy is in front\n",
                 address->first.c_str());
  }
  const std::atomic<bool>* stop = InstallStopHandler();
  // The listening socket already queues connections; the line tells scripts to go on.
  const bool v6 = address->first.find(':') != std::string::npos;
  std::printf("listening on http://%s%s%s:%d\n", v6 ? "[" : "", address->first.c_str(),
              v6 ? "]" : "", (*server)->port());
  std::fflush(stdout);
  // A signal handler may only set a flag; this thread turns it into Stop().
  std::atomic<bool> served{false};
  std::thread stopper([&] {
    while (!stop->load(std::memory_order_relaxed) && !served.load(std::memory_order_relaxed)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    (*server)->Stop();
  });
  const absl::Status status = (*server)->Serve();
  served.store(true, std::memory_order_relaxed);
  stopper.join();
  if (!status.ok()) {
    std::fprintf(stderr, "bonafide serve: %s\n", std::string(status.message()).c_str());
    return kExitFailure;
  }
  std::fprintf(stderr, "bonafide serve: stopped\n");
  return kExitOk;
}

}  // namespace bonafide::cli
