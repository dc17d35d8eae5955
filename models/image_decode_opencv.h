// Inside the OpenCV module (models/opencv_module.h): ImageDecoder's codec with OpenCV.
#ifndef BONAFIDE_MODELS_IMAGE_DECODE_OPENCV_H_
#define BONAFIDE_MODELS_IMAGE_DECODE_OPENCV_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include <opencv2/core.hpp>

#include "models/image_decode.h"

namespace bonafide::models::opencv {

// Decodes checked bytes into luma (the module table's `decode`). One per ImageDecoder: it
// keeps the codec's output and a row's planes from call to call.
class OpenCvDecoder {
 public:
  absl::Status Decode(std::string_view bytes, const char* format_name, bool jpeg, int factor,
                      int64_t max_pixels, DecodedLuma& out);

 private:
  cv::Mat decoded_;    // codec output, reused when the size and type repeat
  cv::Mat planes_[3];  // one deinterleaved BGR row
};

}  // namespace bonafide::models::opencv

#endif  // BONAFIDE_MODELS_IMAGE_DECODE_OPENCV_H_
