#include "bonafide/shard.h"

#include <array>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace bonafide {
namespace {

TEST(ParseShardTest, ReadsIndexAndCount) {
  auto shard = ParseShard("3/16");
  ASSERT_TRUE(shard.ok()) << shard.status();
  EXPECT_EQ(shard->index, 3u);
  EXPECT_EQ(shard->count, 16u);
  EXPECT_EQ(shard->ToString(), "3/16");
  EXPECT_FALSE(shard->whole());
  auto one = ParseShard("0/1");
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->whole());
}

TEST(ParseShardTest, RefusesWhatIsNotAShardNamingIt) {
  for (const char* bad : {"", "3", "/4", "3/", "4/4", "5/4", "0/0", "-1/4", "+1/4", "1/4x", "1 /4",
                          "a/b", "1/2/3", "0/1048577", "99999999999/1"}) {
    auto shard = ParseShard(bad);
    ASSERT_FALSE(shard.ok()) << bad;
    EXPECT_EQ(shard.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(shard.status().message().find(std::string("\"") + bad + "\""), std::string::npos)
        << shard.status();
  }
  EXPECT_TRUE(ParseShard("1048575/1048576").ok());
}

// The hash is a contract other tools reproduce (docs/scale-out.md gives these values and a
// reference implementation): it must never change.
TEST(ShardHashTest, MatchesTheDocumentedValues) {
  EXPECT_EQ(ShardHash("default", "lst-1"), 0xe13369d07be30732ULL);
  EXPECT_EQ(ShardHash("amazon.de", "B0000042"), 0x6162202be4e4daaaULL);
  EXPECT_EQ(ShardHash("", ""), 0xb9034ad37056f5fbULL);
  EXPECT_EQ(ShardHash("shop",
                      "\xc3\x9c"
                      "n\xc3\xaf"
                      "code"),
            0xbaea8b46b745508aULL);
  // The zero byte between the parts: moving a character across the boundary changes it.
  EXPECT_NE(ShardHash("ab", "c"), ShardHash("a", "bc"));
}

TEST(ShardHashTest, SpreadsSequentialIdsEvenlyOverAnyCount) {
  for (const uint32_t count : {2u, 3u, 4u, 16u}) {
    std::array<int, 16> per_shard{};
    constexpr int kIds = 16000;
    for (int i = 0; i < kIds; ++i) {
      ++per_shard[ShardHash("default", "lst-" + std::to_string(i)) % count];
    }
    for (uint32_t s = 0; s < count; ++s) {
      // Within 10% of an even split (binomial spread is about 1-2% here).
      EXPECT_NEAR(per_shard[s], kIds / count, kIds / count / 10) << s << "/" << count;
    }
  }
}

TEST(InShardTest, EveryListingIsInExactlyOneShard) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "id" + std::to_string(i);
    int shards = 0;
    for (uint32_t s = 0; s < 5; ++s) shards += InShard("m", id, {.index = s, .count = 5}) ? 1 : 0;
    EXPECT_EQ(shards, 1) << id;
    EXPECT_TRUE(InShard("m", id, Shard{}));
  }
}

}  // namespace
}  // namespace bonafide
