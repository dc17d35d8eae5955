// Whole-file reads and crash-safe whole-file writes, for caches and small inputs.
//
//   BONAFIDE_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
//   BONAFIDE_RETURN_IF_ERROR(WriteFileAtomically(path, bytes));
//
// Thread-safe (no shared state); two processes writing the same path leave one of the two
// complete files, never a mix.
#ifndef BONAFIDE_UTIL_FILES_H_
#define BONAFIDE_UTIL_FILES_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bonafide {

// Returns the contents of `path`. NotFound when it does not exist, PermissionDenied when it
// cannot be opened, DataLoss when reading fails part way; messages start with the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Replaces `path` with `bytes`: writes a temporary file beside it (`path.tmp.<pid>`) and
// renames it over `path`, so a reader or a crash never sees a partial file. On failure the
// temporary file is removed and `path` is left as it was. Returns Unavailable with the path
// and the system's reason.
absl::Status WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace bonafide

#endif  // BONAFIDE_UTIL_FILES_H_
