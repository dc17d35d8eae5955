// Tests for the feature stage of a build without OpenCV (BONAFIDE_WITH_OPENCV=OFF: the
// OpenCV module loader has no module), compiled here so that the ordinary build checks it:
// extraction is refused with a clear reason, and no geometry is ever verified.
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/local_features.h"

namespace bonafide::models {
namespace {

TEST(LocalFeaturesWithoutOpenCvTest, RefusesToExtractAndSaysWhy) {
  FeatureExtractor extractor;
  LocalFeatures features;
  features.width = 7;
  const std::vector<float> luma(64 * 48, 128.0F);
  const absl::Status s = extractor.Extract(luma.data(), 64, 48, features);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("local features: this build of bonafide has no "
                                                "OpenCV (built with BONAFIDE_WITH_OPENCV=OFF)"));
  EXPECT_EQ(features.size(), 0u);
  EXPECT_EQ(features.width, 0);
}

TEST(LocalFeaturesWithoutOpenCvTest, NeverVerifiesAMatch) {
  LocalFeatures a;
  for (int i = 0; i < 30; ++i) {
    a.descriptors.emplace_back();
    a.points.push_back({static_cast<float>(i * 10), static_cast<float>(i % 5 * 10)});
  }
  a.width = 400;
  a.height = 300;
  std::vector<FeaturePair> pairs;
  for (uint32_t i = 0; i < 30; ++i) pairs.push_back({i, i});
  const GeometryCheck check = VerifyGeometry(a, a, pairs, GeometryOptions{});
  EXPECT_FALSE(check.verified);
  EXPECT_EQ(check.inliers, 0);
}

}  // namespace
}  // namespace bonafide::models
