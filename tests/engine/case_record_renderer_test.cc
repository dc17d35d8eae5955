// The price part of a case record (engine/case_record_renderer.h): the explanation prints
// money with its currency's decimals, both currencies when FX is involved, and a percentage
// that never reads as the limit; the reasons keep the reference as written. Verdicts are
// built here as the decision builds them, on the ACME rules of tests/acme_pack.h.
#include "engine/case_record_renderer.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "rules/compiled_rules.h"
#include "rules/rule_pack.h"
#include "tests/acme_pack.h"
#include "tests/test_util.h"

namespace bonafide::engine {
namespace {

class CaseRecordRendererTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>();
    const std::string rules_dir = testing::WriteAcmePack(*dir_);
    dir_->Write("rules/rights_holders/zorbo.yaml", R"(id: zorbo
name: Zorbo Ltd
brands:
  - name: Zorbo
products:
  - id: zorbo-air
    name: Air
    reference_price: {amount: 279, currency: EUR}
    min_price_ratio: 0.4
  - id: zorbo-tee
    name: Tee
    reference_price: {amount: 30, currency: EUR}
    min_price_ratio: 0.333
)");
    auto pack = rules::LoadRulePack(rules_dir);
    ASSERT_TRUE(pack.ok()) << pack.status();
    auto compiled = rules::CompiledRules::Compile(std::move(*pack));
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    rules_ = std::move(*compiled);
  }
  static void TearDownTestSuite() {
    rules_.reset();
    dir_.reset();
  }

  // Renders the case of a listing whose only signal is the price of `product_id` of rights
  // holder `holder_id` (title "Zorbo Air" or the like; the span is not what is tested),
  // with the numbers computed as the decision computes them; returns the explanation.
  std::string Explain(std::string_view holder_id, std::string_view product_id, double price,
                      std::string currency, int64_t units = 1) {
    listing_ = Listing();
    listing_.id = "l-1";
    listing_.marketplace = "shopx";
    listing_.title = "Zorbo Air";
    listing_.price = price;
    listing_.currency = std::move(currency);
    listing_.seller_id = "s-1";
    listing_.quantity = units;
    int32_t holder = -1, product = -1;
    for (size_t h = 0; h < rules_->holders().size(); ++h) {
      if (rules_->holders()[h].id != holder_id) continue;
      holder = static_cast<int32_t>(h);
      const auto& products = rules_->holders()[h].products;
      for (size_t p = 0; p < products.size(); ++p) {
        if (products[p].id == product_id) product = static_cast<int32_t>(p);
      }
    }
    EXPECT_GE(product, 0) << holder_id << " " << product_id;
    if (product < 0) return "";
    const rules::CompiledProduct& cp = rules_->holders()[holder].products[product];
    Signal sig;
    sig.kind = SignalKind::kPrice;
    sig.weight = 1;
    sig.index = product;
    sig.span = {TextField::kTitle, 0, 5};
    sig.units = units;
    sig.unit_price = price * rules_->FxToBase(listing_.currency) / static_cast<double>(units);
    sig.reference_price = cp.reference_price_base;
    sig.ratio = sig.unit_price / sig.reference_price;
    return ExplainSignal(holder, sig);
  }

  // Renders a case of `holder` with the one signal `sig`; returns its explanation.
  std::string ExplainSignal(int32_t holder, const Signal& sig) {
    Verdict verdict;
    verdict.signals.push_back(sig);
    HolderVerdict hv;
    hv.holder = holder;
    hv.score = 1;
    hv.threshold = 1;
    hv.case_opened = true;
    hv.first_mention = {TextField::kTitle, 0, 5};
    hv.signals_begin = 0;
    hv.signals_end = 1;
    verdict.holders.push_back(hv);
    const RulesInfo info;
    const OutboxFeedback feedback;
    CaseRecordRenderer(*rules_, info, feedback).Render(listing_, verdict, hv, record_);
    const std::string key = "\"explanation\":\"";
    const size_t begin = record_.evidence_json.find(key);
    EXPECT_NE(begin, std::string::npos) << record_.evidence_json;
    if (begin == std::string::npos) return "";
    const size_t end = record_.evidence_json.find('"', begin + key.size());
    return record_.evidence_json.substr(begin + key.size(), end - begin - key.size());
  }

  static std::unique_ptr<testing::TempDir> dir_;
  static std::shared_ptr<const rules::CompiledRules> rules_;
  Listing listing_;
  CaseRecord record_;
};

