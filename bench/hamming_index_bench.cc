// Micro-benchmarks of models/hamming_index.h: one query (max_distance 31, the PDQ match
// threshold) against uniform random banks of 10k, 100k and 1M hashes, flat scan versus
// multi-index hashing. Half of the queries are a bank entry with 0..40 bits flipped (so
// they have a planted neighbour), half are random. items/s = queries/s; the label names
// the popcount kernel of the flat scan.
//
//   hamming_index_bench --benchmark_filter=BM_Index
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "models/hamming_index.h"

namespace bonafide::models {
namespace {

constexpr int kMaxDistance = 31;
constexpr size_t kNumQueries = 1024;  // a power of two

struct BenchData {
  std::vector<Hash256> bank;
  std::vector<Hash256> queries;
  std::unique_ptr<FlatIndex> flat;
  std::unique_ptr<MultiIndex> mih;
};

Hash256 RandomHash(std::mt19937_64& rng) {
  Hash256 h;
  for (uint64_t& w : h.words) w = rng();
  return h;
}

// Built once per bank size and shared by all benchmarks (setup stays out of the timing).
// Threaded benchmarks call it from every thread, hence the lock.
const BenchData& Data(size_t n) {
  static auto* mu = new std::mutex();
  static auto* cache = new std::map<size_t, std::unique_ptr<BenchData>>();
  std::lock_guard<std::mutex> lock(*mu);
  std::unique_ptr<BenchData>& slot = (*cache)[n];
  if (slot == nullptr) {
    slot = std::make_unique<BenchData>();
    std::mt19937_64 rng(n);
    for (size_t i = 0; i < n; ++i) slot->bank.push_back(RandomHash(rng));
    for (size_t i = 0; i < kNumQueries; ++i) {
      if (i % 2 == 1) {
        slot->queries.push_back(RandomHash(rng));
        continue;
      }
      Hash256 q = slot->bank[rng() % n];
      const int flips = static_cast<int>(rng() % 41);
      for (int k = 0; k < flips; ++k) {
        const int bit = static_cast<int>(rng() % 256);  // may repeat: distance <= flips
        q.words[bit / 64] ^= uint64_t{1} << (bit % 64);
      }
      slot->queries.push_back(q);
    }
    slot->flat = std::make_unique<FlatIndex>(FlatIndex::Build(slot->bank));
    slot->mih = std::make_unique<MultiIndex>(MultiIndex::Build(slot->bank));
  }
  return *slot;
}

// Per-thread values averaged over threads (items/s is summed, i.e. the total rate).
void SetCounters(benchmark::State& state, size_t matches, size_t memory_bytes) {
  state.SetItemsProcessed(state.iterations());
  state.counters["matches/q"] =
      benchmark::Counter(static_cast<double>(matches) / static_cast<double>(state.iterations()),
                         benchmark::Counter::kAvgThreads);
  state.counters["index_MB"] =
      benchmark::Counter(static_cast<double>(memory_bytes) / 1e6, benchmark::Counter::kAvgThreads);
}

void FlatQuery(benchmark::State& state, PopcountKernel kernel) {
  if (!PopcountKernelSupported(kernel)) {
    state.SkipWithError("popcount kernel not supported on this CPU");
    return;
  }
  const BenchData& data = Data(static_cast<size_t>(state.range(0)));
  std::vector<IndexMatch> out;
  size_t i = 0, matches = 0;
  for (auto _ : state) {
    data.flat->QueryWithKernel(kernel, data.queries[i++ & (kNumQueries - 1)], kMaxDistance, out);
    matches += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, matches, data.flat->memory_bytes());
  state.SetLabel("kernel=" + std::string(PopcountKernelName(kernel)));
}

void BM_Index_FlatQuery(benchmark::State& state) { FlatQuery(state, ActivePopcountKernel()); }
void BM_Index_FlatQuery_Popcnt(benchmark::State& state) {
  FlatQuery(state, PopcountKernel::kPopcnt);
}

void BM_Index_MihQuery(benchmark::State& state) {
  const BenchData& data = Data(static_cast<size_t>(state.range(0)));
  MultiIndex::Scratch scratch(*data.mih);
  std::vector<IndexMatch> out;
  size_t i = 0, matches = 0;
  for (auto _ : state) {
    data.mih->Query(data.queries[i++ & (kNumQueries - 1)], kMaxDistance, scratch, out);
    matches += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, matches, data.mih->memory_bytes());
  state.SetLabel("kernel=popcnt (verification)");
}

BENCHMARK(BM_Index_FlatQuery)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_Index_FlatQuery_Popcnt)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_Index_MihQuery)->Arg(10000)->Arg(100000)->Arg(1000000);
// One shared index, one Scratch per thread: items/s is the total over all threads.
BENCHMARK(BM_Index_MihQuery)
    ->Name("BM_Index_MihQuery_Threads")
    ->Arg(1000000)
    ->ThreadRange(1, 2)
    ->UseRealTime();

}  // namespace
}  // namespace bonafide::models

BENCHMARK_MAIN();
