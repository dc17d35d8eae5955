// Photo-like test images drawn in code, so that image tests need few committed binaries:
// gradients, shapes and text, and the edits a counterfeit seller makes to a genuine photo.
#ifndef BONAFIDE_TESTS_MODELS_SYNTHETIC_PHOTOS_H_
#define BONAFIDE_TESTS_MODELS_SYNTHETIC_PHOTOS_H_

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace bonafide::testing {

// Returns a width x height BGR "product photo": a two-colour gradient background, a few
// filled shapes and a line of text, all chosen from `seed` (different seeds give unrelated
// photos).
inline cv::Mat DrawPhoto(int seed, int width = 800, int height = 600) {
  cv::RNG rng(static_cast<uint64_t>(seed) * 7919 + 17);
  cv::Mat img(height, width, CV_8UC3);
  const cv::Vec3f a(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255));
  const cv::Vec3f b(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255));
  const double angle = rng.uniform(0.0, 6.283);
  const double cx = std::cos(angle), cy = std::sin(angle);
  for (int y = 0; y < height; ++y) {
    auto* row = img.ptr<cv::Vec3b>(y);
    for (int x = 0; x < width; ++x) {
      double t = ((x - width / 2.0) * cx + (y - height / 2.0) * cy) / (width + height) + 0.5;
      t = std::clamp(t, 0.0, 1.0);
      const cv::Vec3f c = a * (1 - t) + b * t;
      row[x] = cv::Vec3b(cv::saturate_cast<uchar>(c[0]), cv::saturate_cast<uchar>(c[1]),
                         cv::saturate_cast<uchar>(c[2]));
    }
  }
  for (int i = 0; i < 6; ++i) {
    const cv::Scalar colour(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255));
    const cv::Point p(rng.uniform(0, width), rng.uniform(0, height));
    const int r = rng.uniform(height / 12, height / 4);
    switch (rng.uniform(0, 3)) {
      case 0:
        cv::circle(img, p, r, colour, cv::FILLED, cv::LINE_AA);
        break;
      case 1:
        cv::rectangle(img, p, p + cv::Point(r, r * 2 / 3), colour, cv::FILLED, cv::LINE_AA);
        break;
      default:
        cv::ellipse(img, p, cv::Size(r, r / 2), rng.uniform(0, 180), 0, 360, colour, cv::FILLED,
                    cv::LINE_AA);
    }
  }
  cv::putText(img, "GENUINE " + std::to_string(seed), cv::Point(width / 10, height * 9 / 10),
              cv::FONT_HERSHEY_SIMPLEX, width / 400.0, cv::Scalar(255, 255, 255), 3, cv::LINE_AA);
  return img;
}

// Returns the JPEG encoding of `img` at `quality`.
inline std::string EncodeJpeg(const cv::Mat& img, int quality = 90) {
  std::vector<uchar> buf;
  cv::imencode(".jpg", img, buf, {cv::IMWRITE_JPEG_QUALITY, quality});
  return std::string(buf.begin(), buf.end());
}

inline std::string EncodePng(const cv::Mat& img) {
  std::vector<uchar> buf;
  cv::imencode(".png", img, buf);
  return std::string(buf.begin(), buf.end());
}

// Seller edits.
inline cv::Mat Resized(const cv::Mat& img, double scale) {
  cv::Mat out;
  cv::resize(img, out, cv::Size(), scale, scale, cv::INTER_AREA);
  return out;
}
inline cv::Mat Brightened(const cv::Mat& img, double beta) {
  cv::Mat out;
  img.convertTo(out, -1, 1.0, beta);
  return out;
}
inline cv::Mat Watermarked(const cv::Mat& img, const std::string& text) {
  cv::Mat out = img.clone();
  cv::putText(out, text, cv::Point(out.cols / 20, out.rows / 12), cv::FONT_HERSHEY_SIMPLEX, 0.6,
              cv::Scalar(240, 240, 240), 1, cv::LINE_AA);
  return out;
}
inline cv::Mat Mirrored(const cv::Mat& img) {
  cv::Mat out;
  cv::flip(img, out, 1);
  return out;
}
inline cv::Mat Rotated90(const cv::Mat& img) {
  cv::Mat out;
  cv::rotate(img, out, cv::ROTATE_90_CLOCKWISE);
  return out;
}

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_MODELS_SYNTHETIC_PHOTOS_H_
