// The decision policy (docs/matching.md, section 3), applied to one listing whose text has
// been normalised and matched.
//
// Context (compatibility, accessory, bundle, used and packaging-only phrases) is read in the
// title only: descriptions routinely say "never used" or list what a product "works with",
// and a seller could otherwise dodge the price rule by adding such words to a description.
#ifndef BONAFIDE_ENGINE_DECISION_H_
#define BONAFIDE_ENGINE_DECISION_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "bonafide/listing.h"
#include "bonafide/verdict.h"
#include "engine/feedback_index.h"
#include "rules/compiled_rules.h"
#include "rules/normalize.h"

namespace bonafide::engine {

// One text field after normalisation and matching.
struct MatchedField {
  std::string_view original;
  rules::NormalizedText normalized;
  std::vector<rules::TextHit> hits;
};

// The best photo match of one rights holder in a listing (smallest distance; ties go to
// the earlier listing photo, then the earlier genuine photo).
struct ImageMatch {
  int32_t holder = -1;
  int32_t product = -1;        // product of the genuine photo
  int32_t image = -1;          // index into listing.images
  int32_t genuine_photo = -1;  // index into the photo bank
  uint8_t variant = 0;         // models::Dihedral
  uint8_t stage = 0;           // models::MatchStage
  int16_t distance = 0;
  int16_t quality = 0;  // of the listing photo
  int16_t inliers = 0;  // stage kFeatures
};

// Reusable per-thread state of Decide(). Thread-compatible.
class DecisionScratch {
 public:
  explicit DecisionScratch(const rules::CompiledRules& rules);

 private:
  friend void Decide(const rules::CompiledRules&, const FeedbackIndex&, const Listing&,
                     const MatchedField&, const MatchedField&, std::span<const ImageMatch>,
                     std::span<const KnownPhotoMatch>, DecisionScratch&, Verdict&);

  struct Mention {
    int32_t holder;
    TextField field;
    uint32_t from, to;  // normalised offsets
    bool evasive;
  };
  struct HolderState {
    bool touched = false;
    bool named = false;          // named in the text (not only shown in a photo)
    bool evasive_brand = false;  // a brand name or alias written in an evasive spelling
    int32_t image_match = -1;    // index into Decide()'s image_matches
    int32_t known_photo = -1;    // index into Decide()'s known_photos
    int32_t best_product = -1;   // product with the lowest unit price ratio
    double best_ratio = 0;
    TextSpan best_product_span;
    TextSpan first_mention;
    TextSpan first_evasive_brand;
  };
  struct CueState {
    bool hit = false;
    TextSpan span;
  };

  std::vector<HolderState> holders_;
  std::vector<int32_t> touched_;
  std::vector<CueState> cues_;
  std::vector<int32_t> cues_hit_;
  std::vector<Mention> title_mentions_;
  std::vector<rules::TextHit> compat_, accessory_, bundle_;
  std::vector<rules::TextHit> exclude_;  // exclude phrases of the field being read
  std::vector<uint32_t> word_index_;     // word number of each byte of the normalised title
  std::string stripped_;
};

// Fills `verdict` (cleared first) for `listing`, whose title and description have been
// normalised and matched by the same `rules`. `image_matches` holds at most one entry per
// rights holder: the holder is then referenced even if the text does not name it, gets the
// `image` signal, and the photo's product counts as a matched product for the price rule.
// `known_photos` (at most one per rights holder, from feedback.QueryPhotos) reference their
// holder too and give it the `known_counterfeit_photo` signal. `feedback` (built for these
// rules) adds the `seller_record` signal and the sellers authorized through verdicts.
void Decide(const rules::CompiledRules& rules, const FeedbackIndex& feedback,
            const Listing& listing, const MatchedField& title, const MatchedField& description,
            std::span<const ImageMatch> image_matches,
            std::span<const KnownPhotoMatch> known_photos, DecisionScratch& scratch,
            Verdict& verdict);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_DECISION_H_
