// What the scanner concluded about one listing, with the evidence for it.
//
// A Verdict is flat on purpose: the signals of every rights holder live in one vector and
// each HolderVerdict owns a range of it, so a Verdict reused across listings keeps its
// capacity and scanning allocates nothing in the steady state.
#ifndef BONAFIDE_VERDICT_H_
#define BONAFIDE_VERDICT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace bonafide {

enum class SignalKind : uint8_t {
  kCue,              // a counterfeit cue rule matched
  kPrice,            // unit price below min_price_ratio x reference of a matched product
  kImage,            // a listing photo matches a registered genuine photo
  kObfuscatedBrand,  // the rights holder is named only in evasive spellings
  // Learnt from the rights holders' verdicts (ScannerOptions::feedback):
  kKnownCounterfeitPhoto,  // a listing photo matches a photo of a confirmed counterfeit case
  kSellerRecord,           // the seller has confirmed counterfeit cases for the rights holder
};

enum class TextField : uint8_t { kTitle, kDescription };

// A piece of the listing's original text: bytes [begin, end) of `field`.
struct TextSpan {
  TextField field = TextField::kTitle;
  uint32_t begin = 0;
  uint32_t end = 0;
};

struct Signal {
  SignalKind kind = SignalKind::kCue;
  double weight = 0;    // points added to the score (0 for shadow rules)
  bool shadow = false;  // evaluated and counted, never scored
  // kCue: the cue rule's index (RulesInfo::cue_rules); kPrice, kImage: the product's index
  // within the rights holder (RulesInfo::Holder::product_ids); kKnownCounterfeitPhoto: the
  // photo's index in ScannerOptions::feedback.counterfeit_photos; kSellerRecord: the
  // record's index in ScannerOptions::feedback.seller_records; otherwise -1.
  int32_t index = -1;
  // What matched: the cue, the product keyword, the evasive mention (empty for kImage,
  // kKnownCounterfeitPhoto and kSellerRecord, and for kPrice when the product was
  // recognised by its photo only).
  TextSpan span;
  // kPrice only, in the policy's base currency.
  double unit_price = 0;
  double reference_price = 0;
  double ratio = 0;
  // kPrice: the units the price is for; kSellerRecord: the seller's confirmed counterfeit
  // cases for this rights holder, not counting this listing's own.
  int64_t units = 1;
  // kImage (index is then the product of the genuine photo): listing.images[image] is
  // within `distance` bits of genuine photo `genuine_photo` (RulesInfo::genuine_photos)
  // seen in rotation/flip `variant` (Scanner::ImageVariantName()); `quality` is the listing
  // photo's PDQ quality. kKnownCounterfeitPhoto: the same, but of counterfeit photo
  // `index` (genuine_photo is -1).
  // kImage: `stage` (Scanner::ImageStageName()) says what found the genuine photo: the PDQ
  // hash of the whole photo (0, "pdq"), of the photo inside its uniform borders (1,
  // "pdq_trimmed"), or local features (2, "features": `inliers` keypoints agree on one
  // homography; variant and distance are then 0).
  int32_t image = -1;
  int32_t genuine_photo = -1;
  uint8_t variant = 0;
  uint8_t stage = 0;
  int16_t distance = 0;
  int16_t quality = 0;
  int16_t inliers = 0;
};

// What became of one listing photo.
enum class ImageStatus : uint8_t {
  kHashed,       // decoded and hashed (matched or not)
  kTooPlain,     // decoded, but its quality is below the policy's image.min_quality
  kMissing,      // no such file under the image root
  kOutsideRoot,  // resolves (through a symbolic link) outside the image root
  kTooLarge,     // over the decode limits (bytes, pixels or side), refused before decoding
  kUnreadable,   // corrupt, truncated, unknown format, or not a regular file
  // Only a path, and no image root to read it under: the listing carried other photos (in
  // memory or as hashes), so its photos were read, but not this one.
  kNotRead,
};

// Returns "hashed", "too_plain", "missing", "outside_root", "too_large", "unreadable" or
// "not_read".
inline const char* ImageStatusName(ImageStatus status) {
  switch (status) {
    case ImageStatus::kHashed:
      return "hashed";
    case ImageStatus::kTooPlain:
      return "too_plain";
    case ImageStatus::kMissing:
      return "missing";
    case ImageStatus::kOutsideRoot:
      return "outside_root";
    case ImageStatus::kTooLarge:
      return "too_large";
    case ImageStatus::kUnreadable:
      return "unreadable";
    case ImageStatus::kNotRead:
      return "not_read";
  }
  return "unreadable";
}

