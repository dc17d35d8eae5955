// InputDecoder: the bytes of an open file or pipe, decompressed. The compression (none,
// zstd, gzip with concatenated members) is detected from the magic bytes, not the name.
//
//   BONAFIDE_ASSIGN_OR_RETURN(auto decoder, InputDecoder::Open(fd, "dump.jsonl.zst"));
//   while (size_t n = *decoder->Fill(buffer, sizeof(buffer))) { ... }
//
// One per input; not thread-safe; not copyable.
#ifndef BONAFIDE_ENGINE_INPUT_DECODER_H_
#define BONAFIDE_ENGINE_INPUT_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace bonafide::engine {

class InputDecoder {
 public:
  // Reads the first bytes of `fd` and returns the decoder they call for. `display` names
  // the input in error messages. Does not take ownership of `fd`, which must stay open
  // while the decoder is used. Returns an I/O error when the first read fails.
  static absl::StatusOr<std::unique_ptr<InputDecoder>> Open(int fd, std::string display);

  virtual ~InputDecoder() = default;
  InputDecoder(const InputDecoder&) = delete;
  InputDecoder& operator=(const InputDecoder&) = delete;

  // Writes up to `cap` decoded bytes to `dst`. Returns 0 at the clean end of input,
  // DataLoss for a corrupt or truncated compressed stream (and again on every later
  // call), or an I/O error.
  virtual absl::StatusOr<size_t> Fill(char* dst, size_t cap) = 0;

  // At most how many bytes the next Fill(dst, cap) can write: a caller that must zero its
  // buffer before Fill sizes it by this (zeroing a 1 MiB buffer to read a few bytes, or
  // none, costs a page fault per 4 KiB, a good part of a small scan's start-up).
  virtual size_t FillBound(size_t cap) const { return cap; }

  // Bytes read from the file so far (compressed bytes for zstd and gzip), for progress.
  uint64_t bytes_consumed() const { return consumed_; }

 protected:
  InputDecoder(int fd, std::string display) : fd_(fd), display_(std::move(display)) {}

  // Reads raw bytes into in_ until it holds at least `want` bytes or the file ends.
  absl::Status Prime(size_t want);
  // Allocates in_ (kReadBytes, not zeroed: only what a read writes is touched).
  void EnsureInputBuffer();
  // Takes over the raw bytes (and byte count) that `other` read while sniffing.
  void Adopt(InputDecoder& other);
  // Fills in_ with the next block of raw input when it is used up; false at EOF.
  absl::StatusOr<bool> RefillInput();
  absl::StatusOr<size_t> ReadFd(char* dst, size_t cap);

  int fd_;
  std::string display_;
  uint64_t consumed_ = 0;
  std::unique_ptr<char[]> in_;  // raw (compressed) input buffer, kReadBytes when allocated
  size_t in_pos_ = 0, in_end_ = 0;
  bool in_eof_ = false;
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_INPUT_DECODER_H_
