// Micro-benchmarks of the per-listing scan path on generated listings and the example rules:
// the whole Scanner::Scan, its normalisation, the price rule's unit count, the decision and
// the rendering of a case
// (matching per backend and database: text_match_bench.cc).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "bonafide/scanner.h"
#include "engine/decision.h"
#include "engine/listing_input.h"
#include "rules/compiled_rules.h"
#include "rules/normalize.h"
#include "rules/price.h"
#include "rules/rule_pack.h"
#include "rules/text_matcher.h"
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
    (void)(*generator)
        ->Generate(
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
      benchmark::DoNotOptimize((*scanner)->Scan(l, **scratch, verdict).ok());
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

// The price rule's unit count, on every normalised title ("lot of 10", "6 pcs", "10pcs").
void BM_Price_UnitsInTitle(benchmark::State& state) {
  std::vector<std::string> titles;
  int64_t bytes = 0;
  for (const Listing& l : Listings()) {
    titles.push_back(rules::Normalize(l.title));
    bytes += static_cast<int64_t>(titles.back().size());
  }
  int64_t units = 0;
  for (auto _ : state) {
    for (const std::string& t : titles) units += rules::UnitsInTitle(t);
    benchmark::DoNotOptimize(units);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(titles.size()));
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_Price_UnitsInTitle)->Unit(benchmark::kMicrosecond);

// Rendering the outbox record of each case (reasons, evidence, explanation, signal names
// and material key): the per-case cost a flagged listing adds to the scan. Items are cases.
void BM_Scanner_MakeCaseRecord(benchmark::State& state) {
  ScannerOptions options;
  options.rules_dir = kRules;
  auto scanner = Scanner::Create(options);
  auto scratch = (*scanner)->NewScratch();
  // The flagged listings with their verdicts, judged once.
  std::vector<std::pair<const Listing*, Verdict>> flagged;
  for (const Listing& l : Listings()) {
    Verdict verdict;
    if ((*scanner)->Scan(l, **scratch, verdict).ok() && verdict.any_case()) {
      flagged.emplace_back(&l, std::move(verdict));
    }
  }
  CaseRecord record;
  int64_t cases = 0;
  for (auto _ : state) {
    for (const auto& [listing, verdict] : flagged) {
      for (const HolderVerdict& hv : verdict.holders) {
        if (!hv.case_opened) continue;
        (*scanner)->MakeCaseRecord(*listing, verdict, hv, record);
        benchmark::DoNotOptimize(record.evidence_json.data());
        ++cases;
      }
    }
  }
  state.SetItemsProcessed(cases);
}
BENCHMARK(BM_Scanner_MakeCaseRecord)->Unit(benchmark::kMillisecond);

// The decision alone: every listing's fields normalised and matched once beforehand, then
// scored per rights holder (cues, price, context, authorised sellers, reasons' spans).
void BM_Decision_Decide(benchmark::State& state) {
  auto pack = rules::LoadRulePack(kRules);
  auto compiled = rules::CompiledRules::Compile(*pack);
  auto database = rules::CompileMatcherDatabase(rules::DefaultMatcherBackend(), *compiled, {});
  auto matcher = (*database)->NewMatcher();
  const auto& listings = Listings();
  std::vector<std::pair<engine::MatchedField, engine::MatchedField>> fields(listings.size());
  for (size_t i = 0; i < listings.size(); ++i) {
    auto prepare = [&](const std::string& text, rules::MatchScope scope,
                       engine::MatchedField& field) {
      field.original = text;
      rules::NormalizeField(text, field.normalized);
      (void)(*matcher)->Match(field.normalized.text, scope, field.hits);
    };
    prepare(listings[i].title, rules::MatchScope::kTitle, fields[i].first);
    prepare(listings[i].description, rules::MatchScope::kDescription, fields[i].second);
  }
  engine::DecisionScratch scratch(**compiled);
  const engine::FeedbackIndex no_feedback;
  Verdict verdict;
  int64_t cases = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < listings.size(); ++i) {
      engine::Decide(**compiled, no_feedback, listings[i], fields[i].first, fields[i].second, {},
                     {}, scratch, verdict);
      cases += verdict.any_case();
    }
    benchmark::DoNotOptimize(cases);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(listings.size()));
  state.counters["cases_per_listing"] =
      benchmark::Counter(static_cast<double>(cases) / static_cast<double>(listings.size()),
                         benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_Decision_Decide)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bonafide

BENCHMARK_MAIN();
