#include "models/border_trim.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace bonafide::models {
namespace {

// Median of `count` values at `p` with stride `step`, from at most 255 evenly spread
// samples (the border colour needs no more, and a fixed buffer keeps this allocation-free).
float SampledMedian(const float* p, int count, int step) {
  std::array<float, 255> samples;
  const int n = std::min(count, static_cast<int>(samples.size()));
  for (int i = 0; i < n; ++i) {
    const int at = static_cast<int>(static_cast<int64_t>(i) * count / n);
    samples[i] = p[static_cast<std::ptrdiff_t>(at) * step];
  }
  std::nth_element(samples.begin(), samples.begin() + n / 2, samples.begin() + n);
  return samples[n / 2];
}

// True when at most `max_outliers` of the `count` values at `p` (stride `step`) are
// farther than `tolerance` from `colour`.
bool Uniform(const float* p, int count, int step, float colour, float tolerance, int max_outliers) {
  int outliers = 0;
  for (int i = 0; i < count; ++i) {
    if (std::fabs(p[static_cast<std::ptrdiff_t>(i) * step] - colour) > tolerance &&
        ++outliers > max_outliers) {
      return false;
    }
  }
  return true;
}

}  // namespace

ContentBox FindContentBox(const float* luma, int width, int height,
                          const BorderTrimOptions& options) {
  ContentBox whole{0, 0, width, height, false};
  if (width <= 0 || height <= 0) return whole;
  const int min_w = std::max(1, static_cast<int>(std::ceil(width * options.min_kept_fraction)));
  const int min_h = std::max(1, static_cast<int>(std::ceil(height * options.min_kept_fraction)));
  const auto outliers = [&](int count) {
    return static_cast<int>(static_cast<float>(count) * options.max_outlier_fraction);
  };
  const float tol = options.tolerance;
  const std::ptrdiff_t stride = width;

  // Rows: from the top, then from the bottom down to the top trim.
  int top = 0;
  int bottom = height;  // exclusive
  {
    const float colour = SampledMedian(luma, width, 1);
    while (bottom - top > min_h &&
           Uniform(luma + top * stride, width, 1, colour, tol, outliers(width))) {
      ++top;
    }
  }
  {
    const float colour = SampledMedian(luma + (height - 1) * stride, width, 1);
    while (bottom - top > min_h &&
           Uniform(luma + (bottom - 1) * stride, width, 1, colour, tol, outliers(width))) {
      --bottom;
    }
  }
  if (bottom - top <= min_h) return whole;
  // Columns, over the rows that are left.
  const int rows = bottom - top;
  const float* first = luma + top * stride;
  int left = 0;
  int right = width;  // exclusive
  {
    const float colour = SampledMedian(first, rows, width);
    while (right - left > min_w &&
           Uniform(first + left, rows, width, colour, tol, outliers(rows))) {
      ++left;
    }
  }
  {
    const float colour = SampledMedian(first + width - 1, rows, width);
    while (right - left > min_w &&
           Uniform(first + right - 1, rows, width, colour, tol, outliers(rows))) {
      --right;
    }
  }
  if (right - left <= min_w) return whole;
  const int m = options.min_trim;
  if (top < m && left < m && height - bottom < m && width - right < m) return whole;
  return ContentBox{left, top, right - left, bottom - top, true};
}

void CopyContent(const float* luma, int width, const ContentBox& box, std::vector<float>& out) {
  out.resize(static_cast<size_t>(box.width) * box.height);
  for (int y = 0; y < box.height; ++y) {
    std::memcpy(out.data() + static_cast<size_t>(y) * box.width,
                luma + static_cast<std::ptrdiff_t>(box.y + y) * width + box.x,
                sizeof(float) * box.width);
  }
}

}  // namespace bonafide::models
