// The stages after PDQ: what finds a genuine photo in a listing photo that the PDQ hash of
// the whole photo did not match.
//
//   stage "pdq"          the listing photo's PDQ hash within max_distance of a genuine
//                        photo's (PhotoBank::Query; the scanner runs it itself, since the
//                        hash may come from a cache or the listing without any decoding)
//   stage "pdq_trimmed"  the same, after trimming uniform borders (models/border_trim.h):
//                        a padded or framed photo
//   stage "features"     ORB keypoints verified by a RANSAC homography
//                        (models/feature_bank.h): a cropped photo, or one with text or a
//                        logo laid over it
//
// Usage:
//
//   PhotoMatcher matcher(photo_bank, feature_bank);   // feature_bank may be null
//   PhotoMatcher::Scratch scratch;                     // one per thread
//   std::vector<StageMatch> matches;
//   absl::Status s = matcher.MatchAfterPdq(luma, max_distance, min_quality, scratch, matches);
//
// Thread-safety: immutable; MatchAfterPdq may run concurrently, one Scratch per thread.
#ifndef BONAFIDE_MODELS_PHOTO_MATCHER_H_
#define BONAFIDE_MODELS_PHOTO_MATCHER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"

#include "models/border_trim.h"
#include "models/feature_bank.h"
#include "models/image_decode.h"
#include "models/pdq.h"
#include "models/photo_bank.h"

namespace bonafide::models {

enum class MatchStage : uint8_t {
  kPdq,         // the whole photo's PDQ hash
  kPdqTrimmed,  // the PDQ hash of the photo inside its uniform borders
  kFeatures,    // local features with a verified homography
};

// Returns "pdq", "pdq_trimmed" or "features".
const char* MatchStageName(MatchStage stage);

// One genuine photo found: which stage found it and its measure (distance and variant for
// the PDQ stages, inliers for the feature stage).
struct StageMatch {
  uint32_t photo = 0;  // PhotoBank numbering
  MatchStage stage = MatchStage::kPdq;
  Dihedral variant = Dihedral::kOriginal;
  int distance = 0;
  int inliers = 0;
};

class PhotoMatcher {
 public:
  class Scratch {
   public:
    explicit Scratch(const LocalFeatureOptions& features = {}) : features_(features) {}

   private:
    friend class PhotoMatcher;
    std::vector<float> trimmed_;
    PdqHasher hasher_;
    PhotoBank::Scratch bank_;
    std::vector<BankMatch> bank_matches_;
    FeatureBank::Scratch features_;
  };

  // `photos` is required; `features` may be null (then only the trimmed PDQ stage runs).
  PhotoMatcher(std::shared_ptr<const PhotoBank> photos, std::shared_ptr<const FeatureBank> features,
               BorderTrimOptions trim = {});

  // For a listing photo whose whole-photo PDQ hash matched nothing: replaces `out` with the
  // matches of the first later stage that finds any (trimmed PDQ: every genuine photo
  // within max_distance whose trimmed hash has quality >= min_quality; features: the best
  // verified photo). Empty when nothing matches.
  // Errors: as FeatureExtractor::Extract (`out` holds the trimmed stage's matches, none).
  absl::Status MatchAfterPdq(const DecodedLuma& luma, int max_distance, int min_quality,
                             Scratch& scratch, std::vector<StageMatch>& out) const;

  // A digest of everything that decides what MatchAfterPdq finds in given pixels: the
  // stages' version (kStagesVersion in photo_matcher.cc), the genuine photos (content
  // digests, hashes, quality), the trim and feature options, the OpenCV that extracts
  // keypoints, `max_distance` and `min_quality`. Equal digests, equal results. Never 0.
  // The scanner keeps it in the listing-photo cache beside a photo in which the stages
  // found nothing, so that a rescan neither decodes that photo again nor runs the stages.
  uint64_t ResultDigest(int max_distance, int min_quality) const;

  bool has_features() const { return features_ != nullptr; }
  const FeatureBank* features() const { return features_.get(); }

 private:
  std::shared_ptr<const PhotoBank> photos_;
  std::shared_ptr<const FeatureBank> features_;
  BorderTrimOptions trim_;
};

}  // namespace bonafide::models

#endif  // BONAFIDE_MODELS_PHOTO_MATCHER_H_
