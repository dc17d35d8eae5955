// The OpenCV module's decoder (models/opencv_module.h): bytes that image_decode.cc checked
// -> pixels -> luma.
#include "models/image_decode_opencv.h"

#include <array>
#include <cstring>
#include <new>

#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace bonafide::models::opencv {
namespace {

// ---------------------------------------------------------------------------------------
// Pixels -> luma.

constexpr float kR = 0.299f;
constexpr float kG = 0.587f;
constexpr float kB = 0.114f;

// Converts one decoded image (OpenCV channel order: gray, gray+alpha, BGR, BGRA) of 8 or
// 16 bits into luma in 0..255, compositing alpha on white. The 8-bit arithmetic is exactly
// the reference's (float, R then G then B; gray expands to R=G=B as IMREAD_COLOR does; an
// opaque pixel is not blended), so full decodes reproduce its hashes bit for bit.
template <typename T>
inline float Luma3(T r, T g, T b) {
  float l = kR * r + kG * g + kB * b;
  if constexpr (sizeof(T) == 2) l *= 1.0f / 257.0f;  // 65535 -> 255
  return l;
}

template <typename T>
inline float OnWhite(float luma, T alpha) {
  constexpr T kOpaque = sizeof(T) == 2 ? 65535 : 255;
  if (alpha == kOpaque) return luma;
  const float a = static_cast<float>(alpha) * (1.0f / kOpaque);
  return 255.0f + a * (luma - 255.0f);
}

// 8-bit BGR, the common case: OpenCV's SIMD split deinterleaves one row into planes, then
// four pixels at a time are widened to float. Same operations in the same order as Luma3
// (x86-64-v2 has no FMA to contract them), so the result is bit-identical to the scalar loop.
void BgrToLuma(const cv::Mat& m, float* out, cv::Mat planes[3]) {
  const int width = m.cols;
  for (int y = 0; y < m.rows; ++y) {
    cv::split(m.row(y), planes);  // reuses the 1 x width planes
    const uint8_t* b = planes[0].ptr<uint8_t>();
    const uint8_t* g = planes[1].ptr<uint8_t>();
    const uint8_t* r = planes[2].ptr<uint8_t>();
    float* dst = out + static_cast<size_t>(y) * width;
    int x = 0;
#if defined(__SSE4_1__)
    const __m128 kr = _mm_set1_ps(kR), kg = _mm_set1_ps(kG), kb = _mm_set1_ps(kB);
    auto load4 = [](const uint8_t* p) {
      int32_t v;
      std::memcpy(&v, p, 4);
      return _mm_cvtepi32_ps(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(v)));
    };
    for (; x + 4 <= width; x += 4) {
      const __m128 l =
          _mm_add_ps(_mm_add_ps(_mm_mul_ps(kr, load4(r + x)), _mm_mul_ps(kg, load4(g + x))),
                     _mm_mul_ps(kb, load4(b + x)));
      _mm_storeu_ps(dst + x, l);
    }
#endif
    for (; x < width; ++x) dst[x] = Luma3(r[x], g[x], b[x]);
  }
}

// Luma3(v, v, v) for every 8-bit grey level v. Every reduced JPEG decode is 8-bit grey, so
// this is the conversion of nearly every listing photo: one load per pixel instead of three
// multiplies and two adds (6% of the instructions of a 1-MP photo's decode + hash), and
// the same bits, since each entry is computed by Luma3 itself.
const float* GrayLuma8() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int v = 0; v < 256; ++v) {
      const auto g = static_cast<uint8_t>(v);
      t[v] = Luma3(g, g, g);
    }
    return t;
  }();
  return table.data();
}

template <typename T>
void ToLuma(const cv::Mat& m, float* out) {
  const int channels = m.channels();
  const int width = m.cols;
  for (int y = 0; y < m.rows; ++y) {
    const T* row = m.ptr<T>(y);
    float* dst = out + static_cast<size_t>(y) * width;
    switch (channels) {
      case 1:
        if constexpr (sizeof(T) == 1) {
          const float* gray = GrayLuma8();
          for (int x = 0; x < width; ++x) dst[x] = gray[row[x]];
        } else {
          for (int x = 0; x < width; ++x) dst[x] = Luma3(row[x], row[x], row[x]);
        }
        break;
      case 2:
        for (int x = 0; x < width; ++x) {
          const T* p = row + 2 * x;
          dst[x] = OnWhite(Luma3(p[0], p[0], p[0]), p[1]);
        }
        break;
      case 3:
        for (int x = 0; x < width; ++x) {
          const T* p = row + 3 * x;
          dst[x] = Luma3(p[2], p[1], p[0]);
        }
        break;
      default:  // 4
        for (int x = 0; x < width; ++x) {
          const T* p = row + 4 * x;
          dst[x] = OnWhite(Luma3(p[2], p[1], p[0]), p[3]);
        }
        break;
    }
  }
}

int ReducedFlag(int factor) {
  switch (factor) {
    case 2:
      return cv::IMREAD_REDUCED_GRAYSCALE_2;
    case 4:
      return cv::IMREAD_REDUCED_GRAYSCALE_4;
    default:
      return cv::IMREAD_REDUCED_GRAYSCALE_8;
  }
}

}  // namespace

absl::Status OpenCvDecoder::Decode(std::string_view bytes, const char* format_name, bool jpeg,
                                   int factor, int64_t max_pixels, DecodedLuma& out) {
  int flags = cv::IMREAD_UNCHANGED;  // PNG, WebP, BMP: keep alpha and 16 bits
  if (jpeg) flags = factor == 1 ? cv::IMREAD_COLOR : ReducedFlag(factor);
  cv::Mat& m = decoded_;
  // OpenCV 4.6's imdecode(buf, flags, &dst) leaves `dst` untouched when it cannot decode and
  // returns it anyway, so a failure would hand back the previous photo (found by
  // image_fuzzer: tests/fuzz/corpus/image_fuzzer/stale_decode_bmp). Start from an empty Mat.
  m.release();
  try {
    // A non-owning view of the caller's bytes.
    const cv::Mat encoded(1, static_cast<int>(bytes.size()), CV_8UC1,
                          const_cast<char*>(bytes.data()));
    cv::imdecode(encoded, flags, &m);
  } catch (const cv::Exception& e) {
    m.release();
    return absl::InvalidArgumentError(
        absl::StrCat("cannot decode ", format_name, ": opencv: ", e.what()));
  } catch (const std::bad_alloc&) {
    m.release();
    return absl::ResourceExhaustedError(absl::StrCat("out of memory decoding ", format_name));
  } catch (...) {
    m.release();
    return absl::InternalError(absl::StrCat("unexpected exception decoding ", format_name));
  }
  if (m.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot decode ", format_name, " (corrupt or truncated data)"));
  }
  const int depth = m.depth();
  const int channels = m.channels();
  if ((depth != CV_8U && depth != CV_16U) || channels < 1 || channels > 4 ||
      int64_t{m.cols} * m.rows > max_pixels) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s decoded to an unexpected %dx%d image (depth %d, %d channels)",
                        format_name, m.cols, m.rows, depth, channels));
  }
  out.width = m.cols;
  out.height = m.rows;
  out.luma.resize(static_cast<size_t>(m.cols) * m.rows);
  if (depth == CV_8U && channels == 3) {
    BgrToLuma(m, out.luma.data(), planes_);
  } else if (depth == CV_8U) {
    ToLuma<uint8_t>(m, out.luma.data());
  } else {
    ToLuma<uint16_t>(m, out.luma.data());
  }
  return absl::OkStatus();
}

}  // namespace bonafide::models::opencv
