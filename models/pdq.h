// PDQ: Meta's 256-bit perceptual image hash, implemented from the published algorithm
// (facebook/ThreatExchange, folder pdq/; "PDQ hashing" paper, 2017). Bit-exact with the
// reference float pipeline: same filter windows, summation order, DCT matrix, median and
// bit order, so hashes of the same float luma are identical to the reference's.
//
// Usage:
//   PdqHasher hasher;                       // one per thread; reuse it
//   PdqResult r = hasher.Hash(luma, width, height);
//   if (r.quality >= kPdqMinQuality) { ... match r.hash with HammingDistance() ... }
//
//   // All 8 rotations/flips at the cost of one hash plus 8 thresholdings:
//   std::array<PdqResult, kNumDihedral> all = hasher.HashDihedral(luma, width, height);
//
// The input is float luma (0..255, e.g. 0.299R + 0.587G + 0.114B computed in float), row
// major. Decoding and colour conversion live elsewhere (models/image_decode.h); this
// library has no OpenCV dependency.
//
// Algorithm: two passes of a box filter along rows then columns ("Jarosz" tent filter,
// window = ceil(dimension / 128)), decimation to 64x64 at pixel centres, quality from
// quantized gradient sums, the 16x16 low-frequency block of the 64x64 DCT-II without the
// DC row/column, and one bit per coefficient: coefficient > median.
#ifndef BONAFIDE_MODELS_PDQ_H_
#define BONAFIDE_MODELS_PDQ_H_

#include <array>
#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"

namespace bonafide::models {

// Recommended thresholds (from the reference): two hashes match when their Hamming
// distance is <= kPdqMatchThresholdBits; hashes with quality < kPdqMinQuality are too
// plain (flat or nearly flat images) to be matched.
inline constexpr int kPdqHashBits = 256;
inline constexpr int kPdqMatchThresholdBits = 31;
inline constexpr int kPdqMinQuality = 50;
// Images with a side below this get the all-zero hash and quality 0 (as the reference).
inline constexpr int kPdqMinHashableSide = 5;

// A 256-bit PDQ hash. Bit k (0..255) is bit (k % 64) of words[k / 64]; bit k is the DCT
// coefficient at row k / 16 (vertical frequency) and column k % 16 (horizontal frequency),
// both counted from frequency 1. This is the reference's layout (sixteen 16-bit words,
// w[k / 16] bit k % 16) packed little-endian into 64-bit words, so the canonical hex
// (ToHex) is words[3], words[2], words[1], words[0], each as 16 lower-case hex digits.
//
// A POD: thread-compatible, copyable, 32-byte aligned so that packed arrays of hashes
// suit vector loads.
struct alignas(32) Hash256 {
  uint64_t words[4] = {0, 0, 0, 0};

  bool GetBit(int k) const { return (words[k >> 6] >> (k & 63)) & 1u; }
  void SetBit(int k) { words[k >> 6] |= uint64_t{1} << (k & 63); }
  void FlipBit(int k) { words[k >> 6] ^= uint64_t{1} << (k & 63); }
  int PopCount() const {
    return std::popcount(words[0]) + std::popcount(words[1]) + std::popcount(words[2]) +
           std::popcount(words[3]);
  }

