// Tests for models/image_decode.h: header probing, limits before decoding, hostile inputs,
// pixel modes (alpha, 16-bit, palette, grayscale, CMYK), EXIF orientation, reduced decode.
// Fixtures are drawn and encoded in code; testdata/pdq (BONAFIDE_PDQ_DATA) supplies real
// photos and the reference decode table EXPECTED_fullres_opencv_decode.tsv.
#include "models/image_decode.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "models/pdq.h"
#include "tests/test_util.h"

namespace bonafide::models {
namespace {

using ::testing::HasSubstr;
using testing::ReadFileOrDie;
using ::testing::StartsWith;
using testing::TempDir;

const std::string kData = BONAFIDE_PDQ_DATA;

// The data ships with the repository, so a missing file is a failure, not a skip.
#define ASSERT_HAVE_DATA()                                                            \
  ASSERT_TRUE(std::filesystem::exists(kData + "/EXPECTED_fullres_opencv_decode.tsv")) \
      << "PDQ conformance data not found at " << kData << " (testdata/pdq)"

// A photo-like colour picture: smooth gradients, a few shapes and some text.
cv::Mat DrawPhoto(int width, int height) {
  cv::Mat img(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    auto* row = img.ptr<cv::Vec3b>(y);
    for (int x = 0; x < width; ++x) {
      row[x] = cv::Vec3b(static_cast<uchar>(255 * x / width), static_cast<uchar>(255 * y / height),
                         static_cast<uchar>(128 + 100 * std::sin(x * 0.01 + y * 0.02)));
    }
  }
  const int s = std::min(width, height);
  cv::circle(img, {width / 3, height / 2}, s / 5, {20, 40, 220}, cv::FILLED);
  cv::rectangle(img, {width / 2, height / 5}, {width * 9 / 10, height * 3 / 5}, {230, 230, 30},
                cv::FILLED);
  cv::putText(img, "bonafide", {width / 10, height * 9 / 10}, cv::FONT_HERSHEY_SIMPLEX, s / 200.0,
              {255, 255, 255}, std::max(1, s / 100));
  return img;
}

std::string Encode(const std::string& ext, const cv::Mat& img, std::vector<int> params = {}) {
  std::vector<uchar> buf;
  EXPECT_TRUE(cv::imencode(ext, img, buf, params)) << ext;
  return std::string(buf.begin(), buf.end());
}

// The reference luma of an 8-bit BGR image: float, R then G then B (as PDQ's reference).
std::vector<float> ReferenceLuma(const cv::Mat& bgr) {
  std::vector<float> luma;
  luma.reserve(bgr.total());
  for (int y = 0; y < bgr.rows; ++y) {
    for (int x = 0; x < bgr.cols; ++x) {
      const auto p = bgr.at<cv::Vec3b>(y, x);
      luma.push_back(0.299f * p[2] + 0.587f * p[1] + 0.114f * p[0]);
    }
  }
  return luma;
}

// The 33-byte start of a PNG: signature and IHDR chunk (CRC not checked by the probe).
std::string PngHeader(uint32_t width, uint32_t height) {
  std::string s("\x89PNG\r\n\x1A\n", 8);
  auto be32 = [&s](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(v >> shift));
  };
  be32(13);
  s += "IHDR";
  be32(width);
  be32(height);
  s += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, no interlace
  be32(0);                                      // CRC (wrong; never reached)
  return s;
}

// Inserts an EXIF APP1 segment carrying `orientation` right after the SOI marker.
std::string WithExifOrientation(const std::string& jpeg, int orientation) {
  const std::string tiff =
      std::string("MM\x00\x2A\x00\x00\x00\x08", 8) +        // header, IFD0 at 8
      std::string("\x00\x01", 2) +                          // one entry
      std::string("\x01\x12\x00\x03\x00\x00\x00\x01", 8) +  // orientation SHORT x1
      std::string(1, '\0') + std::string(1, static_cast<char>(orientation)) +
      std::string("\x00\x00", 2) + std::string("\x00\x00\x00\x00", 4);
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  const size_t length = payload.size() + 2;
  std::string app1("\xFF\xE1", 2);
  app1.push_back(static_cast<char>(length >> 8));
  app1.push_back(static_cast<char>(length & 0xFF));
  return jpeg.substr(0, 2) + app1 + payload + jpeg.substr(2);
}

// The upstream 1600x1004 photo from which every bridge variant of testdata/pdq was made.
const std::string kSharedPhoto = "reg-test-input/dih/bridge-1-original.jpg";

struct NamedImage {
  std::string name;
  std::string bytes;
};

// The shared photo in many pixel modes and formats, all 1600x1004: three files written by
// Pillow upstream (1-bit dithered PNG, CMYK JPEG, palette PNG) and the modes OpenCV can write
// encoded here (upstream's other mode files would add 7 MB).
std::vector<NamedImage> ModeSamples() {
  std::vector<NamedImage> samples;
  for (const char* name : {"1.png", "CMYK.jpg", "P.png"}) {
    samples.push_back({name, ReadFileOrDie(kData + "/misc-images/modes/" + name)});
  }
  samples.push_back({"original.jpg", ReadFileOrDie(kData + "/" + kSharedPhoto)});
  const cv::Mat photo = cv::imread(kData + "/" + kSharedPhoto, cv::IMREAD_COLOR);
  EXPECT_FALSE(photo.empty());
  if (photo.empty()) return samples;
  cv::Mat gray, bgra, rgb16;
  cv::cvtColor(photo, gray, cv::COLOR_BGR2GRAY);
  cv::cvtColor(photo, bgra, cv::COLOR_BGR2BGRA);
  photo.convertTo(rgb16, CV_16UC3, 257.0);
  samples.push_back({"RGB.jpg", Encode(".jpg", photo, {cv::IMWRITE_JPEG_QUALITY, 75})});
  samples.push_back(
      {"RGB_progressive.jpg", Encode(".jpg", photo, {cv::IMWRITE_JPEG_PROGRESSIVE, 1})});
  samples.push_back({"L.jpg", Encode(".jpg", gray)});
  samples.push_back({"L.png", Encode(".png", gray)});
  samples.push_back({"RGBA.png", Encode(".png", bgra)});
  samples.push_back({"RGB16.png", Encode(".png", rgb16)});
  samples.push_back({"RGB.webp", Encode(".webp", photo, {cv::IMWRITE_WEBP_QUALITY, 80})});
  samples.push_back({"RGBA.webp", Encode(".webp", bgra, {cv::IMWRITE_WEBP_QUALITY, 80})});
  samples.push_back({"RGB_lossless.webp", Encode(".webp", photo, {cv::IMWRITE_WEBP_QUALITY, 101})});
  return samples;
}

// A 4032x3024 JPEG as a phone stores it (pixels in sensor orientation), tagged with EXIF
// `orientation`: the shared photo scaled up and encoded once (upstream's exif-rotn photos
// would add 13 MB).
std::string PhoneJpeg(int orientation) {
  static const std::string* const stored = [] {
    const cv::Mat photo = cv::imread(kData + "/" + kSharedPhoto, cv::IMREAD_COLOR);
    EXPECT_FALSE(photo.empty());
    cv::Mat sensor;
    if (!photo.empty()) cv::resize(photo, sensor, cv::Size(4032, 3024), 0, 0, cv::INTER_CUBIC);
    return new std::string(photo.empty() ? std::string()
                                         : Encode(".jpg", sensor, {cv::IMWRITE_JPEG_QUALITY, 90}));
  }();
  return WithExifOrientation(*stored, orientation);
}

// Mean absolute difference of two lumas of the same size after an area resize to 64x64.
double MeanAbsDiff64(DecodedLuma& a, DecodedLuma& b) {
  cv::Mat ma(a.height, a.width, CV_32F, a.luma.data()), sa;
  cv::Mat mb(b.height, b.width, CV_32F, b.luma.data()), sb;
  cv::resize(ma, sa, cv::Size(64, 64), 0, 0, cv::INTER_AREA);
  cv::resize(mb, sb, cv::Size(64, 64), 0, 0, cv::INTER_AREA);
  return cv::norm(sa, sb, cv::NORM_L1) / (64.0 * 64.0);
}

// ---------------------------------------------------------------------------------------
// ProbeImage

TEST(ProbeImageTest, ReadsSizeOfEveryEncodedFormat) {
  const cv::Mat img = DrawPhoto(321, 123);
  struct Case {
    const char* ext;
    std::vector<int> params;
    ImageFormat format;
  };
  const Case cases[] = {
      {".jpg", {}, ImageFormat::kJpeg},
      {".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}, ImageFormat::kJpeg},
      {".png", {}, ImageFormat::kPng},
      {".webp", {cv::IMWRITE_WEBP_QUALITY, 80}, ImageFormat::kWebp},   // VP8
      {".webp", {cv::IMWRITE_WEBP_QUALITY, 101}, ImageFormat::kWebp},  // VP8L (lossless)
      {".bmp", {}, ImageFormat::kBmp},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ImageInfo> info = ProbeImage(Encode(c.ext, img, c.params));
    ASSERT_TRUE(info.ok()) << c.ext << ": " << info.status();
    EXPECT_EQ(info->format, c.format) << c.ext;
    EXPECT_EQ(info->width, 321) << c.ext;
    EXPECT_EQ(info->height, 123) << c.ext;
  }
  cv::Mat bgra;
  cv::cvtColor(img, bgra, cv::COLOR_BGR2BGRA);
  absl::StatusOr<ImageInfo> vp8x =
      ProbeImage(Encode(".webp", bgra, {cv::IMWRITE_WEBP_QUALITY, 80}));
  ASSERT_TRUE(vp8x.ok()) << vp8x.status();
  EXPECT_EQ(vp8x->width, 321);
  EXPECT_EQ(vp8x->height, 123);
}

TEST(ProbeImageTest, ReadsGifAndEveryModeOfTheSharedPhoto) {
  ASSERT_HAVE_DATA();
  const std::string gif("GIF89a\x40\x01\xF0\x00\x00\x00\x00", 13);
  absl::StatusOr<ImageInfo> info = ProbeImage(gif);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->format, ImageFormat::kGif);
  EXPECT_EQ(info->width, 320);
  EXPECT_EQ(info->height, 240);

  for (const NamedImage& sample : ModeSamples()) {
    absl::StatusOr<ImageInfo> i = ProbeImage(sample.bytes);
    ASSERT_TRUE(i.ok()) << sample.name << ": " << i.status();
    EXPECT_EQ(i->width, 1600) << sample.name;
    EXPECT_EQ(i->height, 1004) << sample.name;
  }
  // EXIF orientation 6: the header stores the sensor size (4032x3024).
  absl::StatusOr<ImageInfo> rot = ProbeImage(PhoneJpeg(6));
  ASSERT_TRUE(rot.ok()) << rot.status();
  EXPECT_EQ(rot->width, 4032);
  EXPECT_EQ(rot->height, 3024);
}

TEST(ProbeImageTest, RejectsUnknownAndTruncatedHeaders) {
  EXPECT_EQ(ProbeImage("").status().code(), absl::StatusCode::kInvalidArgument);
  absl::Status garbage = ProbeImage("<!DOCTYPE html><html>").status();
  EXPECT_EQ(garbage.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(garbage.message(), HasSubstr("unknown image format (first bytes 3c 21 44 4f)"));

  const std::string jpeg = Encode(".jpg", DrawPhoto(64, 48));
  const std::string png = Encode(".png", DrawPhoto(64, 48));
  const std::string webp = Encode(".webp", DrawPhoto(64, 48));
  // Every prefix shorter than the size field fails cleanly.
  for (size_t n = 1; n < 24; ++n) {
    EXPECT_FALSE(ProbeImage(png.substr(0, n)).ok()) << n;
    EXPECT_FALSE(ProbeImage(webp.substr(0, n)).ok()) << n;
  }
  for (size_t n = 1; n < 40; ++n) EXPECT_FALSE(ProbeImage(jpeg.substr(0, n)).ok()) << n;
  // SOI then EOI: a JPEG without a frame.
  EXPECT_EQ(ProbeImage(std::string("\xFF\xD8\xFF\xD9", 4)).status().code(),
            absl::StatusCode::kNotFound);
  // A zero-size PNG.
  EXPECT_EQ(ProbeImage(PngHeader(0, 10)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ProbeImage(PngHeader(0x80000000u, 10)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------
// Limits and hostile inputs

TEST(ImageDecoderTest, AFailedDecodeNeverReturnsThePreviousImage) {
  // A BMP whose header OpenCV refuses, after a good photo on the same decoder: OpenCV 4.6
  // would leave the previous pixels in place (found by tests/fuzz image_fuzzer).
  ImageDecoder decoder;
  DecodedLuma out;
  ASSERT_TRUE(decoder.Decode(Encode(".png", DrawPhoto(64, 48)), DecodeMode::kFull, out).ok());
  const std::string stale = ReadFileOrDie(std::string(BONAFIDE_SOURCE_DIR) +
                                          "/tests/fuzz/corpus/image_fuzzer/stale_decode_bmp");
  EXPECT_FALSE(decoder.Decode(stale, DecodeMode::kFull, out).ok());
  EXPECT_FALSE(decoder.Decode(stale, DecodeMode::kReduced, out).ok());
}

TEST(ImageDecoderTest, RefusesPngBombFromHeaderInMicroseconds) {
  ImageDecoder decoder;
  DecodedLuma out;
  const std::string bomb = PngHeader(30000, 30000);
  ASSERT_EQ(bomb.size(), 33u);
  absl::Status s = decoder.Decode(bomb, DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "image is 30000x30000 pixels, over the limit of 67108864");
  EXPECT_EQ(out.width, 0);
  EXPECT_TRUE(out.luma.empty());

  constexpr int kRounds = 1000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    EXPECT_FALSE(decoder.Decode(bomb, DecodeMode::kFull, out).ok());
  }
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
      kRounds;
  EXPECT_LT(us, 50.0) << "refusing a bomb must not decode it";  // ~0.1 us measured

  // The same through a file.
  TempDir dir;
  const std::string path = dir.Write("bomb.png", bomb);
  s = decoder.DecodeFile(path, DecodeMode::kReduced, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "image is 30000x30000 pixels, over the limit of 67108864");
}

TEST(ImageDecoderTest, RefusesOverSideAndByteLimits) {
  ImageDecoder decoder;
  DecodedLuma out;
  absl::Status s = decoder.Decode(PngHeader(25000, 10), DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "image is 25000x10 pixels, a side over the limit of 20000");

  const std::string jpeg = Encode(".jpg", DrawPhoto(200, 100));
  ImageDecoder small_bytes(DecodeLimits{.max_bytes = 1000});
  s = small_bytes.Decode(jpeg, DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("over the limit of 1000"));
  TempDir dir;
  const std::string path = dir.Write("big.jpg", jpeg);
  s = small_bytes.DecodeFile(path, DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), StartsWith("file is "));

  ImageDecoder small_pixels(DecodeLimits{.max_pixels = 200 * 100 - 1});
  EXPECT_EQ(small_pixels.Decode(jpeg, DecodeMode::kFull, out).code(),
            absl::StatusCode::kResourceExhausted);
  ImageDecoder exact(DecodeLimits{.max_pixels = 200 * 100, .max_side = 200});
  EXPECT_TRUE(exact.Decode(jpeg, DecodeMode::kFull, out).ok());
}

TEST(ImageDecoderTest, ReportsTruncatedZeroByteAndGarbageInputs) {
  ImageDecoder decoder;
  DecodedLuma out;
  const std::string jpeg = Encode(".jpg", DrawPhoto(640, 480));
  const std::string png = Encode(".png", DrawPhoto(640, 480));
  const std::string webp = Encode(".webp", DrawPhoto(640, 480));

  // libjpeg "succeeds" on a truncated JPEG (grey fill); the missing EOI marker catches it.
  for (size_t n : {jpeg.size() / 2, jpeg.size() - 2, size_t{700}}) {
    absl::Status s = decoder.Decode(jpeg.substr(0, n), DecodeMode::kFull, out);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_THAT(s.message(), HasSubstr("truncated jpeg")) << n;
    EXPECT_TRUE(decoder.Decode(jpeg.substr(0, n), DecodeMode::kReduced, out).code() ==
                absl::StatusCode::kInvalidArgument);
  }
  // Trailing bytes after EOI are fine.
  EXPECT_TRUE(decoder.Decode(jpeg + "trailing junk", DecodeMode::kFull, out).ok());

  absl::Status s = decoder.Decode(png.substr(0, png.size() / 2), DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("cannot decode png"));
  s = decoder.Decode(webp.substr(0, webp.size() / 2), DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("cannot decode webp"));

  s = decoder.Decode("", DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "empty image (0 bytes)");

  std::mt19937 rng(7);
  std::string garbage(4096, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  s = decoder.Decode(garbage, DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("unknown image format"));

  // A GIF header is recognized but OpenCV 4.6 cannot decode GIF.
  s = decoder.Decode(std::string("GIF89a\x40\x01\xF0\x00\x00\x00\x00", 13), DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("gif images are not supported"));
  // A PNG header within limits but no image data.
  s = decoder.Decode(PngHeader(100, 100), DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.width, 0);
}

TEST(ImageDecoderTest, FileErrorsLeaveThePathToTheCaller) {
  ImageDecoder decoder;
  DecodedLuma out;
  TempDir dir;

  absl::Status s = decoder.DecodeFile(dir.path(), DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "is a directory");

  const std::string missing = dir.path() + "/missing.jpg";
  s = decoder.DecodeFile(missing, DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no such file");

  const std::string empty = dir.Write("empty.jpg", "");
  s = decoder.DecodeFile(empty, DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "empty file (0 bytes)");

  const std::string jpeg = Encode(".jpg", DrawPhoto(640, 480));
  const std::string truncated = dir.Write("truncated.jpg", jpeg.substr(0, jpeg.size() / 2));
  s = decoder.DecodeFile(truncated, DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "truncated jpeg (no end-of-image marker)");

  const std::string text = dir.Write("notes.png", "just some text, not a picture\n");
  s = decoder.DecodeFile(text, DecodeMode::kFull, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith("unknown image format"));

  const std::string fifo = dir.path() + "/fifo.jpg";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  s = decoder.DecodeFile(fifo, DecodeMode::kFull, out);  // must not block
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "not a regular file");
}

TEST(ImageDecoderTest, DecodesByContentNotExtension) {
  ImageDecoder decoder;
  DecodedLuma a, b;
  TempDir dir;
  const cv::Mat img = DrawPhoto(300, 200);
  const std::string png_as_jpg = dir.Write("photo.jpg", Encode(".png", img));
  const std::string jpg_as_png = dir.Write("photo.png", Encode(".jpg", img));
  const std::string webp_no_ext = dir.Write("photo", Encode(".webp", img));
  for (const std::string& p : {png_as_jpg, jpg_as_png, webp_no_ext}) {
    ASSERT_TRUE(decoder.DecodeFile(p, DecodeMode::kFull, a).ok()) << p;
    EXPECT_EQ(a.width, 300);
    EXPECT_EQ(a.height, 200);
  }
  // A lossless PNG decodes to exactly the reference luma.
  ASSERT_TRUE(decoder.DecodeFile(png_as_jpg, DecodeMode::kFull, b).ok());
  EXPECT_EQ(b.luma, ReferenceLuma(img));
}

// Mutated images (bit flips, truncation, splices) never crash or throw.
TEST(ImageDecoderTest, SurvivesMutatedInputs) {
  ImageDecoder decoder;
  DecodedLuma out;
  std::mt19937 rng(12345);
  const cv::Mat img = DrawPhoto(96, 64);
  const std::string seeds[] = {Encode(".jpg", img), Encode(".png", img), Encode(".webp", img),
                               Encode(".bmp", img),
                               Encode(".jpg", img, {cv::IMWRITE_JPEG_PROGRESSIVE, 1})};
  int ok = 0;
  for (int round = 0; round < 400; ++round) {
    std::string bytes = seeds[round % 5];
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < flips; ++i)
      bytes[rng() % bytes.size()] ^= static_cast<char>(1 << (rng() % 8));
    if (round % 3 == 0) bytes.resize(rng() % bytes.size() + 1);
    for (DecodeMode mode : {DecodeMode::kFull, DecodeMode::kReduced}) {
      absl::Status s = decoder.Decode(bytes, mode, out);
      if (s.ok()) {
        ++ok;
        EXPECT_EQ(out.luma.size(), static_cast<size_t>(out.width) * out.height);
      } else {
        EXPECT_EQ(out.width, 0);
      }
    }
  }
  RecordProperty("decoded_ok", ok);
}

// ---------------------------------------------------------------------------------------
// Pixel modes

TEST(ImageDecoderTest, FullJpegDecodeIsReferenceLumaOfOpenCvColourDecode) {
  const std::string jpeg = Encode(".jpg", DrawPhoto(500, 333), {cv::IMWRITE_JPEG_QUALITY, 90});
  const cv::Mat bgr = cv::imdecode(std::vector<uchar>(jpeg.begin(), jpeg.end()), cv::IMREAD_COLOR);
  ImageDecoder decoder;
  DecodedLuma out;
  ASSERT_TRUE(decoder.Decode(jpeg, DecodeMode::kFull, out).ok());
  EXPECT_EQ(out.width, 500);
  EXPECT_EQ(out.height, 333);
  EXPECT_EQ(out.source_width, 500);
  EXPECT_EQ(out.source_height, 333);
  EXPECT_EQ(out.reduction, 1);
  EXPECT_EQ(out.luma, ReferenceLuma(bgr));  // bit-exact
}

TEST(ImageDecoderTest, SixteenBitPngScalesTo255) {
  const cv::Mat img8 = DrawPhoto(160, 120);
  cv::Mat img16;
  img8.convertTo(img16, CV_16UC3, 257.0);  // v -> v * 257: 255 -> 65535
  ImageDecoder decoder;
  DecodedLuma out;
  ASSERT_TRUE(decoder.Decode(Encode(".png", img16), DecodeMode::kFull, out).ok());
  const std::vector<float> expected = ReferenceLuma(img8);
  ASSERT_EQ(out.luma.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) ASSERT_NEAR(out.luma[i], expected[i], 1e-3) << i;

  // 16-bit grayscale.
  cv::Mat gray16(50, 40, CV_16UC1, cv::Scalar(65535));
  gray16(cv::Rect(0, 0, 20, 50)).setTo(257 * 10);
  ASSERT_TRUE(decoder.Decode(Encode(".png", gray16), DecodeMode::kFull, out).ok());
  EXPECT_NEAR(out.luma[0], 10.0f, 1e-4);
  EXPECT_NEAR(out.luma[39], 255.0f, 1e-4);
}

TEST(ImageDecoderTest, AlphaIsCompositedOnWhite) {
  cv::Mat bgra(10, 30, CV_8UC4, cv::Scalar(0, 0, 0, 0));               // black, transparent
  bgra(cv::Rect(10, 0, 10, 10)).setTo(cv::Scalar(0, 0, 0, 255));       // black, opaque
  bgra(cv::Rect(20, 0, 10, 10)).setTo(cv::Scalar(100, 50, 200, 102));  // 40% opaque colour
  ImageDecoder decoder;
  DecodedLuma out;
  for (const char* ext : {".png", ".webp"}) {
    std::vector<int> params;
    if (std::string(ext) == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, 101};  // lossless
    ASSERT_TRUE(decoder.Decode(Encode(ext, bgra, params), DecodeMode::kFull, out).ok()) << ext;
    EXPECT_FLOAT_EQ(out.luma[0], 255.0f) << ext;
    EXPECT_FLOAT_EQ(out.luma[10], 0.0f) << ext;
    const float colour = 0.299f * 200 + 0.587f * 50 + 0.114f * 100;
    EXPECT_NEAR(out.luma[25], 0.4f * colour + 0.6f * 255.0f, 1e-3) << ext;
  }
  // 16-bit with alpha.
  cv::Mat bgra16;
  bgra.convertTo(bgra16, CV_16UC4, 257.0);
  ASSERT_TRUE(decoder.Decode(Encode(".png", bgra16), DecodeMode::kFull, out).ok());
  EXPECT_NEAR(out.luma[0], 255.0f, 1e-3);
  EXPECT_NEAR(out.luma[10], 0.0f, 1e-3);
}

TEST(ImageDecoderTest, GrayscaleImages) {
  cv::Mat gray(64, 80, CV_8UC1);
  for (int y = 0; y < gray.rows; ++y)
    for (int x = 0; x < gray.cols; ++x) gray.at<uchar>(y, x) = static_cast<uchar>(3 * x);
  ImageDecoder decoder;
  DecodedLuma out;
  for (const char* ext : {".png", ".bmp"}) {
    ASSERT_TRUE(decoder.Decode(Encode(ext, gray), DecodeMode::kFull, out).ok()) << ext;
    for (int x = 0; x < 80; ++x) ASSERT_NEAR(out.luma[x], 3.0f * x, 1e-3) << ext;
  }
  // Grayscale JPEG: R=G=B, so the luma is the gray value to within float rounding.
  ASSERT_TRUE(
      decoder.Decode(Encode(".jpg", gray, {cv::IMWRITE_JPEG_QUALITY, 100}), DecodeMode::kFull, out)
          .ok());
  for (int x = 0; x < 80; ++x) ASSERT_NEAR(out.luma[x], 3.0f * x, 2.0f);
}

// 8-bit grey goes through a lookup table: it must give exactly the reference arithmetic
// (R=G=B=v, 0.299R + 0.587G + 0.114B in float) for all 256 levels, in full and reduced
// decodes.
TEST(ImageDecoderTest, GrayLevelsGiveExactlyTheReferenceLuma) {
  cv::Mat gray(16, 16, CV_8UC1);
  for (int v = 0; v < 256; ++v) gray.at<uchar>(v / 16, v % 16) = static_cast<uchar>(v);
  ImageDecoder decoder;
  DecodedLuma out;
  ASSERT_TRUE(decoder.Decode(Encode(".png", gray), DecodeMode::kFull, out).ok());
  ASSERT_EQ(out.luma.size(), 256u);
  for (int v = 0; v < 256; ++v) {
    const float f = static_cast<float>(v);
    const float expected = 0.299f * f + 0.587f * f + 0.114f * f;
    ASSERT_EQ(out.luma[v], expected) << v;  // bit for bit, not near
  }
  // A reduced JPEG decode yields libjpeg's 8-bit Y, converted the same way.
  cv::Mat big(1024, 1024, CV_8UC1);
  for (int y = 0; y < big.rows; ++y)
    for (int x = 0; x < big.cols; ++x) big.at<uchar>(y, x) = static_cast<uchar>((x ^ y) & 255);
  const std::string jpeg = Encode(".jpg", big);
  ASSERT_TRUE(decoder.Decode(jpeg, DecodeMode::kReduced, out).ok());
  ASSERT_EQ(out.reduction, 4);
  const cv::Mat y =
      cv::imdecode(std::vector<uchar>(jpeg.begin(), jpeg.end()), cv::IMREAD_REDUCED_GRAYSCALE_4);
  ASSERT_EQ(y.total(), out.luma.size());
  for (size_t i = 0; i < y.total(); ++i) {
    const float f = static_cast<float>(y.data[i]);
    ASSERT_EQ(out.luma[i], 0.299f * f + 0.587f * f + 0.114f * f) << i;
  }
}

TEST(ImageDecoderTest, DecodesEveryModeOfTheSharedPhoto) {
  ASSERT_HAVE_DATA();
  ImageDecoder decoder;
  DecodedLuma reference, out;
  ASSERT_TRUE(decoder.DecodeFile(kData + "/" + kSharedPhoto, DecodeMode::kFull, reference).ok());
  for (const NamedImage& sample : ModeSamples()) {
    const std::string& name = sample.name;
    absl::Status s = decoder.Decode(sample.bytes, DecodeMode::kFull, out);
    ASSERT_TRUE(s.ok()) << name << ": " << s;
    EXPECT_EQ(out.width, 1600) << name;
    EXPECT_EQ(out.height, 1004) << name;
    // Compare what PDQ looks at: the luma box-filtered down to 64x64. Palette (P, PA) and
    // 1-bit (dithered) modes differ pixel by pixel but agree at that scale.
    const double diff = MeanAbsDiff64(out, reference);
    RecordProperty("mean_abs_luma_diff_64x64_" + name, std::to_string(diff));
    EXPECT_LT(diff, 2.0) << name;  // all measured <= 1.0
  }
}

// ---------------------------------------------------------------------------------------
// Reduced decode and orientation

TEST(ImageDecoderTest, ChoosesLargestReductionKeepingShortSide256) {
  EXPECT_EQ(ChooseJpegReduction(4032, 3024), 8);  // 378
  EXPECT_EQ(ChooseJpegReduction(3024, 4032), 8);
  EXPECT_EQ(ChooseJpegReduction(2048, 2048), 8);  // 256
  EXPECT_EQ(ChooseJpegReduction(2041, 2041), 8);  // ceil(2041/8) = 256
  EXPECT_EQ(ChooseJpegReduction(2040, 3000), 4);  // 255 at /8
  EXPECT_EQ(ChooseJpegReduction(1600, 1004), 2);  // 502; 251 at /4
  EXPECT_EQ(ChooseJpegReduction(640, 480), 1);    // 240 at /2
  EXPECT_EQ(ChooseJpegReduction(34, 42), 1);
}

TEST(ImageDecoderTest, ReducedDecodeOfSyntheticJpegs) {
  ImageDecoder decoder;
  DecodedLuma full, reduced;
  struct Case {
    int width, height, factor;
  };
  for (const Case& c :
       {Case{2100, 2100, 8}, Case{1200, 1030, 4}, Case{1000, 600, 2}, Case{500, 400, 1}}) {
    const std::string jpeg = Encode(".jpg", DrawPhoto(c.width, c.height));
    ASSERT_TRUE(decoder.Decode(jpeg, DecodeMode::kFull, full).ok());
    ASSERT_TRUE(decoder.Decode(jpeg, DecodeMode::kReduced, reduced).ok());
    EXPECT_EQ(reduced.reduction, c.factor) << c.width;
    EXPECT_EQ(reduced.width, (c.width + c.factor - 1) / c.factor);
    EXPECT_EQ(reduced.height, (c.height + c.factor - 1) / c.factor);
    EXPECT_EQ(reduced.source_width, c.width);
    EXPECT_EQ(reduced.source_height, c.height);
    // The reduced luma is the box average of the full luma to within a few grey levels.
    cv::Mat full_mat(full.height, full.width, CV_32F, full.luma.data()), area;
    cv::resize(full_mat, area, cv::Size(reduced.width, reduced.height), 0, 0, cv::INTER_AREA);
    double diff = 0;
    for (int i = 0; i < area.rows * area.cols; ++i) {
      diff += std::abs(area.at<float>(i) - reduced.luma[i]);
    }
    EXPECT_LT(diff / (area.rows * area.cols), 3.0) << c.width;
  }
  // Other formats ignore kReduced.
  ASSERT_TRUE(
      decoder.Decode(Encode(".png", DrawPhoto(2100, 2100)), DecodeMode::kReduced, reduced).ok());
  EXPECT_EQ(reduced.reduction, 1);
  EXPECT_EQ(reduced.width, 2100);
}

TEST(ImageDecoderTest, AppliesExifOrientationInFullAndReducedDecodes) {
  ASSERT_HAVE_DATA();
  ImageDecoder decoder;
  DecodedLuma out;
  for (int orientation : {1, 3, 6, 8}) {
    const std::string jpeg = PhoneJpeg(orientation);
    const bool transposed = orientation >= 5;
    ASSERT_TRUE(decoder.Decode(jpeg, DecodeMode::kFull, out).ok()) << orientation;
    EXPECT_EQ(out.width, transposed ? 3024 : 4032) << orientation;
    EXPECT_EQ(out.height, transposed ? 4032 : 3024) << orientation;
    ASSERT_TRUE(decoder.Decode(jpeg, DecodeMode::kReduced, out).ok()) << orientation;
    EXPECT_EQ(out.reduction, 8);
    EXPECT_EQ(out.width, transposed ? 378 : 504) << orientation;
    EXPECT_EQ(out.height, transposed ? 504 : 378) << orientation;
    EXPECT_EQ(out.source_width, transposed ? 3024 : 4032) << orientation;
    EXPECT_EQ(out.source_height, transposed ? 4032 : 3024) << orientation;
  }
}

// Every image of the reference table decodes to the listed size, in full and reduced mode.
TEST(ImageDecoderTest, SizesMatchReferenceTable) {
  ASSERT_HAVE_DATA();
  std::ifstream tsv(kData + "/EXPECTED_fullres_opencv_decode.tsv");
  ASSERT_TRUE(tsv.good());
  std::map<std::pair<std::string, std::string>, std::string> dims;  // (path, mode) -> WxH
  std::string line;
  while (std::getline(tsv, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string path, mode, wxh;
    fields >> path >> mode >> wxh;
    dims[{path, mode}] = wxh;
  }
  ImageDecoder decoder;
  DecodedLuma out;
  int checked = 0;
  for (const auto& [key, wxh] : dims) {
    const auto& [path, mode] = key;
    if (mode != "color") continue;
    ASSERT_TRUE(decoder.DecodeFile(kData + "/" + path, DecodeMode::kFull, out).ok()) << path;
    EXPECT_EQ(std::to_string(out.width) + "x" + std::to_string(out.height), wxh) << path;
    ASSERT_TRUE(decoder.DecodeFile(kData + "/" + path, DecodeMode::kReduced, out).ok()) << path;
    if (out.reduction > 1) {
      const std::pair<std::string, std::string> rkey(path, "rgray" + std::to_string(out.reduction));
      EXPECT_EQ(std::to_string(out.width) + "x" + std::to_string(out.height), dims[rkey]) << path;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 18);  // every `color` row
}

TEST(ImageDecoderTest, ReusesBuffersWhenWarm) {
  ASSERT_HAVE_DATA();
  ImageDecoder decoder;
  DecodedLuma out;
  const std::string a = Encode(".jpg", DrawPhoto(400, 300));
  const std::string b = Encode(".jpg", DrawPhoto(300, 400));
  ASSERT_TRUE(decoder.Decode(a, DecodeMode::kFull, out).ok());
  const float* data = out.luma.data();
  ASSERT_TRUE(decoder.Decode(b, DecodeMode::kFull, out).ok());
  ASSERT_TRUE(decoder.Decode(a, DecodeMode::kReduced, out).ok());
  EXPECT_EQ(out.luma.data(), data);  // capacity kept
  // Moved-from and moved-to decoders work.
  ImageDecoder moved = std::move(decoder);
  EXPECT_TRUE(moved.Decode(a, DecodeMode::kFull, out).ok());
}

// ---------------------------------------------------------------------------------------
// With PDQ: reference hashes, reduced-decode drift, modes and orientation.

struct ReferenceRow {
  std::string dims;
  std::string hash;
  int quality = 0;
};
using ReferenceTable = std::map<std::pair<std::string, std::string>, ReferenceRow>;

ReferenceTable LoadReferenceTable() {
  ReferenceTable table;
  std::ifstream tsv(kData + "/EXPECTED_fullres_opencv_decode.tsv");
  EXPECT_TRUE(tsv.good());
  std::string line;
  while (std::getline(tsv, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string path, mode;
    ReferenceRow row;
    fields >> path >> mode >> row.dims >> row.hash >> row.quality;
    table[{path, mode}] = row;
  }
  return table;
}

PdqResult HashLuma(PdqHasher& hasher, const DecodedLuma& luma) {
  return hasher.Hash(luma.luma.data(), luma.width, luma.height);
}

bool IsJpegPath(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".jpg") == 0;
}

// The full decode is the reference pipeline: every image of testdata/pdq hashes exactly as
// listed in the `color` rows. (None has real transparency, which the decoder composites on
// white where the reference drops alpha: see AlphaIsCompositedOnWhite.)
TEST(ImageDecodePdqTest, FullDecodeReproducesReferenceHashes) {
  ASSERT_HAVE_DATA();
  const ReferenceTable table = LoadReferenceTable();
  ImageDecoder decoder;
  PdqHasher hasher;
  DecodedLuma out;
  int exact = 0;
  for (const auto& [key, row] : table) {
    const auto& [path, mode] = key;
    if (mode != "color") continue;
    ASSERT_TRUE(decoder.DecodeFile(kData + "/" + path, DecodeMode::kFull, out).ok()) << path;
    const PdqResult r = HashLuma(hasher, out);
    EXPECT_EQ(ToHex(r.hash), row.hash) << path;
    EXPECT_EQ(r.quality, row.quality) << path;
    ++exact;
  }
  EXPECT_EQ(exact, 18);  // every `color` row
}

// The reduced decode at the factor it chooses is libjpeg's DCT-domain downscaled Y channel:
// it reproduces the table's rgray2/4/8 rows exactly.
TEST(ImageDecodePdqTest, ReducedDecodeReproducesReferenceTable) {
  ASSERT_HAVE_DATA();
  const ReferenceTable table = LoadReferenceTable();
  ImageDecoder decoder;
  PdqHasher hasher;
  DecodedLuma out;
  int checked = 0;
  for (const auto& [key, row] : table) {
    const auto& [path, mode] = key;
    if (mode != "color" || !IsJpegPath(path)) continue;
    ASSERT_TRUE(decoder.DecodeFile(kData + "/" + path, DecodeMode::kReduced, out).ok()) << path;
    if (out.reduction == 1) continue;
    const auto it = table.find({path, "rgray" + std::to_string(out.reduction)});
    ASSERT_NE(it, table.end()) << path;
    EXPECT_EQ(ToHex(HashLuma(hasher, out).hash), it->second.hash) << path;
    ++checked;
  }
  EXPECT_EQ(checked, 4);  // the two bridge photos, CMYK.jpg and square-512x512.jpg
}

// Every JPEG of testdata/pdq, plus the phone photo (factor 8 chosen) and its upright copies at
// 2016x1512 (factor 4), hashed after a full decode and after a DCT-domain reduced decode.
// Measured (docs/images.md): factors as chosen (short side >= 256) drift at most 8 bits;
// forcing a factor on small images drifts far more (wee.jpg 34x42 at 1/8: 130 bits).
TEST(ImageDecodePdqTest, ReducedDecodeDriftIsBounded) {
  ASSERT_HAVE_DATA();
  std::vector<NamedImage> samples;
  const ReferenceTable table = LoadReferenceTable();
  for (const auto& [key, row] : table) {
    if (key.second == "color" && IsJpegPath(key.first)) {
      samples.push_back({key.first, ReadFileOrDie(kData + "/" + key.first)});
    }
  }
  samples.push_back({"phone-1.jpg", PhoneJpeg(1)});
  for (int orientation : {1, 3, 6, 8}) {
    const std::string name = "phone-" + std::to_string(orientation) + ".jpg";
    const std::string jpeg = PhoneJpeg(orientation);
    const cv::Mat photo =
        cv::imdecode(std::vector<uchar>(jpeg.begin(), jpeg.end()), cv::IMREAD_COLOR);
    ASSERT_FALSE(photo.empty()) << name;
    cv::Mat smaller;
    cv::resize(photo, smaller, cv::Size(photo.cols / 2, photo.rows / 2), 0, 0, cv::INTER_AREA);
    samples.push_back({"half/" + name, Encode(".jpg", smaller, {cv::IMWRITE_JPEG_QUALITY, 90})});
  }

  ImageDecoder decoder;
  PdqHasher hasher;
  DecodedLuma full, reduced;
  struct Stats {
    int n = 0, max = 0;
    double sum = 0;
    void Add(int d) {
      ++n;
      max = std::max(max, d);
      sum += d;
    }
    double mean() const { return n ? sum / n : 0; }
  };
  std::map<int, Stats> forced, eligible, chosen;
  for (const NamedImage& sample : samples) {
    ASSERT_TRUE(decoder.Decode(sample.bytes, DecodeMode::kFull, full).ok()) << sample.name;
    const Hash256 full_hash = HashLuma(hasher, full).hash;
    for (int factor : {2, 4, 8}) {
      // The same libjpeg path the decoder takes, with the factor forced.
      const cv::Mat gray =
          cv::imdecode(std::vector<uchar>(sample.bytes.begin(), sample.bytes.end()),
                       factor == 2   ? cv::IMREAD_REDUCED_GRAYSCALE_2
                       : factor == 4 ? cv::IMREAD_REDUCED_GRAYSCALE_4
                                     : cv::IMREAD_REDUCED_GRAYSCALE_8);
      ASSERT_FALSE(gray.empty()) << sample.name;
      std::vector<float> luma(gray.begin<uchar>(), gray.end<uchar>());
      const int d = HammingDistance(full_hash, hasher.Hash(luma.data(), gray.cols, gray.rows).hash);
      forced[factor].Add(d);
      if (std::min(gray.cols, gray.rows) >= kMinReducedShortSide) eligible[factor].Add(d);
    }
    ASSERT_TRUE(decoder.Decode(sample.bytes, DecodeMode::kReduced, reduced).ok()) << sample.name;
    const int d = HammingDistance(full_hash, HashLuma(hasher, reduced).hash);
    chosen[reduced.reduction].Add(d);
    if (reduced.reduction > 1) {
      EXPECT_LE(d, 12) << sample.name << " at 1/" << reduced.reduction;
    }
  }
  std::printf(
      "factor | forced on all: n max mean | short side >= 256: n max mean | chosen: n max mean\n");
  for (int factor : {1, 2, 4, 8}) {
    std::printf("1/%d    | %3d %3d %5.2f | %3d %3d %5.2f | %3d %3d %5.2f\n", factor,
                forced[factor].n, forced[factor].max, forced[factor].mean(), eligible[factor].n,
                eligible[factor].max, eligible[factor].mean(), chosen[factor].n, chosen[factor].max,
                chosen[factor].mean());
  }
  // Documented bounds (docs/images.md): measured max plus a small margin.
  EXPECT_LE(eligible[2].max, 10);
  EXPECT_LE(eligible[4].max, 10);
  EXPECT_LE(eligible[8].max, 12);
  EXPECT_EQ(chosen[1].max, 0);  // no reduction: the full decode itself
  EXPECT_EQ(chosen[2].n + chosen[4].n + chosen[8].n, 9);
}

TEST(ImageDecodePdqTest, EveryModeHashesLikeTheRgbPhoto) {
  ASSERT_HAVE_DATA();
  ImageDecoder decoder;
  PdqHasher hasher;
  DecodedLuma out;
  ASSERT_TRUE(decoder.DecodeFile(kData + "/" + kSharedPhoto, DecodeMode::kFull, out).ok());
  const Hash256 rgb = HashLuma(hasher, out).hash;
  for (const NamedImage& sample : ModeSamples()) {
    const std::string& name = sample.name;
    for (DecodeMode mode : {DecodeMode::kFull, DecodeMode::kReduced}) {
      ASSERT_TRUE(decoder.Decode(sample.bytes, mode, out).ok()) << name;
      const PdqResult r = HashLuma(hasher, out);
      const int d = HammingDistance(rgb, r.hash);
      RecordProperty("distance_" + name + (mode == DecodeMode::kFull ? "_full" : "_reduced"), d);
      EXPECT_LE(d, 10) << name;
      EXPECT_EQ(r.quality, 100) << name;
    }
  }
}

// One stored photo tagged with orientations 1, 3, 6 and 8: orientation is applied as the
// reference pipeline (OpenCV's IMREAD_COLOR, then PDQ on the reference luma) does, and the
// upright pixels are the stored pixels rotated.
TEST(ImageDecodePdqTest, ExifPhotosMatchReferenceOrientation) {
  ASSERT_HAVE_DATA();
  ImageDecoder decoder;
  PdqHasher hasher;
  DecodedLuma out;
  for (int orientation : {1, 3, 6, 8}) {
    const std::string path = "phone-" + std::to_string(orientation) + ".jpg";
    const std::string jpeg = PhoneJpeg(orientation);
    const std::vector<uchar> bytes(jpeg.begin(), jpeg.end());
    ASSERT_TRUE(decoder.Decode(jpeg, DecodeMode::kFull, out).ok());
    const cv::Mat oriented = cv::imdecode(bytes, cv::IMREAD_COLOR);
    const std::vector<float> reference_luma = ReferenceLuma(oriented);
    EXPECT_EQ(ToHex(HashLuma(hasher, out).hash),
              ToHex(hasher.Hash(reference_luma.data(), oriented.cols, oriented.rows).hash))
        << path;

    const cv::Mat raw = cv::imdecode(bytes, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
    cv::Mat upright = orientation == 1 ? raw : cv::Mat();
    if (orientation == 3) cv::rotate(raw, upright, cv::ROTATE_180);
    if (orientation == 6) cv::rotate(raw, upright, cv::ROTATE_90_CLOCKWISE);
    if (orientation == 8) cv::rotate(raw, upright, cv::ROTATE_90_COUNTERCLOCKWISE);
    EXPECT_EQ(out.luma, ReferenceLuma(upright)) << path;
  }
}

// One photo stored rotated with EXIF orientations 1, 3, 6, 8: once oriented, all hash alike
// (only JPEG re-encoding of rotated blocks differs), in full and reduced decodes.
TEST(ImageDecodePdqTest, ExifOrientedCopiesHashAlike) {
  ASSERT_HAVE_DATA();
  const std::string upright = PhoneJpeg(1);
  const cv::Mat photo =
      cv::imdecode(std::vector<uchar>(upright.begin(), upright.end()), cv::IMREAD_COLOR);
  ASSERT_FALSE(photo.empty());
  ImageDecoder decoder;
  PdqHasher hasher;
  DecodedLuma out;
  Hash256 base_full{}, base_reduced{};
  for (int orientation : {1, 3, 6, 8}) {
    cv::Mat stored = photo;                    // the inverse of the orientation's display transform
    if (orientation != 1) stored = cv::Mat();  // rotate into a new buffer, never in place
    if (orientation == 3) cv::rotate(photo, stored, cv::ROTATE_180);
    if (orientation == 6) cv::rotate(photo, stored, cv::ROTATE_90_COUNTERCLOCKWISE);
    if (orientation == 8) cv::rotate(photo, stored, cv::ROTATE_90_CLOCKWISE);
    const std::string jpeg =
        WithExifOrientation(Encode(".jpg", stored, {cv::IMWRITE_JPEG_QUALITY, 92}), orientation);
    ASSERT_TRUE(decoder.Decode(jpeg, DecodeMode::kFull, out).ok());
    EXPECT_EQ(out.width, 4032) << orientation;
    EXPECT_EQ(out.height, 3024) << orientation;
    const Hash256 full = HashLuma(hasher, out).hash;
    ASSERT_TRUE(decoder.Decode(jpeg, DecodeMode::kReduced, out).ok());
    EXPECT_EQ(out.width, 504) << orientation;
    EXPECT_EQ(out.source_width, 4032) << orientation;
    const Hash256 reduced = HashLuma(hasher, out).hash;
    if (orientation == 1) {
      base_full = full;
      base_reduced = reduced;
      continue;
    }
    RecordProperty("distance_full_" + std::to_string(orientation),
                   HammingDistance(base_full, full));
    RecordProperty("distance_reduced_" + std::to_string(orientation),
                   HammingDistance(base_reduced, reduced));
    EXPECT_LE(HammingDistance(base_full, full), 8) << orientation;
    EXPECT_LE(HammingDistance(base_reduced, reduced), 8) << orientation;
  }
}

}  // namespace
}  // namespace bonafide::models
