// Local features for the second photo stage: ORB keypoints with 256-bit descriptors (the
// same size as a PDQ hash, so the project's Hamming index holds them), and the geometric
// check that decides whether two photos show the same scene: a RANSAC homography with
// enough inliers and a sane shape.
//
// Usage:
//
//   FeatureExtractor extractor;                 // one per thread, reused
//   LocalFeatures features;                     // reused
//   absl::Status s = extractor.Extract(luma.data(), width, height, features);
//   ...
//   std::vector<FeaturePair> pairs = ...;       // listing keypoint i ~ genuine keypoint j
//   GeometryCheck check = VerifyGeometry(listing, genuine, pairs, GeometryOptions{});
//   if (check.verified) { /* check.inliers points agree on one homography */ }
//
// Extraction: the float luma is converted to 8 bits and scaled so that its longer side is
// LocalFeatureOptions::max_side (linearly; by area below half size; small photos are
// enlarged), then OpenCV's ORB finds at most max_keypoints keypoints (FAST corners ranked
// by the Harris score over a 6-level pyramid, scale 1.2, so a photo shown at up to 2.5x
// the registered one's scale still meets its keypoints) and computes their rBRIEF
// descriptors (rotation-invariant). Mirrored photos are not matched by this stage (PDQ
// matches those in its 8 variants).
//
// Geometry (VerifyGeometry): cv::findHomography with RANSAC maps the listing's keypoints
// onto the genuine photo's. The match holds only if
//   - at least min_inliers pairs agree within reprojection_px pixels;
//   - the homography is not degenerate: it keeps orientation (no mirror), its scale
//     (sqrt of the determinant of its linear part) is within [min_scale, max_scale], its
//     perspective terms are small (the photo is a flat picture re-shown, not a 3D scene)
//     and the listing's corners map to a convex quadrilateral;
//   - the inliers are spread over the genuine photo: of its 4 x 4 grid cells, at least
//     min_cells (5) hold 2 inliers or more. A shared caption, logo or line of text fills
//     a row of cells at most, and yields many inliers there (unrelated photos that share
//     a caption at the same place reach 100 inliers in 4 cells); a photo cropped by 30%
//     still shows 70% of the genuine one, over 5-15 cells.
//
// OpenCV does the work in a module loaded at the first Extract (models/opencv_module.h).
// A build without OpenCV (BONAFIDE_WITH_OPENCV=OFF), or a module that cannot be loaded:
// Extract returns Unimplemented (or Unavailable) and VerifyGeometry never verifies.
//
// Thread-safety: FeatureExtractor is one-per-thread; VerifyGeometry is a pure function.
#ifndef BONAFIDE_MODELS_LOCAL_FEATURES_H_
#define BONAFIDE_MODELS_LOCAL_FEATURES_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"

#include "models/pdq.h"

namespace bonafide::models {

struct LocalFeatureOptions {
  // The photo is scaled so that its longer side is this (pixels) before keypoints are
  // found: bounds the cost whatever the photo's size, and puts photos at one scale.
  int max_side = 400;
  // At most this many keypoints (the strongest) per photo.
  int max_keypoints = 400;
  // Pyramid levels (scale 1.2 between levels): 6 covers 1x-2.5x, which a photo cropped
  // by 30% (1.2x) or padded by 25% (1.5x) needs; 8 levels cost more and found less in the
  // labelled set (docs/images.md).
  int levels = 6;
};

struct FeaturePoint {
  float x = 0;
  float y = 0;
};

// What Extract computes with ("opencv 4.6.0", or "none" in a build without OpenCV): part of
// the feature bank's cache key, so that keypoints another OpenCV computed are not read.
const char* LocalFeatureVersion();

// Keypoints of one photo, in the pixels of the scaled image (width x height).
struct LocalFeatures {
  int width = 0;
  int height = 0;
  std::vector<Hash256> descriptors;  // ORB rBRIEF, 256 bits
  std::vector<FeaturePoint> points;  // same order as descriptors
  size_t size() const { return descriptors.size(); }
};

// Finds keypoints and descriptors. One per thread (it keeps OpenCV's detector and image
// buffers); movable, not copyable.
class FeatureExtractor {
 public:
  explicit FeatureExtractor(LocalFeatureOptions options = {});
  ~FeatureExtractor();
  FeatureExtractor(FeatureExtractor&&) noexcept;
  FeatureExtractor& operator=(FeatureExtractor&&) noexcept;
  FeatureExtractor(const FeatureExtractor&) = delete;
  FeatureExtractor& operator=(const FeatureExtractor&) = delete;

  // Replaces `out` with the keypoints of the row-major `luma` (width * height floats,
  // 0..255). A plain image gives few or none (not an error).
  // Errors: InvalidArgument for an empty image; Internal for an OpenCV exception;
  // Unimplemented in a build without OpenCV; Unavailable when the OpenCV module cannot be
  // loaded.
  absl::Status Extract(const float* luma, int width, int height, LocalFeatures& out);

  const LocalFeatureOptions& options() const { return options_; }

 private:
  struct Impl;
  LocalFeatureOptions options_;
  std::unique_ptr<Impl> impl_;
};

// Listing keypoint `listing` paired with genuine keypoint `genuine` by their descriptors.
struct FeaturePair {
  uint32_t listing = 0;
  uint32_t genuine = 0;
};

inline constexpr int kSpreadGrid = 4;
inline constexpr int kSpreadPointsPerCell = 2;

struct GeometryOptions {
  int min_inliers = 20;
  double reprojection_px = 5.0;  // RANSAC inlier threshold, in scaled pixels
  double min_scale = 0.2;        // genuine pixels per listing pixel (linear)
  double max_scale = 5.0;
  double max_perspective = 0.002;  // |h31|, |h32| per pixel
  // Spread: the genuine photo is cut into kSpreadGrid x kSpreadGrid cells; at least this
  // many must hold kSpreadPointsPerCell inliers each.
  int min_cells = 5;
  int max_iterations = 500;  // RANSAC iterations
};

struct GeometryCheck {
  bool verified = false;
  int inliers = 0;  // pairs that agree with the homography (0 when none was found)
  int cells = 0;    // spread: grid cells of the genuine photo with inliers (0 if not checked)
};

// Fits and checks the homography that maps the listing's paired keypoints onto the
// genuine photo's (see the file comment).
GeometryCheck VerifyGeometry(const LocalFeatures& listing, const LocalFeatures& genuine,
                             std::span<const FeaturePair> pairs, const GeometryOptions& options);

}  // namespace bonafide::models

#endif  // BONAFIDE_MODELS_LOCAL_FEATURES_H_
