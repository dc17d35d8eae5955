// Exact Hamming-radius search over a bank of 256-bit PDQ hashes.
//
// Two interchangeable indexes return exactly the same matches:
//   - FlatIndex scans every hash (packed, 32 bytes per hash) with the popcount kernel
//     chosen at run time: POPCNT (the x86-64-v2 build floor) or AVX-512 VPOPCNTDQ when
//     the CPU has it. Best for banks up to ~100k hashes or large radii.
//   - MultiIndex is multi-index hashing (Norouzi et al.): the hash is cut into 16 slices of
//     16 bits; if two hashes are within distance d, at least one slice is within
//     floor(d / 16) of the query's slice (pigeonhole). Every slice value within that radius
//     is probed, the candidates are deduplicated and verified with the full popcount.
//     Best for banks of millions of hashes and d < 64.
//
// Usage:
//   std::vector<Hash256> bank = ...;               // ids are positions in this vector
//   auto index = std::make_shared<const MultiIndex>(MultiIndex::Build(std::move(bank)));
//   MultiIndex::Scratch scratch(*index);            // one per thread, reused
//   std::vector<IndexMatch> matches;                // caller-owned, reused
//   index->Query(query, /*max_distance=*/31, scratch, matches);
//
// Results: `out` is cleared, then holds every id whose distance to the query is
// <= max_distance, sorted by ascending id (each id once, with its exact distance). A
// negative max_distance matches nothing; a value above 256 behaves as 256.
//
// Queries do not allocate once the output vector (and, for MultiIndex, the scratch) has
// grown to the largest result (candidate) count seen.
//
// Ownership: Build takes the hashes by value (move them in); an index keeps no pointer to
// caller memory, and Query keeps none to its arguments. Arrays of 4 MB or more are
// advised for 2 MB transparent huge pages (see internal::LargeArray).
#ifndef BONAFIDE_MODELS_HAMMING_INDEX_H_
#define BONAFIDE_MODELS_HAMMING_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "models/pdq.h"

