// ImageDecoder's codec in a build without OpenCV (BONAFIDE_WITH_OPENCV=OFF): every check of
// image_decode.cc still runs (a photo over the limits is still ResourceExhausted), then
// decoding is refused. Hashes computed elsewhere (Listing::image_hashes, the caches) are
// what such a build matches.
#include "absl/strings/str_cat.h"

#include "models/image_decode.h"

namespace bonafide::models {

struct ImageDecoder::Scratch {};

ImageDecoder::ImageDecoder(DecodeLimits limits)
    : limits_(limits), scratch_(std::make_unique<Scratch>()) {}
ImageDecoder::~ImageDecoder() = default;
ImageDecoder::ImageDecoder(ImageDecoder&&) noexcept = default;
ImageDecoder& ImageDecoder::operator=(ImageDecoder&&) noexcept = default;

absl::Status ImageDecoder::DecodePixels(std::string_view /*bytes*/, const ImageInfo& info,
                                        int /*factor*/, DecodedLuma& /*out*/) {
  return absl::UnimplementedError(absl::StrCat("cannot decode ", ImageFormatName(info.format),
                                               ": this build of bonafide has no image decoder "
                                               "(built with BONAFIDE_WITH_OPENCV=OFF)"));
}

}  // namespace bonafide::models
