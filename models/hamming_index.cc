#include "models/hamming_index.h"

#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstring>
#include <new>

namespace bonafide::models {
namespace {

constexpr size_t kHashWords = 4;

// Slice s covers bits [16 * (s % 4), 16 * (s % 4) + 16) of word s / 4.
inline uint32_t Slice(const Hash256& h, int s) {
  return static_cast<uint32_t>(h.words[s >> 2] >> ((s & 3) * 16)) & 0xffffu;
}

// Clamps max_distance into [-1, 256]; -1 means "matches nothing".
inline int ClampDistance(int max_distance) {
  return max_distance < 0 ? -1 : std::min(max_distance, 256);
}

// All 16-bit masks of popcount <= MultiIndex::kMaxProbeRadius, by ascending popcount;
// the first kProbeCount[r] of them are the masks of popcount <= r.
constexpr std::array<int, 4> kProbeCount = {1, 1 + 16, 1 + 16 + 120, 1 + 16 + 120 + 560};
static_assert(MultiIndex::kMaxProbeRadius + 1 == kProbeCount.size());

constexpr std::array<uint16_t, kProbeCount.back()> MakeProbeMasks() {
  std::array<uint16_t, kProbeCount.back()> masks{};
  size_t n = 0;
  for (int weight = 0; weight <= MultiIndex::kMaxProbeRadius; ++weight) {
    for (uint32_t m = 0; m < 65536; ++m) {
      if (std::popcount(m) == weight) masks[n++] = static_cast<uint16_t>(m);
    }
  }
  return masks;
}
constexpr std::array<uint16_t, kProbeCount.back()> kProbeMasks = MakeProbeMasks();

// --- flat scan kernels -------------------------------------------------------------------
// Both walk blocks of 8 hashes stored word-major (see FlatIndex) and append, in id order,
// every id < size with distance <= max_distance. REQUIRES: max_distance >= 0.

void ScanPopcnt(const uint64_t* blocks, size_t num_blocks, size_t size, const Hash256& q,
                int max_distance, std::vector<IndexMatch>& out) {
  const uint64_t q0 = q.words[0], q1 = q.words[1], q2 = q.words[2], q3 = q.words[3];
  for (size_t b = 0; b < num_blocks; ++b) {
    const uint64_t* p = blocks + b * 32;
    for (size_t lane = 0; lane < 8; ++lane) {
      const int d = std::popcount(p[lane] ^ q0) + std::popcount(p[8 + lane] ^ q1) +
                    std::popcount(p[16 + lane] ^ q2) + std::popcount(p[24 + lane] ^ q3);
      if (d <= max_distance) [[unlikely]] {
        const size_t id = b * 8 + lane;
        if (id < size) out.push_back({static_cast<uint32_t>(id), d});
      }
    }
  }
}

__attribute__((target("avx512f,avx512vpopcntdq"))) void ScanAvx512(const uint64_t* blocks,
                                                                   size_t num_blocks, size_t size,
                                                                   const Hash256& q,
                                                                   int max_distance,
                                                                   std::vector<IndexMatch>& out) {
  const __m512i q0 = _mm512_set1_epi64(static_cast<long long>(q.words[0]));
  const __m512i q1 = _mm512_set1_epi64(static_cast<long long>(q.words[1]));
  const __m512i q2 = _mm512_set1_epi64(static_cast<long long>(q.words[2]));
  const __m512i q3 = _mm512_set1_epi64(static_cast<long long>(q.words[3]));
  const __m512i limit = _mm512_set1_epi64(max_distance);
  for (size_t b = 0; b < num_blocks; ++b) {
    const uint64_t* p = blocks + b * 32;
    const __m512i d01 =
        _mm512_add_epi64(_mm512_popcnt_epi64(_mm512_xor_si512(_mm512_load_si512(p), q0)),
                         _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_load_si512(p + 8), q1)));
    const __m512i d23 =
        _mm512_add_epi64(_mm512_popcnt_epi64(_mm512_xor_si512(_mm512_load_si512(p + 16), q2)),
                         _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_load_si512(p + 24), q3)));
    const __m512i d = _mm512_add_epi64(d01, d23);
    __mmask8 hits = _mm512_cmple_epu64_mask(d, limit);
    if (hits != 0) [[unlikely]] {
      alignas(64) uint64_t dist[8];
      _mm512_store_si512(dist, d);
      while (hits != 0) {
        const int lane = std::countr_zero(static_cast<unsigned>(hits));
        hits = static_cast<__mmask8>(hits & (hits - 1));
        const size_t id = b * 8 + static_cast<size_t>(lane);
        if (id < size) out.push_back({static_cast<uint32_t>(id), static_cast<int>(dist[lane])});
      }
    }
  }
}

PopcountKernel DetectKernel() {
  __builtin_cpu_init();
  return PopcountKernelSupported(PopcountKernel::kAvx512Vpopcntdq)
             ? PopcountKernel::kAvx512Vpopcntdq
             : PopcountKernel::kPopcnt;
}

}  // namespace

