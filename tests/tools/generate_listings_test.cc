#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rules/rule_pack.h"
#include "tools/gen/listing_generator.h"

#include "simdjson.h"

namespace bonafide::gen {
namespace {

const rules::RulePack& Pack() {
  static const rules::RulePack* pack = [] {
    auto p = rules::LoadRulePack(std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules");
    EXPECT_TRUE(p.ok()) << p.status();
    return new rules::RulePack(p.ok() ? *p : rules::RulePack{});
  }();
  return *pack;
}

std::string Generate(uint64_t seed, int64_t count, int record_bytes = 500,
                     OutputFormat format = OutputFormat::kJsonl,
                     GenerationSummary* summary = nullptr) {
  GeneratorOptions o;
  o.seed = seed;
  o.count = count;
  o.record_bytes = record_bytes;
  o.format = format;
  auto gen = ListingGenerator::Create(Pack(), o);
  EXPECT_TRUE(gen.ok()) << gen.status();
  if (!gen.ok()) return "";
  std::string out;
  absl::Status s = (*gen)->Generate(
      [&](std::string_view chunk) {
        out.append(chunk);
        return true;
      },
      summary);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(ListingGeneratorTest, SameSeedGivesSameBytes) {
  EXPECT_EQ(Generate(42, 3000), Generate(42, 3000));
  EXPECT_EQ(Generate(42, 500, 500, OutputFormat::kCsv), Generate(42, 500, 500, OutputFormat::kCsv));
}

TEST(ListingGeneratorTest, DifferentSeedGivesDifferentBytes) {
  EXPECT_NE(Generate(1, 200), Generate(2, 200));
}

TEST(ListingGeneratorTest, EveryLineIsValidJsonWithRequiredFieldsAndLabels) {
  GenerationSummary summary;
  const std::string text = Generate(7, 20000, 500, OutputFormat::kJsonl, &summary);
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 20000u);
  simdjson::dom::parser parser;
  std::set<std::string> ids, scenarios;
  std::set<std::string> holders;
  for (const auto& h : Pack().rights_holders) holders.insert(h.id);
  int64_t cases = 0;
  uint64_t bytes = 0;
  for (const std::string& line : lines) {
    bytes += line.size() + 1;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
    std::string_view id, title, currency, seller, scenario;
    double price = -1;
    ASSERT_EQ(doc["id"].get(id), simdjson::SUCCESS) << line;
    ASSERT_EQ(doc["title"].get(title), simdjson::SUCCESS) << line;
    ASSERT_EQ(doc["price"].get(price), simdjson::SUCCESS) << line;
    ASSERT_EQ(doc["currency"].get(currency), simdjson::SUCCESS) << line;
    ASSERT_EQ(doc["seller_id"].get(seller), simdjson::SUCCESS) << line;
    ASSERT_EQ(doc["label_scenario"].get(scenario), simdjson::SUCCESS) << line;
    simdjson::dom::array labels;
    ASSERT_EQ(doc["label_cases"].get(labels), simdjson::SUCCESS) << line;
    EXPECT_FALSE(title.empty());
    EXPECT_GE(price, 0);
    EXPECT_TRUE(currency == "EUR" || Pack().policy.fx.count(std::string(currency))) << line;
    EXPECT_TRUE(ids.insert(std::string(id)).second) << "duplicate id " << id;
    scenarios.insert(std::string(scenario));
    std::string previous;
    for (simdjson::dom::element l : labels) {
      std::string_view h;
      ASSERT_EQ(l.get(h), simdjson::SUCCESS);
      EXPECT_TRUE(holders.count(std::string(h))) << line;
      EXPECT_LT(previous, std::string(h)) << "labels not sorted: " << line;
      previous = std::string(h);
      ++cases;
    }
  }
  EXPECT_EQ(cases, summary.cases);
  EXPECT_EQ(bytes, summary.bytes);
  // Every scenario appears.
  for (const std::string& name : ListingGenerator::ScenarioNames()) {
    EXPECT_TRUE(scenarios.count(name)) << "missing scenario " << name;
  }
  // Average record length near --record-bytes.
  EXPECT_NEAR(static_cast<double>(bytes) / lines.size(), 500.0, 10.0);
}

TEST(ListingGeneratorTest, AverageRecordLengthFollowsOption) {
  for (int target : {250, 1000}) {
    const std::string text = Generate(3, 4000, target);
    EXPECT_NEAR(static_cast<double>(text.size()) / 4000.0, target, target * 0.03);
  }
}

TEST(ListingGeneratorTest, CsvHasHeaderAndLabelColumns) {
  const std::vector<std::string> lines = Lines(Generate(5, 300, 300, OutputFormat::kCsv));
  ASSERT_EQ(lines.size(), 301u);
  EXPECT_EQ(lines[0],
            "id,title,description,price,currency,seller_id,category,condition,quantity,"
            "label_cases,label_scenario");
  EXPECT_EQ(lines[1].rfind("lst-000000001,", 0), 0u);
}

// The scenario's intent and the oracle's label agree on the sample pack.
TEST(ListingGeneratorTest, ScenariosProduceTheirIntendedOutcome) {
  const std::vector<std::string> lines = Lines(Generate(11, 20000, 200));
  const std::set<std::string> never = {
      "unrelated", "genuine", "brand_only_cheap", "cue_shadow", "lot_normal", "evasive_alone",
      "accessory", "used",    "packaging",        "authorized"};
  const std::set<std::string> always = {"cue_foreign", "cue_regex", "price_anomaly",
                                        "lot_cheap",   "bundle",    "evasive_price"};
  simdjson::dom::parser parser;
  for (const std::string& line : lines) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS);
    std::string_view scenario;
    simdjson::dom::array labels;
    ASSERT_EQ(doc["label_scenario"].get(scenario), simdjson::SUCCESS);
    ASSERT_EQ(doc["label_cases"].get(labels), simdjson::SUCCESS);
    const std::string s(scenario);
    if (never.count(s)) {
      EXPECT_EQ(labels.size(), 0u) << line;
    }
    if (always.count(s)) {
      EXPECT_GT(labels.size(), 0u) << line;
    }
  }
}

// --- the oracle on hand-written listings (the decision policy of docs/matching.md) ------

class LabelOracleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto o = LabelOracle::Create(Pack());
    ASSERT_TRUE(o.ok()) << o.status();
    oracle_ = std::move(*o);
  }
  // Returns the ids of holders with a case.
  std::set<std::string> Cases(std::string_view title, double price,
                              std::string_view currency = "EUR", std::string_view description = "",
                              std::string_view seller = "s-1", std::string_view condition = "",
                              int64_t quantity = 0,
                              std::vector<std::pair<size_t, size_t>> evasive = {}) {
    LabelInput in;
    in.title = title;
    in.description = description;
    in.price = price;
    in.currency = currency;
    in.seller_id = seller;
    in.condition = condition;
    in.quantity = quantity;
    in.title_evasive = std::move(evasive);
    std::vector<HolderVerdict> v;
    oracle_->Evaluate(in, v);
    std::set<std::string> out;
    for (const auto& h : v) {
      if (h.is_case) out.insert(Pack().rights_holders[h.holder].id);
    }
    return out;
  }
  std::unique_ptr<LabelOracle> oracle_;
};

