// Tests of models/pdq.h: conformance with the reference PDQ on the data set in testdata/pdq
// (BONAFIDE_PDQ_DATA, see its README.md), dihedral derivation, hex and Hamming helpers.
// Images are decoded here with OpenCV directly (IMREAD_COLOR applies EXIF orientation),
// luma = 0.299R + 0.587G + 0.114B in float, as the reference pipeline does.
#include "models/pdq.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/allocation_counter.h"

namespace bonafide::models {
namespace {

namespace fs = std::filesystem;

struct Luma {
  std::vector<float> pixels;
  int width = 0;
  int height = 0;
};

// BGR 8-bit image to float luma with the reference's coefficients and float arithmetic.
Luma LumaFromBgr(const cv::Mat& bgr) {
  Luma luma;
  luma.width = bgr.cols;
  luma.height = bgr.rows;
  luma.pixels.resize(static_cast<size_t>(bgr.cols) * bgr.rows);
  const float kR = 0.299f, kG = 0.587f, kB = 0.114f;
  for (int y = 0; y < bgr.rows; ++y) {
    const uint8_t* p = bgr.ptr<uint8_t>(y);
    for (int x = 0; x < bgr.cols; ++x) {
      luma.pixels[static_cast<size_t>(y) * bgr.cols + x] =
          kR * p[3 * x + 2] + kG * p[3 * x + 1] + kB * p[3 * x];
    }
  }
  return luma;
}

// Gray 8-bit image to float luma (as the reference's fillFloatLumaFromGrey).
Luma LumaFromGray(const cv::Mat& gray) {
  Luma luma;
  luma.width = gray.cols;
  luma.height = gray.rows;
  luma.pixels.resize(static_cast<size_t>(gray.cols) * gray.rows);
  for (int y = 0; y < gray.rows; ++y) {
    for (int x = 0; x < gray.cols; ++x) {
      luma.pixels[static_cast<size_t>(y) * gray.cols + x] = gray.at<uint8_t>(y, x);
    }
  }
  return luma;
}

const fs::path& DataDir() {
  static const fs::path* const dir = new fs::path(BONAFIDE_PDQ_DATA);
  return *dir;
}

// The data ships with the repository, so a missing file is a failure, not a skip.
#define ASSERT_HAVE_DATA()                                               \
  ASSERT_TRUE(fs::exists(DataDir() / "EXPECTED_upstream_published.tsv")) \
      << "PDQ conformance data not found at " BONAFIDE_PDQ_DATA " (testdata/pdq)"

cv::Mat ReadColor(const std::string& relative) {
  return cv::imread((DataDir() / relative).string(), cv::IMREAD_COLOR);
}

// Tab-separated rows, skipping comments and the header line (first field "path"/"set").
std::vector<std::vector<std::string>> ReadTsv(const std::string& name) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(DataDir() / name);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '\t')) fields.push_back(field);
    if (fields.empty() || fields[0] == "path" || fields[0] == "set") continue;
    rows.push_back(std::move(fields));
  }
  return rows;
}

Hash256 MustParse(const std::string& hex) {
  absl::StatusOr<Hash256> h = HashFromHex(hex);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *h : Hash256{};
}

PdqResult HashFile(PdqHasher& hasher, const std::string& relative) {
  const cv::Mat bgr = ReadColor(relative);
  EXPECT_FALSE(bgr.empty()) << relative;
  if (bgr.empty()) return {};
  const Luma luma = LumaFromBgr(bgr);
  return hasher.Hash(luma.pixels.data(), luma.width, luma.height);
}

// ---------------------------------------------------------------------------------------
// Helpers: hex, Hamming distance.

