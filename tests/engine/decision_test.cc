// The decision policy alone (engine/decision.h): listings normalised and matched against the
// small ACME rules directory of tests/acme_pack.h, then judged by Decide(), without the
// scanner, the photo stage or the outbox. Each test names one rule of docs/matching.md.
#include "engine/decision.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rules/compiled_rules.h"
#include "rules/normalize.h"
#include "rules/rule_pack.h"
#include "rules/text_matcher.h"
#include "tests/acme_pack.h"
#include "tests/test_util.h"

namespace bonafide::engine {
namespace {

class DecisionTest : public ::testing::Test {
 protected:
  // The rules are compiled once for the suite (a compilation per test would cost more than
  // the tests); each test has its own matcher and scratch.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>();
    const std::string rules_dir = testing::WriteAcmePack(*dir_);
    // Reference prices whose price limit a double computation misjudges: 111.6 / 279 is
    // 0.39999999999999997 in binary floating point.
    dir_->Write("rules/rights_holders/zorbo.yaml", R"(id: zorbo
name: Zorbo Ltd
brands:
  - name: Zorbo
products:
  - id: zorbo-air
    name: Air
    keywords: [zorbo air]
    reference_price: {amount: 279, currency: EUR}
    min_price_ratio: 0.4
  - id: zorbo-tee
    name: Tee
    keywords: [zorbo tee]
    reference_price: {amount: 25.80, currency: GBP}
    min_price_ratio: 0.4
  - id: zorbo-cap
    name: Cap
    keywords: [zorbo cap]
    reference_price: {amount: 10.75, currency: EUR}
    min_price_ratio: 0.4
  - id: zorbo-sock
    name: Sock
    keywords: [zorbo sock]
    reference_price: {amount: 12.50, currency: USD}
    min_price_ratio: 0.4
)");
    auto pack = rules::LoadRulePack(rules_dir);
    ASSERT_TRUE(pack.ok()) << pack.status();
    auto compiled = rules::CompiledRules::Compile(std::move(*pack));
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    rules_ = std::move(*compiled);
    auto database = rules::CompileMatcherDatabase(rules::DefaultMatcherBackend(), rules_, {});
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = std::move(*database);
  }
  static void TearDownTestSuite() {
    database_.reset();
    rules_.reset();
    dir_.reset();
  }

  void SetUp() override {
    ASSERT_NE(database_, nullptr);
    auto matcher = database_->NewMatcher();
    ASSERT_TRUE(matcher.ok()) << matcher.status();
    matcher_ = std::move(*matcher);
    scratch_ = std::make_unique<DecisionScratch>(*rules_);
  }

  static Listing MakeListing(std::string title, double price = 100, std::string currency = "EUR") {
    Listing l;
    l.id = "l-1";
    l.title = std::move(title);
    l.price = price;
    l.currency = std::move(currency);
    l.seller_id = "s-1";
    return l;
  }

  // Normalises and matches the listing's text as the scanner does, then decides.
  const Verdict& Judge(const Listing& listing, std::span<const ImageMatch> images = {},
                       std::span<const KnownPhotoMatch> known_photos = {}) {
    Prepare(listing.title, rules::MatchScope::kTitle, title_);
    Prepare(listing.description, rules::MatchScope::kDescription, description_);
    Decide(*rules_, feedback_, listing, title_, description_, images, known_photos, *scratch_,
           verdict_);
    return verdict_;
  }

  // Judges the next listings with what `feedback` teaches.
  void Learn(OutboxFeedback feedback) {
    auto index = FeedbackIndex::Build(std::move(feedback), *rules_);
    ASSERT_TRUE(index.ok()) << index.status();
    feedback_ = std::move(*index);
  }

  int HolderIndex(std::string_view id) const {
    for (size_t i = 0; i < rules_->holders().size(); ++i) {
      if (rules_->holders()[i].id == id) return static_cast<int>(i);
    }
    ADD_FAILURE() << "no rights holder " << id;
    return -1;
  }
  int CueIndex(std::string_view id) const {
    for (size_t i = 0; i < rules_->pack().cues.size(); ++i) {
      if (rules_->pack().cues[i].id == id) return static_cast<int>(i);
    }
    ADD_FAILURE() << "no cue rule " << id;
    return -1;
  }

