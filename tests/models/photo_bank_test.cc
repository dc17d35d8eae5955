#include "models/photo_bank.h"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/image_decode.h"
#include "models/pdq.h"
#include "tests/models/synthetic_photos.h"
#include "tests/test_util.h"

namespace bonafide::models {
namespace {

using ::bonafide::testing::DrawPhoto;
using ::bonafide::testing::EncodeJpeg;
using ::bonafide::testing::TempDir;

// Hashes an encoded image as the scan does (reduced decode).
PdqResult HashOf(const std::string& bytes) {
  ImageDecoder decoder;
  DecodedLuma luma;
  EXPECT_TRUE(decoder.Decode(bytes, DecodeMode::kReduced, luma).ok());
  PdqHasher hasher;
  return hasher.Hash(luma.luma.data(), luma.width, luma.height);
}

class PhotoBankTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      photos_.push_back(
          {0, i,
           dir_.Write("rules/photos/p" + std::to_string(i) + ".jpg", EncodeJpeg(DrawPhoto(i)))});
    }
    // A flat grey photo: quality 0, too plain to match.
    photos_.push_back(
        {1, 0,
         dir_.Write("rules/photos/plain.jpg",
                    EncodeJpeg(cv::Mat(600, 800, CV_8UC3, cv::Scalar(128, 128, 128))))});
    options_.cache_dir = dir_.Join("cache");
  }

  std::shared_ptr<const PhotoBank> Build() {
    auto bank = PhotoBank::Build(photos_, options_);
    EXPECT_TRUE(bank.ok()) << bank.status();
    return bank.ok() ? *bank : nullptr;
  }

  TempDir dir_;
  std::vector<GenuinePhoto> photos_;
  PhotoBankOptions options_;
};

TEST_F(PhotoBankTest, IndexesEightVariantsOfEveryPhotoButTheTooPlainOnes) {
  auto bank = Build();
  ASSERT_NE(bank, nullptr);
  EXPECT_EQ(bank->photo_count(), 4u);
  EXPECT_EQ(bank->hash_count(), 3u * kNumDihedral);
  EXPECT_FALSE(bank->uses_multi_index());
  ASSERT_EQ(bank->too_plain_photos().size(), 1u);
  const auto& plain = bank->photo(bank->too_plain_photos()[0]);
  EXPECT_EQ(plain.path, photos_[3].path);
  EXPECT_LT(plain.quality, 50);
  EXPECT_FALSE(plain.indexed);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(bank->photo(i).indexed);
    EXPECT_GE(bank->photo(i).quality, 50);
    EXPECT_EQ(bank->photo(i).product, static_cast<int32_t>(i));
  }
  // A plain listing photo finds nothing, even with a generous radius.
  PhotoBank::Scratch scratch;
  std::vector<BankMatch> matches;
  bank->Query(bank->photo(3).hashes[0], 31, scratch, matches);
  EXPECT_TRUE(matches.empty());
}

TEST_F(PhotoBankTest, FindsTheGenuinePhotoAndTheVariantShown) {
  auto bank = Build();
  ASSERT_NE(bank, nullptr);
  PhotoBank::Scratch scratch;
  std::vector<BankMatch> matches;

  bank->Query(HashOf(EncodeJpeg(DrawPhoto(1), 60)).hash, 31, scratch, matches);
  ASSERT_FALSE(matches.empty());
  EXPECT_EQ(matches[0].photo, 1u);
  bool original = false;
  for (const BankMatch& m : matches) {
    EXPECT_EQ(m.photo, 1u) << "an unrelated photo matched";
    original |= m.variant == Dihedral::kOriginal && m.distance <= 16;
  }
  EXPECT_TRUE(original);

  bank->Query(HashOf(EncodeJpeg(testing::Mirrored(DrawPhoto(2)))).hash, 31, scratch, matches);
  ASSERT_FALSE(matches.empty());
  bool mirrored = false;
  for (const BankMatch& m : matches) {
    EXPECT_EQ(m.photo, 2u);
    mirrored |= m.variant == Dihedral::kFlipY;
  }
  EXPECT_TRUE(mirrored);

  bank->Query(HashOf(EncodeJpeg(DrawPhoto(99))).hash, 31, scratch, matches);
  EXPECT_TRUE(matches.empty());
}

TEST_F(PhotoBankTest, MultiIndexFindsWhatTheFlatScanFinds) {
  auto flat = Build();
  options_.multi_index_min_hashes = 0;
  auto multi = Build();
  ASSERT_NE(multi, nullptr);
  EXPECT_FALSE(flat->uses_multi_index());
  EXPECT_TRUE(multi->uses_multi_index());
  PhotoBank::Scratch scratch;
  std::vector<BankMatch> a, b;
  for (int seed : {0, 1, 2, 5}) {
    const Hash256 q = HashOf(EncodeJpeg(testing::Rotated90(DrawPhoto(seed)), 70)).hash;
    flat->Query(q, 31, scratch, a);
    multi->Query(q, 31, scratch, b);
    ASSERT_EQ(a.size(), b.size()) << seed;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].photo, b[i].photo);
      EXPECT_EQ(a[i].variant, b[i].variant);
      EXPECT_EQ(a[i].distance, b[i].distance);
    }
    EXPECT_EQ(a.empty(), seed == 5);
  }
}