TEST(PdqHashTest, HexRoundTrip) {
  const std::string hex = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
  const Hash256 h = MustParse(hex);
  EXPECT_EQ(ToHex(h), hex);
  // Canonical layout: the last 16 hex digits are words[0], i.e. bits 0..63.
  EXPECT_EQ(h.words[0], 0x33e6b39c4e9c9b22u);
  EXPECT_EQ(h.words[3], 0xf8f8f0cee0f4a84fu);
  EXPECT_TRUE(h.GetBit(1));  // ...22: bit 1 set
  EXPECT_FALSE(h.GetBit(0));
  EXPECT_TRUE(h.GetBit(255));  // f8...: top bit set

  EXPECT_EQ(ToHex(MustParse(std::string(64, 'F'))), std::string(64, 'f'));
  Hash256 one;
  one.SetBit(0);
  EXPECT_EQ(ToHex(one), std::string(63, '0') + "1");

  std::mt19937_64 rng(7);
  for (int i = 0; i < 100; ++i) {
    Hash256 r;
    for (uint64_t& w : r.words) w = rng();
    EXPECT_EQ(MustParse(ToHex(r)), r);
  }
}

TEST(PdqHashTest, HexRejectsMalformed) {
  EXPECT_EQ(HashFromHex("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HashFromHex(std::string(63, '0')).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HashFromHex(std::string(65, '0')).status().code(), absl::StatusCode::kInvalidArgument);
  std::string bad(64, '0');
  bad[10] = 'g';
  EXPECT_THAT(std::string(HashFromHex(bad).status().message()), ::testing::HasSubstr("offset 10"));
}

TEST(PdqHashTest, HammingDistance) {
  Hash256 a, b;
  EXPECT_EQ(HammingDistance(a, b), 0);
  for (int k : {0, 63, 64, 100, 255}) b.SetBit(k);
  EXPECT_EQ(HammingDistance(a, b), 5);
  EXPECT_EQ(b.PopCount(), 5);
  b.FlipBit(63);
  EXPECT_EQ(HammingDistance(a, b), 4);
  Hash256 all = MustParse(std::string(64, 'f'));
  EXPECT_EQ(HammingDistance(a, all), 256);
  EXPECT_EQ(HammingDistance(
                MustParse("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"),
                MustParse("f8f8f0cee0f4a84f06370a2a038f63f0b36e26d596621e1d33e6b39c4e9c9b22")),
            2);
}

// ---------------------------------------------------------------------------------------
// Synthetic images.

Luma Synthetic(int width, int height, uint32_t seed) {
  Luma luma;
  luma.width = width;
  luma.height = height;
  luma.pixels.resize(static_cast<size_t>(width) * height);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> noise(-8.0f, 8.0f);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float fx = static_cast<float>(x) / width, fy = static_cast<float>(y) / height;
      float v = 128 + 60 * std::sin(7 * fx + 3 * fy * fy) + 40 * std::cos(11 * fy - 5 * fx) +
                (fx > 0.3f && fx < 0.55f && fy > 0.2f && fy < 0.7f ? 50 : 0) + noise(rng);
      luma.pixels[static_cast<size_t>(y) * width + x] = std::clamp(v, 0.0f, 255.0f);
    }
  }
  return luma;
}

TEST(PdqHasherTest, FlatImageHasQualityZero) {
  PdqHasher hasher;
  for (auto [w, h] : {std::pair{640, 480}, {64, 64}, {5, 5}, {1000, 7}}) {
    std::vector<float> flat(static_cast<size_t>(w) * h, 117.0f);
    const PdqResult r = hasher.Hash(flat.data(), w, h);
    EXPECT_EQ(r.quality, 0) << w << "x" << h;
  }
}

TEST(PdqHasherTest, TinyImagesGiveZeroHash) {
  PdqHasher hasher;
  const Luma luma = Synthetic(4, 300, 1);
  const PdqResult r = hasher.Hash(luma.pixels.data(), luma.width, luma.height);
  EXPECT_EQ(r.hash, Hash256{});
  EXPECT_EQ(r.quality, 0);
  const Luma one = Synthetic(1, 1, 1);
  EXPECT_EQ(hasher.Hash(one.pixels.data(), 1, 1).quality, 0);
}

