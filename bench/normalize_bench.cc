// Micro-benchmarks of rules/normalize.h on listing-like text (title + description,
// ~500 bytes): pure ASCII (the fast path) and mixed (accents, full-width, Cyrillic
// look-alikes, leet, spaced letters, CJK).
//
//   normalize_bench --benchmark_filter=BM_Normalize
#include <string>

#include <benchmark/benchmark.h>

#include "rules/normalize.h"

namespace bonafide::rules {
namespace {

std::string AsciiListing() {
  return "Brand New NIKE Air Max 90 Essential Running Shoes Mens Size 10 US White/Black "
         "- 100% Authentic\n"
         "Up for sale is a brand new pair of Nike Air Max 90 Essential sneakers in the "
         "classic white and black colourway. Never worn, comes in the original box with "
         "all tags attached. Size 10 US / 44 EU. Fast shipping within 2 business days, "
         "tracked delivery. Please check the photos for details; feel free to ask any "
         "questions before buying. Returns accepted within 30 days. Buy 2 pairs and get "
         "10% off! Also available: iPhone 13 Pro 128GB cases, 64gb USB sticks, PS5 "
         "controllers. Thanks for looking :)";
}

std::string MixedListing() {
  return "Ｎｉｋｅ Аir Mах 90 Эссеншиал — Chaussures de course Hommes Taille 44 blanc/noir "
         "高仿 1:1\n"
         "Paire neuve de N1ke Air Max 90, coloris blanc et noir. Jamais portée, livrée "
         "dans la boîte d'origine avec toutes les étiquettes. Qualité A++ réplique, "
         "identique à l'original: L o u i s V u i t t o n, $upreme, Adídas, Hermès "
         "Ni\u200Bke. Livraison rapide en 2 jours ouvrés, suivi inclus. Consultez les "
         "photos; n'hésitez pas à poser vos questions avant l'achat. Retours acceptés "
         "sous 30 jours. 𝐍𝐢𝐤𝐞 реплика – Straße, Øre, “quoted” text…";
}

void BM_Normalize_Ascii(benchmark::State& state) {
  const std::string input = AsciiListing();
  NormalizedText out;
  for (auto _ : state) {
    out.Clear();
    NormalizeAppend(input, out);
    benchmark::DoNotOptimize(out.text.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(input.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Normalize_Ascii);

void BM_Normalize_Mixed(benchmark::State& state) {
  const std::string input = MixedListing();
  NormalizedText out;
  for (auto _ : state) {
    out.Clear();
    NormalizeAppend(input, out);
    benchmark::DoNotOptimize(out.text.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(input.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Normalize_Mixed);

}  // namespace
}  // namespace bonafide::rules

BENCHMARK_MAIN();