  // The verdict of rights holder `id`, or null when the listing does not reference it.
  const HolderVerdict* Holder(std::string_view id) const {
    const int index = HolderIndex(id);
    for (const HolderVerdict& h : verdict_.holders) {
      if (h.holder == index) return &h;
    }
    return nullptr;
  }
  std::vector<Signal> Signals(const HolderVerdict& h) const {
    return {verdict_.signals.begin() + h.signals_begin, verdict_.signals.begin() + h.signals_end};
  }
  const Signal* FindSignal(const HolderVerdict& h, SignalKind kind) const {
    for (uint32_t i = h.signals_begin; i < h.signals_end; ++i) {
      if (verdict_.signals[i].kind == kind) return &verdict_.signals[i];
    }
    return nullptr;
  }
  std::string SpanText(const Listing& l, const TextSpan& span) const {
    const std::string& text = span.field == TextField::kTitle ? l.title : l.description;
    return text.substr(span.begin, span.end - span.begin);
  }

 private:
  void Prepare(std::string_view text, rules::MatchScope scope, MatchedField& field) {
    field.original = text;
    rules::NormalizeField(text, field.normalized);
    ASSERT_TRUE(matcher_->Match(field.normalized.text, scope, field.hits).ok());
  }

  static std::unique_ptr<testing::TempDir> dir_;
  static std::shared_ptr<const rules::CompiledRules> rules_;
  static std::shared_ptr<const rules::MatcherDatabase> database_;
  std::unique_ptr<rules::TextMatcher> matcher_;
  std::unique_ptr<DecisionScratch> scratch_;
  FeedbackIndex feedback_;
  MatchedField title_, description_;

