// Differential tests of models/hamming_index.h: FlatIndex (every supported popcount
// kernel) and MultiIndex against a naive loop, on the shared PDQ haystack/needles and on
// random banks with planted neighbours.
#include "models/hamming_index.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "models/pdq.h"
#include "tests/allocation_counter.h"

namespace bonafide::models {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

[[maybe_unused]] void PrintTo(const IndexMatch& m, std::ostream* os) {
  *os << "{id " << m.id << ", distance " << m.distance << "}";
}

int NaiveDistance(const Hash256& a, const Hash256& b) {
  int d = 0;
  for (int w = 0; w < 4; ++w) d += std::popcount(a.words[w] ^ b.words[w]);
  return d;
}

std::vector<IndexMatch> NaiveQuery(const std::vector<Hash256>& bank, const Hash256& q,
                                   int max_distance) {
  std::vector<IndexMatch> out;
  for (size_t i = 0; i < bank.size(); ++i) {
    const int d = NaiveDistance(bank[i], q);
    if (d <= max_distance) out.push_back({static_cast<uint32_t>(i), d});
  }
  return out;
}

std::vector<PopcountKernel> SupportedKernels() {
  std::vector<PopcountKernel> kernels;
  for (PopcountKernel k : {PopcountKernel::kPopcnt, PopcountKernel::kAvx512Vpopcntdq}) {
    if (PopcountKernelSupported(k)) kernels.push_back(k);
  }
  return kernels;
}

// Both indexes over one bank, plus the bank for the naive reference.
struct Indexes {
  explicit Indexes(std::vector<Hash256> hashes)
      : bank(hashes), flat(FlatIndex::Build(hashes)), mih(MultiIndex::Build(hashes)) {}
  std::vector<Hash256> bank;
  FlatIndex flat;
  MultiIndex mih;
};

// Checks that every implementation returns the naive answer; returns that answer.
std::vector<IndexMatch> ExpectAllAgree(const Indexes& ix, const Hash256& q, int max_distance) {
  const int clamped = max_distance > 256 ? 256 : max_distance;
  std::vector<IndexMatch> expected = NaiveQuery(ix.bank, q, clamped);
  std::vector<IndexMatch> got;
  for (PopcountKernel k : SupportedKernels()) {
    ix.flat.QueryWithKernel(k, q, max_distance, got);
    EXPECT_EQ(got, expected) << "flat " << PopcountKernelName(k) << " d=" << max_distance;
  }
  ix.flat.Query(q, max_distance, got);
  EXPECT_EQ(got, expected) << "flat (active kernel) d=" << max_distance;
  MultiIndex::Scratch scratch(ix.mih);
  ix.mih.Query(q, max_distance, scratch, got);
  EXPECT_EQ(got, expected) << "mih d=" << max_distance;
  ix.mih.Query(q, max_distance, got);  // thread_local scratch
  EXPECT_EQ(got, expected) << "mih (thread_local scratch) d=" << max_distance;
  return expected;
}

std::vector<Hash256> ReadHashes(const std::filesystem::path& path) {
  std::vector<Hash256> hashes;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    absl::StatusOr<Hash256> h = HashFromHex(line);
    EXPECT_TRUE(h.ok()) << path << ": " << h.status();
    if (h.ok()) hashes.push_back(*h);
  }
  return hashes;
}

Hash256 RandomHash(std::mt19937_64& rng) {
  Hash256 h;
  for (uint64_t& w : h.words) w = rng();
  return h;
}

// Flips `k` distinct random bits of `h`.
Hash256 FlipBits(const Hash256& base, int k, std::mt19937_64& rng) {
  Hash256 h = base;
  std::vector<int> bits(256);
  for (int i = 0; i < 256; ++i) bits[i] = i;
  std::shuffle(bits.begin(), bits.end(), rng);
  for (int i = 0; i < k; ++i) h.words[bits[i] / 64] ^= uint64_t{1} << (bits[i] % 64);
  return h;
}

void FlipBit(Hash256& h, int bit) { h.words[bit / 64] ^= uint64_t{1} << (bit % 64); }

