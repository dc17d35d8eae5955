#include "util/files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

#include "util/hash.h"
#include "util/status_macros.h"

namespace bonafide {

namespace {

// Opens `path` for reading: NotFound when it does not exist, PermissionDenied otherwise.
absl::StatusOr<int> OpenForReading(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) return fd;
  const int error = errno;
  const std::string message = absl::StrCat(path, ": ", std::strerror(error));
  return error == ENOENT ? absl::NotFoundError(message) : absl::PermissionDeniedError(message);
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  BONAFIDE_ASSIGN_OR_RETURN(const int fd, OpenForReading(path));
  // Sized once from fstat and read in place: the cached pattern databases are megabytes,
  // and growing a string chunk by chunk copied them twice over at every start. A file that
  // grows meanwhile is read to its end all the same.
  struct stat st {};
  std::string bytes;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) bytes.resize(static_cast<size_t>(st.st_size));
  size_t size = 0;
  bool failed = false;
  char more[1 << 12];  // past the expected end: usually just the end of file
  while (true) {
    const bool in_place = size < bytes.size();
    const ssize_t n = in_place ? ::read(fd, bytes.data() + size, bytes.size() - size)
                               : ::read(fd, more, sizeof more);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed = n < 0;
      break;
    }
    if (in_place) {
      size += static_cast<size_t>(n);
    } else {
      bytes.append(more, static_cast<size_t>(n));
      size = bytes.size();
    }
  }
  ::close(fd);
  if (failed) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  bytes.resize(size);
  return bytes;
}

namespace {
constexpr size_t kSealBytes = 16;

std::string Seal(std::string_view sealed) {
  Hasher128 hasher;
  hasher.Add(sealed);
  const auto [lo, hi] = hasher.Digest();
  std::string bytes(kSealBytes, '\0');
  std::memcpy(bytes.data(), &lo, 8);
  std::memcpy(bytes.data() + 8, &hi, 8);
  return bytes;
}
}  // namespace

std::string SealCache(std::string_view magic, std::string_view body) {
  std::string file;
  file.reserve(magic.size() + body.size() + kSealBytes);
  file.append(magic).append(body);
  file.append(Seal(file));
  return file;
}

std::optional<std::string_view> UnsealCache(std::string_view file, std::string_view magic) {
  if (file.size() < magic.size() + kSealBytes || file.substr(0, magic.size()) != magic) {
    return std::nullopt;
  }
  const std::string_view sealed = file.substr(0, file.size() - kSealBytes);
  if (Seal(sealed) != file.substr(sealed.size())) return std::nullopt;
  return sealed.substr(magic.size());
}

absl::StatusOr<MappedFile> MappedFile::Open(const std::string& path) {
  BONAFIDE_ASSIGN_OR_RETURN(const int fd, OpenForReading(path));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::DataLossError(absl::StrCat(path, ": not a regular file"));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* data = nullptr;
  if (size > 0) {
    data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (data == MAP_FAILED) {
      const int error = errno;
      ::close(fd);
      return absl::DataLossError(absl::StrCat(path, ": cannot map: ", std::strerror(error)));
    }
  }
  ::close(fd);  // the mapping keeps the file
  return MappedFile(data, size);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  std::FILE* file = std::fopen(tmp.c_str(), "wb");
  if (file == nullptr) {
    return absl::UnavailableError(absl::StrCat(tmp, ": ", std::strerror(errno)));
  }
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  const int write_error = errno;
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed) {
    std::remove(tmp.c_str());
    return absl::UnavailableError(
        absl::StrCat(tmp, ": write failed: ", std::strerror(written ? errno : write_error)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(tmp.c_str());
    return absl::UnavailableError(absl::StrCat(path, ": ", std::strerror(error)));
  }
  return absl::OkStatus();
}

}  // namespace bonafide