TEST(PdqHasherTest, DeterministicAndReusable) {
  // A hasher reused across sizes (growing and shrinking buffers) gives the same hashes
  // as fresh hashers.
  PdqHasher reused;
  for (auto [w, h] :
       {std::pair{1024, 768}, {33, 2000}, {64, 64}, {5, 9}, {4000, 100}, {127, 129}, {640, 480}}) {
    const Luma luma = Synthetic(w, h, static_cast<uint32_t>(w * 31 + h));
    PdqHasher fresh;
    const PdqResult a = reused.Hash(luma.pixels.data(), w, h);
    const PdqResult b = fresh.Hash(luma.pixels.data(), w, h);
    EXPECT_EQ(a.hash, b.hash) << w << "x" << h;
    EXPECT_EQ(a.quality, b.quality);
    EXPECT_EQ(a.hash.PopCount(), 128) << w << "x" << h;  // median split of distinct values
    EXPECT_GT(a.quality, 50) << w << "x" << h;
  }
}

TEST(PdqHasherTest, WarmHasherDoesNotAllocate) {
  const Luma big = Synthetic(1600, 1200, 5);
  const Luma small = Synthetic(300, 700, 6);
  PdqHasher hasher;
  hasher.Hash(big.pixels.data(), big.width, big.height);  // grows the buffers
  const int64_t before = testing::AllocationCount();
  for (int i = 0; i < 5; ++i) {
    hasher.Hash(big.pixels.data(), big.width, big.height);
    hasher.Hash(small.pixels.data(), small.width, small.height);
    hasher.HashDihedral(small.pixels.data(), small.width, small.height);
  }
  EXPECT_EQ(testing::AllocationCount() - before, 0);
}

TEST(PdqHasherTest, RobustToResizeAndBrightness) {
  PdqHasher hasher;
  const Luma big = Synthetic(1200, 900, 3);
  const PdqResult a = hasher.Hash(big.pixels.data(), big.width, big.height);
  cv::Mat m(big.height, big.width, CV_32F, const_cast<float*>(big.pixels.data()));
  cv::Mat small;
  cv::resize(m, small, cv::Size(400, 300), 0, 0, cv::INTER_AREA);
  small = small * 0.8 + 20;
  const PdqResult b = hasher.Hash(small.ptr<float>(), small.cols, small.rows);
  EXPECT_LE(HammingDistance(a.hash, b.hash), 16);
  const Luma other = Synthetic(1200, 900, 4);
  // An unrelated image (different noise only would be too close; transpose the content).
  cv::Mat other_m(other.height, other.width, CV_32F, const_cast<float*>(other.pixels.data()));
  cv::Mat rotated;
  cv::rotate(other_m, rotated, cv::ROTATE_90_CLOCKWISE);
  rotated = rotated.clone();
  const PdqResult c = hasher.Hash(rotated.ptr<float>(), rotated.cols, rotated.rows);
  EXPECT_GT(HammingDistance(a.hash, c.hash), kPdqMatchThresholdBits);
}

// Applies `d` to a float image with OpenCV, as documented in pdq.h.
cv::Mat ApplyDihedral(const cv::Mat& m, Dihedral d) {
  cv::Mat out;
  switch (d) {
    case Dihedral::kOriginal:
      out = m.clone();
      break;
    case Dihedral::kRotate90:
      cv::rotate(m, out, cv::ROTATE_90_COUNTERCLOCKWISE);
      break;
    case Dihedral::kRotate180:
      cv::rotate(m, out, cv::ROTATE_180);
      break;
    case Dihedral::kRotate270:
      cv::rotate(m, out, cv::ROTATE_90_CLOCKWISE);
      break;
    case Dihedral::kFlipX:
      cv::flip(m, out, 0);
      break;
    case Dihedral::kFlipY:
      cv::flip(m, out, 1);
      break;
    case Dihedral::kTranspose:
      cv::transpose(m, out);
      break;
    case Dihedral::kTransverse: {
      cv::Mat t;
      cv::transpose(m, t);
      cv::flip(t, out, -1);
      break;
    }
  }
  return out;
}