TEST(PopcountKernelTest, ActiveKernelIsSupportedAndNamed) {
  EXPECT_TRUE(PopcountKernelSupported(PopcountKernel::kPopcnt));
  EXPECT_TRUE(PopcountKernelSupported(ActivePopcountKernel()));
  EXPECT_EQ(PopcountKernelName(PopcountKernel::kPopcnt), "popcnt");
  EXPECT_EQ(PopcountKernelName(PopcountKernel::kAvx512Vpopcntdq), "avx512-vpopcntdq");
  std::printf("active popcount kernel: %s\n",
              std::string(PopcountKernelName(ActivePopcountKernel())).c_str());
}

TEST(HammingIndexTest, PdqHaystackAndNeedles) {
  const std::filesystem::path dir = std::filesystem::path(BONAFIDE_PDQ_DATA) / "reg-test-input";
  // The data ships with the repository (testdata/pdq), so a missing file is a failure.
  ASSERT_TRUE(std::filesystem::exists(dir / "haystack.txt")) << dir;
  ASSERT_TRUE(std::filesystem::exists(dir / "needles.txt")) << dir;
  const std::vector<Hash256> haystack = ReadHashes(dir / "haystack.txt");
  const std::vector<Hash256> needles = ReadHashes(dir / "needles.txt");
  ASSERT_EQ(haystack.size(), 1350u);
  ASSERT_EQ(needles.size(), 100u);
  const Indexes ix(haystack);
  size_t total[4] = {0, 0, 0, 0};
  const int thresholds[4] = {0, 16, 31, 48};
  for (const Hash256& needle : needles) {
    for (int t = 0; t < 4; ++t) total[t] += ExpectAllAgree(ix, needle, thresholds[t]).size();
  }
  // Haystack entries against their own bank: each finds at least itself.
  for (size_t i = 0; i < haystack.size(); i += 7) {
    const std::vector<IndexMatch> self = ExpectAllAgree(ix, haystack[i], 31);
    EXPECT_NE(std::find(self.begin(), self.end(), IndexMatch{static_cast<uint32_t>(i), 0}),
              self.end());
  }
  std::printf("needle matches at d<=0/16/31/48: %zu / %zu / %zu / %zu\n", total[0], total[1],
              total[2], total[3]);
  EXPECT_GT(total[2], 0u) << "the needles are meant to have neighbours in the haystack";
}

TEST(HammingIndexTest, RandomBankWithPlantedNeighbours) {
  std::mt19937_64 rng(20261128);
  constexpr size_t kBankSize = 10000;
  std::vector<Hash256> bank;
  for (size_t i = 0; i < kBankSize; ++i) bank.push_back(RandomHash(rng));
  // Five base hashes (not in the bank), each with neighbours at distances 0..40 planted at
  // random positions.
  struct Planted {
    size_t base;
    int distance;
    uint32_t id;
  };
  std::vector<Hash256> bases;
  std::vector<Planted> planted;
  for (size_t b = 0; b < 5; ++b) {
    bases.push_back(RandomHash(rng));
    for (int d = 0; d <= 40; ++d) {
      const uint32_t id = static_cast<uint32_t>(rng() % kBankSize);
      bank[id] = FlipBits(bases[b], d, rng);
      planted.push_back({b, d, id});
    }
  }
  // A later plant may have overwritten an earlier one; keep the ones still in place.
  std::erase_if(planted, [&](const Planted& p) {
    return NaiveDistance(bank[p.id], bases[p.base]) != p.distance;
  });
  ASSERT_GT(planted.size(), 150u);
  const Indexes ix(bank);
  for (int t : {0, 1, 15, 16, 17, 31, 32, 40, 47, 48, 63}) {
    for (size_t b = 0; b < bases.size(); ++b) {
      const std::vector<IndexMatch> got = ExpectAllAgree(ix, bases[b], t);
      for (const Planted& p : planted) {
        if (p.base != b) continue;
        const bool found =
            std::find(got.begin(), got.end(), IndexMatch{p.id, p.distance}) != got.end();
        EXPECT_EQ(found, p.distance <= t)
            << "base " << b << " planted id " << p.id << " at " << p.distance << ", t=" << t;
      }
    }
  }
  // Random queries with no planted neighbour.
  for (int i = 0; i < 50; ++i) ExpectAllAgree(ix, RandomHash(rng), 31);
}

