// The decision policy (docs/matching.md) through the public Scanner API, on the ACME pack
// of tests/acme_pack.h.
#include "bonafide/scanner.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/acme_pack.h"

#include "simdjson.h"

namespace bonafide {
namespace {

class ScannerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    ScannerOptions options;
    options.rules_dir = testing::WriteAcmePack(*dir_);
    auto scanner = Scanner::Create(options);
    ASSERT_TRUE(scanner.ok()) << scanner.status();
    scanner_ = scanner->release();
    auto scratch = scanner_->NewScratch();
    ASSERT_TRUE(scratch.ok());
    scratch_ = scratch->release();
  }
  static void TearDownTestSuite() {
    delete scratch_;
    delete scanner_;
    delete dir_;
  }

  // Scans a listing and returns the verdict of `holder` (nullptr when not referenced).
  const HolderVerdict* Judge(const std::string& title, double price,
                             const std::string& currency = "EUR",
                             const std::string& holder = "acme") {
    listing_.title = title;
    listing_.price = price;
    listing_.currency = currency;
    Scan();
    for (const auto& h : verdict_.holders) {
      if (scanner_->rules_info().holders[h.holder].id == holder) return &h;
    }
    return nullptr;
  }
  // Judges listing_; a refused listing leaves its reason in verdict_.reject_reason.
  void Scan() { scanner_->Scan(listing_, *scratch_, verdict_).IgnoreError(); }

  bool Opens(const std::string& title, double price, const std::string& currency = "EUR",
             const std::string& holder = "acme") {
    const HolderVerdict* h = Judge(title, price, currency, holder);
    return h != nullptr && h->case_opened;
  }

  bool HasSignal(const HolderVerdict& h, SignalKind kind) const {
    for (uint32_t i = h.signals_begin; i < h.signals_end; ++i) {
      if (verdict_.signals[i].kind == kind) return true;
    }
    return false;
  }

  void SetUp() override {
    listing_ = Listing();
    listing_.id = "L1";
    listing_.seller_id = "s-9";
  }

  static testing::TempDir* dir_;
  static Scanner* scanner_;
  static Scanner::Scratch* scratch_;
  Listing listing_;
  Verdict verdict_;
};

testing::TempDir* ScannerTest::dir_ = nullptr;
Scanner* ScannerTest::scanner_ = nullptr;
Scanner::Scratch* ScannerTest::scratch_ = nullptr;

TEST_F(ScannerTest, CueOpensCaseAndQuotesTheMatchedText) {
  const HolderVerdict* h = Judge("ACME Runner 22 Replica", 150);
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(h->case_opened);
  EXPECT_DOUBLE_EQ(h->score, 1.0);
  ASSERT_EQ(h->signals_end - h->signals_begin, 1u);
  const Signal& s = verdict_.signals[h->signals_begin];
  EXPECT_EQ(s.kind, SignalKind::kCue);
  EXPECT_EQ(scanner_->rules_info().cue_rules[s.index].id, "cue.replica");
  EXPECT_EQ(s.span.field, TextField::kTitle);
  EXPECT_EQ(listing_.title.substr(s.span.begin, s.span.end - s.span.begin), "Replica");
  EXPECT_EQ(h->first_mention.begin, 0u);
  EXPECT_EQ(h->first_mention.end, 4u);
}

TEST_F(ScannerTest, GenuineListingAtNormalPriceOpensNothing) {
  const HolderVerdict* h = Judge("ACME Runner 22 running shoes, size 42", 170);
  ASSERT_NE(h, nullptr);
  EXPECT_FALSE(h->case_opened);
  EXPECT_DOUBLE_EQ(h->score, 0);
}

