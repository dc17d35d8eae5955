// LoadRulePackCached: a warm start gives exactly the pack LoadRulePack gives, and any change
// to what LoadRulePack reads is seen; the cache file format keeps every field and refuses
// anything it did not write.
#include "rules/rule_pack_cache.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tests/temp_dir.h"
#include "util/files.h"

namespace bonafide::rules {
namespace {

namespace fs = std::filesystem;

// Every field of every struct set to something other than its default, so that a field the
// cache forgets comes back different.
RulePack FullPack() {
  RulePack pack;
  pack.directory = "/rules";
  pack.policy.currency = "CHF";
  pack.policy.fx_date = "2026-11-27";
  pack.policy.fx = {{"CHF", 1.0}, {"USD", 0.86}};
  pack.policy.threshold = 1.5;
  pack.policy.weights = {1.1, 1.2, 1.3, 0.6, 0.9, 0.4};
  pack.policy.image = {30, 40};
  CueRule cue;
  cue.id = "cue.replica";
  cue.version = 3;
  cue.mode = RuleMode::kShadow;
  cue.phrases = {"replica", "1:1"};
  cue.regex = "aaa+";
  cue.weight = 0.9;
  cue.examples_match = {"a replica"};
  cue.examples_no_match = {"replicate"};
  cue.location = {"/rules/cues.yaml", 3, 5};
  pack.cues = {cue, cue};
  pack.cues[1].mode = RuleMode::kOff;
  pack.context = {{"for"},  {"cable"},     {"with"},
                  {"used"}, {"empty box"}, {"/rules/context.yaml", 1, 1}};
  RightsHolder holder;
  holder.id = "acme";
  holder.name = "ACME Corp";
  holder.threshold = 2.0;
  holder.brands.push_back(
      {"acme", {"acm3"}, {"acme pie"}, {{"acme shoes"}, {"acme pie"}}, {"/rules/a.yaml", 4, 3}});
  holder.authorized_sellers = {"s-1"};
  Product product;
  product.id = "acme-runner";
  product.name = "ACME Runner";
  product.keywords = {"runner 22"};
  product.category = "shoes";
  product.reference_price = Money{180, "EUR"};
  product.min_price_ratio = 0.4;
  product.images = {"/rules/rights_holders/photos/a.jpg"};
  product.exclude = {"runner bean"};
  product.examples = {{"acme runner 22"}, {"runner bean seeds"}};
  product.location = {"/rules/a.yaml", 9, 5};
  holder.products = {product};
  holder.location = {"/rules/a.yaml", 1, 1};
  pack.rights_holders = {holder};
  pack.warnings = {{{"/rules/rights_holders/notes.txt", 0, 0}, "not a rules file"}};
  return pack;
}

TEST(RulePackCacheFormat, KeepsEveryField) {
  const RulePack pack = FullPack();
  absl::StatusOr<RulePack> back = ParseCachedRulePack(SerializeRulePack(pack));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == pack);
  // The defaults too (an absent optional, an empty list).
  RulePack empty;
  back = ParseCachedRulePack(SerializeRulePack(empty));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == empty);
}

TEST(RulePackCacheFormat, RefusesWhatItDidNotWrite) {
  const std::string bytes = SerializeRulePack(FullPack());
  // Every truncation, and every single flipped byte, is caught (checksum or framing).
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_EQ(ParseCachedRulePack(bytes.substr(0, size)).status().code(),
              absl::StatusCode::kDataLoss)
        << size;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x40);
    EXPECT_EQ(ParseCachedRulePack(flipped).status().code(), absl::StatusCode::kDataLoss) << i;
  }
  EXPECT_EQ(ParseCachedRulePack(bytes + "x").status().code(), absl::StatusCode::kDataLoss);
}

class RulePackCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy(std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules", rules_,
             fs::copy_options::recursive);
  }
  absl::StatusOr<RulePack> Load(bool* from_cache) {
    return LoadRulePackCached(rules_, cache_, from_cache);
  }

  testing::TempDir dir_;
  const std::string rules_ = dir_.Join("rules");
  const std::string cache_ = dir_.Join("cache/nested");
};

TEST_F(RulePackCacheTest, WarmStartGivesThePackTheYamlGives) {
  const absl::StatusOr<RulePack> yaml = LoadRulePack(rules_);
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  bool from_cache = true;
  absl::StatusOr<RulePack> cold = Load(&from_cache);
  ASSERT_TRUE(cold.ok()) << cold.status();
  EXPECT_FALSE(from_cache);
  EXPECT_TRUE(*cold == *yaml);
  absl::StatusOr<RulePack> warm = Load(&from_cache);
  ASSERT_TRUE(warm.ok()) << warm.status();
  EXPECT_TRUE(from_cache);
  EXPECT_TRUE(*warm == *yaml);
  // Without a cache directory it is LoadRulePack.
  warm = LoadRulePackCached(rules_, "", &from_cache);
  ASSERT_TRUE(warm.ok());
  EXPECT_FALSE(from_cache);
}

