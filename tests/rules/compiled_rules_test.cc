#include "rules/compiled_rules.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rules/normalize.h"
#include "rules/rule_pack.h"
#include "tests/acme_pack.h"

namespace bonafide::rules {
namespace {

class CompiledRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pack = LoadRulePack(testing::WriteAcmePack(dir_));
    ASSERT_TRUE(pack.ok()) << pack.status();
    auto rules = CompiledRules::Compile(*pack, {});
    ASSERT_TRUE(rules.ok()) << rules.status();
    rules_ = *rules;
    auto matcher = TextMatcher::Create(*rules_);
    ASSERT_TRUE(matcher.ok());
    matcher_ = std::move(*matcher);
  }

  // Returns the texts (in normalised form) of the hits of patterns of `kind`.
  std::vector<std::string> Find(std::string_view raw, PatternKind kind) {
    const std::string text = Normalize(raw);
    std::vector<TextHit> hits;
    EXPECT_TRUE(matcher_->Match(text, MatchScope::kTitle, hits).ok());
    std::vector<std::string> found;
    for (const TextHit& h : hits) {
      if (rules_->patterns()[h.pattern].kind == kind) {
        found.push_back(text.substr(h.from, h.to - h.from));
      }
    }
    return found;
  }

  testing::TempDir dir_;
  std::shared_ptr<const CompiledRules> rules_;
  std::unique_ptr<TextMatcher> matcher_;
};

TEST_F(CompiledRulesTest, NamesMatchAsWholeWords) {
  EXPECT_TRUE(Find("diorama", PatternKind::kBrand).empty());
  EXPECT_TRUE(Find("snuggle", PatternKind::kBrand).empty());
  EXPECT_TRUE(Find("occasional", PatternKind::kBrand).empty());
  EXPECT_EQ(Find("new Dior bag", PatternKind::kBrand), std::vector<std::string>{"dior"});
  EXPECT_EQ(Find("UGG, Casio.", PatternKind::kBrand), (std::vector<std::string>{"ugg", "casio"}));
}

TEST_F(CompiledRulesTest, NameSeparatorsAreOptional) {
  EXPECT_EQ(Find("Runner22 shoes", PatternKind::kKeyword), std::vector<std::string>{"runner22"});
  EXPECT_EQ(Find("runner-22", PatternKind::kKeyword), std::vector<std::string>{"runner-22"});
  EXPECT_EQ(Find("Pavilion DV6-2059", PatternKind::kKeyword),
            std::vector<std::string>{"pavilion dv6"});
}

TEST_F(CompiledRulesTest, LeetOneMatchesBothIAndL) {
  // "1" is folded to "i"; the pattern accepts either, so "app1e"-style spellings match.
  EXPECT_EQ(Find("Pavi1ion DV6", PatternKind::kKeyword).size(), 1u);
  EXPECT_EQ(Find("Saddie bag", PatternKind::kKeyword).size(), 1u);
}

TEST_F(CompiledRulesTest, CuePhrasesInEveryScriptAndRegexes) {
  EXPECT_EQ(Find("REPLICA!", PatternKind::kCue).size(), 1u);
  EXPECT_EQ(Find("这是高仿鞋", PatternKind::kCue).size(), 1u);  // CJK: no word boundaries
  EXPECT_EQ(Find("1 : 1 quality", PatternKind::kCue).size(), 1u);
  EXPECT_TRUE(Find("replicate", PatternKind::kCue).empty());
}

TEST_F(CompiledRulesTest, FxTableIncludesTheBaseCurrency) {
  EXPECT_DOUBLE_EQ(rules_->FxToBase("EUR"), 1.0);
  EXPECT_DOUBLE_EQ(rules_->FxToBase("USD"), 0.86);
  EXPECT_DOUBLE_EQ(rules_->FxToBase("XYZ"), 0.0);
}

TEST(CompiledRulesCacheTest, SecondCompileLoadsTheSerialisedDatabase) {
  testing::TempDir dir;
  auto pack = LoadRulePack(testing::WriteAcmePack(dir));
  ASSERT_TRUE(pack.ok()) << pack.status();
  CompileOptions options;
  options.cache_dir = dir.Join("cache/nested");
  auto first = CompiledRules::Compile(*pack, options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE((*first)->loaded_from_cache());
  auto second = CompiledRules::Compile(*pack, options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE((*second)->loaded_from_cache());

  // The cached database finds the same things.
  auto matcher = TextMatcher::Create(**second);
  ASSERT_TRUE(matcher.ok());
  std::vector<TextHit> hits;
  ASSERT_TRUE(
      (*matcher)->Match(Normalize("ACME Runner 22 replica"), MatchScope::kTitle, hits).ok());
  EXPECT_EQ(hits.size(), 3u);  // acme, runner 22, replica

  // A corrupt cache file costs a recompilation, not an error.
  for (const auto& entry : std::filesystem::directory_iterator(options.cache_dir)) {
    std::filesystem::resize_file(entry.path(), 10);
  }
  auto third = CompiledRules::Compile(*pack, options);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_FALSE((*third)->loaded_from_cache());
}

TEST(CompiledRulesErrorTest, HyperscanRejectionNamesTheRule) {
  testing::TempDir dir;
  const std::string rules = testing::WriteAcmePack(dir);
  // Valid for RE2, but Hyperscan has no ungreedy flag.
  dir.Write("rules/cues.yaml", "rules:\n  - id: cue.lazy\n    regex: '(?U)fa+ke'\n");
  auto pack = LoadRulePack(rules);
  ASSERT_TRUE(pack.ok()) << pack.status();
  auto compiled = CompiledRules::Compile(*pack, {});
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(compiled.status().message());
  EXPECT_NE(message.find("cues.yaml:2:"), std::string::npos) << message;
  EXPECT_NE(message.find("rule \"cue.lazy\""), std::string::npos) << message;
  EXPECT_NE(message.find("hyperscan"), std::string::npos) << message;
}

}  // namespace
}  // namespace bonafide::rules