// A photo-like test image: random grey cells, smoothly interpolated, so that its DCT has
// energy at all 16x16 frequencies (a smooth gradient would leave most coefficients near
// the median, where any perturbation flips bits).
cv::Mat RandomCells(int width, int height, uint32_t seed) {
  cv::Mat cells(height * 3 / 64 + 1, width * 3 / 64 + 1, CV_32F);
  cv::RNG rng(seed);
  rng.fill(cells, cv::RNG::UNIFORM, 0.0, 255.0);
  cv::Mat out;
  cv::resize(cells, out, cv::Size(width, height), 0, 0, cv::INTER_CUBIC);
  return out;
}

TEST(PdqHasherTest, DihedralMatchesTransformedPixels) {
  PdqHasher hasher;
  // The derivation by sign flips and transposes is exact up to the asymmetry of the box
  // filter (an even window reaches one pixel further on one side) and of the decimation
  // grid. Relative to the 64x64 cell that shift is largest for sides that are multiples of
  // 128 (even windows, grid on exact cell centres): 512x512 shifts by 2 of 8 pixels. The
  // derived variants must always stay well within the match threshold.
  struct Case {
    int width, height, max_bits;
  };
  for (const Case& c : {Case{1024, 768, 24}, Case{512, 512, 24}, Case{1280, 640, 24},
                        Case{1001, 703, 16}, Case{333, 517, 4}, Case{2000, 1500, 12}}) {
    int worst = 0;
    for (uint32_t seed = 1; seed <= 3; ++seed) {
      const cv::Mat m = RandomCells(c.width, c.height, seed);
      ASSERT_TRUE(m.isContinuous());
      const auto derived = hasher.HashDihedral(m.ptr<float>(), c.width, c.height);
      EXPECT_EQ(derived[0].hash, hasher.Hash(m.ptr<float>(), c.width, c.height).hash);
      for (int d = 0; d < kNumDihedral; ++d) {
        const cv::Mat t = ApplyDihedral(m, static_cast<Dihedral>(d));
        ASSERT_TRUE(t.isContinuous());
        const PdqResult direct = hasher.Hash(t.ptr<float>(), t.cols, t.rows);
        const int dist = HammingDistance(direct.hash, derived[d].hash);
        worst = std::max(worst, dist);
        EXPECT_LE(dist, c.max_bits) << c.width << "x" << c.height << " transform " << d;
        EXPECT_EQ(direct.quality, derived[d].quality);
        if (d == static_cast<int>(Dihedral::kTranspose)) {
          // No sign flip, and the filter is the same along both axes: exact when square.
          if (c.width == c.height) {
            EXPECT_EQ(dist, 0);
          }
        }
        if (d != 0) {  // the transform is not the identity on hashes
          EXPECT_GT(HammingDistance(derived[0].hash, derived[d].hash), 64);
        }
      }
    }
    RecordProperty("worst_" + std::to_string(c.width) + "x" + std::to_string(c.height), worst);
  }
}

// ---------------------------------------------------------------------------------------
// Conformance with the reference on testdata/pdq (its README.md lists what each file is for).

TEST(PdqConformanceTest, UpstreamPublishedFullResolutionSetsAreExact) {
  ASSERT_HAVE_DATA();
  PdqHasher hasher;
  int exact = 0, total = 0;
  for (const auto& row : ReadTsv("EXPECTED_upstream_published.tsv")) {
    ASSERT_GE(row.size(), 4u);
    const std::string& set = row[0];
    if (set != "pyTX_signal_examples" && set != "java_test") continue;
    ++total;
    const PdqResult r = HashFile(hasher, row[1]);
    const int dist = HammingDistance(r.hash, MustParse(row[2]));
    EXPECT_EQ(dist, 0) << set << " " << row[1] << " got " << ToHex(r.hash);
    exact += dist == 0;
  }
  EXPECT_EQ(total, 7);  // 5 pyTX_signal_examples rows + 2 java_test rows
  RecordProperty("exact", exact);
}