TEST_F(ScannerTest, PriceBelowRatioOfReferenceIsASignal) {
  EXPECT_TRUE(Opens("ACME Runner 22", 71));   // 71 / 180 = 0.394 < 0.4
  EXPECT_FALSE(Opens("ACME Runner 22", 73));  // 0.406
  const HolderVerdict* h = Judge("ACME Runner 22", 36);
  ASSERT_NE(h, nullptr);
  const Signal& s = verdict_.signals[h->signals_begin];
  EXPECT_EQ(s.kind, SignalKind::kPrice);
  EXPECT_EQ(scanner_->rules_info().holders[h->holder].product_ids[s.index], "acme-runner-22");
  EXPECT_DOUBLE_EQ(s.reference_price, 180);
  EXPECT_NEAR(s.ratio, 0.2, 1e-9);
}

// A product named only in the description ("works with ACME Phone 12") is a feature of
// something else: it sets no reference price.
TEST_F(ScannerTest, OnlyProductsNamedInTheTitleSetTheReferencePrice) {
  listing_.description = "Works with ACME Phone 12 and every other phone";
  const HolderVerdict* h = Judge("ACME desk stand", 20);
  ASSERT_NE(h, nullptr);
  EXPECT_FALSE(HasSignal(*h, SignalKind::kPrice));
  EXPECT_EQ(h->price.product, -1);
  listing_.description = "";
  h = Judge("ACME Phone 12", 20);
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(HasSignal(*h, SignalKind::kPrice));
}

TEST_F(ScannerTest, BrandAloneCarriesNoPriceSignal) {
  const HolderVerdict* h = Judge("ACME running shoes", 1);
  ASSERT_NE(h, nullptr);
  EXPECT_FALSE(h->case_opened);
}

TEST_F(ScannerTest, PricesAreConvertedToTheBaseCurrency) {
  EXPECT_TRUE(Opens("ACME Runner 22", 80, "USD"));      // 68.8 EUR: 0.382
  EXPECT_FALSE(Opens("ACME Runner 22", 90, "USD"));     // 77.4 EUR: 0.43
  EXPECT_TRUE(Opens("ACME Runner 22", 12000, "JPY"));   // 68.4 EUR
  EXPECT_FALSE(Opens("ACME Runner 22", 14000, "JPY"));  // 79.8 EUR
  // The reference price itself may be in another currency: 600 USD = 516 EUR.
  EXPECT_TRUE(Opens("ACME Pavilion DV6 laptop", 200));   // 0.388
  EXPECT_FALSE(Opens("ACME Pavilion DV6 laptop", 210));  // 0.407
}

TEST_F(ScannerTest, UnknownCurrencyIsRefusedWithAStatus) {
  listing_.title = "ACME Runner 22 replica";
  listing_.price = 10;
  listing_.currency = "XYZ";
  const absl::Status status = scanner_->Scan(listing_, *scratch_, verdict_);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), verdict_.reject_reason);
  EXPECT_EQ(verdict_.reject_class, "unknown currency");
  EXPECT_TRUE(verdict_.holders.empty());
}

// A service hands Scan listings no reader checked: each of these once opened a case, made
// invalid case JSON or read outside the image root.
TEST_F(ScannerTest, AnInvalidListingIsRefusedWithTheReadersMessage) {
  struct Bad {
    const char* what;
    void (*spoil)(Listing&);
    const char* message;
  };
  const Bad bad[] = {
      {"negative price", [](Listing& l) { l.price = -5; }, "price must be finite and >= 0"},
      {"NaN price", [](Listing& l) { l.price = std::nan(""); }, "price must be finite and >= 0"},
      {"infinite price", [](Listing& l) { l.price = HUGE_VAL; }, "price must be finite and >= 0"},
      {"empty id", [](Listing& l) { l.id.clear(); }, "field \"id\" must not be empty"},
      {"200 KB title", [](Listing& l) { l.title.append(200 * 1024, 'x'); },
       "field \"title\" exceeds"},
      {"invalid UTF-8", [](Listing& l) { l.description = "caf\xC3"; }, "invalid UTF-8"},
      {"zero quantity", [](Listing& l) { l.quantity = 0; }, "quantity must be an integer >= 1"},
      {"escaping photo", [](Listing& l) { l.images = {"../../etc/passwd"}; },
       "image path escapes the image root"},
      {"absolute photo", [](Listing& l) { l.images = {"/etc/passwd"}; },
       "image path escapes the image root"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.what);
    listing_ = Listing();
    listing_.id = "L1";
    listing_.seller_id = "s-9";
    listing_.title = "ACME Runner 22 replica";
    listing_.price = 36;
    listing_.currency = "EUR";
    ASSERT_TRUE(scanner_->Scan(listing_, *scratch_, verdict_).ok());
    ASSERT_TRUE(verdict_.any_case());  // the same listing, unspoilt, opens a case
    b.spoil(listing_);
    const absl::Status status = scanner_->Scan(listing_, *scratch_, verdict_);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr(b.message));
    EXPECT_EQ(status.message(), verdict_.reject_reason);
    EXPECT_TRUE(verdict_.holders.empty());
    EXPECT_FALSE(verdict_.any_case());
  }
}

