// The OpenCV module's local features (models/opencv_module.h): ORB (features2d) and
// findHomography (calib3d).
#include "models/local_features_opencv.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>

namespace bonafide::models::opencv {

OpenCvExtractor::OpenCvExtractor(const LocalFeatureOptions& options)
    : options_(options), orb_(cv::ORB::create(options.max_keypoints, 1.2F, options.levels)) {}

absl::Status OpenCvExtractor::Extract(const float* luma, int width, int height,
                                      LocalFeatures& out) {
  out.descriptors.clear();
  out.points.clear();
  out.width = 0;
  out.height = 0;
  if (width <= 0 || height <= 0) return absl::InvalidArgumentError("empty image");
  try {
    // OpenCV only reads through the header (const_cast: cv::Mat has no const view).
    const cv::Mat source(height, width, CV_32F, const_cast<float*>(luma));
    source.convertTo(gray_, CV_8U);
    // Every photo is brought to the same longer side, so a registered photo and its reuse
    // meet at similar scales whatever their stored sizes (small photos are enlarged).
    const double scale = static_cast<double>(options_.max_side) / std::max(width, height);
    if (scale != 1.0) {
      cv::resize(gray_, scaled_,
                 cv::Size(std::max(1, static_cast<int>(std::lround(width * scale))),
                          std::max(1, static_cast<int>(std::lround(height * scale)))),
                 // Area averaging only where linear would alias (it costs ~3x more).
                 0, 0, scale < 0.5 ? cv::INTER_AREA : cv::INTER_LINEAR);
    } else {
      scaled_ = gray_;
    }
    keypoints_.clear();
    orb_->detectAndCompute(scaled_, cv::noArray(), keypoints_, descriptors_);
  } catch (const cv::Exception& e) {
    return absl::InternalError(absl::StrCat("local features: ", e.what()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("local features: out of memory");
  }
  out.width = scaled_.cols;
  out.height = scaled_.rows;
  const size_t n = keypoints_.size();
  if (n == 0 || descriptors_.empty()) return absl::OkStatus();
  out.descriptors.resize(n);
  out.points.resize(n);
  for (size_t i = 0; i < n; ++i) {
    // 32 bytes per ORB descriptor: the same packing as a Hash256's four words.
    std::memcpy(out.descriptors[i].words, descriptors_.ptr<uint8_t>(static_cast<int>(i)),
                sizeof(out.descriptors[i].words));
    out.points[i] = {keypoints_[i].pt.x, keypoints_[i].pt.y};
  }
  return absl::OkStatus();
}

namespace {

// True when the homography maps the listing rectangle to a convex quadrilateral with the
// same orientation (cross products of consecutive edges all positive).
bool MapsToConvex(const cv::Mat& hm, int w, int h) {
  std::vector<cv::Point2f> corners = {{0, 0},
                                      {static_cast<float>(w), 0},
                                      {static_cast<float>(w), static_cast<float>(h)},
                                      {0, static_cast<float>(h)}};
  std::vector<cv::Point2f> mapped;
  cv::perspectiveTransform(corners, mapped, hm);
  for (int i = 0; i < 4; ++i) {
    const cv::Point2f a = mapped[i], b = mapped[(i + 1) % 4], c = mapped[(i + 2) % 4];
    const double cross =
        static_cast<double>(b.x - a.x) * (c.y - b.y) - static_cast<double>(b.y - a.y) * (c.x - b.x);
    if (!(cross > 0)) return false;
  }
  return true;
}

// Number of cells of a kSpreadGrid x kSpreadGrid grid over a w x h image that hold at least
// kSpreadPointsPerCell of the `points` selected by `mask`.
int OccupiedCells(const std::vector<cv::Point2f>& points, const std::vector<uchar>& mask, int w,
                  int h) {
  constexpr int kGrid = kSpreadGrid;
  int counts[kGrid * kGrid] = {};
  for (size_t i = 0; i < points.size(); ++i) {
    if (mask[i] == 0) continue;
    const int cx = std::clamp(static_cast<int>(points[i].x * kGrid / std::max(w, 1)), 0, kGrid - 1);
    const int cy = std::clamp(static_cast<int>(points[i].y * kGrid / std::max(h, 1)), 0, kGrid - 1);
    ++counts[cy * kGrid + cx];
  }
  int occupied = 0;
  for (int c : counts) occupied += c >= kSpreadPointsPerCell ? 1 : 0;
  return occupied;
}

}  // namespace

GeometryCheck VerifyGeometryWithOpenCv(const LocalFeatures& listing, const LocalFeatures& genuine,
                                       std::span<const FeaturePair> pairs,
                                       const GeometryOptions& options) {
  GeometryCheck check;
  if (static_cast<int>(pairs.size()) < std::max(options.min_inliers, 4)) return check;
  std::vector<cv::Point2f> from, to;
  from.reserve(pairs.size());
  to.reserve(pairs.size());
  for (const FeaturePair& p : pairs) {
    from.emplace_back(listing.points[p.listing].x, listing.points[p.listing].y);
    to.emplace_back(genuine.points[p.genuine].x, genuine.points[p.genuine].y);
  }
  std::vector<uchar> mask;
  cv::Mat hm;
  try {
    hm = cv::findHomography(from, to, cv::RANSAC, options.reprojection_px, mask,
                            options.max_iterations);
  } catch (const cv::Exception&) {
    return check;  // a degenerate point set: no homography, no match
  }
  if (hm.empty() || mask.size() != from.size()) return check;
  check.inliers = static_cast<int>(std::count(mask.begin(), mask.end(), uchar{1}));
  if (check.inliers < options.min_inliers) return check;
  const double a = hm.at<double>(0, 0), b = hm.at<double>(0, 1);
  const double c = hm.at<double>(1, 0), d = hm.at<double>(1, 1);
  const double det = a * d - b * c;
  if (!(det > 0)) return check;  // a mirror or a collapse
  const double scale = std::sqrt(det);
  if (scale < options.min_scale || scale > options.max_scale) return check;
  if (std::fabs(hm.at<double>(2, 0)) > options.max_perspective ||
      std::fabs(hm.at<double>(2, 1)) > options.max_perspective) {
    return check;
  }
  if (!MapsToConvex(hm, listing.width, listing.height)) return check;
  check.cells = OccupiedCells(to, mask, genuine.width, genuine.height);
  if (check.cells < options.min_cells) return check;
  check.verified = true;
  return check;
}

}  // namespace bonafide::models::opencv