  friend bool operator==(const Hash256&, const Hash256&) = default;
};
static_assert(sizeof(Hash256) == 32, "Hash256 must be exactly 256 bits");
static_assert(alignof(Hash256) == 32, "Hash256 must be 32-byte aligned");
static_assert(std::is_trivially_copyable_v<Hash256>);
static_assert(std::is_standard_layout_v<Hash256>);

// Returns the number of differing bits (0..256).
inline int HammingDistance(const Hash256& a, const Hash256& b) {
  return std::popcount(a.words[0] ^ b.words[0]) + std::popcount(a.words[1] ^ b.words[1]) +
         std::popcount(a.words[2] ^ b.words[2]) + std::popcount(a.words[3] ^ b.words[3]);
}

// Returns the canonical 64-character lower-case hex form (as the reference prints it).
std::string ToHex(const Hash256& hash);

// Parses the canonical hex form (64 hex digits; either case).
// Errors: InvalidArgument if the length is not 64 or a character is not a hex digit.
absl::StatusOr<Hash256> HashFromHex(std::string_view hex);

struct PdqResult {
  Hash256 hash;
  // 0..100: quantized sum of gradients of the 64x64 downsample, clamped to 100. Below
  // kPdqMinQuality a hash is not reliable enough to match.
  int quality = 0;
};

// The dihedral group (rotations and flips), in the reference's order; HashDihedral
// returns its results indexed by these values. Named as the transform applied to the
// image whose hash is being predicted (cv:: equivalents for an OpenCV image):
enum class Dihedral : int {
  kOriginal = 0,
  kRotate90 = 1,    // 90 degrees counter-clockwise  (cv::ROTATE_90_COUNTERCLOCKWISE)
  kRotate180 = 2,   // 180 degrees                     (cv::ROTATE_180)
  kRotate270 = 3,   // 90 degrees clockwise            (cv::ROTATE_90_CLOCKWISE)
  kFlipX = 4,       // upside down, about the x axis   (cv::flip code 0)
  kFlipY = 5,       // mirrored, about the y axis      (cv::flip code 1)
  kTranspose = 6,   // about the main diagonal         (cv::transpose); "flip plus 1"
  kTransverse = 7,  // about the anti-diagonal; "flip minus 1"
};
inline constexpr int kNumDihedral = 8;

// Computes PDQ hashes of float luma images.
//
// One per thread (like a Hyperscan scratch): Hash() mutates internal buffers, so calls on
// one hasher must not overlap; separate hashers are independent. Movable, not copyable
// (the buffers are scratch, copying them would only cost).
//
// Allocation: the buffers grow to fit the largest image seen (a few rows of the image,
// never a full-size copy: ~(window + 24) x width floats) and are reused, so a warm hasher
// hashing images no wider than before does not allocate.
class PdqHasher {
 public:
  PdqHasher() = default;
  PdqHasher(const PdqHasher&) = delete;
  PdqHasher& operator=(const PdqHasher&) = delete;
  PdqHasher(PdqHasher&&) noexcept = default;
  PdqHasher& operator=(PdqHasher&&) noexcept = default;

  // Returns the hash and quality of `luma`, a row-major width x height image of floats
  // (nominally 0..255). Images with a side below kPdqMinHashableSide give the zero hash
  // with quality 0.
  // REQUIRES: width >= 1, height >= 1; luma points at width * height floats.
  // `luma` is only read, and not kept after the call.
  PdqResult Hash(const float* luma, int width, int height);

  // Returns the hashes of the 8 rotations/flips of the image, indexed by Dihedral, derived
  // from one DCT by sign flips and transposes (as the reference does). Element kOriginal
  // equals Hash(). The derived hashes are close to (usually within a few bits of), not
  // always equal to, the hash of the actually rotated pixels, because the box filter and
  // decimation are not exactly symmetric. Same REQUIREs as Hash().
  std::array<PdqResult, kNumDihedral> HashDihedral(const float* luma, int width, int height);

 private:
  // Fills dct_ (16x16) and returns the quality; false if the image is too small.
  bool Transform(const float* luma, int width, int height, int* quality);
  void Downsample(const float* luma, int width, int height);
  void BoxRowsStrip(const float* const* rows, int width, bool divide);

  // Scratch, reused across calls (see the class comment).
  std::vector<float> ring_;        // last rows of the first row pass
  std::vector<float> col_sum_;     // running sums of the column pass, width
  std::vector<float> strip_rows_;  // 16 rows output by the first column pass
  std::vector<float> strip_in_;    // 16 rows transposed: width x 16
  std::vector<float> strip_out_;   // width x 16
  std::vector<float> selected_;    // second row pass at the 64 sampled columns: height x 64

  alignas(32) float down64_[64 * 64];  // the 64x64 downsample
  alignas(32) float dct16x64_[16 * 64];
  alignas(32) float dct_[16 * 16];
};

}  // namespace bonafide::models

#endif  // BONAFIDE_MODELS_PDQ_H_
