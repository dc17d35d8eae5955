// The labelled photo set of the stages after PDQ: genuine photos (from testdata/pdq and
// drawn in code) and the edits that PDQ of the whole photo misses (crops of 10-30% of the
// area, uniform padding and borders, text and logo overlays), plus unrelated photos, plain
// and edited the same ways, which must never match. Shared by
// tests/models/photo_matcher_test.cc (recall and false matches) and the image benchmark.
#ifndef BONAFIDE_TESTS_MODELS_LABELLED_PHOTO_SET_H_
#define BONAFIDE_TESTS_MODELS_LABELLED_PHOTO_SET_H_

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/models/synthetic_photos.h"

namespace bonafide::testing {

// The testdata/pdq photos used as genuine photos (distinct scenes, >= 256 px) and those
// used as unrelated ones (never registered). The bridge's edited copies are neither: they
// show the registered bridge.
inline std::vector<std::string> GenuineTestdataPhotos() {
  return {"reg-test-input/dih/bridge-1-original.jpg", "reg-test-input/labelme-subset/q0122.jpg",
          "reg-test-input/labelme-subset/q2821.jpg",  "reg-test-input/labelme-subset/q0291.jpg",
          "reg-test-input/labelme-subset/q0746.jpg",  "reg-test-input/labelme-subset/q1050.jpg"};
}
inline std::vector<std::string> UnrelatedTestdataPhotos() {
  return {"reg-test-input/labelme-subset/q0003.jpg", "reg-test-input/labelme-subset/q0004.jpg",
          "misc-images/small.jpg"};
}

// A product photo with clutter: DrawPhoto (gradient, shapes, a "GENUINE <seed>" caption
// that every such photo shares, in the same place) plus small shapes and words spread
// over it, so that keypoints are not only on the caption.
inline cv::Mat DrawClutteredPhoto(int seed, int width = 800, int height = 600) {
  cv::Mat img = DrawPhoto(seed, width, height);
  cv::RNG rng(static_cast<uint64_t>(seed) * 104729 + 3);
  const int n = 40;
  for (int i = 0; i < n; ++i) {
    const cv::Scalar colour(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255));
    const cv::Point p(rng.uniform(0, width), rng.uniform(0, height));
    const int r = rng.uniform(std::max(3, height / 60), std::max(4, height / 15));
    if (rng.uniform(0, 2) == 0) {
      cv::rectangle(img, p, p + cv::Point(r, rng.uniform(r / 2, r * 2)), colour, cv::FILLED);
    } else {
      const cv::Point q(p.x + rng.uniform(-r * 2, r * 2), p.y + rng.uniform(-r * 2, r * 2));
      cv::line(img, p, q, colour, rng.uniform(1, 4), cv::LINE_AA);
    }
  }
  static const char* const kWords[] = {"ACME", "runner", "42", "size", "BLUE", "pro",
                                       "max",  "sport",  "XL", "2026", "mesh", "air"};
  for (int i = 0; i < 4; ++i) {
    const cv::Point p(rng.uniform(0, width * 3 / 4), rng.uniform(height / 8, height * 3 / 4));
    cv::putText(img, kWords[rng.uniform(0, 12)], p, cv::FONT_HERSHEY_DUPLEX,
                rng.uniform(0.5, 1.5) * width / 800.0,
                cv::Scalar(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)), 2,
                cv::LINE_AA);
  }
  return img;
}

// Keeps (1 - cut) of the area: `shape` 0 cuts both sides (by 1 - sqrt(1 - cut) each), 1
// the width only, 2 the height only; the kept window sits at a position chosen by `seed`.
inline cv::Mat Cropped(const cv::Mat& img, double cut, int shape, int seed) {
  const double keep = 1.0 - cut;
  double fx = 1, fy = 1;
  if (shape == 0) fx = fy = std::sqrt(keep);
  if (shape == 1) fx = keep;
  if (shape == 2) fy = keep;
  const int w = static_cast<int>(std::lround(img.cols * fx));
  const int h = static_cast<int>(std::lround(img.rows * fy));
  cv::RNG rng(static_cast<uint64_t>(seed) * 31 + 7);
  const int x = rng.uniform(0, img.cols - w + 1);
  const int y = rng.uniform(0, img.rows - h + 1);
  return img(cv::Rect(x, y, w, h)).clone();
}

