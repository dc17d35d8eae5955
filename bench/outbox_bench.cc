// Micro-benchmarks of the SQLite outbox (engine/sqlite_outbox.cc).
//
//   BM_Outbox_WriteBatch/N        one Write() of N new cases per iteration, published in the
//                                 same transaction (inserts + case.opened events)
//   BM_Outbox_RewriteUnchanged/N  one Write() of the same N cases again (rescan: look-ups and
//                                 last_seen_at refresh only, nothing to publish)
//
// Items are cases, so items_per_second reads as cases/s. The database lives in a fresh
// temporary directory on the local disk (WAL, synchronous=NORMAL, as in production).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

#include "bonafide/outbox.h"
#include "tests/temp_dir.h"

namespace bonafide {
namespace {

// A temporary directory holding one outbox, removed at scope exit.
class TempOutbox {
 public:
  // Returns the opened outbox, or nullptr after reporting the error to `state`.
  Outbox* Open(benchmark::State& state) {
    auto outbox = OpenOutbox(dir_.Join("outbox.db"));
    if (!outbox.ok()) {
      state.SkipWithError(outbox.status().ToString().c_str());
      return nullptr;
    }
    outbox_ = std::move(outbox).value();
    return outbox_.get();
  }

 private:
  testing::TempDir dir_;
  std::unique_ptr<Outbox> outbox_;  // after dir_: closed before the directory goes
};

// A realistic case: a few reasons, a listing snapshot of a few hundred bytes.
CaseRecord MakeCase(int64_t i) {
  CaseRecord c;
  c.rights_holder = i % 3 == 0 ? "acme" : (i % 3 == 1 ? "globex" : "initech");
  c.marketplace = "shopx";
  c.listing_id = "L" + std::to_string(i);
  c.seller_id = "seller-" + std::to_string(i % 997);
  c.score = 0.5 + static_cast<double>(i % 50) / 100;
  c.reasons_json =
      R"([{"rule":"acme-cf-01","version":3,"matched":"ACME","where":"title"},)"
      R"({"rule":"price-floor","price":19.99,"reference":249.0,"ratio":0.08,"fx_date":"2024-05-01"}])";
  c.evidence_json =
      R"({"listing":{"title":"Genuine ACME Chrono watch, brand new, free shipping",)"
      R"("description":"100% original, best price, ships from warehouse","price":19.99,)"
      R"("currency":"EUR","category":"watches"},"image_hashes":)"
      R"(["f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f"],)"
      R"("rules_version":"2024.05.01"})";
  return c;
}

void BM_Outbox_WriteBatch(benchmark::State& state) {
  const int64_t n = state.range(0);
  TempOutbox temp;
  Outbox* outbox = temp.Open(state);
  if (outbox == nullptr) return;
  std::vector<CaseRecord> batch;
  for (int64_t i = 0; i < n; ++i) batch.push_back(MakeCase(i));
  int64_t next_id = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (CaseRecord& c : batch) c.listing_id = "L" + std::to_string(next_id++);
    state.ResumeTiming();
    auto stats = outbox->Write(OutboxBatch{.cases = batch});
    if (!stats.ok() || stats->opened != n) {
      state.SkipWithError(stats.ok() ? "not all cases opened" : stats.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(stats);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Outbox_WriteBatch)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_Outbox_RewriteUnchanged(benchmark::State& state) {
  const int64_t n = state.range(0);
  TempOutbox temp;
  Outbox* outbox = temp.Open(state);
  if (outbox == nullptr) return;
  std::vector<CaseRecord> batch;
  for (int64_t i = 0; i < n; ++i) batch.push_back(MakeCase(i));
  if (auto first = outbox->Write(OutboxBatch{.cases = batch}); !first.ok()) {
    state.SkipWithError(first.status().ToString().c_str());
    return;
  }
  for (auto _ : state) {
    auto stats = outbox->Write(OutboxBatch{.cases = batch});
    if (!stats.ok() || stats->opened + stats->updated + stats->silent != 0) {
      state.SkipWithError(stats.ok() ? "rescan changed cases" : stats.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(stats);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Outbox_RewriteUnchanged)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bonafide

BENCHMARK_MAIN();
