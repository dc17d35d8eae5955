#include "models/photo_matcher.h"

#include <optional>
#include <utility>

namespace bonafide::models {

const char* MatchStageName(MatchStage stage) {
  switch (stage) {
    case MatchStage::kPdq:
      return "pdq";
    case MatchStage::kPdqTrimmed:
      return "pdq_trimmed";
    case MatchStage::kFeatures:
      return "features";
  }
  return "pdq";
}

PhotoMatcher::PhotoMatcher(std::shared_ptr<const PhotoBank> photos,
                           std::shared_ptr<const FeatureBank> features, BorderTrimOptions trim)
    : photos_(std::move(photos)), features_(std::move(features)), trim_(trim) {}

absl::Status PhotoMatcher::MatchAfterPdq(const DecodedLuma& luma, int max_distance, int min_quality,
                                         Scratch& s, std::vector<StageMatch>& out) const {
  out.clear();
  const float* pixels = luma.luma.data();
  const ContentBox box = FindContentBox(pixels, luma.width, luma.height, trim_);
  if (box.trimmed) {
    CopyContent(pixels, luma.width, box, s.trimmed_);
    const PdqResult trimmed = s.hasher_.Hash(s.trimmed_.data(), box.width, box.height);
    if (trimmed.quality >= min_quality) {
      photos_->Query(trimmed.hash, max_distance, s.bank_, s.bank_matches_);
      for (const BankMatch& m : s.bank_matches_) {
        out.push_back({m.photo, MatchStage::kPdqTrimmed, m.variant, m.distance, 0});
      }
      if (!out.empty()) return absl::OkStatus();
    }
  }
  if (features_ == nullptr) return absl::OkStatus();
  std::optional<FeatureBankMatch> found;
  if (absl::Status st = features_->Match(pixels, luma.width, luma.height, s.features_, found);
      !st.ok()) {
    return st;
  }
  if (found.has_value()) {
    out.push_back({found->photo, MatchStage::kFeatures, Dihedral::kOriginal, 0, found->inliers});
  }
  return absl::OkStatus();
}

}  // namespace bonafide::models
