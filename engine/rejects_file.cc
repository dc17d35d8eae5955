#include "engine/rejects_file.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace bonafide::engine {

absl::StatusOr<std::unique_ptr<RejectsFile>> RejectsFile::Open(const std::string& path,
                                                               std::optional<uint64_t> keep_bytes) {
  std::unique_ptr<RejectsFile> f(new RejectsFile());
  f->path_ = path;
  if (path.empty()) return f;
  if (keep_bytes.has_value() && ::truncate(path.c_str(), static_cast<off_t>(*keep_bytes)) == 0) {
    f->file_ = std::fopen(path.c_str(), "a");
  } else {
    f->file_ = std::fopen(path.c_str(), "w");
  }
  if (f->file_ == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot write rejects file"));
  }
  return f;
}

RejectsFile::~RejectsFile() {
  if (file_ != nullptr) std::fclose(file_);
}

void RejectsFile::Write(absl::FunctionRef<void(JsonObject&)> where, std::string_view reason,
                        std::string_view listing_id) {
  if (file_ == nullptr) return;
  line_.clear();
  JsonObject json(line_);
  where(json);
  json.String("reason", reason);
  if (!listing_id.empty()) json.String("id", listing_id);
  json.Close();
  line_.push_back('\n');
  std::fwrite(line_.data(), 1, line_.size(), file_);
}

uint64_t RejectsFile::FlushedSize() {
  if (file_ == nullptr) return 0;
  std::fflush(file_);
  return static_cast<uint64_t>(std::ftell(file_));
}

absl::Status RejectsFile::Close() {
  if (file_ == nullptr) return absl::OkStatus();
  const bool ok = std::fflush(file_) == 0 && std::ferror(file_) == 0;
  std::fclose(file_);
  file_ = nullptr;
  if (!ok) return absl::ResourceExhaustedError(absl::StrCat(path_, ": write failed"));
  return absl::OkStatus();
}

}  // namespace bonafide::engine