std::unique_ptr<testing::TempDir> CaseRecordRendererTest::dir_;
std::shared_ptr<const rules::CompiledRules> CaseRecordRendererTest::rules_;

TEST_F(CaseRecordRendererTest, PrintsMoneyWithTheCurrencysDecimals) {
  EXPECT_EQ(Explain("zorbo", "zorbo-air", 111.5, "EUR"),
            "score 1 >= threshold 1: unit price 111.50 EUR is 39.96% of the reference 279.00 "
            "EUR of zorbo-air (below 40%)");
  // JPY has no minor unit; 12000 x 0.0057 = 68.4 EUR.
  EXPECT_EQ(Explain("acme", "acme-runner-22", 12000, "JPY"),
            "score 1 >= threshold 1: unit price 12000 JPY (68.40 EUR) is 38% of the reference "
            "180.00 EUR of acme-runner-22 (below 40%)");
}

TEST_F(CaseRecordRendererTest, ShowsTheListingAndTheReferenceInTheirOwnCurrencyAndTheBase) {
  EXPECT_EQ(Explain("zorbo", "zorbo-air", 100, "USD"),
            "score 1 >= threshold 1: unit price 100.00 USD (86.00 EUR) is 31% of the reference "
            "279.00 EUR of zorbo-air (below 40%)");
  // The Pavilion's reference is 600 USD; the listing is in the base currency.
  EXPECT_EQ(Explain("acme", "acme-pavilion-dv6", 200, "EUR"),
            "score 1 >= threshold 1: unit price 200.00 EUR is 39% of the reference 600.00 USD "
            "(516.00 EUR) of acme-pavilion-dv6 (below 40%)");
  EXPECT_NE(record_.reasons_json.find(R"("reference_amount":600,"reference_currency":"USD")"),
            std::string::npos)
      << record_.reasons_json;
  // Existing fields stay.
  EXPECT_NE(record_.reasons_json.find(R"("reference_price":516,"base_currency":"EUR")"),
            std::string::npos)
      << record_.reasons_json;
}

TEST_F(CaseRecordRendererTest, ShowsTheLotWhenThePriceIsForSeveralUnits) {
  EXPECT_EQ(Explain("acme", "acme-pavilion-dv6", 1000, "USD", 10),
            "score 1 >= threshold 1: unit price 100.00 USD (86.00 EUR; 1000.00 USD for 10 units) "
            "is 17% of the reference 600.00 USD (516.00 EUR) of acme-pavilion-dv6 (below 40%)");
  EXPECT_EQ(Explain("zorbo", "zorbo-air", 1000, "EUR", 10),
            "score 1 >= threshold 1: unit price 100.00 EUR (1000.00 EUR for 10 units) is 36% of "
            "the reference 279.00 EUR of zorbo-air (below 40%)");
}

TEST_F(CaseRecordRendererTest, PercentageOfAFlaggedPriceNeverReadsAsTheLimit) {
  // 111.59 / 279 = 0.39996...: "40%" and "40.0%" would read as the limit.
  EXPECT_NE(Explain("zorbo", "zorbo-air", 111.59, "EUR").find(" is 39.996% of "),
            std::string::npos);
  // A limit with decimals: 9.98 / 30 = 0.33267 against 33.3%.
  EXPECT_NE(Explain("zorbo", "zorbo-tee", 9.98, "EUR").find(" is 33% of "), std::string::npos);
  EXPECT_NE(record_.evidence_json.find("(below 33.3%)"), std::string::npos);

  Explain("zorbo", "zorbo-air", 111.5, "EUR");  // sets up the listing
  Signal sig;
  sig.kind = SignalKind::kPrice;
  sig.weight = 1;
  sig.index = 0;
  sig.unit_price = 111.6;
  sig.reference_price = 279;
  sig.ratio = 0.39999999999;
  int32_t zorbo = static_cast<int32_t>(rules_->holders().size()) - 1;
  ASSERT_EQ(rules_->holders()[zorbo].id, "zorbo");
  EXPECT_NE(ExplainSignal(zorbo, sig).find(" is 39.999999999% of "), std::string::npos);
  // Closer than the double ratio can show (the exact comparison found it below the limit).
  sig.ratio = 0.4;
  EXPECT_NE(ExplainSignal(zorbo, sig).find(" is just under 40% of "), std::string::npos);
}

}  // namespace
}  // namespace bonafide::engine
