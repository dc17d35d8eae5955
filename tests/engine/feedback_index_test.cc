// engine/feedback_index.h: the verdicts' feedback indexed for the decision, on the ACME pack
// of tests/acme_pack.h. Hashes are built bit by bit, so no photo is read.
#include "engine/feedback_index.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rules/compiled_rules.h"
#include "rules/rule_pack.h"
#include "tests/acme_pack.h"
#include "tests/test_util.h"

namespace bonafide::engine {
namespace {

class FeedbackIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pack = rules::LoadRulePack(testing::WriteAcmePack(dir_));
    ASSERT_TRUE(pack.ok()) << pack.status();
    auto compiled = rules::CompiledRules::Compile(std::move(*pack));
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    rules_ = std::move(*compiled);
  }

  int32_t HolderIndex(std::string_view id) const {
    for (size_t i = 0; i < rules_->holders().size(); ++i) {
      if (rules_->holders()[i].id == id) return static_cast<int32_t>(i);
    }
    return -1;
  }

  // A hash with bits [0, ones) set.
  static models::Hash256 Bits(int ones) {
    models::Hash256 h;
    for (int k = 0; k < ones; ++k) h.SetBit(k);
    return h;
  }

  testing::TempDir dir_;
  std::shared_ptr<const rules::CompiledRules> rules_;
};

TEST_F(FeedbackIndexTest, SellersAreLookedUpPerRightsHolder) {
  OutboxFeedback feedback;
  feedback.authorized_sellers = {{"acme", "s-1"}, {"removed-holder", "s-2"}};
  feedback.seller_records = {{"luxe", "s-1", 3, {"luxe:mp:a", "luxe:mp%3Aeu:b%25", "luxe:mp:c"}},
                             {"acme", "s-3", 0, {}}};
  auto index = FeedbackIndex::Build(feedback, *rules_);
  ASSERT_TRUE(index.ok()) << index.status();
  const int32_t acme = HolderIndex("acme"), luxe = HolderIndex("luxe");
  EXPECT_TRUE(index->AuthorizedSeller(acme, "s-1"));
  EXPECT_FALSE(index->AuthorizedSeller(luxe, "s-1"));
  EXPECT_FALSE(index->AuthorizedSeller(acme, "s-2"));
  int32_t record = -1;
  EXPECT_EQ(index->ConfirmedCases(luxe, "s-1", "mp", "z", record), 3);
  EXPECT_EQ(record, 0);
  EXPECT_EQ(index->ConfirmedCases(acme, "s-1", "mp", "z", record), 0);
  EXPECT_EQ(index->ConfirmedCases(acme, "s-3", "mp", "z", record), 0);  // no confirmed case
  EXPECT_FALSE(index->has_photos());

  const FeedbackIndex empty;
  EXPECT_FALSE(empty.AuthorizedSeller(acme, "s-1"));
  EXPECT_EQ(empty.ConfirmedCases(luxe, "s-1", "mp", "z", record), 0);
}

TEST_F(FeedbackIndexTest, ASellersRecordLeavesOutTheListingsOwnCase) {
  OutboxFeedback feedback;
  feedback.seller_records = {{"luxe", "s-1", 2, {"luxe:mp%3Aeu:b%25", "luxe:mp:c"}}};
  auto index = FeedbackIndex::Build(feedback, *rules_);
  ASSERT_TRUE(index.ok()) << index.status();
  const int32_t luxe = HolderIndex("luxe");
  int32_t record = -1;
  EXPECT_EQ(index->ConfirmedCases(luxe, "s-1", "mp:eu", "b%", record), 1);  // its own case
  EXPECT_EQ(index->ConfirmedCases(luxe, "s-1", "mp", "c", record), 1);
  EXPECT_EQ(index->ConfirmedCases(luxe, "s-1", "mp", "d", record), 2);
}

TEST_F(FeedbackIndexTest, PhotosMatchInAnyVariantBestPerHolderNeverTheirOwnListing) {
  OutboxFeedback feedback;
  feedback.counterfeit_photos = {
      {"acme", models::ToHex(Bits(40)), 90, "acme:mp%3Aeu:id%25a"},  // its own listing below
      {"acme", models::ToHex(Bits(100)), 90, "acme:mp:b"},
      {"acme", models::ToHex(Bits(104)), 90, "acme:mp:c"},
      {"luxe", models::ToHex(Bits(100)), 20, "luxe:mp:d"},  // too plain: not indexed
      {"removed-holder", models::ToHex(Bits(100)), 90, "removed-holder:mp:e"},
  };
  auto index = FeedbackIndex::Build(feedback, *rules_);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_TRUE(index->has_photos());

  std::array<models::PdqResult, models::kNumDihedral> variants;
  for (auto& v : variants) v.hash = Bits(200);  // far from everything
  variants[static_cast<int>(models::Dihedral::kRotate90)].hash = Bits(102);
  variants[static_cast<int>(models::Dihedral::kRotate90)].quality = 77;
  variants[0].quality = 77;
  variants[static_cast<int>(models::Dihedral::kFlipY)].hash = Bits(41);
  std::vector<models::IndexMatch> hits;
  std::vector<KnownPhotoMatch> out;
  index->QueryPhotos(absl::MakeConstSpan(variants), 3, 31, "mp:eu", "id%a", hits, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].holder, HolderIndex("acme"));
  EXPECT_EQ(out[0].photo, 1);  // b and c are both 2 bits away: the earlier stays
  EXPECT_EQ(out[0].image, 3);
  EXPECT_EQ(out[0].distance, 2);
  EXPECT_EQ(out[0].quality, 77);
  // The listing rotated 90 degrees counter-clockwise matches: it shows the counterfeit
  // photo rotated clockwise.
  EXPECT_EQ(out[0].variant, static_cast<uint8_t>(models::Dihedral::kRotate270));

  // Another listing: photo a (1 bit from the flipped variant) is the closest.
  out.clear();
  index->QueryPhotos(absl::MakeConstSpan(variants), 0, 31, "mp", "other", hits, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].photo, 0);
  EXPECT_EQ(out[0].variant, static_cast<uint8_t>(models::Dihedral::kFlipY));
}

TEST_F(FeedbackIndexTest, MalformedHashNamesItsCase) {
  OutboxFeedback feedback;
  feedback.counterfeit_photos = {{"acme", "abc", 90, "acme:mp:x"}};
  auto index = FeedbackIndex::Build(feedback, *rules_);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.status().message().find("case \"acme:mp:x\""), std::string::npos)
      << index.status();
}

}  // namespace
}  // namespace bonafide::engine