using Ids = std::set<std::string>;

TEST_F(LabelOracleTest, PriceSignalNeedsAProductKeyword) {
  EXPECT_EQ(Cases("Nike Air Max 90 men's running shoes", 20), Ids{"nike"});
  EXPECT_EQ(Cases("Nike Air Max 90 men's running shoes", 120), Ids{});
  EXPECT_EQ(Cases("Nike socks", 2), Ids{});                  // bare brand: no price signal
  EXPECT_EQ(Cases("Air Max 90 sneakers", 20), Ids{"nike"});  // keyword alone references
  // FX: 999 USD reference, ratio 0.5; 400 USD = 344 EUR < 429.57.
  EXPECT_EQ(Cases("Apple iPhone 15 Pro 256 GB", 400, "USD"), Ids{"apple"});
  EXPECT_EQ(Cases("Apple iPhone 15 Pro 256 GB", 600, "USD"), Ids{});
}

TEST_F(LabelOracleTest, UnitsComeFromQuantityOrTitle) {
  EXPECT_EQ(Cases("Lot of 10 Nike Air Max 90", 1200), Ids{});
  EXPECT_EQ(Cases("Lot of 10 Nike Air Max 90", 300), Ids{"nike"});
  EXPECT_EQ(Cases("Nike Air Max 90 sneakers 10 pairs", 300), Ids{"nike"});
  EXPECT_EQ(Cases("Nike Air Max 90 sneakers", 300, "EUR", "", "s-1", "", 10), Ids{"nike"});
  EXPECT_EQ(Cases("Nike Air Max 90 sneakers", 1200, "EUR", "", "s-1", "", 10), Ids{});
}