// The pigeonhole bound is tight: distance 31 spread as 2 bits in 15 slices and 1 bit in
// one slice leaves exactly one slice within radius 1.
TEST(HammingIndexTest, WorstCaseSpreadAcrossSlices) {
  std::mt19937_64 rng(7);
  const Hash256 base = RandomHash(rng);
  std::vector<Hash256> bank;
  for (int i = 0; i < 100; ++i) bank.push_back(RandomHash(rng));
  for (int lone = 0; lone < 16; ++lone) {
    Hash256 h = base;
    for (int s = 0; s < 16; ++s) {
      FlipBit(h, s * 16 + 3);
      if (s != lone) FlipBit(h, s * 16 + 11);
    }
    ASSERT_EQ(NaiveDistance(h, base), 31);
    bank.push_back(h);
  }
  Hash256 all_two = base;  // 2 bits in every slice: 32
  for (int s = 0; s < 16; ++s) {
    FlipBit(all_two, s * 16);
    FlipBit(all_two, s * 16 + 15);
  }
  bank.push_back(all_two);
  Hash256 one_slice = base;  // 16 bits, all in slice 5: the other 15 slices are exact
  for (int i = 0; i < 16; ++i) FlipBit(one_slice, 5 * 16 + i);
  bank.push_back(one_slice);
  const Indexes ix(bank);
  ASSERT_EQ(NaiveDistance(all_two, base), 32);
  EXPECT_EQ(ExpectAllAgree(ix, base, 31).size(), 17u);  // 16 spread + one_slice
  EXPECT_EQ(ExpectAllAgree(ix, base, 30).size(), 1u);
  EXPECT_EQ(ExpectAllAgree(ix, base, 32).size(), 18u);
  EXPECT_EQ(ExpectAllAgree(ix, base, 15).size(), 0u);
  EXPECT_EQ(ExpectAllAgree(ix, base, 16).size(), 1u);
}

TEST(HammingIndexTest, EmptyBank) {
  const Indexes ix({});
  EXPECT_EQ(ix.flat.size(), 0u);
  EXPECT_EQ(ix.mih.size(), 0u);
  std::mt19937_64 rng(1);
  for (int t : {-1, 0, 31, 255, 256}) {
    EXPECT_THAT(ExpectAllAgree(ix, RandomHash(rng), t), IsEmpty());
  }
  FlatIndex default_flat;
  MultiIndex default_mih;
  std::vector<IndexMatch> out = {{1, 1}};
  default_flat.Query(RandomHash(rng), 31, out);
  EXPECT_THAT(out, IsEmpty());
  out = {{1, 1}};
  default_mih.Query(RandomHash(rng), 31, out);
  EXPECT_THAT(out, IsEmpty());
}

TEST(HammingIndexTest, DuplicateHashesAreAllReturned) {
  std::mt19937_64 rng(2);
  const Hash256 a = RandomHash(rng);
  const Hash256 b = FlipBits(a, 3, rng);
  std::vector<Hash256> bank = {a, RandomHash(rng), a, b, a, RandomHash(rng), b, a};
  const Indexes ix(bank);
  EXPECT_THAT(ExpectAllAgree(ix, a, 0),
              ElementsAre(IndexMatch{0, 0}, IndexMatch{2, 0}, IndexMatch{4, 0}, IndexMatch{7, 0}));
  EXPECT_THAT(ExpectAllAgree(ix, a, 3),
              ElementsAre(IndexMatch{0, 0}, IndexMatch{2, 0}, IndexMatch{3, 3}, IndexMatch{4, 0},
                          IndexMatch{6, 3}, IndexMatch{7, 0}));
}

TEST(HammingIndexTest, ExtremeThresholds) {
  std::mt19937_64 rng(3);
  const Hash256 q = RandomHash(rng);
  Hash256 complement;
  for (int w = 0; w < 4; ++w) complement.words[w] = ~q.words[w];
  std::vector<Hash256> bank = {q, complement, FlipBits(q, 1, rng), FlipBits(q, 255, rng)};
  for (int i = 0; i < 200; ++i) bank.push_back(RandomHash(rng));
  const Indexes ix(bank);
  EXPECT_THAT(ExpectAllAgree(ix, q, 0), ElementsAre(IndexMatch{0, 0}));
  EXPECT_EQ(ExpectAllAgree(ix, q, 255).size(), bank.size() - 1);  // all but the complement
  EXPECT_EQ(ExpectAllAgree(ix, q, 256).size(), bank.size());
  EXPECT_EQ(ExpectAllAgree(ix, q, 1000).size(), bank.size());  // clamped to 256
  EXPECT_THAT(ExpectAllAgree(ix, q, -1), IsEmpty());
  for (int t : {64, 79, 80, 100, 128}) ExpectAllAgree(ix, q, t);  // MIH scans all
}

