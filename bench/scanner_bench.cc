// Micro-benchmarks of the per-listing scan path on generated listings and the example rules:
// the whole Scanner::Scan and its normalisation (matching per backend: text_match_bench.cc).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "bonafide/scanner.h"
#include "engine/listing_input.h"
#include "rules/normalize.h"
#include "rules/rule_pack.h"
#include "tools/gen/listing_generator.h"

namespace bonafide {
namespace {

const std::string kRules = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";

// 2,000 generated listings, parsed once.
const std::vector<Listing>& Listings() {
  static const std::vector<Listing> listings = [] {
    auto pack = rules::LoadRulePack(kRules);
    gen::GeneratorOptions options;
    options.count = 2000;
    options.seed = 3;
    auto generator = gen::ListingGenerator::Create(*pack, options);
    engine::InputChunk chunk;
    (void)(*generator)->Generate(
        [&](std::string_view bytes) {
          chunk.data.append(bytes);
          return true;
        },
        nullptr);
    chunk.ends_input = true;
    chunk.data.reserve(chunk.data.size() + engine::kChunkPadding);
    engine::ChunkParser parser;
    engine::ParsedBatch batch;
    parser.Parse(chunk, batch);
    return std::vector<Listing>(batch.listings.begin(),
                                batch.listings.begin() + batch.listings_size);
  }();
  return listings;
}

int64_t TextBytes(const std::vector<Listing>& listings) {
  int64_t bytes = 0;
  for (const auto& l : listings) bytes += l.title.size() + l.description.size();
  return bytes;
}

void BM_Scanner_ScanListing(benchmark::State& state) {
  ScannerOptions options;
  options.rules_dir = kRules;
  auto scanner = Scanner::Create(options);
  auto scratch = (*scanner)->NewScratch();
  const auto& listings = Listings();
  Verdict verdict;
  for (auto _ : state) {
    for (const Listing& l : listings) {
      (*scanner)->Scan(l, **scratch, verdict);
      benchmark::DoNotOptimize(verdict.holders.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * listings.size());
  state.SetBytesProcessed(state.iterations() * TextBytes(listings));
}
BENCHMARK(BM_Scanner_ScanListing)->Unit(benchmark::kMillisecond);

void BM_Normalize_ListingText(benchmark::State& state) {
  const auto& listings = Listings();
  rules::NormalizedText out;
  for (auto _ : state) {
    for (const Listing& l : listings) {
      out.Clear();
      rules::NormalizeAppend(l.title, out);
      out.Clear();
      rules::NormalizeAppend(l.description, out);
      benchmark::DoNotOptimize(out.text.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * listings.size());
  state.SetBytesProcessed(state.iterations() * TextBytes(listings));
}
BENCHMARK(BM_Normalize_ListingText)->Unit(benchmark::kMillisecond);


}  // namespace
}  // namespace bonafide

BENCHMARK_MAIN();
