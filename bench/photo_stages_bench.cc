// The photo stages one by one, on 1-MP JPEGs (1152x864, quality 90) drawn in code: what a
// listing photo costs in the first stage (reduced decode + PDQ + bank query) and in the
// stages after PDQ (border trim + trimmed hash, local features against the genuine
// photos), which every photo that PDQ does not match pays.
//
//   photo_stages_bench [--benchmark_filter=...]
//
// For instruction counts (load-independent), run one benchmark under callgrind and collect
// only the stage function; the binary prints how many times each stage ran, on stderr:
//
//   valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*RunFeatureStage*'
//     build/release/bench/photo_stages_bench --benchmark_filter='BM_PhotoStages_Features/250$'
//   (one command line)
//   callgrind_annotate callgrind.out.<pid> | head     # total Ir / runs = Ir per photo
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "models/border_trim.h"
#include "models/feature_bank.h"
#include "models/image_decode.h"
#include "models/pdq.h"
#include "models/photo_bank.h"
#include "models/photo_matcher.h"
#include "tests/models/labelled_photo_set.h"
#include "tests/models/synthetic_photos.h"
#include "tests/temp_dir.h"

namespace bonafide::models {
namespace {

constexpr int kWidth = 1152, kHeight = 864;
constexpr int kListingPhotos = 8;

// How many times each stage function ran (printed at exit, for callgrind's totals).
std::atomic<int64_t> g_pdq_runs{0}, g_trim_runs{0}, g_feature_runs{0}, g_after_runs{0};
struct PrintRuns {
  ~PrintRuns() {
    std::fprintf(
        stderr, "stage runs: pdq %lld, trim %lld, features %lld, after_pdq %lld\n",
        static_cast<long long>(g_pdq_runs.load()), static_cast<long long>(g_trim_runs.load()),
        static_cast<long long>(g_feature_runs.load()), static_cast<long long>(g_after_runs.load()));
  }
} print_runs;

// Genuine photos (a bank of `count`) and unrelated listing photos, built once per count.
struct Fixture {
  ::bonafide::testing::TempDir dir;
  std::shared_ptr<const PhotoBank> photos;
  std::shared_ptr<const FeatureBank> features;
  std::vector<std::string> listing_jpegs;  // unrelated: PDQ finds nothing
  std::vector<DecodedLuma> listing_lumas;  // their reduced decodes
};

Fixture& FixtureFor(int genuine) {
  static std::map<int, std::unique_ptr<Fixture>> fixtures;
  std::unique_ptr<Fixture>& f = fixtures[genuine];
  if (f != nullptr) return *f;
  f = std::make_unique<Fixture>();
  std::vector<GenuinePhoto> photos;
  photos.reserve(genuine);
  for (int i = 0; i < genuine; ++i) {
    photos.push_back(
        {0, i,
         f->dir.Write("g" + std::to_string(i) + ".jpg",
                      ::bonafide::testing::EncodeJpeg(
                          ::bonafide::testing::DrawClutteredPhoto(i, kWidth, kHeight), 90))});
  }
  f->photos = *PhotoBank::Build(photos, {});
  f->features = *FeatureBank::Build(*f->photos);
  ImageDecoder decoder;
  for (int i = 0; i < kListingPhotos; ++i) {
    f->listing_jpegs.push_back(::bonafide::testing::EncodeJpeg(
        ::bonafide::testing::DrawClutteredPhoto(100'000 + i, kWidth, kHeight), 90));
    DecodedLuma luma;
    if (!decoder.Decode(f->listing_jpegs.back(), DecodeMode::kReduced, luma).ok()) std::abort();
    f->listing_lumas.push_back(std::move(luma));
  }
  return *f;
}

__attribute__((noinline)) size_t RunPdqStage(const Fixture& f, const std::string& jpeg,
                                             ImageDecoder& decoder, DecodedLuma& luma,
                                             PdqHasher& hasher, PhotoBank::Scratch& scratch,
                                             std::vector<BankMatch>& out) {
  ++g_pdq_runs;
  if (!decoder.Decode(jpeg, DecodeMode::kReduced, luma).ok()) std::abort();
  const PdqResult r = hasher.Hash(luma.luma.data(), luma.width, luma.height);
  f.photos->Query(r.hash, 31, scratch, out);
  return out.size();
}

__attribute__((noinline)) bool RunTrimStage(const DecodedLuma& luma) {
  ++g_trim_runs;
  return FindContentBox(luma.luma.data(), luma.width, luma.height).trimmed;
}

__attribute__((noinline)) bool RunFeatureStage(const Fixture& f, const DecodedLuma& luma,
                                               FeatureBank::Scratch& scratch) {
  ++g_feature_runs;
  std::optional<FeatureBankMatch> match;
  if (!f.features->Match(luma.luma.data(), luma.width, luma.height, scratch, match).ok()) {
    std::abort();
  }
  return match.has_value();
}

__attribute__((noinline)) size_t RunAfterPdq(const PhotoMatcher& matcher, const DecodedLuma& luma,
                                             PhotoMatcher::Scratch& scratch,
                                             std::vector<StageMatch>& out) {
  ++g_after_runs;
  if (!matcher.MatchAfterPdq(luma, 31, 50, scratch, out).ok()) std::abort();
  return out.size();
}

// First stage: reduced decode + PDQ + bank query, per 1-MP photo.
void BM_PhotoStages_DecodePdq(benchmark::State& state) {
  const Fixture& f = FixtureFor(static_cast<int>(state.range(0)));
  ImageDecoder decoder;
  DecodedLuma luma;
  PdqHasher hasher;
  PhotoBank::Scratch scratch;
  std::vector<BankMatch> out;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        RunPdqStage(f, f.listing_jpegs[i++ % kListingPhotos], decoder, luma, hasher, scratch, out));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PhotoStages_DecodePdq)->Arg(20)->Arg(250)->Unit(benchmark::kMillisecond);

// Border trim on the decoded luma of an unpadded photo (the common case: nothing to trim).
void BM_PhotoStages_Trim(benchmark::State& state) {
  const Fixture& f = FixtureFor(20);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(RunTrimStage(f.listing_lumas[i++ % kListingPhotos]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PhotoStages_Trim)->Unit(benchmark::kMicrosecond);

// Local features of an unrelated photo against a bank of N genuine photos: extraction,
// votes, verification of the candidates (none verify).
void BM_PhotoStages_Features(benchmark::State& state) {
  const Fixture& f = FixtureFor(static_cast<int>(state.range(0)));
  FeatureBank::Scratch scratch;
  size_t i = 0;
  for (auto _ : state) {
    if (RunFeatureStage(f, f.listing_lumas[i++ % kListingPhotos], scratch)) {
      state.SkipWithError("an unrelated photo matched");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["keypoints"] = static_cast<double>(f.features->descriptor_count());
}
BENCHMARK(BM_PhotoStages_Features)->Arg(20)->Arg(250)->Unit(benchmark::kMillisecond);

// Everything after PDQ for a photo PDQ did not match (what the scan adds per such photo).
void BM_PhotoStages_AfterPdq(benchmark::State& state) {
  const Fixture& f = FixtureFor(static_cast<int>(state.range(0)));
  const PhotoMatcher matcher(f.photos, f.features);
  PhotoMatcher::Scratch scratch;
  std::vector<StageMatch> out;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        RunAfterPdq(matcher, f.listing_lumas[i++ % kListingPhotos], scratch, out));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PhotoStages_AfterPdq)->Arg(20)->Arg(250)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bonafide::models

BENCHMARK_MAIN();
