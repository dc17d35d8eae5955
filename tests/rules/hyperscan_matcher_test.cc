// What is particular to the Hyperscan backend: its database cache and its compile errors.
// What it finds is checked on every backend (text_matcher_test.cc, compiled_rules_test.cc).
#include "rules/hyperscan_matcher.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <hs.h>

#include "rules/compiled_rules.h"
#include "rules/normalize.h"
#include "rules/rule_pack.h"
#include "tests/acme_pack.h"

namespace bonafide::rules {
namespace {

std::shared_ptr<const CompiledRules> CompileAcme(const testing::TempDir& dir) {
  auto pack = LoadRulePack(testing::WriteAcmePack(dir));
  EXPECT_TRUE(pack.ok()) << pack.status();
  if (!pack.ok()) return nullptr;
  auto rules = CompiledRules::Compile(*pack);
  EXPECT_TRUE(rules.ok()) << rules.status();
  return rules.ok() ? *rules : nullptr;
}

TEST(HyperscanDatabaseTest, SecondCompileLoadsTheSerialisedDatabase) {
  testing::TempDir dir;
  const std::shared_ptr<const CompiledRules> rules = CompileAcme(dir);
  ASSERT_NE(rules, nullptr);
  MatcherOptions options;
  options.cache_dir = dir.Join("cache/nested");
  auto first = HyperscanDatabase::Compile(rules, options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE((*first)->loaded_from_cache());
  auto second = HyperscanDatabase::Compile(rules, options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE((*second)->loaded_from_cache());

  // The cached database finds the same things.
  auto matcher = (*second)->NewMatcher();
  ASSERT_TRUE(matcher.ok()) << matcher.status();
  std::vector<TextHit> hits;
  ASSERT_TRUE(
      (*matcher)->Match(Normalize("ACME Runner 22 replica"), MatchScope::kTitle, hits).ok());
  EXPECT_EQ(hits.size(), 3u);  // acme, runner 22, replica

  // A corrupt cache file costs a recompilation, not an error.
  for (const auto& entry : std::filesystem::directory_iterator(options.cache_dir)) {
    std::filesystem::resize_file(entry.path(), 10);
  }
  auto third = HyperscanDatabase::Compile(rules, options);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_FALSE((*third)->loaded_from_cache());
}

// The cache holds databases built for this CPU (its tuning and instruction sets), under
// names that cover the platform: machines of different CPUs sharing a cache directory then
// neither run a database built for fewer instruction sets (Hyperscan accepts one; a
// valgrind run, which sees no AVX-512, once left such databases for every later scan) nor
// recompile in turns.
TEST(HyperscanDatabaseTest, TheCacheHoldsDatabasesBuiltForThisCpu) {
  testing::TempDir dir;
  const std::shared_ptr<const CompiledRules> rules = CompileAcme(dir);
  ASSERT_NE(rules, nullptr);
  MatcherOptions options;
  options.cache_dir = dir.Join("cache");
  ASSERT_TRUE(HyperscanDatabase::Compile(rules, options).ok());
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(options.cache_dir)) {
    files.push_back(entry.path());
  }
  ASSERT_FALSE(files.empty());

  // What this CPU compiles, as Hyperscan describes it, against each cached file.
  hs_database_t* here = nullptr;
  hs_compile_error_t* error = nullptr;
  ASSERT_EQ(hs_compile("acme", 0, HS_MODE_BLOCK, nullptr, &here, &error), HS_SUCCESS);
  char* here_info = nullptr;
  ASSERT_EQ(hs_database_info(here, &here_info), HS_SUCCESS);
  // "Version: 5.4.0 Features: AVX2 Mode: BLOCK": all but the mode.
  auto without_mode = [](const char* info) {
    const std::string text(info);
    return text.substr(0, text.find(" Mode"));
  };
  const std::string here_features = without_mode(here_info);
  std::free(here_info);
  hs_free_database(here);
  for (const std::filesystem::path& file : files) {
    const std::string bytes = testing::ReadFileOrDie(file.string());
    char* info = nullptr;
    ASSERT_EQ(hs_serialized_database_info(bytes.data(), bytes.size(), &info), HS_SUCCESS);
    EXPECT_EQ(without_mode(info), here_features) << file;
    std::free(info);
  }
}

TEST(HyperscanDatabaseTest, WithoutCacheDirectoryNothingIsCached) {
  testing::TempDir dir;
  const std::shared_ptr<const CompiledRules> rules = CompileAcme(dir);
  ASSERT_NE(rules, nullptr);
  for (int i = 0; i < 2; ++i) {
    auto db = HyperscanDatabase::Compile(rules, {});
    ASSERT_TRUE(db.ok()) << db.status();
    EXPECT_FALSE((*db)->loaded_from_cache());
  }
}

TEST(HyperscanDatabaseTest, RejectionNamesTheRule) {
  testing::TempDir dir;
  const std::string rules_dir = testing::WriteAcmePack(dir);
  // Valid for RE2, but Hyperscan has no ungreedy flag.
  dir.Write("rules/cues.yaml", "rules:\n  - id: cue.lazy\n    regex: '(?U)fa+ke'\n");
  auto pack = LoadRulePack(rules_dir);
  ASSERT_TRUE(pack.ok()) << pack.status();
  auto rules = CompiledRules::Compile(*pack);
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto db = HyperscanDatabase::Compile(*rules, {});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(db.status().message());
  EXPECT_NE(message.find("cues.yaml:2:"), std::string::npos) << message;
  EXPECT_NE(message.find("rule \"cue.lazy\""), std::string::npos) << message;
  EXPECT_NE(message.find("hyperscan cannot compile \"(?U)fa+ke\""), std::string::npos) << message;
}

}  // namespace
}  // namespace bonafide::rules