 protected:
  Verdict verdict_;
};

std::unique_ptr<testing::TempDir> DecisionTest::dir_;
std::shared_ptr<const rules::CompiledRules> DecisionTest::rules_;
std::shared_ptr<const rules::MatcherDatabase> DecisionTest::database_;

TEST_F(DecisionTest, ListingThatNamesNoRightsHolderReferencesNone) {
  const Listing l = MakeListing("Running shoes replica, size 42", 10);
  EXPECT_TRUE(Judge(l).holders.empty());
  EXPECT_TRUE(verdict_.reject_reason.empty());
}

TEST_F(DecisionTest, CueRuleScoresItsWeightAndRecordsWhereItMatched) {
  const Listing l = MakeListing("ACME Runner 22 replica", 150);
  Judge(l);
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_DOUBLE_EQ(acme->score, 1.0);
  EXPECT_DOUBLE_EQ(acme->threshold, 1.0);
  EXPECT_TRUE(acme->case_opened);
  EXPECT_EQ(SpanText(l, acme->first_mention), "ACME");
  const Signal* cue = FindSignal(*acme, SignalKind::kCue);
  ASSERT_NE(cue, nullptr);
  EXPECT_EQ(cue->index, CueIndex("cue.replica"));
  EXPECT_EQ(SpanText(l, cue->span), "replica");
  EXPECT_EQ(verdict_.cue_hits, std::vector<int32_t>{CueIndex("cue.replica")});
}

TEST_F(DecisionTest, CueWithoutAMentionReferencesNoRightsHolder) {
  Judge(MakeListing("replica 1:1 sneakers", 10));
  EXPECT_TRUE(verdict_.holders.empty());
}

TEST_F(DecisionTest, ShadowRuleIsCountedButAddsNothing) {
  const Listing l = MakeListing("ACME Runner 22 inspired by the classics", 150);
  Judge(l);
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_DOUBLE_EQ(acme->score, 0.0);
  EXPECT_FALSE(acme->case_opened);
  const Signal* cue = FindSignal(*acme, SignalKind::kCue);
  ASSERT_NE(cue, nullptr);
  EXPECT_TRUE(cue->shadow);
  EXPECT_DOUBLE_EQ(cue->weight, 0.0);
  EXPECT_EQ(verdict_.cue_hits, std::vector<int32_t>{CueIndex("cue.inspired")});
}

TEST_F(DecisionTest, PriceBelowTheRatioOfTheNamedProductIsASignal) {
  const Listing l = MakeListing("ACME Runner 22 sneakers", 50);  // 50 / 180 = 0.28 < 0.4
  Judge(l);
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  const Signal* price = FindSignal(*acme, SignalKind::kPrice);
  ASSERT_NE(price, nullptr);
  EXPECT_DOUBLE_EQ(price->unit_price, 50);
  EXPECT_DOUBLE_EQ(price->reference_price, 180);
  EXPECT_NEAR(price->ratio, 50.0 / 180.0, 1e-12);
  EXPECT_EQ(SpanText(l, price->span), "Runner 22");
  EXPECT_TRUE(acme->case_opened);
}

TEST_F(DecisionTest, PriceAboveTheRatioIsNoSignal) {
  Judge(MakeListing("ACME Runner 22 sneakers", 90));  // 0.5 of the reference
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(FindSignal(*acme, SignalKind::kPrice), nullptr);
  EXPECT_FALSE(acme->case_opened);
}

TEST_F(DecisionTest, PriceIsComparedPerUnitAfterFx) {
  // The Pavilion's reference is 600 USD = 516 EUR; 100 USD = 86 EUR is 0.17 of it.
  const Listing l = MakeListing("ACME Pavilion DV6 laptop", 100, "USD");
  Judge(l);
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  const Signal* price = FindSignal(*acme, SignalKind::kPrice);
  ASSERT_NE(price, nullptr);
  EXPECT_NEAR(price->unit_price, 86, 1e-9);
  EXPECT_NEAR(price->reference_price, 516, 1e-9);

  // Ten units at 400 EUR: 40 EUR a unit is far below, although the listing price is not.
  Listing lot = MakeListing("ACME Runner 22 sneakers", 400);
  lot.quantity = 10;
  Judge(lot);
  acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  price = FindSignal(*acme, SignalKind::kPrice);
  ASSERT_NE(price, nullptr);
  EXPECT_EQ(price->units, 10);
  EXPECT_DOUBLE_EQ(price->unit_price, 40);
}

// A price exactly at min_price_ratio x reference is not below it, whatever binary floating
// point makes of the decimals; one cent less is.
TEST_F(DecisionTest, PriceExactlyAtTheLimitIsNoSignalAndOneCentBelowIs) {
  Judge(MakeListing("Zorbo Air sneakers", 111.6));  // 279 x 0.4
  const HolderVerdict* zorbo = Holder("zorbo");
  ASSERT_NE(zorbo, nullptr);
  EXPECT_EQ(FindSignal(*zorbo, SignalKind::kPrice), nullptr);
  EXPECT_FALSE(zorbo->case_opened);

  Judge(MakeListing("Zorbo Air sneakers", 111.59));
  zorbo = Holder("zorbo");
  ASSERT_NE(zorbo, nullptr);
  const Signal* price = FindSignal(*zorbo, SignalKind::kPrice);
  ASSERT_NE(price, nullptr);
  EXPECT_DOUBLE_EQ(price->unit_price, 111.59);
  EXPECT_TRUE(zorbo->case_opened);
}

TEST_F(DecisionTest, PriceLimitIsExactAfterFxOfTheListingAndOfTheReference) {
  struct Case {
    const char* title;
    double at_limit;
    double cent_below;
    const char* currency;
  };
  // At the limit: price x FX(listing) = 0.4 x reference x FX(reference).
  const Case cases[] = {
      {"Zorbo Cap", 5.00, 4.99, "USD"},    // 5.00 x 0.86 = 0.4 x 10.75 EUR
      {"Zorbo Sock", 4.30, 4.29, "EUR"},   // 4.30 = 0.4 x 12.50 USD x 0.86
      {"Zorbo Tee", 13.68, 13.67, "USD"},  // 13.68 x 0.86 = 0.4 x 25.80 GBP x 1.14
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.title);
    Judge(MakeListing(c.title, c.at_limit, c.currency));
    const HolderVerdict* zorbo = Holder("zorbo");
    ASSERT_NE(zorbo, nullptr);
    EXPECT_EQ(FindSignal(*zorbo, SignalKind::kPrice), nullptr);

    Judge(MakeListing(c.title, c.cent_below, c.currency));
    zorbo = Holder("zorbo");
    ASSERT_NE(zorbo, nullptr);
    EXPECT_NE(FindSignal(*zorbo, SignalKind::kPrice), nullptr);
  }
}

