// The OpenCV module's one exported symbol: the table of models/opencv_module.h. Built into
// libbonafide_opencv.so only (everything else in the module is hidden).
#include "models/opencv_module.h"

#include "models/image_decode_opencv.h"
#include "models/local_features_opencv.h"

namespace bonafide::models::opencv {
namespace {

void* NewDecoder() { return new OpenCvDecoder(); }
void DeleteDecoder(void* decoder) { delete static_cast<OpenCvDecoder*>(decoder); }
absl::Status Decode(void* decoder, std::string_view bytes, const char* format_name, bool jpeg,
                    int factor, int64_t max_pixels, DecodedLuma& out) {
  return static_cast<OpenCvDecoder*>(decoder)->Decode(bytes, format_name, jpeg, factor, max_pixels,
                                                      out);
}

void* NewExtractor(const LocalFeatureOptions& options) { return new OpenCvExtractor(options); }
void DeleteExtractor(void* extractor) { delete static_cast<OpenCvExtractor*>(extractor); }
absl::Status Extract(void* extractor, const float* luma, int width, int height,
                     LocalFeatures& out) {
  return static_cast<OpenCvExtractor*>(extractor)->Extract(luma, width, height, out);
}

}  // namespace
}  // namespace bonafide::models::opencv

extern "C" __attribute__((visibility("default")))
const bonafide::models::OpenCvModule bonafide_opencv_module = {
    .new_decoder = bonafide::models::opencv::NewDecoder,
    .delete_decoder = bonafide::models::opencv::DeleteDecoder,
    .decode = bonafide::models::opencv::Decode,
    .new_extractor = bonafide::models::opencv::NewExtractor,
    .delete_extractor = bonafide::models::opencv::DeleteExtractor,
    .extract = bonafide::models::opencv::Extract,
    .verify_geometry = bonafide::models::opencv::VerifyGeometryWithOpenCv,
};