TEST_F(ScannerTest, CaseJsonIsValidWhateverTheListingHolds) {
  const HolderVerdict* h = Judge("ACME Runner 22 replica", 36, "EUR");
  ASSERT_NE(h, nullptr);
  ASSERT_TRUE(h->case_opened);
  // MakeCaseRecord is public: a caller may hand it a listing Scan would refuse.
  listing_.price = std::nan("");
  listing_.title.append("\xFF\"\\\n");
  listing_.seller_id.assign("s\0q", 3);
  CaseRecord record;
  scanner_->MakeCaseRecord(listing_, verdict_, *h, record);
  simdjson::dom::parser parser;
  for (const std::string* json : {&record.reasons_json, &record.evidence_json}) {
    simdjson::dom::element parsed;
    EXPECT_EQ(parser.parse(*json).get(parsed), simdjson::SUCCESS) << *json;
  }
  EXPECT_NE(record.evidence_json.find("\"price\":null"), std::string::npos) << record.evidence_json;
}

TEST_F(ScannerTest, LotsArePricedPerUnit) {
  EXPECT_FALSE(Opens("ACME Runner 22 lot of 10", 1000));  // 100 each
  EXPECT_TRUE(Opens("ACME Runner 22 lot of 10", 500));    // 50 each
  EXPECT_FALSE(Opens("ACME Runner 22 10 pcs", 1000));
  EXPECT_FALSE(Opens("ACME Runner 22 10pcs wholesale", 1000));
  listing_.quantity = 10;
  EXPECT_FALSE(Opens("ACME Runner 22", 1000));
  EXPECT_TRUE(Opens("ACME Runner 22", 600));
}

TEST_F(ScannerTest, CompatibilityPhraseCoversAMentionWithinFourWords) {
  const HolderVerdict* h = Judge("Mount for ACME Phone 12", 10);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->coverage, Coverage::kCompatibility);
  EXPECT_FALSE(h->case_opened);
  EXPECT_FALSE(Opens("Screen guard compatible with the ACME Phone 12", 10));
  // "for men" names no rights holder: the price rule applies.
  EXPECT_TRUE(Opens("ACME Runner 22 shoes for men", 50));
  EXPECT_FALSE(Opens("Slim case for 2nd generation ACME Phone 12", 10));
  EXPECT_FALSE(Opens("Gift for my dear friend ACME Runner 22", 50));  // the fourth word
  // Four words between the phrase and the mention is too far.
  EXPECT_TRUE(Opens("Gift for my very dear friend ACME Runner 22", 50));
}

TEST_F(ScannerTest, AccessoryAfterAMentionCoversUnlessBundled) {
  const HolderVerdict* h = Judge("ACME Pavilion DV6-2059 6 Cell Laptop Battery", 20, "USD");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->coverage, Coverage::kAccessory);
  EXPECT_FALSE(h->case_opened);
  EXPECT_FALSE(Opens("ACME Phone 12 / 12 Plus USB cable", 5));
  EXPECT_TRUE(Opens("ACME Phone 12 with charger", 100));
  EXPECT_TRUE(Opens("ACME Phone 12 + charger", 100));
  EXPECT_TRUE(Opens("ACME Runner 22 replacement laces", 10));  // laces: not an accessory
  // An accessory word in the description does not cover the listing.
  listing_.description = "ships with a case";
  EXPECT_TRUE(Opens("ACME Phone 12", 100));
}