TEST_F(DecisionTest, PriceLimitIsExactPerUnit) {
  Judge(MakeListing("Zorbo Air lot of 10", 1116));  // 111.60 a unit
  const HolderVerdict* zorbo = Holder("zorbo");
  ASSERT_NE(zorbo, nullptr);
  EXPECT_EQ(FindSignal(*zorbo, SignalKind::kPrice), nullptr);

  Listing lot = MakeListing("Zorbo Tee", 41.04, "USD");  // 13.68 USD a unit
  lot.quantity = 3;
  Judge(lot);
  zorbo = Holder("zorbo");
  ASSERT_NE(zorbo, nullptr);
  EXPECT_EQ(FindSignal(*zorbo, SignalKind::kPrice), nullptr);

  Judge(MakeListing("Zorbo Air lot of 10", 1115.99));  // 111.599 a unit
  zorbo = Holder("zorbo");
  ASSERT_NE(zorbo, nullptr);
  const Signal* price = FindSignal(*zorbo, SignalKind::kPrice);
  ASSERT_NE(price, nullptr);
  EXPECT_EQ(price->units, 10);
}

TEST_F(DecisionTest, CompatibilityPhraseBeforeAMentionCoversThePriceRule) {
  Judge(MakeListing("Mount for ACME Phone 12", 15));
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(acme->coverage, Coverage::kCompatibility);
  EXPECT_EQ(FindSignal(*acme, SignalKind::kPrice), nullptr);
  EXPECT_FALSE(acme->case_opened);
}

TEST_F(DecisionTest, AccessoryWordAfterAMentionCoversUnlessABundleWordComesBetween) {
  Judge(MakeListing("ACME Phone 12 / 12 Plus USB cable", 9));
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(acme->coverage, Coverage::kAccessory);
  EXPECT_EQ(FindSignal(*acme, SignalKind::kPrice), nullptr);

  Judge(MakeListing("ACME Phone 12 with charger", 90));
  acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(acme->coverage, Coverage::kNone);
  EXPECT_NE(FindSignal(*acme, SignalKind::kPrice), nullptr);
}

TEST_F(DecisionTest, UsedListingsAreCoveredForEveryRightsHolder) {
  Listing l = MakeListing("ACME Runner 22 sneakers", 20);
  l.condition = "used";
  Judge(l);
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(acme->coverage, Coverage::kUsed);
  EXPECT_EQ(FindSignal(*acme, SignalKind::kPrice), nullptr);

  Judge(MakeListing("ACME Runner 22 pre-owned", 20));
  acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(acme->coverage, Coverage::kUsed);
}

TEST_F(DecisionTest, EvasiveSpellingOfTheBrandIsASignalButCaseIsNot) {
  const Listing l = MakeListing("4CME sneakers", 150);
  Judge(l);
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  const Signal* evasive = FindSignal(*acme, SignalKind::kObfuscatedBrand);
  ASSERT_NE(evasive, nullptr);
  EXPECT_DOUBLE_EQ(evasive->weight, 0.5);
  EXPECT_EQ(SpanText(l, evasive->span), "4CME");
  EXPECT_DOUBLE_EQ(acme->score, 0.5);
  EXPECT_FALSE(acme->case_opened);  // 0.5 < threshold 1

  Judge(MakeListing("acme sneakers", 150));
  acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(FindSignal(*acme, SignalKind::kObfuscatedBrand), nullptr);
}