bool PopcountKernelSupported(PopcountKernel kernel) {
  switch (kernel) {
    case PopcountKernel::kPopcnt:
      return true;  // the build floor (x86-64-v2)
    case PopcountKernel::kAvx512Vpopcntdq:
      // libgcc also checks that the OS saves the ZMM and mask registers (XGETBV).
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
  }
  return false;
}

PopcountKernel ActivePopcountKernel() {
  static const PopcountKernel kernel = DetectKernel();
  return kernel;
}

std::string_view PopcountKernelName(PopcountKernel kernel) {
  switch (kernel) {
    case PopcountKernel::kPopcnt:
      return "popcnt";
    case PopcountKernel::kAvx512Vpopcntdq:
      return "avx512-vpopcntdq";
  }
  return "unknown";
}

namespace internal {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kHugeThreshold = size_t{4} << 20;

size_t AllocationAlignment(size_t bytes) { return bytes >= kHugeThreshold ? kHugePage : 64; }
size_t AllocationSize(size_t bytes) {
  const size_t align = AllocationAlignment(bytes);
  return (bytes + align - 1) / align * align;
}
}  // namespace

void* AllocateLarge(size_t bytes) {
  if (bytes == 0) return nullptr;
  const size_t size = AllocationSize(bytes);
  void* p = ::operator new (size, std::align_val_t{AllocationAlignment(bytes)});
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Advisory: without THP support the call fails and the pages stay 4 KB.
  if (size >= kHugeThreshold) (void)madvise(p, size, MADV_HUGEPAGE);
#endif
  std::memset(p, 0, size);
  return p;
}

void FreeLarge(void* p, size_t bytes) {
  if (p == nullptr) return;
  ::operator delete (p, AllocationSize(bytes), std::align_val_t{AllocationAlignment(bytes)});
}

}  // namespace internal

// --- FlatIndex ---------------------------------------------------------------------------

FlatIndex FlatIndex::Build(std::vector<Hash256> hashes) {
  assert(hashes.size() < (size_t{1} << 32));
  FlatIndex index;
  index.size_ = hashes.size();
  index.num_blocks_ = (hashes.size() + kBlockHashes - 1) / kBlockHashes;
  // Zeroed; the padding lanes of the last block are never reported.
  index.blocks_ = internal::LargeArray<uint64_t>(index.num_blocks_ * kBlockWords);
  uint64_t* blocks = index.blocks_.data();
  for (size_t i = 0; i < hashes.size(); ++i) {
    uint64_t* block = blocks + (i / kBlockHashes) * kBlockWords;
    for (size_t w = 0; w < kHashWords; ++w) {
      block[w * kBlockHashes + i % kBlockHashes] = hashes[i].words[w];
    }
  }
  return index;
}

Hash256 FlatIndex::hash(uint32_t id) const {
  assert(id < size_);
  const uint64_t* block = blocks_.data() + (id / kBlockHashes) * kBlockWords;
  Hash256 h;
  for (size_t w = 0; w < kHashWords; ++w) h.words[w] = block[w * kBlockHashes + id % kBlockHashes];
  return h;
}

void FlatIndex::Query(const Hash256& query, int max_distance, std::vector<IndexMatch>& out) const {
  QueryWithKernel(ActivePopcountKernel(), query, max_distance, out);
}

void FlatIndex::QueryWithKernel(PopcountKernel kernel, const Hash256& query, int max_distance,
                                std::vector<IndexMatch>& out) const {
  assert(PopcountKernelSupported(kernel));
  out.clear();
  max_distance = ClampDistance(max_distance);
  if (max_distance < 0 || size_ == 0) return;
  if (kernel == PopcountKernel::kAvx512Vpopcntdq) {
    ScanAvx512(blocks_.data(), num_blocks_, size_, query, max_distance, out);
  } else {
    ScanPopcnt(blocks_.data(), num_blocks_, size_, query, max_distance, out);
  }
}

// --- MultiIndex --------------------------------------------------------------------------

MultiIndex::Scratch::Scratch(const MultiIndex& index) {
  const size_t n = index.size();
  seen_.assign((n + 63) / 64, 0);
  // About twice the expected candidate count at max_distance 31 on a uniform bank.
  candidates_.reserve(std::min(n, 1024 + n / 128));
  buckets_.reserve(kNumSlices * kProbeCount.back());
}

MultiIndex MultiIndex::Build(std::vector<Hash256> hashes) {
  assert(hashes.size() < (size_t{1} << 32));
  MultiIndex index;
  const size_t n = hashes.size();
  index.hashes_ = internal::LargeArray<Hash256>(n);
  if (n > 0) std::memcpy(index.hashes_.data(), hashes.data(), n * sizeof(Hash256));
  hashes = std::vector<Hash256>();  // release early: the build peaks at ~2x the hashes
  index.offsets_ = internal::LargeArray<uint32_t>(kNumSlices * (kSliceValues + 1));
  index.ids_ = internal::LargeArray<uint32_t>(kNumSlices * n);
  std::vector<uint32_t> cursor(kSliceValues);
  for (int s = 0; s < kNumSlices; ++s) {
    // Counting sort of the ids by slice value; stable, so each bucket is ascending.
    uint32_t* offsets = index.offsets_.data() + s * (kSliceValues + 1);
    uint32_t* ids = index.ids_.data() + s * n;
    for (size_t i = 0; i < n; ++i) ++offsets[Slice(index.hashes_[i], s) + 1];
    for (size_t v = 0; v < kSliceValues; ++v) offsets[v + 1] += offsets[v];
    std::copy(offsets, offsets + kSliceValues, cursor.begin());
    for (size_t i = 0; i < n; ++i) {
      ids[cursor[Slice(index.hashes_[i], s)]++] = static_cast<uint32_t>(i);
    }
  }
  return index;
}

