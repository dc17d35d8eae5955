// RejectsFile: the JSON Lines file where a reader (a scan, a stream consumer) writes the
// records it could not scan, one object per line: the fields that locate the record, then
// "reason" and, when the record had one, "id" (docs/listings.md, docs/cli.md).
//
//   auto rejects = RejectsFile::Open(path, kept_bytes);   // kept_bytes from a checkpoint
//   (*rejects)->Write([&](JsonObject& j) { j.String("input", name).Int("line", 7); },
//                     "invalid JSON: ...", "");
//   checkpoint.rejects_bytes = (*rejects)->FlushedSize();   // commit with the checkpoint
//   BONAFIDE_RETURN_IF_ERROR((*rejects)->Close());
//
// A reader commits the file's flushed size with its position; on resume it opens the file
// cut back to that size, so the rejects of records it reads again are not written twice.
// Not thread-safe (one writer); not copyable.
#ifndef BONAFIDE_ENGINE_REJECTS_FILE_H_
#define BONAFIDE_ENGINE_REJECTS_FILE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "util/strings.h"

namespace bonafide::engine {

class RejectsFile {
 public:
  // Opens `path` afresh (empty), or, with `keep_bytes` (the size a committed checkpoint
  // recorded), keeps its first keep_bytes bytes and appends after them; a file that cannot
  // be cut back (a missing one) is opened afresh. An empty path writes nothing. Returns
  // PermissionDenied naming the path when it cannot be written.
  static absl::StatusOr<std::unique_ptr<RejectsFile>> Open(const std::string& path,
                                                           std::optional<uint64_t> keep_bytes);
  ~RejectsFile();
  RejectsFile(const RejectsFile&) = delete;
  RejectsFile& operator=(const RejectsFile&) = delete;

  // Appends one reject: `where` adds the fields that locate the record, then "reason" and,
  // unless empty, "id" follow.
  void Write(absl::FunctionRef<void(JsonObject&)> where, std::string_view reason,
             std::string_view listing_id);
  // Flushes and returns the file's size (0 when not writing), for checkpoints.
  uint64_t FlushedSize();
  // Flushes and closes; ResourceExhausted naming the path when a write failed.
  absl::Status Close();

 private:
  RejectsFile() = default;
  std::string path_;
  std::FILE* file_ = nullptr;  // null: not writing
  std::string line_;           // the line being written (kept for its capacity)
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_REJECTS_FILE_H_
