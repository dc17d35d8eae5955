// The stages after PDQ on the labelled photo set (tests/models/labelled_photo_set.h):
// recall per edit, and no false match among thousands of unrelated photos. Prints the
// table that docs/images.md quotes.
#include "models/photo_matcher.h"

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include <gtest/gtest.h>

#include "models/feature_bank.h"
#include "models/image_decode.h"
#include "models/pdq.h"
#include "models/photo_bank.h"
#include "tests/models/labelled_photo_set.h"
#include "tests/models/synthetic_photos.h"
#include "tests/test_util.h"

namespace bonafide::models {
namespace {

using ::bonafide::testing::DrawClutteredPhoto;
using ::bonafide::testing::Edits;
using ::bonafide::testing::EncodeJpeg;
using ::bonafide::testing::TempDir;

constexpr int kMaxDistance = 31;  // policy image.max_distance default
constexpr int kSyntheticGenuine = 30;
constexpr int kUnrelatedPlain = 1500;
constexpr int kUnrelatedEdited = 100;  // unrelated photos, each in the 9 edits

struct Tally {
  int total = 0;
  int found = 0;
  std::map<std::string, int> by_stage;
  int wrong = 0;  // matched another genuine photo
};

class PhotoMatcherLabelledSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string data = BONAFIDE_PDQ_DATA;
    for (const std::string& name : ::bonafide::testing::GenuineTestdataPhotos()) {
      genuine_.push_back(cv::imread(absl::StrCat(data, "/", name), cv::IMREAD_COLOR));
      ASSERT_FALSE(genuine_.back().empty()) << name;
    }
    for (int i = 0; i < kSyntheticGenuine; ++i) genuine_.push_back(DrawClutteredPhoto(i));
    std::vector<GenuinePhoto> photos;
    for (size_t i = 0; i < genuine_.size(); ++i) {
      photos.push_back(
          {0, static_cast<int32_t>(i),
           dir_.Write("genuine/" + std::to_string(i) + ".jpg", EncodeJpeg(genuine_[i], 92))});
    }
    auto bank = PhotoBank::Build(photos, {});
    ASSERT_TRUE(bank.ok()) << bank.status();
    photo_bank_ = *bank;
    auto features = FeatureBank::Build(*photo_bank_);
    ASSERT_TRUE(features.ok()) << features.status();
    feature_bank_ = *features;
    matcher_ = std::make_unique<PhotoMatcher>(photo_bank_, feature_bank_);
  }

  // Runs the scan's image path on `jpeg`: PDQ of the whole photo, then the later stages.
  std::vector<StageMatch> Match(const std::string& jpeg) {
    std::vector<StageMatch> out;
    EXPECT_TRUE(decoder_.Decode(jpeg, DecodeMode::kReduced, luma_).ok());
    const PdqResult pdq = hasher_.Hash(luma_.luma.data(), luma_.width, luma_.height);
    if (pdq.quality >= kPdqMinQuality) {
      photo_bank_->Query(pdq.hash, kMaxDistance, bank_scratch_, bank_matches_);
      for (const BankMatch& m : bank_matches_) {
        out.push_back({m.photo, MatchStage::kPdq, m.variant, m.distance, 0});
      }
      if (!out.empty()) return out;
    }
    EXPECT_TRUE(matcher_->MatchAfterPdq(luma_, kMaxDistance, kPdqMinQuality, scratch_, out).ok());
    return out;
  }

  TempDir dir_;
  std::vector<cv::Mat> genuine_;
  std::shared_ptr<const PhotoBank> photo_bank_;
  std::shared_ptr<const FeatureBank> feature_bank_;
  std::unique_ptr<PhotoMatcher> matcher_;
  ImageDecoder decoder_;
  DecodedLuma luma_;
  PdqHasher hasher_;
  PhotoBank::Scratch bank_scratch_;
  std::vector<BankMatch> bank_matches_;
  PhotoMatcher::Scratch scratch_;
};

TEST_F(PhotoMatcherLabelledSetTest, FindsEditedGenuinePhotosAndNeverAnUnrelatedOne) {
  std::map<std::string, Tally> tallies;
  for (size_t g = 0; g < genuine_.size(); ++g) {
    for (const auto& [name, edited] : Edits(genuine_[g], static_cast<int>(g))) {
      Tally& t = tallies[name];
      ++t.total;
      const std::vector<StageMatch> matches = Match(EncodeJpeg(edited, 85));
      bool found = false;
      for (const StageMatch& m : matches) {
        if (m.photo == g) {
          found = true;
          ++t.by_stage[MatchStageName(m.stage)];
          break;
        }
      }
      t.found += found ? 1 : 0;
      if (!found) {
        std::printf("missed: genuine photo %zu (%dx%d), %s\n", g, genuine_[g].cols,
                    genuine_[g].rows, name.c_str());
      }
      t.wrong += !matches.empty() && !found ? 1 : 0;
    }
  }
  // Unrelated: the testdata photos never registered, drawn photos of other seeds (the same
  // caption in the same place as the genuine ones), and those edited as above.
  int unrelated = 0;
  std::map<std::string, int> false_by_stage;
  auto check_unrelated = [&](const cv::Mat& img, const std::string& what) {
    ++unrelated;
    for (const StageMatch& m : Match(EncodeJpeg(img, 85))) {
      ++false_by_stage[MatchStageName(m.stage)];
      ADD_FAILURE() << what << " matched genuine photo " << m.photo << " at stage "
                    << MatchStageName(m.stage) << " (distance " << m.distance << ", inliers "
                    << m.inliers << ")";
    }
  };
  const std::string data = BONAFIDE_PDQ_DATA;
  for (const std::string& name : ::bonafide::testing::UnrelatedTestdataPhotos()) {
    check_unrelated(cv::imread(absl::StrCat(data, "/", name), cv::IMREAD_COLOR), name);
  }
  for (int i = 0; i < kUnrelatedPlain; ++i) {
    check_unrelated(DrawClutteredPhoto(1000 + i, 640, 480), "drawn " + std::to_string(1000 + i));
  }
  for (int i = 0; i < kUnrelatedEdited; ++i) {
    const cv::Mat img = DrawClutteredPhoto(5000 + i);
    for (const auto& [name, edited] : Edits(img, i)) {
      check_unrelated(edited, "drawn " + std::to_string(5000 + i) + " " + name);
    }
  }

  std::printf("| edit | photos | found | recall | pdq | pdq_trimmed | features | wrong photo |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (auto& [name, t] : tallies) {
    std::printf("| %s | %d | %d | %.1f%% | %d | %d | %d | %d |\n", name.c_str(), t.total, t.found,
                100.0 * t.found / t.total, t.by_stage["pdq"], t.by_stage["pdq_trimmed"],
                t.by_stage["features"], t.wrong);
  }
  std::printf("unrelated photos %d, false matches: pdq %d, pdq_trimmed %d, features %d\n",
              unrelated, false_by_stage["pdq"], false_by_stage["pdq_trimmed"],
              false_by_stage["features"]);
  for (auto& [name, t] : tallies) {
    EXPECT_GE(t.found * 100, t.total * 80) << name;
    EXPECT_EQ(t.wrong, 0) << name;
  }
  EXPECT_GE(unrelated, 2000);
}

}  // namespace
}  // namespace bonafide::models