// Sizes around the 8-hash block of the flat layout.
TEST(HammingIndexTest, BankSizesAroundBlockBoundaries) {
  std::mt19937_64 rng(4);
  const Hash256 q = RandomHash(rng);
  for (size_t n = 1; n <= 33; ++n) {
    std::vector<Hash256> bank;
    for (size_t i = 0; i < n; ++i) {
      bank.push_back(i % 3 == 0 ? FlipBits(q, static_cast<int>(i % 40), rng) : RandomHash(rng));
    }
    const Indexes ix(bank);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(NaiveDistance(ix.flat.hash(static_cast<uint32_t>(i)), bank[i]), 0);
      EXPECT_EQ(NaiveDistance(ix.mih.hash(static_cast<uint32_t>(i)), bank[i]), 0);
    }
    for (int t : {0, 31, 128, 256}) ExpectAllAgree(ix, q, t);
  }
}

TEST(HammingIndexTest, MemoryIsDocumented) {
  std::mt19937_64 rng(5);
  std::vector<Hash256> bank;
  for (int i = 0; i < 1000; ++i) bank.push_back(RandomHash(rng));
  const Indexes ix(bank);
  EXPECT_EQ(ix.flat.memory_bytes(), 1000u * 32);
  EXPECT_EQ(ix.mih.memory_bytes(), 1000u * (32 + 64) + 16u * 65537 * 4);
}

TEST(HammingIndexTest, QueriesDoNotAllocateWhenWarm) {
  std::mt19937_64 rng(6);
  std::vector<Hash256> bank;
  for (int i = 0; i < 20000; ++i) bank.push_back(RandomHash(rng));
  std::vector<Hash256> queries;
  for (int i = 0; i < 50; ++i) {
    queries.push_back(i % 2 ? RandomHash(rng) : FlipBits(bank[i * 300], i % 40, rng));
  }
  const FlatIndex flat = FlatIndex::Build(bank);
  const MultiIndex mih = MultiIndex::Build(bank);
  MultiIndex::Scratch scratch(mih);
  std::vector<IndexMatch> out;
  const std::vector<PopcountKernel> kernels = SupportedKernels();
  const auto run = [&] {
    for (const Hash256& q : queries) {
      for (int t : {0, 31, 48}) {
        for (PopcountKernel k : kernels) flat.QueryWithKernel(k, q, t, out);
        flat.Query(q, t, out);
        mih.Query(q, t, scratch, out);
        mih.Query(q, t, out);
      }
    }
  };
  run();  // warm up: grows out, the candidate list and the thread_local scratch
  const int64_t before = testing::AllocationCount();
  run();
  EXPECT_EQ(testing::AllocationCount() - before, 0);
}

TEST(HammingIndexTest, ConcurrentQueriesAgree) {
  std::mt19937_64 rng(8);
  std::vector<Hash256> bank;
  for (int i = 0; i < 5000; ++i) bank.push_back(RandomHash(rng));
  std::vector<Hash256> queries;
  for (int i = 0; i < 200; ++i) queries.push_back(FlipBits(bank[i * 20], i % 40, rng));
  const Indexes ix(bank);
  std::vector<std::vector<IndexMatch>> expected;
  for (const Hash256& q : queries) expected.push_back(NaiveQuery(bank, q, 31));
  std::atomic<int> mismatches{0};  // relaxed: only read after join
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      MultiIndex::Scratch scratch(ix.mih);
      std::vector<IndexMatch> out;
      for (int rep = 0; rep < 5; ++rep) {
        for (size_t i = 0; i < queries.size(); ++i) {
          ix.mih.Query(queries[i], 31, scratch, out);
          if (out != expected[i]) mismatches.fetch_add(1, std::memory_order_relaxed);
          ix.mih.Query(queries[i], 31, out);
          if (out != expected[i]) mismatches.fetch_add(1, std::memory_order_relaxed);
          ix.flat.Query(queries[i], 31, out);
          if (out != expected[i]) mismatches.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace bonafide::models
