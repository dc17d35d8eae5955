// Benchmarks of webhook delivery (engine/relay.h, docs/relay.md).
//
//   BM_Webhook_Sign/N           one Standard Webhooks signature (HMAC-SHA256) of an N-byte body
//   BM_Relay_Deliver/H          `relay --once` over 200 events of each of H rights holders, to
//                               a cpp-httplib receiver on loopback that checks every signature
//                               and answers 200; the SQLite outbox records every delivery
//
// Items are deliveries (events), so items_per_second reads as deliveries/s. The outbox is
// filled outside the timed region for each iteration.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

#include "bonafide/outbox.h"
#include "engine/relay.h"
#include "tests/temp_dir.h"
#include "tests/webhook_receiver.h"

namespace bonafide {
namespace {

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr int kEventsPerHolder = 200;

void BM_Webhook_Sign(benchmark::State& state) {
  const engine::WebhookKey key = *engine::WebhookKey::Parse(kSecret);
  const std::string body(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    benchmark::DoNotOptimize(key.Sign("acme:ebay:L1:1", 1764928800, body));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Webhook_Sign)->Arg(256)->Arg(4096);

// Opens kEventsPerHolder cases of each holder in a new outbox at `path` (one case.opened
// event each, with a payload of about 1 KB, what a case's evidence weighs).
bool FillOutbox(const std::string& path, const std::vector<std::string>& holders,
                benchmark::State& state) {
  auto outbox = OpenOutbox(path);
  if (!outbox.ok()) {
    state.SkipWithError(outbox.status().ToString().c_str());
    return false;
  }
  std::vector<CaseRecord> cases;
  std::vector<ScannedListing> listings;
  for (int i = 0; i < kEventsPerHolder; ++i) {
    const uint32_t begin = static_cast<uint32_t>(cases.size());
    for (const std::string& h : holders) {
      CaseRecord c;
      c.rights_holder = h;
      c.marketplace = "ebay";
      c.listing_id = "L" + std::to_string(i);
      c.seller_id = "s" + std::to_string(i);
      c.score = 0.9;
      c.reasons_json = R"([{"signal":"price","detail":")" + std::string(200, 'r') + "\"}]";
      c.evidence_json = R"({"title":")" + std::string(800, 't') + "\"}";
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
  OutboxBatch batch;
  batch.listings = listings;
  batch.cases = cases;
  if (auto stats = (*outbox)->Write(batch); !stats.ok()) {
    state.SkipWithError(stats.status().ToString().c_str());
    return false;
  }
  return true;
}

void BM_Relay_Deliver(benchmark::State& state) {
  std::vector<std::string> holders;
  std::map<std::string, engine::WebhookKey> keys;
  for (int i = 0; i < state.range(0); ++i) {
    holders.push_back("holder" + std::to_string(i));
    keys.emplace(holders.back(), *engine::WebhookKey::Parse(kSecret));
  }
  testing::WebhookReceiver receiver(keys);
  std::string yaml = "rights_holders:\n";
  for (const std::string& h : holders) {
    yaml += "  " + h + ":\n    url: " + receiver.Url(h) + "\n    secret: " + kSecret + "\n";
  }
  const engine::RelayConfig config = *engine::ParseRelayConfig(yaml, "relay.yaml");
  int64_t delivered = 0;
  for (auto _ : state) {
    state.PauseTiming();
    testing::TempDir dir;
    const std::string path = dir.Join("outbox.db");
    if (!FillOutbox(path, holders, state)) return;
    state.ResumeTiming();
    engine::RelayOptions options;
    options.once = true;
    engine::Relay relay(
        config, [&path] { return OpenOutbox(path); }, options);
    absl::StatusOr<engine::RelayStats> stats = relay.Run();
    if (!stats.ok() || stats->delivered != kEventsPerHolder * state.range(0)) {
      state.SkipWithError(stats.ok() ? "not every event was delivered"
                                     : stats.status().ToString().c_str());
      return;
    }
    delivered += stats->delivered;
  }
  for (const testing::Received& r : receiver.received()) {
    if (!r.signature_ok) {
      state.SkipWithError("a signature did not verify");
      return;
    }
  }
  state.SetItemsProcessed(delivered);
}
BENCHMARK(BM_Relay_Deliver)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace bonafide

BENCHMARK_MAIN();
