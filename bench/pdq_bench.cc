// Micro-benchmarks of models/pdq.h: PDQ hash of synthetic float luma (decode excluded).
//
//   pdq_bench --benchmark_filter=BM_Pdq
//
// BM_Pdq_Hash/<side>: a side x side image (512: 0.26 MP, 1024: 1 MP, 4000: 16 MP).
// BM_Pdq_HashDihedral/<side>: the same plus the 8 derived rotations/flips.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "models/pdq.h"

namespace bonafide::models {
namespace {

std::vector<float> SyntheticLuma(int width, int height) {
  std::vector<float> luma(static_cast<size_t>(width) * height);
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> noise(0.0f, 16.0f);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float fx = static_cast<float>(x) / width, fy = static_cast<float>(y) / height;
      luma[static_cast<size_t>(y) * width + x] =
          100 + 60 * std::sin(9 * fx + 4 * fy) * std::cos(13 * fy) + noise(rng);
    }
  }
  return luma;
}

void BM_Pdq_Hash(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const std::vector<float> luma = SyntheticLuma(side, side);
  PdqHasher hasher;
  benchmark::DoNotOptimize(hasher.Hash(luma.data(), side, side));  // warm the buffers
  for (auto _ : state) {
    PdqResult r = hasher.Hash(luma.data(), side, side);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(luma.size()) *
                          static_cast<int64_t>(sizeof(float)));
}
BENCHMARK(BM_Pdq_Hash)->Arg(512)->Arg(1024)->Arg(4000)->Unit(benchmark::kMicrosecond);

void BM_Pdq_HashDihedral(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0));
  const std::vector<float> luma = SyntheticLuma(side, side);
  PdqHasher hasher;
  benchmark::DoNotOptimize(hasher.HashDihedral(luma.data(), side, side));
  for (auto _ : state) {
    auto r = hasher.HashDihedral(luma.data(), side, side);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(luma.size()) *
                          static_cast<int64_t>(sizeof(float)));
}
BENCHMARK(BM_Pdq_HashDihedral)->Arg(1024)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bonafide::models

BENCHMARK_MAIN();
