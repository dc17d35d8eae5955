// Inside the OpenCV module (models/opencv_module.h): FeatureExtractor and VerifyGeometry
// with OpenCV's ORB (features2d) and findHomography (calib3d).
#ifndef BONAFIDE_MODELS_LOCAL_FEATURES_OPENCV_H_
#define BONAFIDE_MODELS_LOCAL_FEATURES_OPENCV_H_

#include <span>
#include <vector>

#include "absl/status/status.h"
#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>

#include "models/local_features.h"

namespace bonafide::models::opencv {

// The module table's `extract`. One per FeatureExtractor: it keeps ORB and its images.
class OpenCvExtractor {
 public:
  explicit OpenCvExtractor(const LocalFeatureOptions& options);

  absl::Status Extract(const float* luma, int width, int height, LocalFeatures& out);

 private:
  LocalFeatureOptions options_;
  cv::Ptr<cv::ORB> orb_;
  cv::Mat gray_;    // 8-bit luma, full size
  cv::Mat scaled_;  // what ORB sees
  std::vector<cv::KeyPoint> keypoints_;
  cv::Mat descriptors_;
};

// The module table's `verify_geometry`.
GeometryCheck VerifyGeometryWithOpenCv(const LocalFeatures& listing, const LocalFeatures& genuine,
                                       std::span<const FeaturePair> pairs,
                                       const GeometryOptions& options);

}  // namespace bonafide::models::opencv

#endif  // BONAFIDE_MODELS_LOCAL_FEATURES_OPENCV_H_
