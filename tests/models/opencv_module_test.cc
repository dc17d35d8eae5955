// The OpenCV module (models/opencv_module.h): nothing loads it until the first decode or
// extraction, and once loaded it decodes, extracts keypoints and verifies geometry (the
// decoder's and the feature stage's own tests cover what they compute). One process per
// test binary, so the "not loaded yet" check sees a fresh process.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/image_decode.h"
#include "models/local_features.h"

namespace bonafide::models {
namespace {

// The in-memory file the loader dlopens shows in the process's mappings under this name.
bool ModuleMapped() {
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  return text.str().find("bonafide-opencv-module") != std::string::npos;
}

TEST(OpenCvModuleTest, LoadedAtTheFirstDecodeAndWorks) {
  ImageDecoder decoder;
  FeatureExtractor extractor;
  EXPECT_FALSE(ModuleMapped()) << "constructing a decoder or an extractor loads nothing";

  DecodedLuma luma;
  const absl::Status decoded = decoder.DecodeFile(
      std::string(BONAFIDE_PDQ_DATA) + "/reg-test-input/dih/bridge-1-original.jpg",
      DecodeMode::kFull, luma);
  ASSERT_TRUE(decoded.ok()) << decoded;
  EXPECT_TRUE(ModuleMapped());
  EXPECT_GT(luma.width, 0);
  EXPECT_EQ(luma.luma.size(), static_cast<size_t>(luma.width) * luma.height);

  LocalFeatures features;
  ASSERT_TRUE(extractor.Extract(luma.luma.data(), luma.width, luma.height, features).ok());
  ASSERT_GE(features.size(), 100u);
  EXPECT_EQ(features.points.size(), features.size());

  // A photo against itself: every keypoint paired with itself agrees on the identity.
  std::vector<FeaturePair> pairs;
  for (uint32_t i = 0; i < features.size(); ++i) pairs.push_back({i, i});
  const GeometryCheck check = VerifyGeometry(features, features, pairs, GeometryOptions{});
  EXPECT_TRUE(check.verified);
  EXPECT_EQ(check.inliers, static_cast<int>(features.size()));
}

}  // namespace
}  // namespace bonafide::models
