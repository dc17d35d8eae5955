// The feature bank: ORB keypoints of the rights holders' genuine photos, for the second
// photo stage, which finds a genuine photo inside a listing photo that PDQ missed (cropped,
// framed, with text or a logo laid over it).
//
// Usage (the scanner builds it once, after the PhotoBank, and shares it between threads):
//
//   absl::StatusOr<std::shared_ptr<const FeatureBank>> bank = FeatureBank::Build(*photo_bank);
//   FeatureBank::Scratch scratch;                      // one per thread, reused
//   std::optional<FeatureBankMatch> match;
//   absl::Status s = (*bank)->Match(luma.data(), width, height, scratch, match);
//   if (match) photo_bank->photo(match->photo) ...     // same photo numbering
//
// Build: every photo the PhotoBank indexes (quality >= min_quality) is read, decoded
// (kReduced, as listing photos are) and its keypoints extracted; a photo with fewer than
// GeometryOptions::min_inliers keypoints cannot be matched and is left out. Extraction
// costs about 5 ms of CPU a photo, seconds for hundreds of genuine photos at every start,
// so with a cache_dir the keypoints are kept in `<cache_dir>/orb-photos-v1-<options>.bin`
// (named by a digest of LocalFeatureOptions), keyed by the PhotoBank's content digest of
// each photo's bytes: a photo already there is neither read nor decoded again. The file
// holds every photo ever extracted with those options (about 8.5 KB a photo), rewritten
// (temp file + rename) only when a build extracted something new; a missing, truncated or
// corrupt file only costs extracting again. All
// descriptors go into one Hamming index (FlatIndex up to multi_index_min_descriptors,
// MultiIndex above), id -> photo.
//
// Match, bounded per listing photo:
//   1. extract at most LocalFeatureOptions::max_keypoints keypoints (image scaled to
//      max_side first);
//   2. votes: each listing descriptor queries the index within vote_distance bits and
//      votes once for each photo it meets (unless it meets more than
//      max_photos_per_vote photos); photos with at least min_votes votes are
//      candidates, the max_candidates with most votes are verified;
//   3. pairs: for a candidate, each listing descriptor's nearest descriptor of that photo
//      (within match_distance, and nearer than ratio x the second nearest: Lowe's test);
//   4. VerifyGeometry (RANSAC homography, min_inliers, sane shape, coverage).
// The verified candidate with most inliers is the match. Cost: one extraction, 16 probes
// of the multi-index per listing descriptor (vote_distance < 16), then for each verified
// candidate keypoints x keypoints Hamming distances and one RANSAC (docs/images.md has the
// instruction counts).
//
// Thread-safety: immutable after Build; Match may run concurrently, each thread with its
// own Scratch. Not copyable or movable; share it as std::shared_ptr<const FeatureBank>.
#ifndef BONAFIDE_MODELS_FEATURE_BANK_H_
#define BONAFIDE_MODELS_FEATURE_BANK_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "models/hamming_index.h"
#include "models/image_decode.h"
#include "models/local_features.h"
#include "models/photo_bank.h"

namespace bonafide::models {

struct FeatureBankOptions {
  LocalFeatureOptions features;
  GeometryOptions geometry;
  // A listing descriptor within this many bits of a genuine descriptor votes for its photo.
  // Below 16 the multi-index probes one slice value per slice (16 probes per descriptor),
  // so a vote costs about the same whatever the number of genuine photos.
  int vote_distance = 15;
  // Photos with at least this many votes are candidates (the pairs of step 3 then find the
  // descriptors that the vote radius missed).
  int min_votes = 8;
  // A listing descriptor that meets more genuine photos than this does not vote.
  int max_photos_per_vote = 2;
  // At most this many candidate photos are verified per listing photo.
  int max_candidates = 3;
  // Pairing: nearest genuine descriptor within match_distance bits, and nearer than
  // ratio x the second nearest.
  int match_distance = 64;
  double ratio = 0.8;
  // Limits for decoding the genuine photos.
  DecodeLimits limits;
  // Where the genuine photos' keypoints are kept across builds (empty: nowhere). See Build.
  std::string cache_dir;
  // Banks with more descriptors than this use MultiIndex, smaller ones FlatIndex. At
  // vote_distance < 16 the multi-index is cheaper from a few thousand descriptors on.
  size_t multi_index_min_descriptors = 2'000;
};

// A verified match: the genuine photo (PhotoBank numbering) and the homography's inliers.
struct FeatureBankMatch {
  uint32_t photo = 0;
  int inliers = 0;
};

class FeatureBank {
 public:
  // Per-thread state: the extractor and the query buffers. Movable, not copyable.
  class Scratch {
   public:
    explicit Scratch(const LocalFeatureOptions& options = {}) : extractor_(options) {}

   private:
    friend class FeatureBank;
    FeatureExtractor extractor_;
    LocalFeatures listing_;
    MultiIndex::Scratch multi_;
    std::vector<IndexMatch> hits_;
    std::vector<uint32_t> votes_;       // per photo
    std::vector<uint32_t> last_voter_;  // per photo: listing descriptor + 1 that last voted
    std::vector<uint32_t> candidates_;
    std::vector<FeaturePair> pairs_;
  };

  // Extracts the keypoints of every photo `photos` indexes (see the file comment).
  // Errors: the first read or decode error of a photo, as `<path>: <message>`
  // (`failed_photo`, when not null, is set to its index); Unimplemented in a build without
  // OpenCV (the stage is then unavailable).
  static absl::StatusOr<std::shared_ptr<const FeatureBank>> Build(
      const PhotoBank& photos, const FeatureBankOptions& options = {},
      size_t* failed_photo = nullptr);

  FeatureBank(const FeatureBank&) = delete;
  FeatureBank& operator=(const FeatureBank&) = delete;

  // Finds the genuine photo shown in the row-major `luma` (width * height floats), if any:
  // `out` is set to the verified match with most inliers, or reset.
  // Errors: as FeatureExtractor::Extract (`out` is then reset).
  absl::Status Match(const float* luma, int width, int height, Scratch& scratch,
                     std::optional<FeatureBankMatch>& out) const;

  // Same, for keypoints already extracted with options().features.
  void MatchFeatures(const LocalFeatures& listing, Scratch& scratch,
                     std::optional<FeatureBankMatch>& out) const;

  const FeatureBankOptions& options() const { return options_; }
  // Photos with keypoints (those that can be matched) and their descriptors.
  size_t photo_count() const { return photo_count_; }
  size_t matchable_photos() const { return matchable_; }
  size_t descriptor_count() const { return id_photo_.size(); }
  // The keypoints of PhotoBank photo `photo` (empty when left out).
  const LocalFeatures& features(uint32_t photo) const { return features_[photo]; }

 private:
  FeatureBank() = default;

  FeatureBankOptions options_;
  size_t photo_count_ = 0;
  size_t matchable_ = 0;
  std::vector<LocalFeatures> features_;  // by PhotoBank photo
  std::vector<uint32_t> id_photo_;       // index id -> photo
  FlatIndex flat_;
  MultiIndex multi_;
  bool use_multi_ = false;
};

}  // namespace bonafide::models

#endif  // BONAFIDE_MODELS_FEATURE_BANK_H_