TEST_F(PhotoBankTest, SecondBuildComesFromTheCacheAndAChangedPhotoIsRehashed) {
  auto first = Build();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->hashed_count(), 4);
  EXPECT_FALSE(first->loaded_from_cache());
  EXPECT_TRUE(std::filesystem::exists(first->cache_path()));

  auto second = Build();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->hashed_count(), 0);
  EXPECT_TRUE(second->loaded_from_cache());
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(second->photo(i).from_cache);
    EXPECT_EQ(second->photo(i).hashes, first->photo(i).hashes);
    EXPECT_EQ(second->photo(i).quality, first->photo(i).quality);
  }

  // Keyed by content: a renamed copy is not rehashed, a changed photo is.
  std::filesystem::copy_file(photos_[0].path, dir_.Join("rules/photos/renamed.jpg"));
  photos_[0].path = dir_.Join("rules/photos/renamed.jpg");
  dir_.Write("rules/photos/p1.jpg", EncodeJpeg(DrawPhoto(42)));
  auto third = Build();
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(third->hashed_count(), 1);
  EXPECT_TRUE(third->photo(0).from_cache);
  EXPECT_FALSE(third->photo(1).from_cache);
  EXPECT_NE(third->photo(1).hashes, first->photo(1).hashes);
}

TEST_F(PhotoBankTest, CorruptCacheOnlyCostsRehashing) {
  auto first = Build();
  ASSERT_NE(first, nullptr);
  std::string data = ::bonafide::testing::ReadFileOrDie(first->cache_path());
  data[data.size() / 2] ^= 0x55;
  dir_.Write("cache/" + std::filesystem::path(first->cache_path()).filename().string(), data);
  auto second = Build();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->hashed_count(), 4);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(second->photo(i).hashes, first->photo(i).hashes);
  // ... and the rewritten cache is good again.
  auto third = Build();
  ASSERT_NE(third, nullptr);
  EXPECT_TRUE(third->loaded_from_cache());
}

TEST_F(PhotoBankTest, WithoutCacheDirEveryBuildHashes) {
  options_.cache_dir.clear();
  auto a = Build();
  auto b = Build();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->hashed_count(), 4);
  EXPECT_TRUE(b->cache_path().empty());
}

TEST_F(PhotoBankTest, BrokenGenuinePhotoFailsTheBuildNamingIt) {
  const std::string jpeg = EncodeJpeg(DrawPhoto(7));
  photos_.push_back({0, 0, dir_.Write("rules/photos/broken.jpg", jpeg.substr(0, jpeg.size() / 2))});
  size_t failed = 99;
  auto bank = PhotoBank::Build(photos_, options_, &failed);
  ASSERT_FALSE(bank.ok());
  EXPECT_EQ(failed, photos_.size() - 1);
  EXPECT_EQ(bank.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bank.status().message().find("broken.jpg: truncated jpeg"), std::string::npos)
      << bank.status();
}

// The bank reads genuine photos with ReadImageFile, as DecodeFile reads listing photos:
// same checks, same messages, with the path in front; the failing photo's index comes apart.
TEST_F(PhotoBankTest, UnreadableGenuinePhotoFailsLikeDecodeFile) {
  const std::string empty = dir_.Write("rules/photos/empty.jpg", "");
  const std::string missing = dir_.Join("rules/photos/missing.jpg");
  const std::string directory = dir_.Join("rules/photos");
  options_.limits.max_bytes = 1000;
  const std::string big = dir_.Write("rules/photos/big.jpg", std::string(1001, 'x'));
  for (const std::string& path : {empty, missing, directory, big}) {
    std::vector<GenuinePhoto> photos = {{0, 0, path}};
    size_t failed = 99;
    auto bank = PhotoBank::Build(photos, options_, &failed);
    ASSERT_FALSE(bank.ok()) << path;
    EXPECT_EQ(failed, 0u) << path;
    ImageDecoder decoder(options_.limits);
    DecodedLuma luma;
    const absl::Status direct = decoder.DecodeFile(path, DecodeMode::kFull, luma);
    EXPECT_EQ(bank.status().code(), direct.code()) << path;
    EXPECT_EQ(bank.status().message(), path + ": " + std::string(direct.message()));
  }
  std::string bytes;
  EXPECT_EQ(ReadImageFile(empty, 1000, bytes).message(), "empty file (0 bytes)");
  EXPECT_EQ(ReadImageFile(missing, 1000, bytes).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadImageFile(directory, 1000, bytes).message(), "is a directory");
  EXPECT_EQ(ReadImageFile(big, 1000, bytes).message(),
            "file is 1001 bytes, over the limit of 1000");
  ASSERT_TRUE(ReadImageFile(photos_[0].path, 1 << 20, bytes).ok());
  EXPECT_EQ(bytes.size(), std::filesystem::file_size(photos_[0].path));
}

TEST(PhotoBankNamesTest, DihedralNames) {
  EXPECT_STREQ(DihedralName(Dihedral::kRotate90), "rotate90");
  EXPECT_STREQ(DihedralName(Dihedral::kFlipY), "flip_y");
}

}  // namespace
}  // namespace bonafide::models