TEST_F(ScannerTest, UsedPartsAndPackagingOnlyCoverEveryHolder) {
  const HolderVerdict* h = Judge("Used ACME Runner 22", 20);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->coverage, Coverage::kUsed);
  EXPECT_FALSE(h->case_opened);
  EXPECT_FALSE(Opens("ACME Runner 22 pre-owned", 20));
  h = Judge("ACME Runner 22 empty box", 5);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->coverage, Coverage::kPackagingOnly);
  listing_.condition = "parts";
  EXPECT_FALSE(Opens("ACME Runner 22", 20));
  // Coverage removes only the price signal: a cue still counts.
  EXPECT_TRUE(Opens("ACME Runner 22 replica", 20));
}

// "Never used" is a new product: a negated used or packaging-only phrase covers nothing, so
// the price rule still holds. Only the word right before the phrase negates it.
TEST_F(ScannerTest, NegatedUsedAndPackagingPhrasesCoverNothing) {
  listing_.condition = "";
  for (const char* title : {"ACME Runner 22 never used", "ACME Runner 22 not used",
                            "ACME Runner 22 unused", "ACME Runner 22, NOT pre-owned",
                            "ACME Runner 22 no box only", "ACME Runner 22 nie gebraucht"}) {
    const HolderVerdict* h = Judge(title, 20);
    ASSERT_NE(h, nullptr) << title;
    EXPECT_EQ(h->coverage, Coverage::kNone) << title;
    EXPECT_TRUE(h->case_opened) << title;
  }
  const HolderVerdict* h = Judge("ACME Runner 22 used, not boxed", 20);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->coverage, Coverage::kUsed);
  h = Judge("Not new: ACME Runner 22 second hand", 20);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->coverage, Coverage::kUsed);
}

TEST_F(ScannerTest, AuthorizedSellersAreNeverFlagged) {
  listing_.seller_id = "s-100";
  const HolderVerdict* h = Judge("ACME Runner 22 replica 1:1", 10);
  ASSERT_NE(h, nullptr);
  EXPECT_GE(h->score, 3.0);
  EXPECT_TRUE(h->authorized_seller);
  EXPECT_FALSE(h->case_opened);
}

TEST_F(ScannerTest, ShadowRulesAreCountedButNeverScored) {
  const HolderVerdict* h = Judge("ACME Runner 22 inspired by the classics", 170);
  ASSERT_NE(h, nullptr);
  EXPECT_FALSE(h->case_opened);
  EXPECT_DOUBLE_EQ(h->score, 0);
  ASSERT_EQ(h->signals_end - h->signals_begin, 1u);
  EXPECT_TRUE(verdict_.signals[h->signals_begin].shadow);
  ASSERT_EQ(verdict_.cue_hits.size(), 1u);
  const RulesInfo::CueRule& rule = scanner_->rules_info().cue_rules[verdict_.cue_hits[0]];
  EXPECT_EQ(rule.id, "cue.inspired");
  EXPECT_TRUE(rule.shadow);
}

// Any mention of a brand name or alias in an evasive spelling, even beside a plain product
// keyword or another, plain mention; an evasive product keyword alone is not one.
TEST_F(ScannerTest, EvasiveBrandIsASignalInAnyMentionOfABrandName) {
  struct Case {
    std::string title;
    bool obfuscated;
  };
  const Case cases[] = {
      {"A C M E shoes", true},
      {"A.C.M.E shoes", true},
      {"@CME shoes", true},
      {"\xD0\x90\xD0\xA1\xD0\x9C\xD0\x95 shoes", true},                  // Cyrillic
      {"\xEF\xBC\xA1\xEF\xBC\xA3\xEF\xBC\xAD\xEF\xBC\xA5 shoes", true},  // full-width
      {"acme shoes", false},
      {"Acmé shoes", false},
      {"A C M E and ACME shoes", true},
      {"4CME Runner 22", true},
      {"ACME Runn3r 22", false},
      {"Runner 22", false},
  };
  for (const Case& c : cases) {
    const HolderVerdict* h = Judge(c.title, 170);  // a normal price for a Runner 22
    ASSERT_NE(h, nullptr) << c.title;
    EXPECT_EQ(HasSignal(*h, SignalKind::kObfuscatedBrand), c.obfuscated) << c.title;
    EXPECT_FALSE(h->case_opened) << c.title;  // 0.5 alone stays below the threshold
  }
  EXPECT_TRUE(Opens("A C M E replica", 10));  // 0.5 + 1.0
}