namespace bonafide::models {

static_assert(sizeof(Hash256) == 32, "the indexes assume a packed 256-bit hash");
static_assert(alignof(Hash256) == 32, "the indexes assume a 32-byte aligned hash");

// One hit: the bank position of the hash and its Hamming distance to the query.
struct IndexMatch {
  uint32_t id;
  int distance;
  friend bool operator==(const IndexMatch&, const IndexMatch&) = default;
};

// The popcount kernel that the flat scan uses.
enum class PopcountKernel {
  kPopcnt,           // scalar POPCNT, 4 per hash (the x86-64-v2 floor; always available)
  kAvx512Vpopcntdq,  // AVX-512F + VPOPCNTDQ, 8 hashes per step
};

// Returns whether this CPU (and OS) can run `kernel`.
bool PopcountKernelSupported(PopcountKernel kernel);
// Returns the fastest supported kernel; chosen once per process. Queries use it.
PopcountKernel ActivePopcountKernel();
// Returns "popcnt" or "avx512-vpopcntdq" (for logs and benchmark labels).
std::string_view PopcountKernelName(PopcountKernel kernel);

namespace internal {

// A fixed-size array of trivially copyable T in one allocation, 64-byte aligned. Buffers
// of 4 MB or more are 2 MB aligned and advised for transparent huge pages (on Linux) before
// first touch: random probes into a 100 MB index otherwise pay a TLB miss each, and the
// flat scan's hardware prefetch stops at every 4 KB page. Contents start zeroed.
// Thread-compatible; movable, not copyable.
template <typename T>
class LargeArray {
 public:
  LargeArray() = default;
  explicit LargeArray(size_t size)
      : data_(static_cast<T*>(Allocate(size * sizeof(T)))), size_(size) {}
  LargeArray(LargeArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  LargeArray& operator=(LargeArray&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  LargeArray(const LargeArray&) = delete;
  LargeArray& operator=(const LargeArray&) = delete;
  ~LargeArray() { Free(data_, size_ * sizeof(T)); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  static_assert(std::is_trivially_copyable_v<T> && alignof(T) <= 64);
  static void* Allocate(size_t bytes);  // zeroed; nullptr for 0 bytes
  static void Free(void* p, size_t bytes);

  T* data_ = nullptr;
  size_t size_ = 0;
};

void* AllocateLarge(size_t bytes);
void FreeLarge(void* p, size_t bytes);
template <typename T>
void* LargeArray<T>::Allocate(size_t bytes) {
  return AllocateLarge(bytes);
}
template <typename T>
void LargeArray<T>::Free(void* p, size_t bytes) {
  FreeLarge(p, bytes);
}

}  // namespace internal

// Brute-force scan over all hashes.
//
// Layout: hashes are stored in blocks of 8; a block holds word 0 of its 8 hashes, then word
// 1, 2, 3 (256 bytes), so one AVX-512 step computes 8 distances. Memory: 32 bytes per hash
// rounded up to a multiple of 8 hashes (1M hashes = 32 MB).
//
// Thread-safety: immutable after Build; Query may run concurrently from any number of
// threads. Movable, not copyable (it can be large; share it as
// std::shared_ptr<const FlatIndex>).
class FlatIndex {
 public:
  // Builds the index; id i is hashes[i]. REQUIRES: hashes.size() < 2^32.
  static FlatIndex Build(std::vector<Hash256> hashes);

  FlatIndex() = default;  // an empty index
  FlatIndex(FlatIndex&&) noexcept = default;
  FlatIndex& operator=(FlatIndex&&) noexcept = default;
  FlatIndex(const FlatIndex&) = delete;
  FlatIndex& operator=(const FlatIndex&) = delete;

  // Replaces `out` with all ids within max_distance of `query`, ascending by id (see the
  // file comment). Uses ActivePopcountKernel().
  void Query(const Hash256& query, int max_distance, std::vector<IndexMatch>& out) const;
  // Same, with an explicit kernel (tests and benchmarks).
  // REQUIRES: PopcountKernelSupported(kernel).
  void QueryWithKernel(PopcountKernel kernel, const Hash256& query, int max_distance,
                       std::vector<IndexMatch>& out) const;

  // Returns the number of hashes.
  size_t size() const { return size_; }
  // Returns hash `id`. REQUIRES: id < size().
  Hash256 hash(uint32_t id) const;
  // Returns the bytes held by the index (before rounding up to whole 2 MB pages).
  size_t memory_bytes() const { return num_blocks_ * kBlockWords * sizeof(uint64_t); }

 private:
  static constexpr size_t kBlockHashes = 8;
  static constexpr size_t kBlockWords = 4 * kBlockHashes;

  internal::LargeArray<uint64_t> blocks_;  // num_blocks_ * kBlockWords words
  size_t num_blocks_ = 0;
  size_t size_ = 0;
};

// Multi-index hashing: 16 tables, one per 16-bit slice, each mapping a slice value to the
// ids that have it, plus the hashes themselves for verification.
//
// Tables: because a slice has only 65,536 values, each table is a direct-addressed
// "sorted array" (CSR): 65,537 uint32 offsets into a uint32 id array ordered by slice
// value, then by id. No hashing, and a probe is two loads.
// Memory: 32 bytes per hash (the hashes) + 64 bytes per hash (16 ids) + 4 MB of offsets
// (16 x 65,537 x 4 bytes): 1M hashes = 32 + 64 + 4 = 100 MB. Each Scratch adds
// size()/8 bytes of bitset (128 KB for 1M), 4 bytes per candidate and 44 KB of probe list.
//
// Cost: a query with max_distance d probes 16 * sum_{k<=r} C(16, k) slice values with
// r = floor(d / 16): 16 for d < 16, 272 for d < 32, 2,192 for d < 48, 11,152 for d < 64.
// On a uniform bank each probe yields ~size()/65,536 candidates (~4k for 1M hashes at
// d = 31). For d >= 64 probing would touch most of the bank, so the query instead scans
// all hashes with scalar POPCNT (same results, flat cost).
//
// Thread-safety: immutable after Build; Query may run concurrently, each thread with its
// own Scratch. Movable, not copyable (share it as std::shared_ptr<const MultiIndex>).
class MultiIndex {
 public:
  static constexpr int kNumSlices = 16;
  static constexpr int kSliceBits = 16;
  // Radius (per slice) above which Query scans all hashes instead of probing.
  static constexpr int kMaxProbeRadius = 3;

  // Per-query working memory: a bitset over ids (all zero between queries) and a
  // candidate list. One per thread (not thread-safe); reuse it across queries and across
  // indexes. Movable, not copyable.
  class Scratch {
   public:
    Scratch() = default;
    // Pre-sizes the bitset for `index` so that even the first query allocates only for
    // candidates.
    explicit Scratch(const MultiIndex& index);
    Scratch(Scratch&&) noexcept = default;
    Scratch& operator=(Scratch&&) noexcept = default;
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

   private:
    friend class MultiIndex;
    std::vector<uint64_t> seen_;        // bit per id; cleared after every query
    std::vector<uint32_t> candidates_;  // distinct candidate ids of the current query
    std::vector<uint32_t> buckets_;     // the buckets probed by the current query
  };

  // Builds the index; id i is hashes[i]. REQUIRES: hashes.size() < 2^32.
  static MultiIndex Build(std::vector<Hash256> hashes);

  MultiIndex() = default;  // an empty index
  MultiIndex(MultiIndex&&) noexcept = default;
  MultiIndex& operator=(MultiIndex&&) noexcept = default;
  MultiIndex(const MultiIndex&) = delete;
  MultiIndex& operator=(const MultiIndex&) = delete;

  // Replaces `out` with all ids within max_distance of `query`, ascending by id: exactly
  // what FlatIndex returns for the same bank. `scratch` is grown as needed and left ready
  // for the next query.
  void Query(const Hash256& query, int max_distance, Scratch& scratch,
             std::vector<IndexMatch>& out) const;
  // Same, with a thread_local Scratch (no allocation once warm on that thread).
  void Query(const Hash256& query, int max_distance, std::vector<IndexMatch>& out) const;

  // Returns the number of hashes.
  size_t size() const { return hashes_.size(); }
  // Returns hash `id`. REQUIRES: id < size().
  const Hash256& hash(uint32_t id) const { return hashes_[id]; }
  // Returns the bytes held by the index (hashes, offsets, ids; before page rounding).
  size_t memory_bytes() const;

 private:
  static constexpr size_t kSliceValues = size_t{1} << kSliceBits;

  void ScanAll(const Hash256& query, int max_distance, std::vector<IndexMatch>& out) const;

  internal::LargeArray<Hash256> hashes_;
  // offsets_[s * (kSliceValues + 1) + v] .. [.. + v + 1] delimit, in ids_[s * size()...],
  // the ids whose slice s equals v.
  internal::LargeArray<uint32_t> offsets_;
  internal::LargeArray<uint32_t> ids_;
};

}  // namespace bonafide::models

#endif  // BONAFIDE_MODELS_HAMMING_INDEX_H_
