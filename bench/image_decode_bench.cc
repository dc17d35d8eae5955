// Micro-benchmarks of models/image_decode.h: JPEG decode to float luma at 1 MP and 12 MP,
// full colour decode versus DCT-domain reduced decode, alone and followed by the PDQ hash;
// and the cost of refusing a decompression bomb from its header.
//
// The JPEGs are encoded in-process (quality 90, OpenCV's default 4:2:0 chroma subsampling)
// from a synthetic photo-like picture: smooth gradients, shapes, text and sensor-like noise,
// so that the entropy-coded size is close to a real photo's (about 2-3 bits per pixel).
//
//   image_decode_bench --benchmark_filter=BM_ImageDecode
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "models/image_decode.h"
#include "models/pdq.h"

namespace bonafide::models {
namespace {

cv::Mat PhotoLike(int width, int height) {
  cv::Mat img(height, width, CV_8UC3);
  std::mt19937 rng(42);
  std::normal_distribution<float> noise(0.0f, 6.0f);
  for (int y = 0; y < height; ++y) {
    auto* row = img.ptr<cv::Vec3b>(y);
    const float fy = static_cast<float>(y) / height;
    for (int x = 0; x < width; ++x) {
      const float fx = static_cast<float>(x) / width;
      const float base =
          110 + 60 * std::sin(6.0f * fx + 3.0f * fy) + 30 * std::cos(17.0f * fy - 5.0f * fx * fy);
      auto clamp = [](float v) { return static_cast<uchar>(v < 0 ? 0 : v > 255 ? 255 : v); };
      row[x] = cv::Vec3b(clamp(base * 0.8f + 40 * fx + noise(rng)), clamp(base + noise(rng)),
                         clamp(base * 0.9f + 50 * fy + noise(rng)));
    }
  }
  const int s = std::min(width, height);
  cv::circle(img, {width / 3, height / 2}, s / 5, {30, 60, 200}, cv::FILLED, cv::LINE_AA);
  cv::ellipse(img, {width * 2 / 3, height / 3}, {s / 6, s / 10}, 30, 0, 360, {200, 180, 40},
              cv::FILLED, cv::LINE_AA);
  cv::putText(img, "GENUINE 100%", {width / 12, height * 7 / 8}, cv::FONT_HERSHEY_DUPLEX, s / 250.0,
              {250, 250, 250}, std::max(1, s / 150), cv::LINE_AA);
  return img;
}

const std::string& Jpeg(int megapixels) {
  static const std::string one = [] {
    std::vector<uchar> buf;
    cv::imencode(".jpg", PhotoLike(1152, 864), buf, {cv::IMWRITE_JPEG_QUALITY, 90});
    return std::string(buf.begin(), buf.end());
  }();
  static const std::string twelve = [] {
    std::vector<uchar> buf;
    cv::imencode(".jpg", PhotoLike(4000, 3000), buf, {cv::IMWRITE_JPEG_QUALITY, 90});
    return std::string(buf.begin(), buf.end());
  }();
  return megapixels == 1 ? one : twelve;
}

void BM_ImageDecode_Jpeg(benchmark::State& state, int megapixels, DecodeMode mode, bool hash) {
  const std::string& jpeg = Jpeg(megapixels);
  ImageDecoder decoder;
  PdqHasher hasher;
  DecodedLuma out;
  if (!decoder.Decode(jpeg, mode, out).ok()) {
    state.SkipWithError("decode failed");
    return;
  }
  for (auto _ : state) {
    absl::Status s = decoder.Decode(jpeg, mode, out);
    benchmark::DoNotOptimize(s);
    if (hash) {
      PdqResult r = hasher.Hash(out.luma.data(), out.width, out.height);
      benchmark::DoNotOptimize(r);
    }
    benchmark::DoNotOptimize(out.luma.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(jpeg.size()));
  state.counters["jpeg_kB"] = static_cast<double>(jpeg.size()) / 1000.0;
  state.counters["out_px"] = static_cast<double>(out.width) * out.height;
  state.counters["reduction"] = out.reduction;
}

void BM_ImageDecode_RefuseBomb(benchmark::State& state) {
  // A PNG signature and IHDR declaring 30000x30000 (33 bytes).
  std::string png(
      "\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR\x00\x00\x75\x30\x00\x00\x75\x30"
      "\x08\x02\x00\x00\x00\x00\x00\x00\x00",
      33);
  ImageDecoder decoder;
  DecodedLuma out;
  for (auto _ : state) {
    absl::Status s = decoder.Decode(png, DecodeMode::kFull, out);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_ImageDecode_Jpeg, Full / 1MP, 1, DecodeMode::kFull, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ImageDecode_Jpeg, Reduced / 1MP, 1, DecodeMode::kReduced, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ImageDecode_Jpeg, Full / 12MP, 12, DecodeMode::kFull, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ImageDecode_Jpeg, Reduced / 12MP, 12, DecodeMode::kReduced, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ImageDecode_Jpeg, FullPdq / 1MP, 1, DecodeMode::kFull, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ImageDecode_Jpeg, ReducedPdq / 1MP, 1, DecodeMode::kReduced, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ImageDecode_Jpeg, FullPdq / 12MP, 12, DecodeMode::kFull, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ImageDecode_Jpeg, ReducedPdq / 12MP, 12, DecodeMode::kReduced, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ImageDecode_RefuseBomb);

}  // namespace
}  // namespace bonafide::models

BENCHMARK_MAIN();