// A mention inside one of the rights holder's exclude phrases is not a mention; one outside
// them still is.
// Digits and symbols for letters at the ends of a name's words, where the normaliser reads
// them as numbers; a name written mostly in digits is a number, not a mention.
TEST_F(ScannerTest, LookAlikesAtTheEndsOfANameAreEvasiveMentions) {
  struct Case {
    std::string title;
    std::string holder;
    bool named;
  };
  const Case cases[] = {
      {"ACM3 shoes", "acme", true},    // trailing 3 for e
      {"7ACME shoes", "acme", false},  // a digit before the name is not part of it
      {"Di0r bag", "luxe", true},      // 0 for o next to the end
      {"Casi0 watch", "luxe", true},   // trailing 0 for o
      {"UG9 boots", "luxe", true},     // 9 for g at the end of a short name
      {"U99 boots", "luxe", false},    // two of three letters: a model number
      {"C4510 calculator", "luxe", false},
      {"Cas1o watch", "luxe", true},  // inside the word: the normaliser reads it
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.title);
    const HolderVerdict* h = Judge(c.title, 170, "EUR", c.holder);
    if (!c.named) {
      EXPECT_TRUE(h == nullptr || !h->named);
      continue;
    }
    ASSERT_NE(h, nullptr);
    EXPECT_TRUE(h->named);
    EXPECT_TRUE(HasSignal(*h, SignalKind::kObfuscatedBrand));
  }
}

// A model number's characters spaced apart still name the product, which carries the price
// rule; a letter never stands for one of its digits.
TEST_F(ScannerTest, ModelNumbersSpacedApartNameTheirProduct) {
  const HolderVerdict* h = Judge("ACME Runner 2 2 sneakers", 36);
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(HasSignal(*h, SignalKind::kPrice));
  EXPECT_TRUE(h->case_opened);
  const Signal* price = nullptr;
  for (uint32_t i = h->signals_begin; i < h->signals_end; ++i) {
    if (verdict_.signals[i].kind == SignalKind::kPrice) price = &verdict_.signals[i];
  }
  ASSERT_NE(price, nullptr);
  EXPECT_EQ(listing_.title.substr(price->span.begin, price->span.end - price->span.begin),
            "Runner 2 2");
  h = Judge("ACME Pavilion D V 6 laptop", 100, "USD");
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(HasSignal(*h, SignalKind::kPrice));
  h = Judge("ACME Runner 2Z sneakers", 36);  // Z is no digit
  ASSERT_NE(h, nullptr);
  EXPECT_FALSE(HasSignal(*h, SignalKind::kPrice));
}

TEST_F(ScannerTest, ExcludePhrasesUnnameTheMentionsInsideThem) {
  EXPECT_EQ(Judge("Cartoon acme anvil prop replica", 5), nullptr);
  listing_.description = "an ACME anvil, the classic";
  EXPECT_EQ(Judge("Cartoon prop replica", 5), nullptr);
  listing_.description = "";
  const HolderVerdict* h = Judge("ACME Runner 22 replica with acme anvil print", 20);
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(h->case_opened);
  EXPECT_TRUE(scanner_->CheckExamples().empty());
}

