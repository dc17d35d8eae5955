#include "engine/input_decoder.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include <zlib.h>
#include <zstd.h>

#include "util/status_macros.h"

namespace bonafide::engine {
namespace {

constexpr size_t kReadBytes = 1 << 20;  // one read(2) of compressed or raw input

class RawDecoder final : public InputDecoder {
 public:
  RawDecoder(int fd, std::string display) : InputDecoder(fd, std::move(display)) {}
  absl::Status Sniff(size_t want) { return Prime(want); }
  std::string_view buffered() const {
    return std::string_view(in_.get() + in_pos_, in_end_ - in_pos_);
  }

  size_t FillBound(size_t cap) const override {
    if (in_pos_ < in_end_) return std::min(cap, in_end_ - in_pos_);
    return in_eof_ ? 0 : cap;
  }

  absl::StatusOr<size_t> Fill(char* dst, size_t cap) override {
    if (in_pos_ < in_end_) {  // bytes read while sniffing the magic number
      size_t n = std::min(cap, in_end_ - in_pos_);
      std::memcpy(dst, in_.get() + in_pos_, n);
      in_pos_ += n;
      if (in_pos_ == in_end_) in_.reset();
      return n;
    }
    if (in_eof_) return size_t{0};
    absl::StatusOr<size_t> n = ReadFd(dst, cap);
    if (n.ok() && *n == 0) in_eof_ = true;
    return n;
  }
};

class ZstdDecoder final : public InputDecoder {
 public:
  ZstdDecoder(int fd, std::string display, InputDecoder& sniffer)
      : InputDecoder(fd, std::move(display)), ds_(ZSTD_createDStream()) {
    ZSTD_initDStream(ds_);
    Adopt(sniffer);
  }
  ~ZstdDecoder() override { ZSTD_freeDStream(ds_); }

  absl::StatusOr<size_t> Fill(char* dst, size_t cap) override {
    if (failed_) return failed_status_;
    ZSTD_outBuffer out{dst, cap, 0};
    for (;;) {
      absl::StatusOr<bool> more = RefillInput();
      if (!more.ok()) return Fail(more.status());
      ZSTD_inBuffer in{in_.get(), in_end_, in_pos_};
      if (!*more && last_ret_ == 0) return size_t{0};  // clean end after a whole frame
      size_t ret = ZSTD_decompressStream(ds_, &out, &in);
      in_pos_ = in.pos;
      if (ZSTD_isError(ret)) {
        return Fail(absl::DataLossError(
            absl::StrCat(display_, ": corrupt zstd stream: ", ZSTD_getErrorName(ret))));
      }
      last_ret_ = ret;
      if (out.pos > 0) return out.pos;
      if (!*more && in_pos_ == in_end_) {
        // No input left, no output produced, frame not finished.
        return Fail(absl::DataLossError(
            absl::StrCat(display_, ": truncated zstd stream (input ends inside a frame)")));
      }
    }
  }

 private:
  absl::Status Fail(absl::Status s) {
    failed_ = true;
    failed_status_ = s;
    return s;
  }
  ZSTD_DStream* ds_;
  size_t last_ret_ = 0;  // 0 = at a frame boundary
  bool failed_ = false;
  absl::Status failed_status_;
};

class GzipDecoder final : public InputDecoder {
 public:
  GzipDecoder(int fd, std::string display, InputDecoder& sniffer)
      : InputDecoder(fd, std::move(display)) {
    std::memset(&zs_, 0, sizeof(zs_));
    inflateInit2(&zs_, 16 + MAX_WBITS);
    Adopt(sniffer);
  }
  ~GzipDecoder() override { inflateEnd(&zs_); }