TEST_F(RulePackCacheTest, SeesEveryChangeToWhatTheLoaderReads) {
  bool from_cache = false;
  ASSERT_TRUE(Load(&from_cache).ok());

  // An edited rights holder file.
  dir_.Write("rules/rights_holders/zz_acme.yaml",
             "id: zz_acme\nname: ACME\nbrands:\n  - name: Acmeco\nproducts: []\n");
  absl::StatusOr<RulePack> pack = Load(&from_cache);
  ASSERT_TRUE(pack.ok()) << pack.status();
  EXPECT_FALSE(from_cache);
  EXPECT_EQ(pack->rights_holders.back().id, "zz_acme");
  EXPECT_TRUE(*pack == *LoadRulePack(rules_));

  // A stray file's name (it gives a warning), and the policy.
  dir_.Write("rules/rights_holders/notes.txt", "todo\n");
  pack = Load(&from_cache);
  ASSERT_TRUE(pack.ok());
  EXPECT_FALSE(from_cache);
  EXPECT_TRUE(*pack == *LoadRulePack(rules_));
  std::string policy = *ReadFile(rules_ + "/policy.yaml");
  policy += "\n# a comment changes the bytes, not the pack\n";
  dir_.Write("rules/policy.yaml", policy);
  ASSERT_TRUE(Load(&from_cache).ok());
  EXPECT_FALSE(from_cache);
  ASSERT_TRUE(Load(&from_cache).ok());
  EXPECT_TRUE(from_cache);

  // The same files under another name of the directory: locations name it.
  const std::string other = dir_.Join("rules-moved");
  fs::rename(rules_, other);
  pack = LoadRulePackCached(other, cache_, &from_cache);
  ASSERT_TRUE(pack.ok());
  EXPECT_FALSE(from_cache);
  EXPECT_EQ(pack->directory, other);
}

TEST_F(RulePackCacheTest, ErrorsAreNeverCachedAndReadTheSame) {
  dir_.Write("rules/rights_holders/broken.yaml", "name: [unclosed\n");
  const absl::Status yaml = LoadRulePack(rules_).status();
  ASSERT_FALSE(yaml.ok());
  for (int i = 0; i < 2; ++i) {
    bool from_cache = true;
    EXPECT_EQ(Load(&from_cache).status(), yaml);
    EXPECT_FALSE(from_cache);
  }
}

TEST_F(RulePackCacheTest, ACorruptCacheFileIsRewritten) {
  bool from_cache = false;
  ASSERT_TRUE(Load(&from_cache).ok());
  int files = 0;
  for (const auto& entry : fs::directory_iterator(cache_)) {
    ++files;
    dir_.Write(fs::relative(entry.path(), dir_.path()).string(), "garbage");
  }
  ASSERT_EQ(files, 1);
  absl::StatusOr<RulePack> pack = Load(&from_cache);
  ASSERT_TRUE(pack.ok()) << pack.status();
  EXPECT_FALSE(from_cache);
  EXPECT_TRUE(*pack == *LoadRulePack(rules_));
  ASSERT_TRUE(Load(&from_cache).ok());
  EXPECT_TRUE(from_cache);
}

TEST_F(RulePackCacheTest, ARemovedGenuinePhotoIsReportedAsTheLoaderDoes) {
  dir_.Write("rules/rights_holders/photos/genuine.jpg", "not decoded by the loader");
  dir_.Write("rules/rights_holders/zz_acme.yaml",
             "id: zz_acme\nname: ACME\nbrands:\n  - name: Acmeco\nproducts:\n  - id: acme-runner\n"
             "    name: ACME Runner\n    images: [photos/genuine.jpg]\n");
  bool from_cache = false;
  ASSERT_TRUE(Load(&from_cache).ok()) << Load(&from_cache).status();
  fs::remove(rules_ + "/rights_holders/photos/genuine.jpg");
  const absl::Status status = Load(&from_cache).status();
  EXPECT_FALSE(from_cache);
  EXPECT_EQ(status, LoadRulePack(rules_).status());
  EXPECT_NE(status.message().find("genuine.jpg"), std::string::npos) << status;
}

}  // namespace
}  // namespace bonafide::rules