TEST(ScannerExamplesTest, BrandAndProductExamplesThatFailAreReportedWithTheirPlace) {
  testing::TempDir dir;
  const std::string rules = testing::WriteAcmePack(dir);
  dir.Write("rules/rights_holders/acme.yaml", R"(id: acme
name: ACME Sports GmbH
brands:
  - name: ACME
    examples: {no_match: ["Cartoon acme anvil prop"]}
products:
  - id: acme-runner-22
    name: Runner 22
    examples: {match: ["Runner 22"], no_match: ["Runner 22"]}
)");
  ScannerOptions options;
  options.rules_dir = rules;
  auto scanner = Scanner::Create(options);
  ASSERT_TRUE(scanner.ok()) << scanner.status();
  const std::string file = dir.Join("rules/rights_holders/acme.yaml");
  EXPECT_THAT((*scanner)->CheckExamples(),
              ::testing::ElementsAre(
                  file + ":4:5: brand \"ACME\": example \"Cartoon acme anvil prop\" should not "
                         "name \"acme\"",
                  file + ":7:5: product \"acme-runner-22\": example \"Runner 22\" should not "
                         "name \"acme\""));
}

// A scratch works with the Scanner that made it only; another's (say, after a rules reload)
// is refused loudly instead of judging with the wrong tables.
TEST_F(ScannerTest, AScratchOfAnotherScannerIsRefused) {
  ScannerOptions options;
  options.rules_dir = dir_->Join("rules");
  auto other = Scanner::Create(options);
  ASSERT_TRUE(other.ok()) << other.status();
  listing_.title = "ACME Runner 22 replica";
  listing_.price = 10;
  listing_.currency = "EUR";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH((*other)->Scan(listing_, *scratch_, verdict_).IgnoreError(),
               "from this Scanner's NewScratch");
  auto own = (*other)->NewScratch();
  ASSERT_TRUE(own.ok());
  ASSERT_TRUE((*other)->Scan(listing_, **own, verdict_).ok());
  EXPECT_TRUE(verdict_.any_case());
}

TEST_F(ScannerTest, BrandsMatchWholeWordsOnly) {
  for (const char* title :
       {"diorama model kit", "snuggle blanket", "special occasion dress", "acmeology handbook"}) {
    listing_.title = title;
    listing_.price = 1;
    listing_.currency = "EUR";
    Scan();
    EXPECT_TRUE(verdict_.holders.empty()) << title;
  }
  const HolderVerdict* h = Judge("Dior saddle bag", 100, "EUR", "luxe");
  ASSERT_NE(h, nullptr);
}

TEST_F(ScannerTest, HolderThresholdOverridesPolicy) {
  EXPECT_FALSE(Opens("Dior saddle bag replica", 2500, "EUR", "luxe"));  // 1 < 2
  EXPECT_TRUE(Opens("Dior saddle bag replica", 100, "EUR", "luxe"));    // 2 >= 2
}

TEST_F(ScannerTest, CuesInDescriptionsAndOtherLanguagesCount) {
  listing_.description = "Top quality replica, fast shipping";
  EXPECT_TRUE(Opens("ACME Runner 22", 170));
  listing_.description.clear();
  EXPECT_TRUE(Opens("ACME Runner 22 高仿", 170));
  EXPECT_TRUE(Opens("ACME Runner 22 Nachbildung", 170));
  EXPECT_TRUE(Opens("ACME Runner 22 \xD1\x80\xD0\xB5\xD0\xBF\xD0\xBB\xD0\xB8\xD0\xBA\xD0\xB0",
                    170));  // реплика
  EXPECT_TRUE(Opens("ACME Runner 22 1:1", 170));
  EXPECT_FALSE(Opens("ACME Runner 22 100ml", 170));
}

TEST_F(ScannerTest, EveryReferencedHolderIsJudgedSeparately) {
  Judge("ACME Runner 22 and Dior saddle bag replica", 2500);
  ASSERT_EQ(verdict_.holders.size(), 2u);
  EXPECT_TRUE(verdict_.holders[0].case_opened);   // acme: cue 1 >= 1
  EXPECT_FALSE(verdict_.holders[1].case_opened);  // luxe: cue 1 < 2
}