TEST(PdqConformanceTest, UpstreamPythonTestWithinItsTolerance) {
  ASSERT_HAVE_DATA();
  PdqHasher hasher;
  int total = 0;
  for (const auto& row : ReadTsv("EXPECTED_upstream_published.tsv")) {
    if (row[0] != "python_pdq_test") continue;
    ++total;
    std::string path = row[1];
    path = path.substr(0, path.find('('));  // "bridge-1-original.jpg(b.jpg)"
    const PdqResult r = HashFile(hasher, path);
    EXPECT_LE(HammingDistance(r.hash, MustParse(row[2])), std::stoi(row[3])) << path;
  }
  EXPECT_EQ(total, 12);
}

// The wasm_csv set comes from the reference CLI, which first resizes images larger than
// 512 on either side to 512x512 by nearest neighbour (CImg). Reproducing that with
// cv::INTER_NEAREST gives the same hashes; upstream, the reference CLI itself is 2 bits off
// on sharpen-a-lot (not shipped here), hence the per-row tolerance of 2.
TEST(PdqConformanceTest, UpstreamWasmCliSetWithNearestResize) {
  ASSERT_HAVE_DATA();
  PdqHasher hasher;
  int exact = 0, total = 0, worst = 0;
  for (const auto& row : ReadTsv("EXPECTED_upstream_published.tsv")) {
    if (row[0] != "wasm_csv") continue;
    ++total;
    const cv::Mat bgr = ReadColor(row[1]);
    ASSERT_FALSE(bgr.empty()) << row[1];
    cv::Mat resized = bgr;
    if (bgr.cols > 512 || bgr.rows > 512) {
      cv::resize(bgr, resized, cv::Size(512, 512), 0, 0, cv::INTER_NEAREST);
    }
    const Luma luma = LumaFromBgr(resized);
    const PdqResult r = hasher.Hash(luma.pixels.data(), luma.width, luma.height);
    const int dist = HammingDistance(r.hash, MustParse(row[2]));
    EXPECT_LE(dist, 2) << row[1] << " got " << ToHex(r.hash);
    worst = std::max(worst, dist);
    exact += dist == 0;
  }
  EXPECT_EQ(total, 7);
  EXPECT_EQ(exact, total);  // measured: every shipped file
  RecordProperty("exact", exact);
  RecordProperty("worst", worst);
}

TEST(PdqConformanceTest, ExpectedQualities) {
  ASSERT_HAVE_DATA();
  PdqHasher hasher;
  EXPECT_EQ(HashFile(hasher, "misc-images/small.jpg").quality, 0);
  EXPECT_EQ(HashFile(hasher, "reg-test-input/labelme-subset/q0003.jpg").quality, 3);
  EXPECT_EQ(HashFile(hasher, "reg-test-input/labelme-subset/q0004.jpg").quality, 4);
  EXPECT_EQ(HashFile(hasher, "reg-test-input/dih/bridge-1-original.jpg").quality, 100);
}

// Every `color` row of the full-resolution table: same dimensions, hash and quality.
TEST(PdqConformanceTest, FullResolutionColorDecodeIsExact) {
  ASSERT_HAVE_DATA();
  PdqHasher hasher;
  int exact = 0, total = 0;
  for (const auto& row : ReadTsv("EXPECTED_fullres_opencv_decode.tsv")) {
    ASSERT_GE(row.size(), 5u);
    if (row[1] != "color") continue;
    ++total;
    const cv::Mat bgr = ReadColor(row[0]);
    ASSERT_FALSE(bgr.empty()) << row[0];
    EXPECT_EQ(std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows), row[2]) << row[0];
    const Luma luma = LumaFromBgr(bgr);
    const PdqResult r = hasher.Hash(luma.pixels.data(), luma.width, luma.height);
    const int dist = HammingDistance(r.hash, MustParse(row[3]));
    EXPECT_EQ(dist, 0) << row[0] << " got " << ToHex(r.hash);
    EXPECT_EQ(r.quality, std::stoi(row[4])) << row[0];
    exact += dist == 0 && r.quality == std::stoi(row[4]);
  }
  EXPECT_EQ(total, 18);
  RecordProperty("exact", exact);
}

