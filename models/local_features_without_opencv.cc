// FeatureExtractor and VerifyGeometry in a build without OpenCV (BONAFIDE_WITH_OPENCV=OFF):
// the local-feature stage is unavailable, and says so.
#include "models/local_features.h"

namespace bonafide::models {

struct FeatureExtractor::Impl {};

FeatureExtractor::FeatureExtractor(LocalFeatureOptions options)
    : options_(options), impl_(std::make_unique<Impl>()) {}
FeatureExtractor::~FeatureExtractor() = default;
FeatureExtractor::FeatureExtractor(FeatureExtractor&&) noexcept = default;
FeatureExtractor& FeatureExtractor::operator=(FeatureExtractor&&) noexcept = default;

const char* LocalFeatureVersion() { return "none"; }

absl::Status FeatureExtractor::Extract(const float* /*luma*/, int /*width*/, int /*height*/,
                                       LocalFeatures& out) {
  out = LocalFeatures{};
  return absl::UnimplementedError(
      "local features: this build of bonafide has no OpenCV (built with "
      "BONAFIDE_WITH_OPENCV=OFF)");
}

GeometryCheck VerifyGeometry(const LocalFeatures& /*listing*/, const LocalFeatures& /*genuine*/,
                             std::span<const FeaturePair> /*pairs*/,
                             const GeometryOptions& /*options*/) {
  return GeometryCheck{};
}

}  // namespace bonafide::models