TEST_F(ScannerTest, CaseRecordExplainsTheDecision) {
  listing_.marketplace = "mp";
  const HolderVerdict* h = Judge("ACME Runner 22 replica", 36, "EUR");
  ASSERT_NE(h, nullptr);
  CaseRecord record;
  scanner_->MakeCaseRecord(listing_, verdict_, *h, record);
  EXPECT_EQ(record.rights_holder, "acme");
  EXPECT_EQ(record.marketplace, "mp");
  EXPECT_EQ(record.listing_id, "L1");
  EXPECT_DOUBLE_EQ(record.score, 2.0);
  EXPECT_NE(record.reasons_json.find("\"rule\":\"cue.replica\",\"version\":3"), std::string::npos)
      << record.reasons_json;
  EXPECT_NE(record.reasons_json.find("\"text\":\"replica\""), std::string::npos);
  EXPECT_NE(record.reasons_json.find("\"product\":\"acme-runner-22\""), std::string::npos);
  EXPECT_NE(record.reasons_json.find("\"fx_date\":\"2026-11-27\""), std::string::npos);
  EXPECT_NE(
      record.evidence_json.find("\"rules_version\":\"" + scanner_->rules_info().rules_version),
      std::string::npos);
  EXPECT_NE(record.evidence_json.find("cue rule cue.replica matched \\\"replica\\\""),
            std::string::npos)
      << record.evidence_json;
}

TEST_F(ScannerTest, RuleExamplesPass) { EXPECT_TRUE(scanner_->CheckExamples().empty()); }

// --- Explain: every signal of every referenced rights holder, held or not, and why -------

const SignalExplanation* FindSignal(const ListingExplanation& e, const std::string& holder,
                                    const std::string& signal) {
  for (const HolderExplanation& h : e.holders) {
    if (h.rights_holder != holder) continue;
    for (const SignalExplanation& s : h.signals) {
      if (s.signal == signal) return &s;
    }
  }
  return nullptr;
}

TEST_F(ScannerTest, ExplainGivesThePriceArithmeticWhetherOrNotItHeld) {
  listing_.title = "ACME Runner 22 replica";
  listing_.price = 20;
  listing_.currency = "EUR";
  ListingExplanation e = scanner_->Explain(listing_, *scratch_);
  ASSERT_EQ(e.holders.size(), 1u);
  EXPECT_EQ(e.holders[0].reference, "named \"ACME\" (title 0-4)");
  const SignalExplanation* price = FindSignal(e, "acme", "price");
  ASSERT_NE(price, nullptr);
  EXPECT_TRUE(price->held);
  EXPECT_EQ(price->why,
            "unit price 20.00 EUR is 11% of the reference 180.00 EUR of acme-runner-22 (below "
            "40%), named \"Runner 22\" (title 5-14)");
  const SignalExplanation* cue = FindSignal(e, "acme", "cue:cue.replica");
  ASSERT_NE(cue, nullptr);
  EXPECT_TRUE(cue->held);
  EXPECT_EQ(cue->why, "matched \"replica\" (title 15-22)");
  EXPECT_TRUE(e.holders[0].case_opened);
  EXPECT_EQ(e.holders[0].outcome, "case: score 2 >= threshold 1");

  listing_.title = "ACME Runner 22";
  listing_.price = 150;
  e = scanner_->Explain(listing_, *scratch_);
  price = FindSignal(e, "acme", "price");
  ASSERT_NE(price, nullptr);
  EXPECT_FALSE(price->held);
  EXPECT_EQ(price->why,
            "unit price 150.00 EUR is 83.33% of the reference 180.00 EUR of acme-runner-22 (not "
            "below 40%), named \"Runner 22\" (title 5-14)");
  ASSERT_NE(FindSignal(e, "acme", "cue"), nullptr);
  EXPECT_EQ(FindSignal(e, "acme", "cue")->why, "no cue rule matched the title or description");
  EXPECT_EQ(e.holders[0].outcome, "no case: score 0 < threshold 1");

  listing_.title = "ACME sale";
  e = scanner_->Explain(listing_, *scratch_);
  EXPECT_EQ(FindSignal(e, "acme", "price")->why,
            "no product of this rights holder with a reference price is named in the title or "
            "shown by a photo");
}

