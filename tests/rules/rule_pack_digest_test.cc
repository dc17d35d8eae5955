// RulePackDigest: every field of a rule pack changes it; where the pack was written does not.
#include "rules/rule_pack_digest.h"

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace bonafide::rules {
namespace {

// A pack with every field set to something other than its default.
RulePack FullPack() {
  RulePack pack;
  pack.directory = "/rules";
  pack.policy.currency = "EUR";
  pack.policy.fx_date = "2026-11-27";
  pack.policy.fx = {{"EUR", 1.0}, {"USD", 0.86}};
  pack.policy.threshold = 1.5;
  pack.policy.weights = {1.1, 1.2, 1.3, 0.6, 0.9, 0.4};
  pack.policy.image = {30, 40};
  CueRule cue;
  cue.id = "cue.replica";
  cue.version = 3;
  cue.mode = RuleMode::kShadow;
  cue.phrases = {"replica", "1:1"};
  cue.weight = 0.9;
  cue.examples_match = {"a replica"};
  cue.examples_no_match = {"replicate"};
  pack.cues.push_back(cue);
  CueRule regex = cue;
  regex.id = "cue.regex";
  regex.phrases.clear();
  regex.regex = "aaa+";
  pack.cues.push_back(regex);
  pack.context.compatibility = {"for"};
  pack.context.accessories = {"cable"};
  pack.context.bundle = {"with"};
  pack.context.used = {"used"};
  pack.context.packaging_only = {"empty box"};
  RightsHolder holder;
  holder.id = "acme";
  holder.name = "ACME Corp";
  holder.threshold = 2.0;
  holder.brands.push_back({"acme", {"acm3"}, {}});
  holder.authorized_sellers = {"s-1"};
  Product product;
  product.id = "acme-runner";
  product.name = "ACME Runner";
  product.keywords = {"runner 22"};
  product.category = "shoes";
  product.reference_price = Money{180, "EUR"};
  product.min_price_ratio = 0.4;
  product.images = {"/rules/rights_holders/photos/a.jpg"};
  holder.products.push_back(product);
  pack.rights_holders.push_back(holder);
  return pack;
}

TEST(RulePackDigestTest, EveryFieldChangesTheDigest) {
  // One change per field of rules/rule_pack.h (and per kind of list change).
  const std::vector<std::pair<std::string, std::function<void(RulePack&)>>> changes = {
      {"policy.currency", [](RulePack& p) { p.policy.currency = "USD"; }},
      {"policy.fx_date", [](RulePack& p) { p.policy.fx_date = "2026-11-28"; }},
      {"policy.fx rate", [](RulePack& p) { p.policy.fx["USD"] = 0.87; }},
      {"policy.fx entry", [](RulePack& p) { p.policy.fx["GBP"] = 1.1; }},
      {"policy.threshold", [](RulePack& p) { p.policy.threshold = 1.6; }},
      {"weights.cue", [](RulePack& p) { p.policy.weights.cue = 1.0; }},
      {"weights.price", [](RulePack& p) { p.policy.weights.price = 1.0; }},
      {"weights.image", [](RulePack& p) { p.policy.weights.image = 1.0; }},
      {"weights.obfuscated_brand", [](RulePack& p) { p.policy.weights.obfuscated_brand = 0.5; }},
      {"weights.known_counterfeit_photo",
       [](RulePack& p) { p.policy.weights.known_counterfeit_photo = 1.0; }},
      {"weights.seller_record", [](RulePack& p) { p.policy.weights.seller_record = 0.5; }},
      {"image.max_distance", [](RulePack& p) { p.policy.image.max_distance = 31; }},
      {"image.min_quality", [](RulePack& p) { p.policy.image.min_quality = 50; }},
      {"cue.id", [](RulePack& p) { p.cues[0].id = "cue.fake"; }},
      {"cue.version", [](RulePack& p) { p.cues[0].version = 4; }},
      {"cue.mode", [](RulePack& p) { p.cues[0].mode = RuleMode::kEnforce; }},
      {"cue.phrases", [](RulePack& p) { p.cues[0].phrases.push_back("fake"); }},
      {"cue.regex", [](RulePack& p) { p.cues[1].regex = "bbb+"; }},
      {"cue.weight", [](RulePack& p) { p.cues[0].weight = 1.0; }},
      {"cue.examples_match", [](RulePack& p) { p.cues[0].examples_match.clear(); }},
      {"cue.examples_no_match", [](RulePack& p) { p.cues[0].examples_no_match.clear(); }},
      {"cues order", [](RulePack& p) { std::swap(p.cues[0], p.cues[1]); }},
      {"context.compatibility", [](RulePack& p) { p.context.compatibility = {"fits"}; }},
      {"context.accessories", [](RulePack& p) { p.context.accessories = {"strap"}; }},
      {"context.bundle", [](RulePack& p) { p.context.bundle = {"plus"}; }},
      {"context.used", [](RulePack& p) { p.context.used = {"worn"}; }},
      {"context.packaging_only", [](RulePack& p) { p.context.packaging_only = {"box only"}; }},
      {"holder.id", [](RulePack& p) { p.rights_holders[0].id = "acme2"; }},
      {"holder.name", [](RulePack& p) { p.rights_holders[0].name = "ACME"; }},
      {"holder.threshold", [](RulePack& p) { p.rights_holders[0].threshold = 2.5; }},
      {"holder.threshold unset", [](RulePack& p) { p.rights_holders[0].threshold.reset(); }},
      {"brand.name", [](RulePack& p) { p.rights_holders[0].brands[0].name = "akme"; }},
      {"brand.aliases", [](RulePack& p) { p.rights_holders[0].brands[0].aliases.clear(); }},
      {"brand.exclude", [](RulePack& p) { p.rights_holders[0].brands[0].exclude = {"acme pie"}; }},
      {"brand.examples",
       [](RulePack& p) { p.rights_holders[0].brands[0].examples.no_match = {"acme pie"}; }},
      {"product.exclude",
       [](RulePack& p) { p.rights_holders[0].products[0].exclude = {"runner 22 bean"}; }},
      {"product.examples",
       [](RulePack& p) { p.rights_holders[0].products[0].examples.match = {"ACME Runner 22"}; }},
      {"holder.authorized_sellers",
       [](RulePack& p) { p.rights_holders[0].authorized_sellers.push_back("s-2"); }},
      {"product.id", [](RulePack& p) { p.rights_holders[0].products[0].id = "acme-walker"; }},
      {"product.name", [](RulePack& p) { p.rights_holders[0].products[0].name = "Runner"; }},
      {"product.keywords", [](RulePack& p) { p.rights_holders[0].products[0].keywords = {"r22"}; }},
      {"product.category", [](RulePack& p) { p.rights_holders[0].products[0].category = "bags"; }},
      {"money.amount",
       [](RulePack& p) { p.rights_holders[0].products[0].reference_price->amount = 181; }},
      {"money.currency",
       [](RulePack& p) { p.rights_holders[0].products[0].reference_price->currency = "USD"; }},
      {"product.reference_price unset",
       [](RulePack& p) { p.rights_holders[0].products[0].reference_price.reset(); }},
      {"product.min_price_ratio",
       [](RulePack& p) { p.rights_holders[0].products[0].min_price_ratio = 0.5; }},
      {"product.images",
       [](RulePack& p) {
         p.rights_holders[0].products[0].images = {"/rules/rights_holders/photos/b.jpg"};
       }},
      {"holders", [](RulePack& p) { p.rights_holders.push_back(p.rights_holders[0]); }},
  };
  const std::string base = RulePackDigest(FullPack());
  EXPECT_EQ(base.size(), 32u);
  std::set<std::string> seen = {base};
  for (const auto& [field, change] : changes) {
    RulePack pack = FullPack();
    change(pack);
    const std::string digest = RulePackDigest(pack);
    EXPECT_NE(digest, base) << field;
    EXPECT_TRUE(seen.insert(digest).second) << field << " collides with another change";
  }
}

TEST(RulePackDigestTest, WhereThePackWasWrittenDoesNotCount) {
  const std::string base = RulePackDigest(FullPack());
  EXPECT_EQ(RulePackDigest(FullPack()), base);  // deterministic

  RulePack moved = FullPack();
  moved.directory = "/elsewhere/rules/";
  moved.rights_holders[0].products[0].images = {"/elsewhere/rules/rights_holders/photos/a.jpg"};
  moved.cues[0].location = {"/elsewhere/rules/cues.yaml", 7, 3};
  moved.rights_holders[0].location = {"/elsewhere/rules/rights_holders/acme.yaml", 1, 1};
  moved.rights_holders[0].products[0].location.line = 40;
  moved.rights_holders[0].brands[0].location.column = 9;
  moved.context.location.line = 2;
  EXPECT_EQ(RulePackDigest(moved), base);
}

TEST(RulePackDigestTest, PhotoPathsAreRelativeToTheRulesDirectory) {
  RulePack pack;
  pack.directory = "rules/";
  EXPECT_EQ(PathInRules(pack, "rules/rights_holders/a.jpg"), "rights_holders/a.jpg");
  EXPECT_EQ(PathInRules(pack, "/photos/a.jpg"), "/photos/a.jpg");
  EXPECT_EQ(PathInRules(pack, "rulesx/a.jpg"), "rulesx/a.jpg");
}

}  // namespace
}  // namespace bonafide::rules
