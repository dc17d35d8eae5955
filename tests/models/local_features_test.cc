// Border trim and the local-feature check on a few photos drawn in code (fast; the
// labelled set with recall figures is photo_matcher_test, label slow).
#include "models/local_features.h"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/border_trim.h"
#include "models/feature_bank.h"
#include "models/image_decode.h"
#include "models/photo_bank.h"
#include "models/photo_matcher.h"
#include "tests/models/labelled_photo_set.h"
#include "tests/models/synthetic_photos.h"
#include "tests/test_util.h"
#include "util/files.h"

namespace bonafide::models {
namespace {

using ::bonafide::testing::DrawClutteredPhoto;
using ::bonafide::testing::EncodeJpeg;
using ::bonafide::testing::TempDir;

DecodedLuma Decoded(const cv::Mat& img) {
  ImageDecoder decoder;
  DecodedLuma luma;
  EXPECT_TRUE(decoder.Decode(EncodeJpeg(img, 85), DecodeMode::kFull, luma).ok());
  return luma;
}

TEST(BorderTrimTest, FindsThePhotoInsideUniformPadding) {
  const cv::Mat photo = DrawClutteredPhoto(1, 400, 300);
  cv::Mat padded;
  cv::copyMakeBorder(photo, padded, 20, 40, 30, 10, cv::BORDER_CONSTANT, cv::Scalar(255, 255, 255));
  const DecodedLuma luma = Decoded(padded);
  const ContentBox box = FindContentBox(luma.luma.data(), luma.width, luma.height);
  ASSERT_TRUE(box.trimmed);
  // JPEG ringing may keep a pixel or two of border next to the photo, never more.
  EXPECT_NEAR(box.x, 30, 3);
  EXPECT_NEAR(box.y, 20, 3);
  EXPECT_NEAR(box.width, 400, 6);
  EXPECT_NEAR(box.height, 300, 6);
  std::vector<float> content;
  CopyContent(luma.luma.data(), luma.width, box, content);
  ASSERT_EQ(content.size(), static_cast<size_t>(box.width) * box.height);
  EXPECT_EQ(content[0], luma.luma[static_cast<size_t>(box.y) * luma.width + box.x]);
}

TEST(BorderTrimTest, LeavesAnUnpaddedOrPlainImageWhole) {
  const DecodedLuma photo = Decoded(DrawClutteredPhoto(2, 400, 300));
  EXPECT_FALSE(FindContentBox(photo.luma.data(), photo.width, photo.height).trimmed);
  // All border: nothing is left that is at least 30% of a side, so nothing is trimmed.
  const DecodedLuma plain = Decoded(cv::Mat(300, 400, CV_8UC3, cv::Scalar(90, 90, 90)));
  const ContentBox box = FindContentBox(plain.luma.data(), plain.width, plain.height);
  EXPECT_FALSE(box.trimmed);
  EXPECT_EQ(box.width, 400);
  // A small square in a wide plain field keeps the 30% bound.
  cv::Mat field(300, 400, CV_8UC3, cv::Scalar(0, 0, 0));
  cv::rectangle(field, cv::Rect(190, 140, 20, 20), cv::Scalar(255, 255, 255), cv::FILLED);
  const DecodedLuma small = Decoded(field);
  const ContentBox kept = FindContentBox(small.luma.data(), small.width, small.height);
  EXPECT_FALSE(kept.trimmed && (kept.width < 120 || kept.height < 90));
}

TEST(LocalFeaturesTest, ExtractsAtMostMaxKeypointsAtTheConfiguredSize) {
  const DecodedLuma luma = Decoded(DrawClutteredPhoto(3, 1200, 900));
  FeatureExtractor extractor;
  LocalFeatures f;
  ASSERT_TRUE(extractor.Extract(luma.luma.data(), luma.width, luma.height, f).ok());
  EXPECT_EQ(f.width, 400);
  EXPECT_EQ(f.height, 300);
  EXPECT_GT(f.size(), 100u);
  EXPECT_LE(f.size(), 400u);
  EXPECT_EQ(f.points.size(), f.size());
  EXPECT_EQ(extractor.Extract(luma.luma.data(), 0, 0, f).code(),
            absl::StatusCode::kInvalidArgument);
}

class FeatureBankTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<GenuinePhoto> photos;
    photos.reserve(5);
    for (int i = 0; i < 4; ++i) {
      photos.push_back(
          {0, i,
           dir_.Write("g" + std::to_string(i) + ".jpg", EncodeJpeg(DrawClutteredPhoto(i), 92))});
    }
    photos.push_back({0, 4,
                      dir_.Write("plain.jpg", EncodeJpeg(cv::Mat(600, 800, CV_8UC3,
                                                                 cv::Scalar(128, 128, 128))))});
    photo_bank_ = *PhotoBank::Build(photos, {});
    auto features = FeatureBank::Build(*photo_bank_);
    ASSERT_TRUE(features.ok()) << features.status();
    feature_bank_ = *features;
  }
  std::optional<FeatureBankMatch> MatchOf(const cv::Mat& img) {
    const DecodedLuma luma = Decoded(img);
    std::optional<FeatureBankMatch> match;
    EXPECT_TRUE(
        feature_bank_->Match(luma.luma.data(), luma.width, luma.height, scratch_, match).ok());
    return match;
  }
  TempDir dir_;
  std::shared_ptr<const PhotoBank> photo_bank_;
  std::shared_ptr<const FeatureBank> feature_bank_;
  FeatureBank::Scratch scratch_;
};

