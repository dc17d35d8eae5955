// The photo bank: PDQ hashes of the rights holders' registered genuine photos, each in its
// 8 rotations and flips, in a Hamming index that listing photos are matched against.
//
// Usage (the scanner does this once per start, then shares the bank between threads):
//
//   std::vector<GenuinePhoto> photos = {{/*holder=*/0, /*product=*/0, "rules/photos/a.jpg"}};
//   PhotoBankOptions options;
//   options.min_quality = 50;                  // policy image.min_quality
//   options.cache_dir = "/home/u/.cache/bonafide";
//   absl::StatusOr<std::shared_ptr<const PhotoBank>> bank = PhotoBank::Build(photos, options);
//
//   PhotoBank::Scratch scratch;                // one per thread, reused
//   std::vector<BankMatch> matches;            // reused
//   (*bank)->Query(listing_hash, /*max_distance=*/31, scratch, matches);
//   for (const BankMatch& m : matches) (*bank)->photo(m.photo).holder ...
//
// Building: every photo is decoded in full (ImageDecoder, DecodeMode::kFull, so that bank
// hashes equal the reference PDQ's) and hashed with PdqHasher::HashDihedral. A photo whose
// quality is below options.min_quality is kept out of the index and listed by
// too_plain_photos(). A photo that cannot be decoded fails the build (it is a rules error).
//
// Cache: hashes are cached in one binary file, `<cache_dir>/pdq-photos-v1.bin`, keyed by a
// 128-bit digest of each photo's bytes (so a moved or renamed photo is not rehashed, and a
// changed one is). The file holds every photo ever hashed with that cache dir (about 290
// bytes per photo); it is rewritten (temp file + rename) only when a build hashed something
// new. A missing, truncated or corrupt cache file only costs rehashing. The digest is not
// cryptographic: whoever can write the cache dir can poison it, as with the Hyperscan cache.
//
// Index: FlatIndex up to options.multi_index_min_hashes hashes (8 per photo), MultiIndex
// above it.
// Both return exactly the same matches; the flat scan is faster for small banks.
#ifndef BONAFIDE_MODELS_PHOTO_BANK_H_
#define BONAFIDE_MODELS_PHOTO_BANK_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

#include "models/hamming_index.h"
#include "models/image_decode.h"
#include "models/pdq.h"

namespace bonafide::models {

// One registered genuine photo. `holder` and `product` are the caller's indexes (the
// scanner uses CompiledRules holder and product positions).
struct GenuinePhoto {
  int32_t holder = -1;
  int32_t product = -1;
  std::string path;  // a file path, read as is
};

struct PhotoBankOptions {
  // Photos whose PDQ quality is below this are not indexed (policy image.min_quality; 50).
  int min_quality = kPdqMinQuality;
  // Directory of the hash cache ("" = no cache). Created when missing.
  std::string cache_dir;
  // Limits for decoding the genuine photos (DecodeLimits defaults).
  DecodeLimits limits;
  // Parameters that affect performance.
  // Banks with more hashes than this (8 per photo) use MultiIndex, smaller ones FlatIndex
  // (20,000, i.e. 2,500 photos: at 10k hashes both take ~3 us per query, at 100k the flat
  // scan takes 3x longer; the multi-index costs a fixed 4 MB of tables).
  size_t multi_index_min_hashes = 20'000;
};

// Returns the lower-case name of a dihedral variant: "original", "rotate90", "rotate180",
// "rotate270", "flip_x", "flip_y", "transpose", "transverse".
const char* DihedralName(Dihedral variant);

// One hit of a query: the genuine photo (index into PhotoBank::photo()), which of its
// variants matched, and the Hamming distance.
struct BankMatch {
  uint32_t photo = 0;
  Dihedral variant = Dihedral::kOriginal;
  int distance = 0;
};

// Immutable after Build; Query may run concurrently from any number of threads, each with
// its own Scratch. Not copyable or movable; share it as std::shared_ptr<const PhotoBank>.
class PhotoBank {
 public:
  struct Photo {
    int32_t holder = -1;
    int32_t product = -1;
    std::string path;
    int quality = 0;
    bool indexed = false;  // quality >= min_quality
    bool from_cache = false;
    // util/hash.h Hasher128 digest of the file's bytes (the cache key): a photo's content
    // identity, whatever its path.
    std::pair<uint64_t, uint64_t> content_digest{0, 0};
    std::array<Hash256, kNumDihedral> hashes;  // indexed by Dihedral
  };

  // Per-thread query state. One per thread; movable, not copyable.
  class Scratch {
   public:
    Scratch() = default;
    Scratch(Scratch&&) noexcept = default;
    Scratch& operator=(Scratch&&) noexcept = default;

   private:
    friend class PhotoBank;
    MultiIndex::Scratch multi_;
    std::vector<IndexMatch> hits_;
  };

  // Hashes `photos` (or loads their hashes from the cache) and builds the index.
  // Errors: the first read or decode error of a photo (NotFound, InvalidArgument,
  // ResourceExhausted), as `<path>: <ReadImageFile or Decode message>`; `failed_photo`,
  // when not null, is then set to that photo's index in `photos` (and left alone on
  // success). Cache problems are not errors.
  static absl::StatusOr<std::shared_ptr<const PhotoBank>> Build(
      const std::vector<GenuinePhoto>& photos, const PhotoBankOptions& options,
      size_t* failed_photo = nullptr);

  PhotoBank(const PhotoBank&) = delete;
  PhotoBank& operator=(const PhotoBank&) = delete;

  // Replaces `out` with every (photo, variant) within max_distance of `query`, ordered by
  // photo then variant. Does not allocate once `scratch` and `out` are warm.
  void Query(const Hash256& query, int max_distance, Scratch& scratch,
             std::vector<BankMatch>& out) const;

  // All photos given to Build, in order (indexed or not).
  size_t photo_count() const { return photos_.size(); }
  const Photo& photo(uint32_t i) const { return photos_[i]; }
  // Photos kept out of the index because their quality is below min_quality.
  const std::vector<uint32_t>& too_plain_photos() const { return too_plain_; }
  // Number of hashes in the index (8 per indexed photo).
  size_t hash_count() const { return id_photo_.size(); }
  bool uses_multi_index() const { return use_multi_; }
  // Photos decoded and hashed by this build (the rest came from the cache).
  int hashed_count() const { return hashed_; }
  // True when every photo's hashes came from the cache (nothing was decoded).
  bool loaded_from_cache() const { return hashed_ == 0 && !photos_.empty(); }
  // The cache file used ("" when there is none).
  const std::string& cache_path() const { return cache_path_; }

 private:
  PhotoBank() = default;

  std::vector<Photo> photos_;
  std::vector<uint32_t> too_plain_;
  // Index id i is variant id_variant_[i] of photo id_photo_[i].
  std::vector<uint32_t> id_photo_;
  std::vector<uint8_t> id_variant_;
  FlatIndex flat_;
  MultiIndex multi_;
  bool use_multi_ = false;
  int hashed_ = 0;
  std::string cache_path_;
};

}  // namespace bonafide::models

#endif  // BONAFIDE_MODELS_PHOTO_BANK_H_