TEST_F(DecisionTest, EachRightsHolderHasItsOwnThreshold) {
  Judge(MakeListing("Dior saddle bag replica", 2500));  // luxe: threshold 2, score 1
  const HolderVerdict* luxe = Holder("luxe");
  ASSERT_NE(luxe, nullptr);
  EXPECT_DOUBLE_EQ(luxe->threshold, 2.0);
  EXPECT_DOUBLE_EQ(luxe->score, 1.0);
  EXPECT_FALSE(luxe->case_opened);

  Judge(MakeListing("Dior saddle bag replica", 100));  // + price: 100 / 3000 < 0.3
  luxe = Holder("luxe");
  ASSERT_NE(luxe, nullptr);
  EXPECT_DOUBLE_EQ(luxe->score, 2.0);
  EXPECT_TRUE(luxe->case_opened);
}

TEST_F(DecisionTest, AuthorizedSellerNeverOpensACase) {
  Listing l = MakeListing("ACME Runner 22 replica", 20);
  l.seller_id = "s-100";
  Judge(l);
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_TRUE(acme->authorized_seller);
  EXPECT_GE(acme->score, acme->threshold);
  EXPECT_FALSE(acme->case_opened);
}

TEST_F(DecisionTest, OneListingCanConcernSeveralRightsHolders) {
  Judge(MakeListing("ACME Runner 22 and Dior saddle bag replica", 100));
  const HolderVerdict* acme = Holder("acme");
  const HolderVerdict* luxe = Holder("luxe");
  ASSERT_NE(acme, nullptr);
  ASSERT_NE(luxe, nullptr);
  EXPECT_TRUE(acme->case_opened);
  EXPECT_TRUE(luxe->case_opened);
  // Each holder's signals are its own range.
  for (const Signal& s : Signals(*acme)) {
    if (s.kind == SignalKind::kPrice) {
      EXPECT_DOUBLE_EQ(s.reference_price, 180);
    }
  }
  for (const Signal& s : Signals(*luxe)) {
    if (s.kind == SignalKind::kPrice) {
      EXPECT_DOUBLE_EQ(s.reference_price, 3000);
    }
  }
}

TEST_F(DecisionTest, PhotoOfAGenuineProductReferencesItsHolderWithoutAMention) {
  ImageMatch match;
  match.holder = HolderIndex("acme");
  match.product = 0;  // acme-runner-22
  match.image = 0;
  match.genuine_photo = 3;
  match.distance = 12;
  match.quality = 90;
  Listing l = MakeListing("Sneakers, brand new", 20);
  l.images = {"a.jpg"};
  const ImageMatch matches[] = {match};
  Judge(l, matches);
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_FALSE(acme->named);
  const Signal* image = FindSignal(*acme, SignalKind::kImage);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->genuine_photo, 3);
  EXPECT_EQ(image->distance, 12);
  // The photo's product sets the reference price: 20 / 180 is below 0.4.
  const Signal* price = FindSignal(*acme, SignalKind::kPrice);
  ASSERT_NE(price, nullptr);
  EXPECT_DOUBLE_EQ(price->reference_price, 180);
  EXPECT_DOUBLE_EQ(acme->score, 2.0);
  EXPECT_TRUE(acme->case_opened);
}

// --- feedback from the rights holders' verdicts ------------------------------------------

TEST_F(DecisionTest, SellerAuthorizedThroughAVerdictIsNeverFlaggedForThatHolderOnly) {
  OutboxFeedback feedback;
  feedback.authorized_sellers = {{"acme", "s-7"}, {"gone", "s-7"}};  // `gone`: not in the rules
  Learn(feedback);
  Listing l = MakeListing("ACME Runner 22 and Dior saddle bag replica", 100);
  l.seller_id = "s-7";
  Judge(l);
  const HolderVerdict* acme = Holder("acme");
  const HolderVerdict* luxe = Holder("luxe");
  ASSERT_NE(acme, nullptr);
  ASSERT_NE(luxe, nullptr);
  EXPECT_TRUE(acme->authorized_seller);
  EXPECT_GE(acme->score, acme->threshold);  // judged as usual
  EXPECT_FALSE(acme->case_opened);
  EXPECT_FALSE(luxe->authorized_seller);
  EXPECT_TRUE(luxe->case_opened);
  // Another seller of the same listing is flagged.
  l.seller_id = "s-8";
  Judge(l);
  EXPECT_TRUE(Holder("acme")->case_opened);
}