TEST_F(LabelOracleTest, ContextCoversThePriceSignalInTheTitleOnly) {
  EXPECT_EQ(Cases("Case for Apple iPhone 15 Pro", 10), Ids{});
  EXPECT_EQ(Cases("Screen protector compatible with the Apple iPhone 15 Pro", 10), Ids{});
  EXPECT_EQ(Cases("Apple iPhone 15 Pro USB cable", 10), Ids{});
  EXPECT_EQ(Cases("Apple iPhone 15 Pro with charger", 10), Ids{"apple"});
  EXPECT_EQ(Cases("Nike Air Max 90 empty box", 10), Ids{});
  EXPECT_EQ(Cases("Nike Air Max 90 used", 10), Ids{});
  EXPECT_EQ(Cases("Nike Air Max 90", 10, "EUR", "", "s-1", "parts"), Ids{});
  EXPECT_EQ(Cases("Nike Air Max 90", 10, "EUR", "Never used, worn once"), Ids{"nike"});
  // Cues still count when the price is covered.
  EXPECT_EQ(Cases("Case for Apple iPhone 15 Pro replica", 10), Ids{"apple"});
}

TEST_F(LabelOracleTest, CuesShadowRulesAndAuthorizedSellers) {
  EXPECT_EQ(Cases("Nike Air Max 90 replica", 150), Ids{"nike"});
  EXPECT_EQ(Cases("Nike Air Max 90", 150, "EUR", "fake, 1:1 copy"), Ids{"nike"});
  EXPECT_EQ(Cases("Nike Air Max 90 not authentic", 150), Ids{});  // weight 0.5
  EXPECT_EQ(Cases("Nike Air Max 90 dupe", 150), Ids{});           // shadow
  EXPECT_EQ(Cases("Nike Air Max 90 wholesale", 150), Ids{});      // off
  EXPECT_EQ(Cases("Replica of a famous painting, unbranded", 10), Ids{});
  EXPECT_EQ(Cases("Nike Air Max 90 replica", 10, "EUR", "", "s-nike-official"), Ids{});
  EXPECT_EQ(Cases("Nike Air Max 90 and Adidas Samba OG replica", 150), (Ids{"adidas", "nike"}));
}

TEST_F(LabelOracleTest, ObfuscatedWhenAnyBrandMentionIsEvasive) {
  // Plain shadow "Nike sneakers" with "Nike" written evasively: 0.5 < 1.
  EXPECT_EQ(Cases("Nike sneakers", 100, "EUR", "", "s-1", "", 0, {{0, 4}}), Ids{});
  EXPECT_EQ(Cases("Nike sneakers not authentic", 100, "EUR", "", "s-1", "", 0, {{0, 4}}),
            Ids{"nike"});  // 0.5 + 0.5
  // A plain product keyword beside the evasive brand changes nothing: 0.5 + 0.5.
  EXPECT_EQ(Cases("Nike Air Max 90 not authentic", 100, "EUR", "", "s-1", "", 0, {{0, 4}}),
            Ids{"nike"});
  // An evasive product keyword alone is not an evasive brand: 0.5.
  EXPECT_EQ(Cases("Nike Air Max 90 not authentic", 100, "EUR", "", "s-1", "", 0, {{5, 8}}), Ids{});
}

}  // namespace
}  // namespace bonafide::gen