TEST_F(ScannerTest, ExplainNamesThePhraseThatCoversTheHolder) {
  listing_.price = 10;
  listing_.currency = "EUR";
  listing_.title = "Mount for ACME Phone 12";
  EXPECT_EQ(FindSignal(scanner_->Explain(listing_, *scratch_), "acme", "price")->why,
            "off: the title sells something for it, compatibility phrase \"for\" (title 6-9)");
  listing_.title = "ACME Phone 12 USB cable";
  EXPECT_EQ(FindSignal(scanner_->Explain(listing_, *scratch_), "acme", "price")->why,
            "off: the title sells an accessory of it, \"cable\" (title 18-23)");
  listing_.title = "ACME Runner 22 pre-owned";
  EXPECT_EQ(FindSignal(scanner_->Explain(listing_, *scratch_), "acme", "price")->why,
            "off: used goods, \"pre-owned\" (title 15-24)");
  listing_.title = "ACME Runner 22";
  listing_.condition = "parts";
  EXPECT_EQ(FindSignal(scanner_->Explain(listing_, *scratch_), "acme", "price")->why,
            "off: used goods (condition \"parts\")");
}

TEST_F(ScannerTest, ExplainCoversAuthorizedSellersEvasiveNamesAndHoldersAskedFor) {
  listing_.seller_id = "s-100";
  listing_.title = "ACME Runner 22 replica 1:1";
  listing_.price = 10;
  listing_.currency = "EUR";
  ListingExplanation e = scanner_->Explain(listing_, *scratch_, {"luxe", "nobody"});
  ASSERT_EQ(e.holders.size(), 3u);
  EXPECT_TRUE(e.holders[0].authorized_seller);
  EXPECT_FALSE(e.holders[0].case_opened);
  EXPECT_EQ(e.holders[0].outcome,
            "no case: seller \"s-100\" is authorized (the rules' list or a verdict)");
  EXPECT_EQ(e.holders[1].rights_holder, "luxe");
  EXPECT_FALSE(e.holders[1].referenced);
  EXPECT_TRUE(e.holders[1].signals.empty());
  EXPECT_EQ(e.holders[2].reference, "no such rights holder in the rules");

  listing_.seller_id = "s-9";
  listing_.title = "4CME shoes";
  e = scanner_->Explain(listing_, *scratch_);
  const SignalExplanation* evasive = FindSignal(e, "acme", "obfuscated_brand");
  ASSERT_NE(evasive, nullptr);
  EXPECT_TRUE(evasive->held);
  EXPECT_EQ(evasive->weight, 0.5);
  EXPECT_EQ(evasive->why, "a brand name or alias in an evasive spelling: \"4CME\" (title 0-4)");
  EXPECT_EQ(FindSignal(e, "acme", "image")->why, "photos not read (no image root: --images)");

  const std::string json = ExplanationJson(e);
  EXPECT_EQ(json.back(), '\n');
  EXPECT_NE(json.find(R"("signal":"obfuscated_brand","held":true,"shadow":false,"weight":0.5)"),
            std::string::npos)
      << json;
  EXPECT_NE(ExplanationText(e).find("    + obfuscated_brand (0.5): a brand name or alias in"),
            std::string::npos)
      << ExplanationText(e);
}

TEST_F(ScannerTest, ExplainSaysWhyAListingWasNotJudged) {
  listing_.title = "ACME Runner 22";
  listing_.price = 10;
  listing_.currency = "XYZ";
  const ListingExplanation e = scanner_->Explain(listing_, *scratch_);
  EXPECT_TRUE(e.holders.empty());
  EXPECT_NE(e.reject_reason.find("unknown currency"), std::string::npos) << e.reject_reason;
  EXPECT_NE(ExplanationText(e).find("  rejected: unknown currency"), std::string::npos);
}

}  // namespace
}  // namespace bonafide
