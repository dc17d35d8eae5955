// FeatureExtractor and VerifyGeometry: the OpenCV module does the work
// (models/opencv_module.h), loaded at the first extraction.
#include "models/local_features.h"

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "models/opencv_module.h"

namespace bonafide::models {

// The module's extractor, created at the first Extract: a FeatureExtractor that never
// extracts never loads the module.
struct FeatureExtractor::Impl {
  const OpenCvModule* module = nullptr;
  void* extractor = nullptr;
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (extractor != nullptr) module->delete_extractor(extractor);
  }
};

FeatureExtractor::FeatureExtractor(LocalFeatureOptions options)
    : options_(options), impl_(std::make_unique<Impl>()) {}
FeatureExtractor::~FeatureExtractor() = default;
FeatureExtractor::FeatureExtractor(FeatureExtractor&&) noexcept = default;
FeatureExtractor& FeatureExtractor::operator=(FeatureExtractor&&) noexcept = default;

const char* LocalFeatureVersion() {
#ifdef BONAFIDE_OPENCV_VERSION
  return "opencv " BONAFIDE_OPENCV_VERSION;
#else
  return "none";
#endif
}

absl::Status FeatureExtractor::Extract(const float* luma, int width, int height,
                                       LocalFeatures& out) {
  if (impl_->extractor == nullptr) {
    const absl::StatusOr<const OpenCvModule*> module = LoadOpenCvModule();
    if (!module.ok()) {
      out = LocalFeatures{};
      return absl::Status(module.status().code(),
                          absl::StrCat("local features: ", module.status().message()));
    }
    impl_->module = *module;
    impl_->extractor = (*module)->new_extractor(options_);
  }
  return impl_->module->extract(impl_->extractor, luma, width, height, out);
}

GeometryCheck VerifyGeometry(const LocalFeatures& listing, const LocalFeatures& genuine,
                             std::span<const FeaturePair> pairs, const GeometryOptions& options) {
  const absl::StatusOr<const OpenCvModule*> module = LoadOpenCvModule();
  // Without the module there are no keypoints to check either (Extract failed before).
  if (!module.ok()) return GeometryCheck{};
  return (*module)->verify_geometry(listing, genuine, pairs, options);
}

}  // namespace bonafide::models
