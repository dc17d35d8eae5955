// The listing-photo hash cache: the PDQ hashes of listing photos, kept across scans so that
// a nightly rescan decodes only the photos that are new or changed.
//
//   auto cache = PhotoHashCache::Open(cache_dir, {});         // once, shared
//   auto session = (*cache)->NewSession();                   // one per thread
//   FileIdentity id = FileIdentity::FromStat(st);            // stat() of the photo
//   if (session->Lookup(id, 1, cached)) ...                  // no need to read the file
//   // else read it, ContentDigest(bytes), LookupContent(...), or decode and hash it, then
//   session->Store(id, digest, variants, count);             // written in batches
//
// Storage: one SQLite database in WAL mode, `<cache dir>/listing-photos-v1.sqlite`, a row
// per file identity (device, inode), holding the identity's size, modification and
// status-change times (ns), the 128-bit content digest, the PDQ quality and hashes (the
// photo as shown, or all 8 rotations and flips), whether the stages after PDQ found
// nothing in it (and under which configuration), a check digest over all of it, and when
// it was last used. With the edited-photo stages on, that mark is what spares a rescan
// the decoding of photos that match nothing (nearly all of them): the stages need pixels.
//
// Validity: Lookup hits only when device, inode, size, mtime and ctime all match the row,
// so a file rewritten in place, even to the same size and with its mtime restored, is a
// miss (writing it changes its ctime, which no user call can set back). A file with a new
// identity (copied, restored, re-synced) is found by its content digest instead, which
// costs reading it but not decoding it. Each row carries a check digest: a row damaged on
// disk is a miss, never a wrong hash. The database also records the hash version
// (kPhotoHashVersion): when decoding or hashing changes, old rows are dropped.
//
// Bound: at most PhotoHashCacheOptions::max_entries rows (about 100 bytes plus 32 per
// stored hash each, so 4M rows of single hashes take about 0.6 GB); beyond it, the rows
// least recently used (to the granularity of touch_after_seconds) are deleted, a slice at
// a time.
//
// Concurrency: any number of processes (scan shards) and threads may use one cache file
// at once. Each session has its own connection; lookups are plain reads (WAL readers never
// wait for the writer), and writes are batched into one short BEGIN IMMEDIATE transaction
// per flush_every stores, which SQLite serialises across processes (busy timeout). Two
// shards storing the same file write the same hash; the later write wins.
//
// Failure: a cache never fails a scan. Open() deletes a file that is not a database or is
// corrupt and starts an empty one; a session whose statements fail (a corrupt page, a full
// disk, a lock held too long) drops its pending writes, and lookups that fail are misses.
// The cost of any cache problem is rehashing. The check digest is not cryptographic:
// whoever can write the cache dir can poison it, as with the other caches there.
#ifndef BONAFIDE_ENGINE_PHOTO_HASH_CACHE_H_
#define BONAFIDE_ENGINE_PHOTO_HASH_CACHE_H_

#include <sys/stat.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "models/pdq.h"

namespace bonafide::engine {

// Bump when decoding or hashing listing photos changes what a photo hashes to.
inline constexpr int64_t kPhotoHashVersion = 1;

// What stat() says of a file, as far as telling a changed file goes.
struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  static FileIdentity FromStat(const struct stat& st);
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

// A 128-bit digest of a file's bytes (util/hash.h Hasher128).
struct ContentDigest {
  uint64_t lo = 0;
  uint64_t hi = 0;
  static ContentDigest Of(std::string_view bytes);
  friend bool operator==(const ContentDigest&, const ContentDigest&) = default;
};

// A cached photo: its quality and hashes (variants[0] is the photo as shown; all 8 are
// PdqHasher::HashDihedral's order), its content digest, and what the stages after PDQ
// found in it.
struct CachedPhotoHash {
  std::array<models::PdqResult, models::kNumDihedral> variants;
  size_t count = 0;  // 1 or kNumDihedral
  ContentDigest digest;
  // The stages after PDQ found no genuine photo in this photo under the configuration with
  // this digest (models::PhotoMatcher::ResultDigest); 0 when that is not known.
  uint64_t nothing_after_pdq = 0;
};

struct PhotoHashCacheOptions {
  // Rows kept (4,000,000); the least recently used beyond it are evicted.
  int64_t max_entries = 4'000'000;
  // Parameters that affect performance.
  // Stores and touches per session before they are written in one transaction (512).
  size_t flush_every = 512;
  // A hit rewrites the row's last-use time only when it is older than this (3600 s), so a
  // rescan does not turn every lookup into a write; eviction is LRU to this granularity.
  int64_t touch_after_seconds = 3600;
};

// Thread-safe: sessions may be created and used from any number of threads, each session
// by one thread at a time. Not copyable.
class PhotoHashCache {
 public:
  // The cache file's name in the cache dir.
  static constexpr std::string_view kFileName = "listing-photos-v1.sqlite";

  // Opens `<dir>/listing-photos-v1.sqlite`, creating the directory and the file when
  // missing, and replacing a file that is not a cache database or is corrupt.
  // Errors (the caller then scans without a cache): PermissionDenied (cannot create or
  // write), Unavailable (locked beyond the busy timeout), Internal.
  static absl::StatusOr<std::unique_ptr<PhotoHashCache>> Open(const std::string& dir,
                                                              const PhotoHashCacheOptions& options);
  PhotoHashCache(const PhotoHashCache&) = delete;
  PhotoHashCache& operator=(const PhotoHashCache&) = delete;
  ~PhotoHashCache();

  // One thread's connection, lookup statements and pending writes. Writes what is pending
  // when destroyed. Not thread-safe; not copyable.
  class Session {
   public:
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Returns true and fills `out` when the file with this identity has a valid row with
    // at least `min_variants` hashes (1 or kNumDihedral).
    bool Lookup(const FileIdentity& identity, size_t min_variants, CachedPhotoHash& out);
    // The same by content (a file seen before under another identity).
    bool LookupContent(const ContentDigest& digest, size_t min_variants, CachedPhotoHash& out);
    // Records the hashes of the file (variants[0, count)) and, when not 0, the digest of
    // the configuration under which the stages after PDQ found nothing in it; written at
    // the next flush. A later Store of the same file replaces it.
    void Store(const FileIdentity& identity, const ContentDigest& digest,
               const models::PdqResult* variants, size_t count, uint64_t nothing_after_pdq = 0);
    // Writes the pending stores and touches now (a failure drops them).
    void Flush();

    int64_t hits() const { return hits_; }
    int64_t content_hits() const { return content_hits_; }
    int64_t misses() const { return misses_; }

   private:
    friend class PhotoHashCache;
    struct Impl;
    explicit Session(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
    int64_t hits_ = 0, content_hits_ = 0, misses_ = 0;
  };
  // Opens a session (its own SQLite connection); null when the file cannot be opened now
  // (that thread then works without the cache).
  std::unique_ptr<Session> NewSession() const;

  const std::string& path() const { return path_; }

 private:
  PhotoHashCache(std::string path, const PhotoHashCacheOptions& options)
      : path_(std::move(path)), options_(options) {}
  std::string path_;
  PhotoHashCacheOptions options_;
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_PHOTO_HASH_CACHE_H_
