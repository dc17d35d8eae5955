// The listing-photo hash cache's per-photo costs (engine/photo_hash_cache.h): what a
// rescan pays for a photo that did not change, against the milliseconds of decoding it.
//
//   BM_PhotoHashCache_LookupHit/N    a hit by file identity in a cache of N rows
//   BM_PhotoHashCache_StatAndLookup  the same plus the stat() of a real file, as the scan does
//   BM_PhotoHashCache_Store          a new photo's row, written 512 at a time
#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "engine/photo_hash_cache.h"
#include "tests/temp_dir.h"

namespace bonafide::engine {
namespace {

FileIdentity Identity(uint64_t n) {
  FileIdentity id;
  id.device = 2049;
  id.inode = n;
  id.size = 195'000 + static_cast<int64_t>(n % 1000);
  id.mtime_ns = 1'700'000'000'000'000'000 + static_cast<int64_t>(n);
  id.ctime_ns = id.mtime_ns;
  return id;
}

models::PdqResult Hash(uint64_t n) {
  models::PdqResult r;
  for (int w = 0; w < 4; ++w)
    r.hash.words[w] = n * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(w);
  r.quality = 90;
  return r;
}

// A cache of `rows` single-hash rows in `dir`.
std::unique_ptr<PhotoHashCache> Filled(const testing::TempDir& dir, int64_t rows) {
  auto cache = PhotoHashCache::Open(dir.Join("cache"), {});
  if (!cache.ok()) return nullptr;
  auto session = (*cache)->NewSession();
  for (int64_t n = 0; n < rows; ++n) {
    const models::PdqResult r = Hash(static_cast<uint64_t>(n));
    session->Store(Identity(static_cast<uint64_t>(n)), {static_cast<uint64_t>(n), 0}, &r, 1);
  }
  session->Flush();
  return std::move(*cache);
}

void BM_PhotoHashCache_LookupHit(benchmark::State& state) {
  testing::TempDir dir;
  const int64_t rows = state.range(0);
  auto cache = Filled(dir, rows);
  if (cache == nullptr) return state.SkipWithError("cannot open the cache");
  auto session = cache->NewSession();
  CachedPhotoHash out;
  uint64_t n = 0;
  int64_t hits = 0;
  for (auto _ : state) {
    hits += session->Lookup(Identity(n), 1, out);
    n = (n + 7919) % static_cast<uint64_t>(rows);  // a prime stride: no locality
  }
  if (hits != static_cast<int64_t>(state.iterations())) state.SkipWithError("a lookup missed");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_PhotoHashCache_LookupHit)->Arg(10'000)->Arg(200'000);

void BM_PhotoHashCache_StatAndLookup(benchmark::State& state) {
  testing::TempDir dir;
  auto cache = Filled(dir, 10'000);
  if (cache == nullptr) return state.SkipWithError("cannot open the cache");
  const std::string photo = dir.Write("images/a/b/photo.jpg", std::string(1000, 'x'));
  struct stat st;
  ::stat(photo.c_str(), &st);
  const models::PdqResult r = Hash(1);
  auto session = cache->NewSession();
  session->Store(FileIdentity::FromStat(st), ContentDigest::Of("x"), &r, 1);
  session->Flush();
  CachedPhotoHash out;
  int64_t hits = 0;
  for (auto _ : state) {
    ::stat(photo.c_str(), &st);
    hits += session->Lookup(FileIdentity::FromStat(st), 1, out);
  }
  if (hits != static_cast<int64_t>(state.iterations())) state.SkipWithError("a lookup missed");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_PhotoHashCache_StatAndLookup);

void BM_PhotoHashCache_Store(benchmark::State& state) {
  testing::TempDir dir;
  auto cache = PhotoHashCache::Open(dir.Join("cache"), {});
  if (!cache.ok()) return state.SkipWithError("cannot open the cache");
  auto session = (*cache)->NewSession();
  uint64_t n = 0;
  for (auto _ : state) {
    const models::PdqResult r = Hash(n);
    session->Store(Identity(n), {n, 1}, &r, 1);
    ++n;
  }
  session->Flush();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_PhotoHashCache_Store);

}  // namespace
}  // namespace bonafide::engine

BENCHMARK_MAIN();
