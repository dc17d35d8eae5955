// Whole-file reads and crash-safe whole-file writes, for caches and small inputs.
//
//   BONAFIDE_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
//   BONAFIDE_RETURN_IF_ERROR(WriteFileAtomically(path, bytes));
//
// Thread-safe (no shared state); two processes writing the same path leave one of the two
// complete files, never a mix.
#ifndef BONAFIDE_UTIL_FILES_H_
#define BONAFIDE_UTIL_FILES_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bonafide {

// Returns the contents of `path`. NotFound when it does not exist, PermissionDenied when it
// cannot be opened, DataLoss when reading fails part way; messages start with the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// The frame of the binary cache files (photo hashes, keypoints, rule packs): `magic`, the
// body, then the util/hash.h Hasher128 digest of both (16 bytes, its two halves in native
// byte order: a cache never leaves the machine). A cache that is truncated, corrupt or of
// another format then reads as absent, and is rebuilt.
std::string SealCache(std::string_view magic, std::string_view body);
// The body of `file` when it is a whole cache sealed with `magic`, else nullopt.
std::optional<std::string_view> UnsealCache(std::string_view file, std::string_view magic);

// A whole file mapped read-only: for the large caches read at every start (the compiled
// pattern databases), which ReadFile would zero-fill a string for and then copy into it.
// The caches are replaced by rename (WriteFileAtomically), never rewritten in place, so a
// mapping keeps showing the file that was opened. Move-only; unmaps on destruction.
class MappedFile {
 public:
  // Errors as ReadFile; an empty file gives empty bytes.
  static absl::StatusOr<MappedFile> Open(const std::string& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

 private:
  MappedFile(void* data, size_t size) : data_(data), size_(size) {}
  void* data_ = nullptr;
  size_t size_ = 0;
};

// Replaces `path` with `bytes`: writes a temporary file beside it (`path.tmp.<pid>`) and
// renames it over `path`, so a reader or a crash never sees a partial file. On failure the
// temporary file is removed and `path` is left as it was. Returns Unavailable with the path
// and the system's reason.
absl::Status WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace bonafide

#endif  // BONAFIDE_UTIL_FILES_H_
