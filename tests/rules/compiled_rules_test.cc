#include "rules/compiled_rules.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rules/normalize.h"
#include "rules/rule_pack.h"
#include "rules/text_matcher.h"
#include "tests/acme_pack.h"

namespace bonafide::rules {
namespace {

// The patterns' semantics, on every text backend.
class CompiledRulesTest : public ::testing::TestWithParam<MatcherBackend> {
 protected:
  void SetUp() override {
    auto pack = LoadRulePack(testing::WriteAcmePack(dir_));
    ASSERT_TRUE(pack.ok()) << pack.status();
    auto rules = CompiledRules::Compile(*pack);
    ASSERT_TRUE(rules.ok()) << rules.status();
    rules_ = *rules;
    auto database = CompileMatcherDatabase(GetParam(), rules_, {});
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
    auto matcher = database_->NewMatcher();
    ASSERT_TRUE(matcher.ok()) << matcher.status();
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
  std::shared_ptr<const MatcherDatabase> database_;
  std::unique_ptr<TextMatcher> matcher_;
};

TEST_P(CompiledRulesTest, NamesMatchAsWholeWords) {
  EXPECT_TRUE(Find("diorama", PatternKind::kBrand).empty());
  EXPECT_TRUE(Find("snuggle", PatternKind::kBrand).empty());
  EXPECT_TRUE(Find("occasional", PatternKind::kBrand).empty());
  EXPECT_EQ(Find("new Dior bag", PatternKind::kBrand), std::vector<std::string>{"dior"});
  EXPECT_EQ(Find("UGG, Casio.", PatternKind::kBrand), (std::vector<std::string>{"ugg", "casio"}));
}

TEST_P(CompiledRulesTest, NameSeparatorsAreOptional) {
  EXPECT_EQ(Find("Runner22 shoes", PatternKind::kKeyword), std::vector<std::string>{"runner22"});
  EXPECT_EQ(Find("runner-22", PatternKind::kKeyword), std::vector<std::string>{"runner-22"});
  EXPECT_EQ(Find("Pavilion DV6-2059", PatternKind::kKeyword),
            std::vector<std::string>{"pavilion dv6"});
}

TEST_P(CompiledRulesTest, LeetOneMatchesBothIAndL) {
  // "1" is folded to "i"; the pattern accepts either, so "app1e"-style spellings match.
  EXPECT_EQ(Find("Pavi1ion DV6", PatternKind::kKeyword).size(), 1u);
  EXPECT_EQ(Find("Saddie bag", PatternKind::kKeyword).size(), 1u);
}

TEST_P(CompiledRulesTest, CuePhrasesInEveryScriptAndRegexes) {
  EXPECT_EQ(Find("REPLICA!", PatternKind::kCue).size(), 1u);
  EXPECT_EQ(Find("这是高仿鞋", PatternKind::kCue).size(), 1u);  // CJK: no word boundaries
  EXPECT_EQ(Find("1 : 1 quality", PatternKind::kCue).size(), 1u);
  EXPECT_TRUE(Find("replicate", PatternKind::kCue).empty());
}

INSTANTIATE_TEST_SUITE_P(AllBackends, CompiledRulesTest,
                         ::testing::ValuesIn(AvailableMatcherBackends()),
                         [](const ::testing::TestParamInfo<MatcherBackend>& param) {
                           return param.param == MatcherBackend::kHyperscan ? "Hyperscan"
                                                                            : "Re2Set";
                         });

TEST(CompiledRulesModelTest, PatternsKnowTheirRuleAndScope) {
  testing::TempDir dir;
  auto pack = LoadRulePack(testing::WriteAcmePack(dir));
  ASSERT_TRUE(pack.ok()) << pack.status();
  auto rules = CompiledRules::Compile(*pack);
  ASSERT_TRUE(rules.ok()) << rules.status();
  bool saw_cue = false, saw_context = false;
  for (const PatternInfo& p : (*rules)->patterns()) {
    EXPECT_NE(p.where.find(".yaml:"), std::string::npos) << p.where;
    EXPECT_TRUE(InScope(p, MatchScope::kTitle));
    // Context phrases are read in titles only; names, cues and exclude phrases everywhere.
    const bool context = p.kind != PatternKind::kBrand && p.kind != PatternKind::kKeyword &&
                         p.kind != PatternKind::kCue && p.kind != PatternKind::kExclude;
    EXPECT_EQ(InScope(p, MatchScope::kDescription), !context) << p.expression;
    if (p.kind == PatternKind::kCue) {
      saw_cue = true;
      EXPECT_NE(p.where.find(": rule \"" + (*rules)->pack().cues[p.cue].id + "\""),
                std::string::npos)
          << p.where;
    }
    saw_context |= context;
  }
  EXPECT_TRUE(saw_cue);
  EXPECT_TRUE(saw_context);
}

TEST(CompiledRulesModelTest, FxTableIncludesTheBaseCurrency) {
  testing::TempDir dir;
  auto pack = LoadRulePack(testing::WriteAcmePack(dir));
  ASSERT_TRUE(pack.ok()) << pack.status();
  auto rules = CompiledRules::Compile(*pack);
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_DOUBLE_EQ((*rules)->FxToBase("EUR"), 1.0);
  EXPECT_DOUBLE_EQ((*rules)->FxToBase("USD"), 0.86);
  EXPECT_DOUBLE_EQ((*rules)->FxToBase("XYZ"), 0.0);
}

TEST(CompiledRulesModelTest, ProductsKeepTheReferencePriceAsWrittenAndItsRate) {
  testing::TempDir dir;
  auto pack = LoadRulePack(testing::WriteAcmePack(dir));
  ASSERT_TRUE(pack.ok()) << pack.status();
  auto rules = CompiledRules::Compile(*pack);
  ASSERT_TRUE(rules.ok()) << rules.status();
  const CompiledHolder& acme = (*rules)->holders()[0];
  ASSERT_EQ(acme.id, "acme");
  const CompiledProduct& pavilion = acme.products[2];
  ASSERT_EQ(pavilion.id, "acme-pavilion-dv6");
  EXPECT_EQ(pavilion.reference_price.amount, 600);  // 600 USD, as written
  EXPECT_EQ(pavilion.reference_price.currency, "USD");
  EXPECT_EQ(pavilion.reference_fx, 0.86);
  EXPECT_DOUBLE_EQ(pavilion.reference_price_base, 516);
  EXPECT_EQ(pavilion.min_price_ratio, 0.4);
}

}  // namespace
}  // namespace bonafide::rules
