// Tests for engine/photo_hash_cache: hits and misses by identity and content, a changed
// file, damaged cache files and rows, LRU eviction, and two processes sharing one cache.
#include "engine/photo_hash_cache.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include <sqlite3.h>

#include "tests/temp_dir.h"
#include "util/hash.h"

namespace bonafide::engine {
namespace {

using testing::TempDir;

FileIdentity Identity(uint64_t inode, int64_t ctime_ns = 1000) {
  FileIdentity id;
  id.device = 2049;
  id.inode = inode;
  id.size = 195'000;
  id.mtime_ns = 1'700'000'000'123'456'789;
  id.ctime_ns = ctime_ns;
  return id;
}

ContentDigest Digest(uint64_t n) { return {n * 0x9e3779b97f4a7c15ULL, ~n}; }

// A photo's hashes: `count` variants, each word derived from `seed`.
std::vector<models::PdqResult> Hashes(uint64_t seed, size_t count, int quality = 80) {
  std::vector<models::PdqResult> out(count);
  for (size_t v = 0; v < count; ++v) {
    for (int w = 0; w < 4; ++w) out[v].hash.words[w] = seed * 31 + v * 7 + static_cast<uint64_t>(w);
    out[v].quality = quality;
  }
  return out;
}

std::unique_ptr<PhotoHashCache> OpenCache(const TempDir& dir, PhotoHashCacheOptions options = {}) {
  auto cache = PhotoHashCache::Open(dir.Join("cache"), options);
  EXPECT_TRUE(cache.ok()) << cache.status();
  return cache.ok() ? std::move(*cache) : nullptr;
}

void Store(PhotoHashCache::Session& session, uint64_t n, size_t count = 1) {
  const auto hashes = Hashes(n, count);
  session.Store(Identity(n), Digest(n), hashes.data(), hashes.size());
}

void ExpectHashes(const CachedPhotoHash& got, uint64_t n, size_t count) {
  const auto want = Hashes(n, count);
  ASSERT_EQ(got.count, count);
  for (size_t v = 0; v < count; ++v) {
    EXPECT_EQ(got.variants[v].hash, want[v].hash) << v;
    EXPECT_EQ(got.variants[v].quality, want[v].quality);
  }
}

TEST(PhotoHashCacheTest, HitAfterStoreAcrossSessions) {
  TempDir dir;
  auto cache = OpenCache(dir);
  ASSERT_NE(cache, nullptr);
  {
    auto session = cache->NewSession();
    ASSERT_NE(session, nullptr);
    Store(*session, 1);
    Store(*session, 2, models::kNumDihedral);
  }                                // written when the session ends
  auto reopened = OpenCache(dir);  // a later scan
  auto session = reopened->NewSession();
  CachedPhotoHash got;
  ASSERT_TRUE(session->Lookup(Identity(1), 1, got));
  ExpectHashes(got, 1, 1);
  ASSERT_TRUE(session->Lookup(Identity(2), models::kNumDihedral, got));
  ExpectHashes(got, 2, models::kNumDihedral);
  ASSERT_TRUE(session->Lookup(Identity(2), 1, got));  // 8 serve a need for 1
  EXPECT_EQ(session->hits(), 3);
}

TEST(PhotoHashCacheTest, KeepsWhatTheStagesAfterPdqFound) {
  TempDir dir;
  auto cache = OpenCache(dir);
  {
    auto session = cache->NewSession();
    Store(*session, 1);
    const auto hashes = Hashes(2, 1);
    session->Store(Identity(2), Digest(2), hashes.data(), 1, /*nothing_after_pdq=*/0xABCDEF);
    // Stored when hashed, then again with the mark: one pending write, the later one.
    const auto third = Hashes(3, 1);
    session->Store(Identity(3), Digest(3), third.data(), 1);
    session->Store(Identity(3), Digest(3), third.data(), 1, /*nothing_after_pdq=*/0x77);
  }
  auto session = cache->NewSession();
  CachedPhotoHash got;
  ASSERT_TRUE(session->Lookup(Identity(1), 1, got));
  EXPECT_EQ(got.nothing_after_pdq, 0u);  // not known
  EXPECT_EQ(got.digest, Digest(1));
  ASSERT_TRUE(session->Lookup(Identity(2), 1, got));
  EXPECT_EQ(got.nothing_after_pdq, 0xABCDEFu);
  EXPECT_EQ(got.digest, Digest(2));
  ExpectHashes(got, 2, 1);
  ASSERT_TRUE(session->LookupContent(Digest(2), 1, got));
  EXPECT_EQ(got.nothing_after_pdq, 0xABCDEFu);
  ASSERT_TRUE(session->Lookup(Identity(3), 1, got));
  EXPECT_EQ(got.nothing_after_pdq, 0x77u);
  ExpectHashes(got, 3, 1);
  // A later store of the same file replaces the mark.
  const auto hashes = Hashes(2, 1);
  session->Store(Identity(2), Digest(2), hashes.data(), 1);
  session->Flush();
  ASSERT_TRUE(session->Lookup(Identity(2), 1, got));
  EXPECT_EQ(got.nothing_after_pdq, 0u);
}

// Rows written before the mark existed (no 8 bytes for it) are still hits, with the mark
// unknown.
TEST(PhotoHashCacheTest, ReadsRowsWithoutTheStagesMark) {
  TempDir dir;
  auto cache = OpenCache(dir);
  {
    auto session = cache->NewSession();
    Store(*session, 1);
  }
  // The old layout: quality, count, one hash, check over identity, digest and those.
  const auto hashes = Hashes(1, 1);
  std::string body(8 + 32, '\0');
  const int32_t quality = hashes[0].quality;
  const uint32_t count = 1;
  std::memcpy(body.data(), &quality, 4);
  std::memcpy(body.data() + 4, &count, 4);
  std::memcpy(body.data() + 8, hashes[0].hash.words, 32);
  const FileIdentity id = Identity(1);
  const ContentDigest digest = Digest(1);
  const int64_t fields[] = {static_cast<int64_t>(id.device),
                            static_cast<int64_t>(id.inode),
                            id.size,
                            id.mtime_ns,
                            id.ctime_ns,
                            static_cast<int64_t>(digest.lo),
                            static_cast<int64_t>(digest.hi)};
  Hasher128 h;
  h.Add(std::string_view(reinterpret_cast<const char*>(fields), sizeof(fields)));
  h.Add(body);
  const uint64_t check = h.Digest().first;
  std::string data = body;
  data.append(reinterpret_cast<const char*>(&check), sizeof(check));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(cache->path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "UPDATE photos SET data = ?1 WHERE inode = 1", -1, &stmt, nullptr),
      SQLITE_OK);
  sqlite3_bind_blob(stmt, 1, data.data(), static_cast<int>(data.size()), SQLITE_STATIC);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  auto session = cache->NewSession();
  CachedPhotoHash got;
  ASSERT_TRUE(session->Lookup(Identity(1), 1, got));
  ExpectHashes(got, 1, 1);
  EXPECT_EQ(got.nothing_after_pdq, 0u);
}

TEST(PhotoHashCacheTest, MissesUnknownFilesAndTooFewVariants) {
  TempDir dir;
  auto cache = OpenCache(dir);
  auto session = cache->NewSession();
  Store(*session, 1);
  session->Flush();
  CachedPhotoHash got;
  EXPECT_FALSE(session->Lookup(Identity(7), 1, got));
  EXPECT_FALSE(session->LookupContent(Digest(7), 1, got));
  // Stored as shown only; known counterfeit photos need all 8 rotations and flips.
  EXPECT_FALSE(session->Lookup(Identity(1), models::kNumDihedral, got));
  EXPECT_EQ(session->misses(), 2);
}

TEST(PhotoHashCacheTest, ChangedFileIsAMissAndSameContentIsFoundByDigest) {
  TempDir dir;
  auto cache = OpenCache(dir);
  auto session = cache->NewSession();
  Store(*session, 1);
  session->Flush();
  CachedPhotoHash got;
  // Rewritten in place with the same size and mtime: only the ctime tells.
  EXPECT_FALSE(session->Lookup(Identity(1, /*ctime_ns=*/2000), 1, got));
  FileIdentity other_size = Identity(1);
  other_size.size += 1;
  EXPECT_FALSE(session->Lookup(other_size, 1, got));
  FileIdentity other_mtime = Identity(1);
  other_mtime.mtime_ns += 1;  // a nanosecond is a change
  EXPECT_FALSE(session->Lookup(other_mtime, 1, got));
  // The same bytes under a new identity (a copy, a restore) are found by content, and the
  // new identity stored then is a hit from then on.
  ASSERT_TRUE(session->LookupContent(Digest(1), 1, got));
  ExpectHashes(got, 1, 1);
  session->Store(Identity(9), Digest(1), got.variants.data(), got.count);
  session->Flush();
  ASSERT_TRUE(session->Lookup(Identity(9), 1, got));
  ExpectHashes(got, 1, 1);
  // Storing a changed file replaces its row.
  const auto changed = Hashes(5, 1);
  session->Store(Identity(1, 2000), Digest(5), changed.data(), 1);
  session->Flush();
  EXPECT_FALSE(session->Lookup(Identity(1), 1, got));
  ASSERT_TRUE(session->Lookup(Identity(1, 2000), 1, got));
  ExpectHashes(got, 5, 1);
}

TEST(PhotoHashCacheTest, GarbageFileIsReplaced) {
  TempDir dir;
  {
    auto cache = OpenCache(dir);
    auto session = cache->NewSession();
    Store(*session, 1);
  }
  const std::string path = dir.Join("cache/" + std::string(PhotoHashCache::kFileName));
  ASSERT_EQ(::unlink((path + "-wal").c_str()) == 0 || errno == ENOENT, true);
  dir.Write("cache/" + std::string(PhotoHashCache::kFileName),
            "this is not an SQLite database, just bytes where one was\n");
  auto cache = OpenCache(dir);
  ASSERT_NE(cache, nullptr);
  auto session = cache->NewSession();
  ASSERT_NE(session, nullptr);
  CachedPhotoHash got;
  EXPECT_FALSE(session->Lookup(Identity(1), 1, got));  // gone: rehashed
  Store(*session, 1);
  session->Flush();
  EXPECT_TRUE(session->Lookup(Identity(1), 1, got));  // and usable again
}

// A row damaged on disk (here: its hash bytes changed behind the cache's back) is a miss,
// never a wrong hash.
TEST(PhotoHashCacheTest, DamagedRowIsAMiss) {
  TempDir dir;
  auto cache = OpenCache(dir);
  {
    auto session = cache->NewSession();
    Store(*session, 1);
    Store(*session, 2);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(cache->path().c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE photos SET data = substr(data, 1, 10) || x'ff' || "
                         "substr(data, 12) WHERE inode = 1",
                         nullptr, nullptr, &error),
            SQLITE_OK)
      << error;
  sqlite3_close(db);
  auto session = cache->NewSession();
  CachedPhotoHash got;
  EXPECT_FALSE(session->Lookup(Identity(1), 1, got));
  EXPECT_FALSE(session->LookupContent(Digest(1), 1, got));
  EXPECT_TRUE(session->Lookup(Identity(2), 1, got));
  ExpectHashes(got, 2, 1);
}

TEST(PhotoHashCacheTest, EvictsTheLeastRecentlyUsedBeyondTheBound) {
  TempDir dir;
  PhotoHashCacheOptions options;
  options.max_entries = 3;
  options.touch_after_seconds = 0;  // every hit counts as a use
  auto cache = OpenCache(dir, options);
  auto session = cache->NewSession();
  CachedPhotoHash got;
  for (uint64_t n = 1; n <= 3; ++n) {
    Store(*session, n);
    session->Flush();
  }
  ::usleep(2000);
  ASSERT_TRUE(session->Lookup(Identity(1), 1, got));  // 1 is now the most recent
  session->Flush();
  Store(*session, 4);
  session->Flush();
  EXPECT_TRUE(session->Lookup(Identity(1), 1, got));
  EXPECT_FALSE(session->Lookup(Identity(2), 1, got));  // the least recently used
  EXPECT_TRUE(session->Lookup(Identity(3), 1, got));
  EXPECT_TRUE(session->Lookup(Identity(4), 1, got));
  // Many more: the cache never holds more than the bound.
  for (uint64_t n = 10; n < 30; ++n) Store(*session, n);
  session->Flush();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(cache->path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM photos", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_LE(sqlite3_column_int64(stmt, 0), 3);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  EXPECT_TRUE(session->Lookup(Identity(29), 1, got));
}

// Two processes (two scan shards) storing and looking up at once, each in small write
// batches: nothing fails, and every photo either stored is found afterwards.
TEST(PhotoHashCacheTest, TwoProcessesShareOneCache) {
  TempDir dir;
  ASSERT_NE(OpenCache(dir), nullptr);  // created before the shards start, like a scan's
  constexpr uint64_t kPerProcess = 3000;
  std::vector<pid_t> children;
  for (uint64_t p = 0; p < 2; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      PhotoHashCacheOptions options;
      options.flush_every = 50;
      auto cache = PhotoHashCache::Open(dir.Join("cache"), options);
      if (!cache.ok()) ::_exit(2);
      auto session = (*cache)->NewSession();
      if (session == nullptr) ::_exit(3);
      CachedPhotoHash got;
      for (uint64_t i = 0; i < kPerProcess; ++i) {
        const uint64_t n = 1 + p * kPerProcess + i;
        Store(*session, n);
        // Read what the other process may have written by now (hit or miss, never wrong).
        const uint64_t other = 1 + (1 - p) * kPerProcess + i / 2;
        if (session->Lookup(Identity(other), 1, got) &&
            got.variants[0].hash != Hashes(other, 1)[0].hash) {
          ::_exit(4);
        }
      }
      session->Flush();
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto cache = OpenCache(dir);
  auto session = cache->NewSession();
  CachedPhotoHash got;
  for (uint64_t n = 1; n <= 2 * kPerProcess; ++n) {
    ASSERT_TRUE(session->Lookup(Identity(n), 1, got)) << n;
    ExpectHashes(got, n, 1);
  }
}

TEST(PhotoHashCacheTest, FileIdentityReadsStat) {
  TempDir dir;
  const std::string path = dir.Write("photo.jpg", "bytes");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  const FileIdentity id = FileIdentity::FromStat(st);
  EXPECT_EQ(id.inode, st.st_ino);
  EXPECT_EQ(id.size, 5);
  EXPECT_EQ(id.mtime_ns % 1'000'000'000, st.st_mtim.tv_nsec);
  EXPECT_EQ(id.ctime_ns / 1'000'000'000, st.st_ctim.tv_sec);
  EXPECT_EQ(ContentDigest::Of("bytes"), ContentDigest::Of("bytes"));
  EXPECT_FALSE(ContentDigest::Of("bytes") == ContentDigest::Of("bytez"));
}

}  // namespace
}  // namespace bonafide::engine