// The `gray` rows: OpenCV's own gray conversion (integer) as luma. Exact as well, which
// checks the pipeline on inputs other than the float luma formula.
TEST(PdqConformanceTest, FullResolutionGrayDecodeIsExact) {
  ASSERT_HAVE_DATA();
  PdqHasher hasher;
  int total = 0;
  for (const auto& row : ReadTsv("EXPECTED_fullres_opencv_decode.tsv")) {
    if (row[1] != "gray") continue;
    ++total;
    const cv::Mat gray = cv::imread((DataDir() / row[0]).string(), cv::IMREAD_GRAYSCALE);
    ASSERT_FALSE(gray.empty()) << row[0];
    const Luma luma = LumaFromGray(gray);
    const PdqResult r = hasher.Hash(luma.pixels.data(), luma.width, luma.height);
    EXPECT_EQ(ToHex(r.hash), row[3]) << row[0];
    EXPECT_EQ(r.quality, std::stoi(row[4])) << row[0];
  }
  EXPECT_EQ(total, 18);
}

// One photo in its 8 rotations and flips, in Dihedral order, each a JPEG of its own: the
// upstream reg-test-input/dih/ files for the original and the 90-degree rotation, the other
// six transformed and re-encoded here (upstream's six more files would add 2.2 MB).
TEST(PdqConformanceTest, DihedralSetMatchesDerivedHashes) {
  ASSERT_HAVE_DATA();
  const cv::Mat original = ReadColor("reg-test-input/dih/bridge-1-original.jpg");
  ASSERT_FALSE(original.empty());
  std::vector<cv::Mat> files = {original, ReadColor("reg-test-input/dih/bridge-2-rotate-90.jpg")};
  ASSERT_FALSE(files[1].empty());
  for (int d = 2; d < kNumDihedral; ++d) {
    std::vector<uchar> jpeg;
    ASSERT_TRUE(cv::imencode(".jpg", ApplyDihedral(original, static_cast<Dihedral>(d)), jpeg,
                             {cv::IMWRITE_JPEG_QUALITY, 90}));
    files.push_back(cv::imdecode(jpeg, cv::IMREAD_COLOR));
    ASSERT_FALSE(files.back().empty());
  }
  PdqHasher hasher;
  const Luma luma = LumaFromBgr(original);
  const auto derived = hasher.HashDihedral(luma.pixels.data(), luma.width, luma.height);
  for (int d = 0; d < kNumDihedral; ++d) {
    const Luma file_luma = LumaFromBgr(files[d]);
    const PdqResult file = hasher.Hash(file_luma.pixels.data(), file_luma.width, file_luma.height);
    const int dist = HammingDistance(file.hash, derived[d].hash);
    // The files are re-encoded JPEGs of the rotated photo, so a few bits differ.
    EXPECT_LE(dist, 16) << "variant " << d;
    EXPECT_LE(dist, kPdqMatchThresholdBits) << "variant " << d;
    // ... and it is the corresponding variant, not another one.
    for (int other = 0; other < kNumDihedral; ++other) {
      if (other == d) continue;
      EXPECT_GT(HammingDistance(file.hash, derived[other].hash), kPdqMatchThresholdBits)
          << "variant " << d << " vs variant " << other;
    }
    RecordProperty("dist_" + std::to_string(d), dist);
  }
}

}  // namespace
}  // namespace bonafide::models