  absl::StatusOr<size_t> Fill(char* dst, size_t cap) override {
    if (failed_) return failed_status_;
    zs_.next_out = reinterpret_cast<Bytef*>(dst);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(cap, 1u << 30));
    for (;;) {
      absl::StatusOr<bool> more = RefillInput();
      if (!more.ok()) return Fail(more.status());
      if (!*more) {
        if (at_member_end_) return size_t{0};
        return Fail(absl::DataLossError(
            absl::StrCat(display_, ": truncated gzip stream (input ends inside a member)")));
      }
      if (at_member_end_) {  // another member follows (concatenated gzip)
        inflateReset(&zs_);
        at_member_end_ = false;
      }
      zs_.next_in = reinterpret_cast<Bytef*>(in_.get() + in_pos_);
      zs_.avail_in = static_cast<uInt>(in_end_ - in_pos_);
      int ret = inflate(&zs_, Z_NO_FLUSH);
      in_pos_ = in_end_ - zs_.avail_in;
      size_t produced = cap - zs_.avail_out;
      if (ret == Z_STREAM_END) {
        at_member_end_ = true;
      } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
        return Fail(absl::DataLossError(absl::StrCat(
            display_, ": corrupt gzip stream: ", zs_.msg ? zs_.msg : "inflate failed")));
      }
      if (produced > 0) return produced;
    }
  }

 private:
  absl::Status Fail(absl::Status s) {
    failed_ = true;
    failed_status_ = s;
    return s;
  }
  z_stream zs_;
  bool at_member_end_ = false;
  bool failed_ = false;
  absl::Status failed_status_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<InputDecoder>> InputDecoder::Open(int fd, std::string display) {
  auto raw = std::make_unique<RawDecoder>(fd, display);
  BONAFIDE_RETURN_IF_ERROR(raw->Sniff(4));
  const std::string_view head = raw->buffered();
  if (head.size() >= 4 && std::memcmp(head.data(), "\x28\xB5\x2F\xFD", 4) == 0) {
    return std::make_unique<ZstdDecoder>(fd, std::move(display), *raw);
  }
  if (head.size() >= 2 && std::memcmp(head.data(), "\x1F\x8B", 2) == 0) {
    return std::make_unique<GzipDecoder>(fd, std::move(display), *raw);
  }
  return raw;
}

void InputDecoder::EnsureInputBuffer() {
  if (in_ == nullptr) in_ = std::make_unique_for_overwrite<char[]>(kReadBytes);
}

absl::Status InputDecoder::Prime(size_t want) {
  EnsureInputBuffer();
  while (in_end_ < want && !in_eof_) {
    BONAFIDE_ASSIGN_OR_RETURN(size_t n, ReadFd(in_.get() + in_end_, kReadBytes - in_end_));
    if (n == 0) in_eof_ = true;
    in_end_ += n;
  }
  return absl::OkStatus();
}

void InputDecoder::Adopt(InputDecoder& other) {
  in_.swap(other.in_);
  in_pos_ = other.in_pos_;
  in_end_ = other.in_end_;
  in_eof_ = other.in_eof_;
  consumed_ = other.consumed_;
}

absl::StatusOr<bool> InputDecoder::RefillInput() {
  if (in_pos_ < in_end_) return true;
  if (in_eof_) return false;
  EnsureInputBuffer();
  in_pos_ = in_end_ = 0;
  absl::StatusOr<size_t> n = ReadFd(in_.get(), kReadBytes);
  if (!n.ok()) return n.status();
  in_end_ = *n;
  if (*n == 0) in_eof_ = true;
  return *n != 0;
}

absl::StatusOr<size_t> InputDecoder::ReadFd(char* dst, size_t cap) {
  for (;;) {
    ssize_t n = ::read(fd_, dst, cap);
    if (n >= 0) {
      consumed_ += static_cast<uint64_t>(n);
      return static_cast<size_t>(n);
    }
    if (errno == EINTR) continue;
    return absl::ErrnoToStatus(errno, absl::StrCat(display_, ": read failed"));
  }
}

}  // namespace bonafide::engine