size_t MultiIndex::memory_bytes() const {
  return hashes_.size() * sizeof(Hash256) + offsets_.size() * sizeof(uint32_t) +
         ids_.size() * sizeof(uint32_t);
}

void MultiIndex::ScanAll(const Hash256& query, int max_distance,
                         std::vector<IndexMatch>& out) const {
  for (size_t i = 0; i < hashes_.size(); ++i) {
    const int d = HammingDistance(hashes_[i], query);
    if (d <= max_distance) out.push_back({static_cast<uint32_t>(i), d});
  }
}

void MultiIndex::Query(const Hash256& query, int max_distance, Scratch& scratch,
                       std::vector<IndexMatch>& out) const {
  out.clear();
  max_distance = ClampDistance(max_distance);
  const size_t n = hashes_.size();
  if (max_distance < 0 || n == 0) return;
  const int radius = max_distance / kSliceBits;
  if (radius > kMaxProbeRadius) {
    ScanAll(query, max_distance, out);
    return;
  }

  // Collect the distinct ids that share a slice within `radius` of the query's slice.
  if (scratch.seen_.size() < (n + 63) / 64) scratch.seen_.resize((n + 63) / 64, 0);
  uint64_t* seen = scratch.seen_.data();
  std::vector<uint32_t>& candidates = scratch.candidates_;
  candidates.clear();

  // The probed buckets, as positions in offsets_ (slice-major): bucket b holds
  // ids_[offsets_[b] + s * n .. offsets_[b + 1] + s * n).
  const int num_probes = kProbeCount[radius];
  std::vector<uint32_t>& buckets = scratch.buckets_;
  buckets.resize(static_cast<size_t>(kNumSlices) * num_probes);
  for (int s = 0, p = 0; s < kNumSlices; ++s) {
    const uint32_t base = static_cast<uint32_t>(s * (kSliceValues + 1));
    const uint32_t value = Slice(query, s);
    for (int k = 0; k < num_probes; ++k) buckets[p++] = base + (value ^ kProbeMasks[k]);
  }

  // Walk the buckets with a two-stage software pipeline: the offsets of bucket p + 2D and
  // the ids of bucket p + D are prefetched while bucket p is read (each is a likely cache
  // miss in a bank of millions).
  constexpr size_t kAhead = 8;
  const uint32_t* offsets = offsets_.data();
  const size_t num_buckets = buckets.size();
  for (size_t p = 0; p < std::min(num_buckets, 2 * kAhead); ++p) {
    __builtin_prefetch(&offsets[buckets[p]]);
  }
  for (size_t p = 0; p < num_buckets; ++p) {
    if (p + 2 * kAhead < num_buckets) __builtin_prefetch(&offsets[buckets[p + 2 * kAhead]]);
    if (p + kAhead < num_buckets) {
      const uint32_t b = buckets[p + kAhead];
      __builtin_prefetch(&ids_[(b / (kSliceValues + 1)) * n + offsets[b]]);
    }
    const uint32_t b = buckets[p];
    const uint32_t* ids = ids_.data() + (b / (kSliceValues + 1)) * n;
    for (uint32_t j = offsets[b], end = offsets[b + 1]; j < end; ++j) {
      const uint32_t id = ids[j];
      const uint64_t bit = uint64_t{1} << (id & 63);
      if ((seen[id >> 6] & bit) == 0) {
        seen[id >> 6] |= bit;
        candidates.push_back(id);
      }
    }
  }

  // Verify with the full distance; the loads are independent, so prefetch a few ahead.
  constexpr size_t kPrefetchAhead = 16;
  const Hash256* hashes = hashes_.data();
  const size_t num_candidates = candidates.size();
  for (size_t i = 0; i < num_candidates; ++i) {
    if (i + kPrefetchAhead < num_candidates) {
      __builtin_prefetch(&hashes[candidates[i + kPrefetchAhead]]);
    }
    const uint32_t id = candidates[i];
    const int d = HammingDistance(hashes[id], query);
    if (d <= max_distance) out.push_back({id, d});
  }
  // Leave the bitset all zero: every set bit belongs to a candidate.
  for (uint32_t id : candidates) seen[id >> 6] = 0;
  std::sort(out.begin(), out.end(),
            [](const IndexMatch& a, const IndexMatch& b) { return a.id < b.id; });
}

void MultiIndex::Query(const Hash256& query, int max_distance, std::vector<IndexMatch>& out) const {
  thread_local Scratch scratch;
  Query(query, max_distance, scratch, out);
}

}  // namespace bonafide::models