// Where a listing photo's hash came from (ImageStatus kHashed and kTooPlain).
enum class HashSource : uint8_t {
  kDecoded,  // the file (or the bytes of Listing::image_bytes) was decoded and hashed
  kCache,    // the listing-photo cache had it from an earlier scan (same file, or same bytes)
  kListing,  // the listing carried it (Listing::image_hashes); the file was not opened
};

struct ImageResult {
  int32_t image = -1;  // index into listing.images
  ImageStatus status = ImageStatus::kHashed;
  HashSource source = HashSource::kDecoded;
  bool matched = false;  // within max_distance of at least one genuine photo
  int32_t quality = 0;   // PDQ quality 0..100 (kHashed, kTooPlain)
  // PDQ hash (kHashed, kTooPlain): bit k is bit k % 64 of hash[k / 64], as
  // models::Hash256; Scanner::ImageHashHex() gives the canonical hex.
  uint64_t hash[4] = {0, 0, 0, 0};
  // Why it could not be read (failures), or, for a hashed photo, why the stages after PDQ
  // could not run on it (docs/images.md, "Edited photos"); "" otherwise.
  std::string detail;
};

// Why a rights holder's price rule did not apply.
enum class Coverage : uint8_t {
  kNone,
  kCompatibility,  // "case for ACME Phone 12"
  kAccessory,      // "ACME Phone 12 USB cable"
  kUsed,           // "used", "pre-owned", condition used/parts
  kPackagingOnly,  // "empty box"
};

// The price rule's arithmetic for one rights holder, kept whether or not the `price`
// signal held, so that a reader can see why it did not (`bonafide explain`). Amounts are in
// the policy's base currency.
struct PriceCheck {
  // The product with a reference price whose ratio is lowest among those the listing names
  // (or shows by a genuine photo); -1 when there is none. Index into the holder's
  // RulesInfo::Holder::product_ids.
  int32_t product = -1;
  TextSpan span;  // where it is named (empty when only its photo is shown)
  double unit_price = 0;
  double reference_price = 0;
  double ratio = 0;   // unit_price / reference_price (the signal needs it below the
                      // product's min_price_ratio)
  int64_t units = 1;  // the units the price is for
};

struct HolderVerdict {
  int32_t holder = -1;  // index into RulesInfo::holders
  double score = 0;
  double threshold = 0;
  bool authorized_seller = false;
  bool case_opened = false;  // score >= threshold and not an authorized seller
  Coverage coverage = Coverage::kNone;
  // The phrase that covers the rights holder (empty for kNone, and for kUsed given by the
  // listing's condition field rather than its title).
  TextSpan coverage_span;
  PriceCheck price;
  // False when the listing does not name this rights holder and references it only by
  // showing one of its genuine photos (first_mention is then empty).
  bool named = true;
  TextSpan first_mention;  // where the listing first names this rights holder
  // This holder's signals are Verdict::signals[signals_begin, signals_end).
  uint32_t signals_begin = 0;
  uint32_t signals_end = 0;
};

// Thread-compatible; reuse one per thread.
struct Verdict {
  // Non-empty when the listing could not be scanned (e.g. a currency the policy has no
  // rate for); the listing then counts as rejected.
  std::string reject_reason;
  // What the scan summary counts the reject by: the reason without its details
  // ("unknown currency").
  std::string reject_class;
  std::vector<HolderVerdict> holders;  // every rights holder the listing references
  std::vector<Signal> signals;
  // Cue rules that matched (enforce and shadow), each once, by index.
  std::vector<int32_t> cue_hits;
  // One entry per listing photo, in listing order, when the scan read photos (an image
  // root is set or the listing carries photos, and photos to match exist or the listing
  // opened a case; see ScannerOptions::image_root); empty otherwise. A photo that could not be read
  // does not stop the scan of the listing's text.
  std::vector<ImageResult> images;

  void Clear() {
    reject_reason.clear();
    reject_class.clear();
    holders.clear();
    signals.clear();
    cue_hits.clear();
    images.clear();
  }
  bool any_case() const {
    for (const auto& h : holders) {
      if (h.case_opened) return true;
    }
    return false;
  }
};

}  // namespace bonafide

#endif  // BONAFIDE_VERDICT_H_
