#include "util/sort.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace bonafide {

void SortUint64(std::vector<uint64_t>& v) {
  constexpr size_t kRadixFrom = size_t{1} << 16;  // below, the counters cost more
  if (v.size() < kRadixFrom) {
    std::sort(v.begin(), v.end());
    return;
  }
  // 11-bit digits: 2048 buckets keep every pass's write positions in the L1 cache (16-bit
  // digits were 2.5x slower on 500k keys); all six histograms in one read of the input.
  constexpr int kBits = 11;
  constexpr int kPasses = (64 + kBits - 1) / kBits;
  constexpr size_t kBuckets = size_t{1} << kBits;
  constexpr uint64_t kMask = kBuckets - 1;
  std::vector<size_t> start(kBuckets * kPasses);
  for (const uint64_t x : v) {
    for (int p = 0; p < kPasses; ++p) ++start[p * kBuckets + ((x >> (p * kBits)) & kMask)];
  }
  std::vector<uint64_t> out(v.size());
  for (int p = 0; p < kPasses; ++p) {
    size_t* const pos = &start[p * kBuckets];
    bool one_bucket = false;  // every key has the same digit: the pass would change nothing
    size_t sum = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      one_bucket = one_bucket || pos[b] == v.size();
      sum += std::exchange(pos[b], sum);
    }
    if (one_bucket) continue;
    const int shift = p * kBits;
    for (const uint64_t x : v) out[pos[(x >> shift) & kMask]++] = x;
    v.swap(out);
  }
}

}  // namespace bonafide
