#include "util/files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace bonafide {
namespace {

TEST(FilesTest, WriteThenReadGivesTheSameBytes) {
  testing::TempDir dir;
  const std::string path = dir.Join("cache.bin");
  const std::string bytes("a\0b\xff\n", 5);
  ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
  auto read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, bytes);

  ASSERT_TRUE(WriteFileAtomically(path, "shorter").ok());  // replaces, never appends
  EXPECT_EQ(*ReadFile(path), "shorter");
  // No temporary file is left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(FilesTest, ReadsFilesOfEverySizeAndThoseWhoseSizeIsUnknown) {
  testing::TempDir dir;
  for (const size_t size : {size_t{0}, size_t{1}, size_t{4096}, size_t{(1 << 20) + 123}}) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(i * 7 + i / 251);
    const std::string path = dir.Join("f" + std::to_string(size));
    ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
    auto read = ReadFile(path);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(*read, bytes) << size;
  }
  // fstat says 0 bytes for /proc files; the content is read all the same.
  auto status = ReadFile("/proc/self/status");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_NE(status->find("Name:"), std::string::npos);
  // A directory opens but cannot be read.
  EXPECT_EQ(ReadFile(dir.path()).status().code(), absl::StatusCode::kDataLoss);
}

TEST(FilesTest, AMappedFileShowsTheBytesReadFileReads) {
  testing::TempDir dir;
  for (const size_t size : {size_t{0}, size_t{1}, size_t{(1 << 20) + 123}}) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(i * 13 + i / 509);
    const std::string path = dir.Join("m" + std::to_string(size));
    ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
    absl::StatusOr<MappedFile> file = MappedFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ(file->bytes(), bytes) << size;
    // A replaced file (as caches are replaced) leaves the mapping as it was.
    ASSERT_TRUE(WriteFileAtomically(path, "replaced").ok());
    EXPECT_EQ(file->bytes(), bytes) << size;
    MappedFile moved = std::move(*file);
    EXPECT_EQ(moved.bytes(), bytes);
  }
  EXPECT_EQ(MappedFile::Open(dir.Join("nope")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(MappedFile::Open(dir.path()).status().code(), absl::StatusCode::kDataLoss);
}

TEST(FilesTest, ASealedCacheGivesItsBodyBackAndRefusesAnyOtherBytes) {
  const std::string body("records\0and more", 16);
  const std::string file = SealCache("MAGIC01", body);
  EXPECT_EQ(UnsealCache(file, "MAGIC01"), std::optional<std::string_view>(body));
  EXPECT_EQ(UnsealCache(SealCache("M", ""), "M"), std::optional<std::string_view>(""));
  EXPECT_FALSE(UnsealCache(file, "MAGIC02").has_value());
  for (size_t size = 0; size < file.size(); ++size) {
    EXPECT_FALSE(UnsealCache(file.substr(0, size), "MAGIC01").has_value()) << size;
  }
  for (size_t i = 0; i < file.size(); ++i) {
    std::string flipped = file;
    flipped[i] = static_cast<char>(flipped[i] ^ 1);
    EXPECT_FALSE(UnsealCache(flipped, "MAGIC01").has_value()) << i;
  }
}

TEST(FilesTest, ReadingAMissingFileIsNotFoundNamingThePath) {
  testing::TempDir dir;
  auto read = ReadFile(dir.Join("nope"));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find(dir.Join("nope")), absl::string_view::npos);
}

TEST(FilesTest, FailedWriteLeavesTheOldFileAndNoTemporary) {
  testing::TempDir dir;
  const std::string sub = dir.Join("ro");
  std::filesystem::create_directories(sub);
  const std::string path = sub + "/cache.bin";
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  ::chmod(sub.c_str(), 0555);
  const bool root = ::geteuid() == 0;  // root writes anyway: nothing to check then
  const absl::Status status = WriteFileAtomically(path, "new");
  ::chmod(sub.c_str(), 0755);
  if (!root) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ(*ReadFile(path), root ? "new" : "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(sub), {}), 1);
}

TEST(FilesTest, WritingIntoAMissingDirectoryFails) {
  testing::TempDir dir;
  const absl::Status status = WriteFileAtomically(dir.Join("no/such/dir/file"), "x");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("no/such/dir/file"), absl::string_view::npos);
}

}  // namespace
}  // namespace bonafide
