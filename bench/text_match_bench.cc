// Text matching alone, the Hyperscan backend against the RE2::Set one (rules/text_matcher.h),
// on the same normalised generated listings and the example rules: each listing's title in the
// title scope, its description in the description scope, as Scanner::Scan does. Items are listings,
// bytes are normalised text.
//
//   build/release/bench/text_match_bench --benchmark_min_time=0.5
//
// The variants /test (every scenario often: many hits) and /nightly (the mix of the
// end-to-end dump: mostly unrelated listings) bracket how much the hit count matters.
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "engine/listing_input.h"
#include "rules/compiled_rules.h"
#include "rules/normalize.h"
#include "rules/rule_pack.h"
#include "rules/text_matcher.h"
#include "tools/gen/listing_generator.h"

namespace bonafide {
namespace {

const std::string kRules = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";

struct Corpus {
  std::shared_ptr<const rules::CompiledRules> rules;
  std::vector<std::pair<std::string, std::string>> listings;  // normalised title, description
  int64_t bytes = 0;
};

// 2,000 generated listings of `mix`, normalised once, and the compiled example rules.
const Corpus& GetCorpus(gen::ScenarioMix mix) {
  static Corpus corpora[2];
  Corpus& c = corpora[mix == gen::ScenarioMix::kTest ? 0 : 1];
  if (c.rules != nullptr) return c;
  auto pack = rules::LoadRulePack(kRules);
  if (!pack.ok()) std::abort();
  gen::GeneratorOptions options;
  options.count = 2000;
  options.seed = 3;
  options.mix = mix;
  auto generator = gen::ListingGenerator::Create(*pack, options);
  engine::InputChunk chunk;
  if (!generator.ok() || !(*generator)
                              ->Generate(
                                  [&](std::string_view bytes) {
                                    chunk.data.append(bytes);
                                    return true;
                                  },
                                  nullptr)
                              .ok()) {
    std::abort();
  }
  chunk.ends_input = true;
  chunk.data.reserve(chunk.data.size() + engine::kChunkPadding);
  engine::ChunkParser parser;
  engine::ParsedBatch batch;
  parser.Parse(chunk, batch);
  for (size_t i = 0; i < batch.listings_size; ++i) {
    c.listings.emplace_back(rules::Normalize(batch.listings[i].title),
                            rules::Normalize(batch.listings[i].description));
    c.bytes += c.listings.back().first.size() + c.listings.back().second.size();
  }
  auto compiled = rules::CompiledRules::Compile(*pack);
  if (!compiled.ok()) std::abort();
  c.rules = *compiled;
  return c;
}

// A matcher of `backend` over the corpus' rules, and the database it keeps a reference to.
struct BackendMatcher {
  std::shared_ptr<const rules::MatcherDatabase> database;
  std::unique_ptr<rules::TextMatcher> matcher;  // null (and the benchmark skipped) on error
};
BackendMatcher NewMatcher(benchmark::State& state, const Corpus& corpus,
                          rules::MatcherBackend backend) {
  BackendMatcher m;
  auto database = rules::CompileMatcherDatabase(backend, corpus.rules, {});
  if (database.ok()) {
    m.database = *database;
    if (auto matcher = m.database->NewMatcher(); matcher.ok()) m.matcher = std::move(*matcher);
  }
  if (m.matcher == nullptr) state.SkipWithError("cannot create the matcher");
  return m;
}

void MatchBothScopes(benchmark::State& state, rules::MatcherBackend backend, gen::ScenarioMix mix) {
  const Corpus& corpus = GetCorpus(mix);
  const BackendMatcher m = NewMatcher(state, corpus, backend);
  if (m.matcher == nullptr) return;
  std::vector<rules::TextHit> hits;
  int64_t found = 0;
  for (auto _ : state) {
    for (const auto& [title, description] : corpus.listings) {
      (void)m.matcher->Match(title, rules::MatchScope::kTitle, hits);
      found += static_cast<int64_t>(hits.size());
      (void)m.matcher->Match(description, rules::MatchScope::kDescription, hits);
      found += static_cast<int64_t>(hits.size());
    }
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(corpus.listings.size()));
  state.SetBytesProcessed(state.iterations() * corpus.bytes);
  // Hits per listing: the same for both backends, so a quick check that they did the same.
  state.counters["hits_per_listing"] =
      benchmark::Counter(static_cast<double>(found) / static_cast<double>(corpus.listings.size()),
                         benchmark::Counter::kAvgIterations);
}

// One database alone: every title in the title database (every pattern), or every
// description in the description database (no context phrases). Bytes are that field's.
void MatchOneScope(benchmark::State& state, rules::MatcherBackend backend,
                   rules::MatchScope scope) {
  const Corpus& corpus = GetCorpus(gen::ScenarioMix::kNightly);
  const BackendMatcher m = NewMatcher(state, corpus, backend);
  if (m.matcher == nullptr) return;
  const bool title = scope == rules::MatchScope::kTitle;
  int64_t bytes = 0;
  for (const auto& [t, d] : corpus.listings) bytes += (title ? t : d).size();
  std::vector<rules::TextHit> hits;
  int64_t found = 0;
  for (auto _ : state) {
    for (const auto& [t, d] : corpus.listings) {
      (void)m.matcher->Match(title ? t : d, scope, hits);
      found += static_cast<int64_t>(hits.size());
    }
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(corpus.listings.size()));
  state.SetBytesProcessed(state.iterations() * bytes);
}
void BM_TextMatch_HyperscanDatabase(benchmark::State& state, rules::MatchScope scope) {
  MatchOneScope(state, rules::MatcherBackend::kHyperscan, scope);
}
void BM_TextMatch_Re2SetDatabase(benchmark::State& state, rules::MatchScope scope) {
  MatchOneScope(state, rules::MatcherBackend::kRe2Set, scope);
}
BENCHMARK_CAPTURE(BM_TextMatch_HyperscanDatabase, title, rules::MatchScope::kTitle)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TextMatch_HyperscanDatabase, description, rules::MatchScope::kDescription)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TextMatch_Re2SetDatabase, title, rules::MatchScope::kTitle)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TextMatch_Re2SetDatabase, description, rules::MatchScope::kDescription)
    ->Unit(benchmark::kMicrosecond);

void BM_TextMatch_HyperscanBothScopes(benchmark::State& state, gen::ScenarioMix mix) {
  MatchBothScopes(state, rules::MatcherBackend::kHyperscan, mix);
}
void BM_TextMatch_Re2SetBothScopes(benchmark::State& state, gen::ScenarioMix mix) {
  MatchBothScopes(state, rules::MatcherBackend::kRe2Set, mix);
}
BENCHMARK_CAPTURE(BM_TextMatch_HyperscanBothScopes, test, gen::ScenarioMix::kTest)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TextMatch_Re2SetBothScopes, test, gen::ScenarioMix::kTest)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TextMatch_HyperscanBothScopes, nightly, gen::ScenarioMix::kNightly)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TextMatch_Re2SetBothScopes, nightly, gen::ScenarioMix::kNightly)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bonafide

BENCHMARK_MAIN();
