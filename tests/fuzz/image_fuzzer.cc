// Fuzz target: image decode + PDQ hash (models/image_decode.h, models/pdq.h).
//
// The input is decoded as an encoded image (format from the content) with
// DecodeMode::kFull and DecodeMode::kReduced by a decoder with small limits, and every
// successful decode is hashed with PdqHasher::Hash and HashDihedral.
// Invariants: no crash or sanitizer report; errors are InvalidArgument, ResourceExhausted or
// NotFound and leave the output empty; a decoded image fits the limits, has
// width * height luma values, finite and within 0..255, agrees with ProbeImage on its size
// (JPEG: possibly swapped by EXIF orientation) and with its reduction factor; hashes have
// quality 0..100, HashDihedral's kOriginal equals Hash, images under kPdqMinHashableSide
// hash to zero with quality 0.
#include <stddef.h>
#include <stdint.h>

#include <array>
#include <cmath>
#include <string_view>

#include "absl/status/status.h"

#include "models/image_decode.h"
#include "models/pdq.h"
#include "tests/fuzz/fuzz_check.h"

namespace bonafide::fuzz {
namespace {

using models::DecodedLuma;
using models::DecodeLimits;
using models::DecodeMode;
using models::ImageDecoder;
using models::PdqHasher;
using models::PdqResult;

// Small limits: 4 Mi pixels, 4096 per side, 8 MiB. A declared size above them must be
// refused before decoding; below them a decode + hash stays well under the 10 s timeout.
DecodeLimits FuzzLimits() {
  DecodeLimits limits;
  limits.max_bytes = size_t{8} << 20;
  limits.max_pixels = int64_t{4} << 20;
  limits.max_side = 4096;
  return limits;
}

void CheckHash(const PdqResult& r, const DecodedLuma& luma, const char* what) {
  BONAFIDE_FUZZ_CHECK(r.quality >= 0 && r.quality <= 100, "%s: quality %d", what, r.quality);
  if (luma.width < models::kPdqMinHashableSide || luma.height < models::kPdqMinHashableSide) {
    BONAFIDE_FUZZ_CHECK(r.quality == 0 && r.hash == models::Hash256{},
                        "%s: %dx%d image has quality %d / non-zero hash", what, luma.width,
                        luma.height, r.quality);
  }
}

void DecodeAndHash(std::string_view data, DecodeMode mode) {
  static ImageDecoder* decoder = new ImageDecoder(FuzzLimits());  // reused, as in the scan
  static PdqHasher* hasher = new PdqHasher;
  static DecodedLuma* out = new DecodedLuma;
  const DecodeLimits& limits = decoder->limits();
  const char* mode_name = mode == DecodeMode::kFull ? "full" : "reduced";

  const absl::Status s = decoder->Decode(data, mode, *out);
  if (!s.ok()) {
    BONAFIDE_FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument ||
                            s.code() == absl::StatusCode::kResourceExhausted ||
                            s.code() == absl::StatusCode::kNotFound,
                        "%s: unexpected status %s", mode_name, s.ToString().c_str());
    BONAFIDE_FUZZ_CHECK(out->width == 0 && out->luma.empty(), "%s: error left %dx%d output",
                        mode_name, out->width, out->height);
    return;
  }

  const int w = out->width, h = out->height;
  BONAFIDE_FUZZ_CHECK(w >= 1 && h >= 1, "%s: decoded %dx%d", mode_name, w, h);
  BONAFIDE_FUZZ_CHECK(out->luma.size() == static_cast<size_t>(w) * static_cast<size_t>(h),
                      "%s: %zu luma values for %dx%d", mode_name, out->luma.size(), w, h);
  BONAFIDE_FUZZ_CHECK(
      out->source_width <= limits.max_side && out->source_height <= limits.max_side &&
          int64_t{out->source_width} * out->source_height <= limits.max_pixels,
      "%s: %dx%d source is over the limits", mode_name, out->source_width, out->source_height);
  const int r = out->reduction;
  BONAFIDE_FUZZ_CHECK(r == 1 || r == 2 || r == 4 || r == 8, "%s: reduction %d", mode_name, r);
  if (mode == DecodeMode::kFull) {
    BONAFIDE_FUZZ_CHECK(r == 1 && w == out->source_width && h == out->source_height,
                        "full: %dx%d from %dx%d, reduction %d", w, h, out->source_width,
                        out->source_height, r);
  } else {
    BONAFIDE_FUZZ_CHECK(
        (out->source_width + r - 1) / r == w && (out->source_height + r - 1) / r == h,
        "reduced: %dx%d from %dx%d, reduction %d", w, h, out->source_width, out->source_height, r);
  }
  for (const float v : out->luma) {
    BONAFIDE_FUZZ_CHECK(std::isfinite(v) && v >= -0.01f && v <= 255.01f, "%s: luma %g", mode_name,
                        static_cast<double>(v));
  }

  // The header the decoder checked the limits against describes what was decoded.
  const absl::StatusOr<models::ImageInfo> info = models::ProbeImage(data);
  BONAFIDE_FUZZ_CHECK(info.ok(), "%s: decoded but ProbeImage fails: %s", mode_name,
                      info.status().ToString().c_str());
  const int sw = out->source_width, sh = out->source_height;
  const bool same = sw == info->width && sh == info->height;
  const bool swapped = sw == info->height && sh == info->width;
  BONAFIDE_FUZZ_CHECK(same || (info->format == models::ImageFormat::kJpeg && swapped),
                      "%s: %s decoded %dx%d, header says %dx%d", mode_name,
                      models::ImageFormatName(info->format), sw, sh, info->width, info->height);

  const PdqResult single = hasher->Hash(out->luma.data(), w, h);
  CheckHash(single, *out, "Hash");
  const std::array<PdqResult, models::kNumDihedral> all =
      hasher->HashDihedral(out->luma.data(), w, h);
  for (const PdqResult& d : all) CheckHash(d, *out, "HashDihedral");
  BONAFIDE_FUZZ_CHECK(all[0].hash == single.hash && all[0].quality == single.quality,
                      "HashDihedral kOriginal differs from Hash (%s vs %s)",
                      models::ToHex(all[0].hash).c_str(), models::ToHex(single.hash).c_str());
}

}  // namespace
}  // namespace bonafide::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace bonafide::fuzz;  // NOLINT(google-build-using-namespace)
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  DecodeAndHash(data, bonafide::models::DecodeMode::kFull);
  DecodeAndHash(data, bonafide::models::DecodeMode::kReduced);
  return 0;
}