TEST_F(DecisionTest, SellerRecordOfConfirmedCounterfeitsAddsItsWeight) {
  OutboxFeedback feedback;
  feedback.seller_records = {{"luxe", "s-1", 1}, {"acme", "s-1", 2}, {"acme", "s-2", 0}};
  Learn(feedback);
  // 0.5 (evasive brand) + 0.5 (the seller's record) reaches acme's threshold of 1.
  Judge(MakeListing("A C M E shoes", 100));
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  const Signal* record = FindSignal(*acme, SignalKind::kSellerRecord);
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->index, 1);  // feedback.seller_records[1]
  EXPECT_DOUBLE_EQ(record->weight, 0.5);
  EXPECT_DOUBLE_EQ(acme->score, 1.0);
  EXPECT_TRUE(acme->case_opened);
  // Without a record (or with zero confirmed) the listing stays below the threshold.
  Listing other = MakeListing("A C M E shoes", 100);
  other.seller_id = "s-2";
  Judge(other);
  ASSERT_NE(Holder("acme"), nullptr);
  EXPECT_EQ(FindSignal(*Holder("acme"), SignalKind::kSellerRecord), nullptr);
  EXPECT_FALSE(Holder("acme")->case_opened);
  // A record concerns its rights holder only, and only a listing that references it.
  Judge(MakeListing("Dior saddle bag", 2500));
  EXPECT_EQ(Holder("acme"), nullptr);
  ASSERT_NE(Holder("luxe"), nullptr);
  EXPECT_NE(FindSignal(*Holder("luxe"), SignalKind::kSellerRecord), nullptr);
  Judge(MakeListing("Running shoes replica", 10));
  EXPECT_TRUE(verdict_.holders.empty());
}

TEST_F(DecisionTest, PhotoOfAConfirmedCounterfeitReferencesItsHolderAndScores) {
  KnownPhotoMatch match;
  match.holder = HolderIndex("acme");
  match.image = 1;
  match.photo = 4;
  match.variant = 2;
  match.distance = 9;
  match.quality = 88;
  Listing l = MakeListing("Sneakers, brand new", 20);
  l.images = {"a.jpg", "b.jpg"};
  const KnownPhotoMatch matches[] = {match};
  Judge(l, {}, matches);
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_FALSE(acme->named);
  const Signal* known = FindSignal(*acme, SignalKind::kKnownCounterfeitPhoto);
  ASSERT_NE(known, nullptr);
  EXPECT_EQ(known->index, 4);
  EXPECT_EQ(known->image, 1);
  EXPECT_EQ(known->variant, 2);
  EXPECT_EQ(known->distance, 9);
  EXPECT_EQ(known->quality, 88);
  EXPECT_DOUBLE_EQ(known->weight, 1.0);
  // It names no product, so no reference price.
  EXPECT_EQ(FindSignal(*acme, SignalKind::kPrice), nullptr);
  EXPECT_DOUBLE_EQ(acme->score, 1.0);
  EXPECT_TRUE(acme->case_opened);
}

TEST_F(DecisionTest, EmptyFeedbackAddsNoSignal) {
  Learn(OutboxFeedback{});
  Listing l = MakeListing("A C M E shoes replica", 100);
  l.seller_id = "s-1";
  Judge(l);
  const HolderVerdict* acme = Holder("acme");
  ASSERT_NE(acme, nullptr);
  for (const Signal& s : Signals(*acme)) {
    EXPECT_NE(s.kind, SignalKind::kSellerRecord);
    EXPECT_NE(s.kind, SignalKind::kKnownCounterfeitPhoto);
  }
  EXPECT_FALSE(acme->authorized_seller);
  EXPECT_DOUBLE_EQ(acme->score, 1.5);
}

TEST_F(DecisionTest, CurrencyWithoutARateIsARejectNotAVerdict) {
  Judge(MakeListing("ACME Runner 22 replica", 20, "XYZ"));
  EXPECT_TRUE(verdict_.holders.empty());
  EXPECT_EQ(verdict_.reject_reason, "unknown currency: \"XYZ\" has no rate in policy.yaml fx");
}

}  // namespace
}  // namespace bonafide::engine
