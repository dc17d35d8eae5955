#include "models/photo_matcher.h"

#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>

#include "util/hash.h"

namespace bonafide::models {
namespace {

// Bump when a stage after PDQ changes what it finds in the same pixels with the same banks
// and options: results the listing-photo cache kept under the old digest are not reused.
constexpr int64_t kStagesVersion = 1;

// Fields of the result digest, each value's bytes one Hasher128 field.
void AddIntegers(Hasher128& h, std::initializer_list<int64_t> values) {
  for (const int64_t v : values) {
    h.Add(std::string_view(reinterpret_cast<const char*>(&v), sizeof(v)));
  }
}
void AddReals(Hasher128& h, std::initializer_list<double> values) {
  for (const double v : values) {
    h.Add(std::string_view(reinterpret_cast<const char*>(&v), sizeof(v)));
  }
}

}  // namespace

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

uint64_t PhotoMatcher::ResultDigest(int max_distance, int min_quality) const {
  Hasher128 h;
  AddIntegers(h, {kStagesVersion, max_distance, min_quality, trim_.min_trim});
  AddReals(h, {trim_.tolerance, trim_.max_outlier_fraction, trim_.min_kept_fraction});
  for (uint32_t i = 0; i < photos_->photo_count(); ++i) {
    const PhotoBank::Photo& p = photos_->photo(i);
    AddIntegers(h, {p.holder, p.product, p.quality, p.indexed ? 1 : 0,
                    static_cast<int64_t>(p.content_digest.first),
                    static_cast<int64_t>(p.content_digest.second)});
    h.Add(std::string_view(reinterpret_cast<const char*>(p.hashes.data()), sizeof(p.hashes)));
  }
  if (features_ != nullptr) {
    // Which genuine photos have keypoints follows from their content (above) and these
    // options; the cache dir and the kind of index change nothing that is found.
    const FeatureBankOptions& o = features_->options();
    const LocalFeatureOptions& f = o.features;
    const GeometryOptions& g = o.geometry;
    h.Add(LocalFeatureVersion());
    AddIntegers(
        h, {f.max_side, f.max_keypoints, f.levels, g.min_inliers, g.min_cells, g.max_iterations,
            o.vote_distance, o.min_votes, o.max_photos_per_vote, o.max_candidates, o.match_distance,
            static_cast<int64_t>(o.limits.max_bytes), o.limits.max_pixels, o.limits.max_side});
    AddReals(h, {g.reprojection_px, g.min_scale, g.max_scale, g.max_perspective, o.ratio});
  } else {
    h.Add("no features");
  }
  const uint64_t digest = h.Digest().first;
  return digest != 0 ? digest : 1;
}

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