// Pads with a uniform colour: `style` 0 the same width on every side (`fraction` of the
// shorter side), 1 a letterbox to a square (only the shorter dimension grows), 2 a frame
// of `fraction` with a second, thin frame of another colour inside it.
inline cv::Mat Padded(const cv::Mat& img, double fraction, int style, const cv::Scalar& colour) {
  cv::Mat out;
  const int b = std::max(2, static_cast<int>(std::lround(std::min(img.cols, img.rows) * fraction)));
  if (style == 1) {
    const int side = std::max(img.cols, img.rows);
    const int dx = (side - img.cols) / 2, dy = (side - img.rows) / 2;
    cv::copyMakeBorder(img, out, dy, side - img.rows - dy, dx, side - img.cols - dx,
                       cv::BORDER_CONSTANT, colour);
    return out;
  }
  cv::Mat inner = img;
  if (style == 2) {
    const int thin = std::max(2, b / 6);
    cv::copyMakeBorder(img, inner, thin, thin, thin, thin, cv::BORDER_CONSTANT,
                       cv::Scalar(255, 255, 255) - colour);
  }
  cv::copyMakeBorder(inner, out, b, b, b, b, cv::BORDER_CONSTANT, colour);
  return out;
}

// Lays something over the photo: `kind` 0 a caption band across the bottom (solid, 15% of
// the height, with text), 1 a seller's logo in a corner (a filled disc with letters, a
// fifth of the width), 2 a large diagonal watermark text across the middle.
inline cv::Mat Overlaid(const cv::Mat& img, int kind) {
  cv::Mat out = img.clone();
  const int w = out.cols, h = out.rows;
  if (kind == 0) {
    const int band = h * 15 / 100;
    cv::rectangle(out, cv::Rect(0, h - band, w, band), cv::Scalar(20, 20, 200), cv::FILLED);
    cv::putText(out, "SALE -50% FREE SHIPPING", cv::Point(w / 30, h - band / 3),
                cv::FONT_HERSHEY_SIMPLEX, w / 700.0, cv::Scalar(255, 255, 255), 2, cv::LINE_AA);
  } else if (kind == 1) {
    const int r = w / 10;
    const cv::Point c(w - r - w / 40, r + h / 40);
    cv::circle(out, c, r, cv::Scalar(30, 160, 30), cv::FILLED, cv::LINE_AA);
    cv::putText(out, "TOP", c - cv::Point(r * 2 / 3, -r / 5), cv::FONT_HERSHEY_DUPLEX, r / 40.0,
                cv::Scalar(255, 255, 255), 2, cv::LINE_AA);
  } else {
    cv::Mat layer = out.clone();
    cv::putText(layer, "bestdeals.example", cv::Point(w / 12, h / 2), cv::FONT_HERSHEY_DUPLEX,
                w / 380.0, cv::Scalar(255, 255, 255), std::max(2, w / 200), cv::LINE_AA);
    cv::addWeighted(layer, 0.6, out, 0.4, 0, out);
  }
  return out;
}

// One labelled listing photo: the transform's name, the genuine photo it shows (-1 for
// an unrelated photo) and its JPEG bytes.
struct LabelledPhoto {
  std::string transform;
  int genuine = -1;
  std::string jpeg;
};

// The edits, by name, applied to `img` (`k` varies shapes, styles and positions).
inline std::vector<std::pair<std::string, cv::Mat>> Edits(const cv::Mat& img, int k) {
  static const cv::Scalar kColours[] = {cv::Scalar(255, 255, 255), cv::Scalar(0, 0, 0),
                                        cv::Scalar(128, 128, 128), cv::Scalar(40, 90, 200)};
  std::vector<std::pair<std::string, cv::Mat>> out;
  out.emplace_back("crop10", Cropped(img, 0.10, k % 3, k));
  out.emplace_back("crop20", Cropped(img, 0.20, (k + 1) % 3, k + 1));
  out.emplace_back("crop30", Cropped(img, 0.30, (k + 2) % 3, k + 2));
  static const double kWidths[] = {0.03, 0.1, 0.25};
  for (int style = 0; style < 3; ++style) {
    out.emplace_back("padded",
                     Padded(img, kWidths[(k + style) % 3], style, kColours[(k + style) % 4]));
  }
  for (int kind = 0; kind < 3; ++kind) out.emplace_back("overlaid", Overlaid(img, kind));
  return out;
}

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_MODELS_LABELLED_PHOTO_SET_H_
