// What the rights holders' verdicts teach later scans (ScannerOptions::feedback, read from
// the outbox by Outbox::LoadFeedback), indexed for the per-listing lookups of the decision
// (docs/matching.md, "Feedback from verdicts"):
//   - sellers authorized through a genuine verdict, never flagged for that rights holder;
//   - the sellers' records of confirmed counterfeit cases (the `seller_record` signal);
//   - the photos of confirmed counterfeit cases (the `known_counterfeit_photo` signal).
//
//   auto index = engine::FeedbackIndex::Build(options.feedback, *compiled_rules);
//   if (index->AuthorizedSeller(holder, listing.seller_id)) ...
//
// An empty feedback costs one size check per lookup: the scan of a fresh outbox is exactly
// as fast as one without feedback.
//
// Immutable after Build; lookups and QueryPhotos may run concurrently from any number of
// threads. Movable, not copyable.
#ifndef BONAFIDE_ENGINE_FEEDBACK_INDEX_H_
#define BONAFIDE_ENGINE_FEEDBACK_INDEX_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

#include "bonafide/outbox.h"
#include "models/hamming_index.h"
#include "models/pdq.h"
#include "rules/compiled_rules.h"

namespace bonafide::engine {

// A listing photo that shows a photo of a confirmed counterfeit case of `holder`.
struct KnownPhotoMatch {
  int32_t holder = -1;  // index into the rules' holders
  int32_t image = -1;   // index into listing.images
  int32_t photo = -1;   // index into OutboxFeedback::counterfeit_photos
  uint8_t variant = 0;  // models::Dihedral: the transform of the counterfeit photo shown
  int16_t distance = 0;
  int16_t quality = 0;  // of the listing photo
};

class FeedbackIndex {
 public:
  // Indexes `feedback` for the rights holders of `rules`. Entries of rights holders the
  // rules do not know (removed since their verdicts) are ignored, and so are counterfeit
  // photos below the policy's image.min_quality (too plain to match, like genuine ones).
  // Errors: InvalidArgument for a counterfeit photo whose hash is not 64 hex digits,
  // naming its case.
  static absl::StatusOr<FeedbackIndex> Build(OutboxFeedback feedback,
                                             const rules::CompiledRules& rules);

  FeedbackIndex() = default;  // no feedback
  FeedbackIndex(FeedbackIndex&&) noexcept = default;
  FeedbackIndex& operator=(FeedbackIndex&&) noexcept = default;
  FeedbackIndex(const FeedbackIndex&) = delete;
  FeedbackIndex& operator=(const FeedbackIndex&) = delete;

  // True when a genuine verdict authorized `seller` for rights holder `holder`.
  bool AuthorizedSeller(int32_t holder, std::string_view seller) const {
    const SellerFeedback* f = Find(holder, seller);
    return f != nullptr && f->authorized;
  }
  // The seller's confirmed counterfeit cases for `holder`, not counting the case of the
  // listing judged (marketplace, listing_id): a confirmed listing is not evidence against
  // itself. Sets `record` to the index of the seller's record in
  // feedback().seller_records. Does not allocate.
  int64_t ConfirmedCases(int32_t holder, std::string_view seller, std::string_view marketplace,
                         std::string_view listing_id, int32_t& record) const;

  // True when some counterfeit photo is indexed (the scanner then reads listing photos,
  // and hashes each in its 8 rotations and flips).
  bool has_photos() const { return !photo_of_id_.empty(); }

  // Appends to `out`, for each rights holder at most once, the best match of listing photo
  // `image` (its hashes in every rotation and flip, PdqHasher::HashDihedral order; or only
  // the first, the photo as shown, when its hash came with the listing) within
  // `max_distance` of a counterfeit photo, unless that photo came from this very listing's
  // case (a listing is not evidence against itself). An entry of `out` for the same holder
  // is replaced only by a match at a smaller distance. `hits` is scratch.
  // Does not allocate once `out` and `hits` have grown.
  void QueryPhotos(absl::Span<const models::PdqResult> variants, int32_t image, int max_distance,
                   std::string_view marketplace, std::string_view listing_id,
                   std::vector<models::IndexMatch>& hits, std::vector<KnownPhotoMatch>& out) const;

  // The feedback as given to Build.
  const OutboxFeedback& feedback() const { return feedback_; }

 private:
  struct SellerFeedback {
    bool authorized = false;
    int32_t record = -1;  // index into feedback_.seller_records
    // The (marketplace, listing id) of each of the record's cases that could be decoded.
    std::vector<std::pair<std::string, std::string>> confirmed_listings;
  };
  // The marketplace and listing id of a counterfeit photo's case, and its holder index.
  struct PhotoCase {
    int32_t holder = -1;
    std::string marketplace;
    std::string listing_id;
  };

  const SellerFeedback* Find(int32_t holder, std::string_view seller) const;

  OutboxFeedback feedback_;
  // Per rights holder (rules order); empty when no seller has any feedback.
  std::vector<absl::flat_hash_map<std::string, SellerFeedback>> sellers_;
  std::vector<PhotoCase> photo_cases_;  // parallel to feedback_.counterfeit_photos
  std::vector<int32_t> photo_of_id_;    // index id -> counterfeit photo
  models::FlatIndex flat_;
  models::MultiIndex multi_;
  bool use_multi_ = false;
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_FEEDBACK_INDEX_H_