TEST_F(FeatureBankTest, LeavesOutPlainPhotosAndIndexesTheOthers) {
  EXPECT_EQ(feature_bank_->photo_count(), 5u);
  EXPECT_EQ(feature_bank_->matchable_photos(), 4u);
  EXPECT_EQ(feature_bank_->features(4).size(), 0u);
  EXPECT_GT(feature_bank_->descriptor_count(), 400u);
}

// The keypoint cache gives the same bank without reading a photo, and is ignored when it
// is corrupt or was written with other options.
TEST_F(FeatureBankTest, TheCacheGivesTheSameKeypointsWithoutReadingThePhotos) {
  FeatureBankOptions options;
  options.cache_dir = dir_.Join("cache");
  const auto expect_same = [&](const FeatureBank& bank) {
    ASSERT_EQ(bank.photo_count(), feature_bank_->photo_count());
    EXPECT_EQ(bank.matchable_photos(), feature_bank_->matchable_photos());
    for (uint32_t i = 0; i < bank.photo_count(); ++i) {
      const LocalFeatures& a = bank.features(i);
      const LocalFeatures& b = feature_bank_->features(i);
      ASSERT_EQ(a.size(), b.size()) << i;
      EXPECT_EQ(a.width, b.width);
      EXPECT_EQ(a.height, b.height);
      EXPECT_TRUE(a.descriptors == b.descriptors) << i;
      for (size_t k = 0; k < a.size(); ++k) {
        EXPECT_EQ(a.points[k].x, b.points[k].x);
        EXPECT_EQ(a.points[k].y, b.points[k].y);
      }
    }
  };
  auto cold = FeatureBank::Build(*photo_bank_, options);
  ASSERT_TRUE(cold.ok()) << cold.status();
  expect_same(**cold);
  // Warm: the photos are gone (the PhotoBank already knows their content digests), so
  // every keypoint must come from the cache.
  for (int i = 0; i < 4; ++i) std::filesystem::remove(dir_.Join("g" + std::to_string(i) + ".jpg"));
  auto warm = FeatureBank::Build(*photo_bank_, options);
  ASSERT_TRUE(warm.ok()) << warm.status();
  expect_same(**warm);
  // Other options name another file: extracting is needed (and fails, the photos being
  // gone), rather than reading keypoints made with the old options.
  FeatureBankOptions other = options;
  other.features.max_keypoints = 300;
  EXPECT_FALSE(FeatureBank::Build(*photo_bank_, other).ok());
  // A corrupt cache file is not used.
  for (const auto& entry : std::filesystem::directory_iterator(options.cache_dir)) {
    std::string bytes = *ReadFile(entry.path().string());
    bytes[bytes.size() / 2] ^= 0x10;
    ASSERT_TRUE(WriteFileAtomically(entry.path().string(), bytes).ok());
  }
  EXPECT_FALSE(FeatureBank::Build(*photo_bank_, options).ok());
}

TEST_F(FeatureBankTest, FindsACroppedPhotoAndNotAnUnrelatedOne) {
  const auto cropped = MatchOf(::bonafide::testing::Cropped(DrawClutteredPhoto(2), 0.3, 0, 5));
  ASSERT_TRUE(cropped.has_value());
  EXPECT_EQ(cropped->photo, 2u);
  EXPECT_GE(cropped->inliers, feature_bank_->options().geometry.min_inliers);
  EXPECT_FALSE(MatchOf(DrawClutteredPhoto(77)).has_value());
}

TEST_F(FeatureBankTest, PhotoMatcherTriesTheTrimmedHashBeforeFeatures) {
  PhotoMatcher matcher(photo_bank_, feature_bank_);
  PhotoMatcher::Scratch scratch;
  std::vector<StageMatch> out;
  const DecodedLuma padded =
      Decoded(::bonafide::testing::Padded(DrawClutteredPhoto(1), 0.25, 0, cv::Scalar(0, 0, 0)));
  ASSERT_TRUE(matcher.MatchAfterPdq(padded, 31, 50, scratch, out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].photo, 1u);
  EXPECT_EQ(out[0].stage, MatchStage::kPdqTrimmed);
  const DecodedLuma overlaid = Decoded(::bonafide::testing::Overlaid(DrawClutteredPhoto(3), 0));
  ASSERT_TRUE(matcher.MatchAfterPdq(overlaid, 31, 50, scratch, out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].photo, 3u);
  EXPECT_EQ(out[0].stage, MatchStage::kFeatures);
  EXPECT_STREQ(MatchStageName(out[0].stage), "features");
}

}  // namespace
}  // namespace bonafide::models
