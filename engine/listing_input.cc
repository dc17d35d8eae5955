// Listing input: reading (InputSource) and parsing (ChunkParser) of listing dumps.
//
// Data flow:
//   fd --read(2), 1 MiB--> [zstd | gzip | raw] Decoder --Fill()--> chunk.data
//   chunk.data = carry-over of the previous call + newly decoded bytes, cut at the last
//   record boundary; the bytes after it become the next carry-over.
//   ChunkParser::Parse walks the records of a chunk and fills recycled Listing objects.
//
// JSON Lines records are parsed in place with simdjson On-Demand: the bytes that follow a
// line inside the chunk (plus the chunk's kChunkPadding) serve as simdjson's padding, so
// nothing is copied. Only in the rare case that a chunk lacks that padding (a hand-built
// chunk) is the record copied into a padded scratch buffer.
#include "engine/listing_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include <zlib.h>
#include <zstd.h>

#include "util/status_macros.h"
#include "util/strings.h"

#include "simdjson.h"

namespace bonafide::engine {
namespace {

constexpr size_t kReadBytes = 1 << 20;  // one read(2) of compressed or raw input
static_assert(kChunkPadding >= simdjson::SIMDJSON_PADDING);

// ---------------------------------------------------------------------------------------
// Decoders: turn the file descriptor into a stream of decompressed bytes.

enum class Compression { kNone, kZstd, kGzip };

class Decoder {
 public:
  Decoder(int fd, std::string display) : fd_(fd), display_(std::move(display)) {}
  virtual ~Decoder() = default;

  // Writes up to `cap` decoded bytes to `dst`. Returns 0 at the clean end of input,
  // DataLoss for a corrupt or truncated stream, or an I/O error.
  virtual absl::StatusOr<size_t> Fill(char* dst, size_t cap) = 0;

  uint64_t bytes_consumed() const { return consumed_; }

  // Reads raw bytes from the fd into in_ until it holds at least `want` bytes or EOF.
  absl::Status Prime(size_t want) {
    in_.resize(kReadBytes);
    while (in_end_ < want && !in_eof_) {
      BONAFIDE_ASSIGN_OR_RETURN(size_t n, ReadFd(in_.data() + in_end_, kReadBytes - in_end_));
      if (n == 0) in_eof_ = true;
      in_end_ += n;
    }
    return absl::OkStatus();
  }
  // Takes over the raw bytes (and byte count) that `other` read while sniffing.
  void Adopt(Decoder& other) {
    in_.swap(other.in_);
    in_pos_ = other.in_pos_;
    in_end_ = other.in_end_;
    in_eof_ = other.in_eof_;
    consumed_ = other.consumed_;
  }
  std::string_view buffered() const {
    return std::string_view(in_.data() + in_pos_, in_end_ - in_pos_);
  }

 protected:
  // Fills in_ with the next block of raw input when it is used up; false at EOF.
  absl::StatusOr<bool> RefillInput() {
    if (in_pos_ < in_end_) return true;
    if (in_eof_) return false;
    in_.resize(kReadBytes);
    in_pos_ = in_end_ = 0;
    absl::StatusOr<size_t> n = ReadFd(in_.data(), kReadBytes);
    if (!n.ok()) return n.status();
    in_end_ = *n;
    if (*n == 0) in_eof_ = true;
    return *n != 0;
  }

  absl::StatusOr<size_t> ReadFd(char* dst, size_t cap) {
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

  int fd_;
  std::string display_;
  uint64_t consumed_ = 0;
  std::string in_;  // raw (compressed) input buffer
  size_t in_pos_ = 0, in_end_ = 0;
  bool in_eof_ = false;
};

class RawDecoder final : public Decoder {
 public:
  using Decoder::Decoder;
  absl::StatusOr<size_t> Fill(char* dst, size_t cap) override {
    if (in_pos_ < in_end_) {  // bytes read while sniffing the magic number
      size_t n = std::min(cap, in_end_ - in_pos_);
      std::memcpy(dst, in_.data() + in_pos_, n);
      in_pos_ += n;
      if (in_pos_ == in_end_) std::string().swap(in_);
      return n;
    }
    if (in_eof_) return size_t{0};
    absl::StatusOr<size_t> n = ReadFd(dst, cap);
    if (n.ok() && *n == 0) in_eof_ = true;
    return n;
  }
};

class ZstdDecoder final : public Decoder {
 public:
  ZstdDecoder(int fd, std::string display)
      : Decoder(fd, std::move(display)), ds_(ZSTD_createDStream()) {
    ZSTD_initDStream(ds_);
  }
  ~ZstdDecoder() override { ZSTD_freeDStream(ds_); }

  absl::StatusOr<size_t> Fill(char* dst, size_t cap) override {
    if (failed_) return failed_status_;
    ZSTD_outBuffer out{dst, cap, 0};
    for (;;) {
      absl::StatusOr<bool> more = RefillInput();
      if (!more.ok()) return Fail(more.status());
      ZSTD_inBuffer in{in_.data(), in_end_, in_pos_};
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

class GzipDecoder final : public Decoder {
 public:
  GzipDecoder(int fd, std::string display) : Decoder(fd, std::move(display)) {
    std::memset(&zs_, 0, sizeof(zs_));
    inflateInit2(&zs_, 16 + MAX_WBITS);
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
      zs_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
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

// ---------------------------------------------------------------------------------------
// Record boundaries.

// Returns the end of the first record in data[from, to) (just after its '\n'), or npos.
// For CSV, `in_quotes` carries the quote state across calls; a doubled "" toggles twice
// and so needs no special case.
size_t FirstBoundary(const char* data, size_t from, size_t to, InputFormat format,
                     bool& in_quotes) {
  if (format == InputFormat::kJsonLines) {
    const void* p = std::memchr(data + from, '\n', to - from);
    return p ? static_cast<const char*>(p) - data + 1 : std::string::npos;
  }
  bool q = in_quotes;
  for (size_t i = from; i < to; ++i) {
    char c = data[i];
    if (c == '"') {
      q = !q;
    } else if (c == '\n' && !q) {
      in_quotes = false;
      return i + 1;
    }
  }
  in_quotes = q;
  return std::string::npos;
}

// Splits one CSV record (no line end) into fields, RFC 4180. Quoted fields without ""
// are views into `rec`; others are unescaped into `scratch`, which must have capacity for
// rec.size() bytes so that views stay valid. Returns "" or an error reason.
std::string_view SplitCsv(std::string_view rec, std::vector<std::string_view>& fields,
                          std::string& scratch, bool& unterminated) {
  fields.clear();
  scratch.clear();
  unterminated = false;
  size_t i = 0, n = rec.size();
  for (;;) {
    if (i < n && rec[i] == '"') {
      size_t start = ++i;
      size_t scratch_start = std::string::npos;
      for (;;) {
        const void* q = i < n ? std::memchr(rec.data() + i, '"', n - i) : nullptr;
        if (q == nullptr) {
          unterminated = true;
          return "unterminated quoted CSV field";
        }
        size_t qi = static_cast<const char*>(q) - rec.data();
        if (qi + 1 < n && rec[qi + 1] == '"') {  // escaped quote
          if (scratch_start == std::string::npos) scratch_start = scratch.size();
          scratch.append(rec.data() + start, qi + 1 - start);
          i = start = qi + 2;
          continue;
        }
        if (scratch_start == std::string::npos) {
          fields.push_back(rec.substr(start, qi - start));
        } else {
          scratch.append(rec.data() + start, qi - start);
          fields.push_back(std::string_view(scratch).substr(scratch_start));
        }
        i = qi + 1;
        break;
      }
      if (i == n) return {};
      if (rec[i] != ',') return "invalid CSV: text after a closing quote";
      ++i;
    } else {
      const void* c = i < n ? std::memchr(rec.data() + i, ',', n - i) : nullptr;
      size_t end = c ? static_cast<const char*>(c) - rec.data() : n;
      std::string_view f = rec.substr(i, end - i);
      if (f.find('"') != std::string_view::npos) {
        return "invalid CSV: quote inside an unquoted field";
      }
      fields.push_back(f);
      if (c == nullptr) return {};
      i = end + 1;
    }
  }
}

// ---------------------------------------------------------------------------------------
// InputSource implementation.

class InputSourceImpl final : public InputSource {
 public:
  InputSourceImpl(std::string path, int fd, bool owns_fd, const InputOptions& options)
      : path_(std::move(path)), fd_(fd), owns_fd_(owns_fd), options_(options) {
    display_ = path_ == "-" ? "<stdin>" : path_;
    if (options_.chunk_bytes == 0) options_.chunk_bytes = 1;
    if (options_.max_record_bytes == 0) options_.max_record_bytes = 1;
  }
  ~InputSourceImpl() override {
    if (owns_fd_) ::close(fd_);
  }

  absl::Status Init(uint64_t total) {
    total_ = total;
    // Sniff the magic bytes.
    decoder_ = std::make_unique<RawDecoder>(fd_, display_);
    BONAFIDE_RETURN_IF_ERROR(decoder_->Prime(4));
    std::string_view head = decoder_->buffered();
    Compression c = Compression::kNone;
    if (head.size() >= 4 && std::memcmp(head.data(), "\x28\xB5\x2F\xFD", 4) == 0) {
      c = Compression::kZstd;
    } else if (head.size() >= 2 && std::memcmp(head.data(), "\x1F\x8B", 2) == 0) {
      c = Compression::kGzip;
    }
    if (c != Compression::kNone) {
      // Hand the sniffed bytes over to the real decoder.
      std::unique_ptr<Decoder> d;
      if (c == Compression::kZstd) {
        d = std::make_unique<ZstdDecoder>(fd_, display_);
      } else {
        d = std::make_unique<GzipDecoder>(fd_, display_);
      }
      d->Adopt(*decoder_);
      decoder_ = std::move(d);
    }

    // Format from the name, compression suffix stripped.
    std::string_view name = path_;
    for (std::string_view suffix : {".zst", ".gz"}) {
      if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
        name.remove_suffix(suffix.size());
        break;
      }
    }
    format_ = InputFormat::kJsonLines;
    if (path_ != "-" && name.size() >= 4) {
      std::string ext(name.substr(name.size() - 4));
      for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (ext == ".csv") format_ = InputFormat::kCsv;
    }

    // Skip a UTF-8 BOM (it counts for byte offsets). A decode error this early is kept in
    // pending_error_ and returned by the first Next(), like one further in: a stream that
    // is corrupt from its first bytes is a damaged input, not one that cannot be opened.
    DecodeAtLeast(3).IgnoreError();
    if (carry_.size() >= 3 && std::memcmp(carry_.data(), "\xEF\xBB\xBF", 3) == 0) {
      carry_.erase(0, 3);
      next_offset_ = 3;
    }
    if (format_ == InputFormat::kCsv) BONAFIDE_RETURN_IF_ERROR(ReadCsvHeader());
    return absl::OkStatus();
  }

  absl::StatusOr<bool> Next(InputChunk& chunk) override {
    std::string& d = chunk.data;
    d.clear();
    chunk.ends_input = false;
    chunk.format = format_;
    chunk.csv = csv_;
    chunk.input_index = options_.input_index;
    if (done_) {
      if (!pending_error_.ok()) {
        absl::Status s = pending_error_;
        pending_error_ = absl::OkStatus();
        return s;
      }
      return false;
    }
    const size_t target = options_.chunk_bytes;
    if (d.capacity() < target + kChunkPadding) d.reserve(target + kChunkPadding);
    const size_t max_record = options_.max_record_bytes;
    size_t scanned = 0;                   // d[0, scanned) has been scanned for record ends
    bool in_quotes = false;               // CSV quote state at d[scanned]
    size_t boundary = std::string::npos;  // end of the last complete record in d
    size_t record_start = 0;              // start of the record after `boundary`
    bool at_end = false;                  // the input ended: d is the last chunk
    for (;;) {
      // Walk the complete records among the new bytes; an over-long one is dropped when
      // it starts the chunk, else the chunk is cut before it.
      bool cut = false;
      for (;;) {
        size_t b = FirstBoundary(d.data(), scanned, d.size(), format_, in_quotes);
        if (b == std::string::npos) {
          scanned = d.size();
          break;
        }
        if (b - 1 - record_start > max_record) {
          if (record_start > 0) {
            cut = true;
            break;
          }
          ReportSkipped();
          Advance(d.data(), b);
          d.erase(0, b);
          scanned = 0;
          in_quotes = false;
          continue;
        }
        boundary = record_start = scanned = b;
      }
      if (cut) break;
      if (d.size() - record_start > max_record) {  // the unfinished record is too long
        if (record_start > 0) break;
        SkipLongRecord(d, in_quotes);
        scanned = record_start = 0;
        in_quotes = false;
        boundary = std::string::npos;
        continue;
      }
      if (AtEof()) {
        at_end = true;
        break;
      }
      if (boundary != std::string::npos && d.size() >= target) break;
      ReadMore(d, std::min(d.size() < target ? target - d.size() : target, kReadBytes));
    }
    chunk.first_line = next_line_;
    chunk.first_offset = next_offset_;
    // At the end the last record may lack its '\n'; after a decode error it is lost.
    if (at_end && pending_error_.ok()) boundary = d.size();
    if (boundary == std::string::npos) boundary = 0;
    size_t tail = d.size() - boundary;
    if (tail > 0 && !at_end) {
      carry_.replace(0, carry_pos_, d, boundary, tail);
      carry_pos_ = 0;
    }
    d.resize(boundary);
    if (at_end) {
      done_ = true;
      chunk.ends_input = pending_error_.ok();
    }
    Advance(d.data(), d.size());
    if (at_end && !pending_error_.ok()) {
      // The decoded bytes after the last record boundary are lost with the damage.
      pending_error_ = absl::Status(
          pending_error_.code(), absl::StrCat(pending_error_.message(), " (", next_offset_ + tail,
                                              " bytes decoded; input lost from line ", next_line_,
                                              ", offset ", next_offset_, ")"));
    }
    // Zero the padding so that simdjson never reads uninitialized bytes.
    size_t size = d.size();
    d.append(kChunkPadding, '\0');
    d.resize(size);
    if (d.empty()) {
      if (!pending_error_.ok()) {
        absl::Status s = pending_error_;
        pending_error_ = absl::OkStatus();
        return s;
      }
      return false;
    }
    return true;
  }

  std::vector<SkippedRecord> TakeSkipped() override {
    std::vector<SkippedRecord> out;
    out.swap(skipped_);
    return out;
  }
  uint64_t bytes_consumed() const override { return decoder_ ? decoder_->bytes_consumed() : 0; }
  uint64_t total_bytes() const override { return total_; }
  const std::string& path() const override { return path_; }

 private:
  // Appends up to `want` bytes of input to `d`: first from carry_, then from the decoder.
  // Returns false when both are used up; a decode error is kept in pending_error_ and
  // also ends the input.
  bool ReadMore(std::string& d, size_t want) {
    if (carry_pos_ < carry_.size()) {
      size_t n = std::min(want, carry_.size() - carry_pos_);
      d.append(carry_, carry_pos_, n);
      carry_pos_ += n;
      if (carry_pos_ == carry_.size()) {
        carry_.clear();
        carry_pos_ = 0;
      }
      return true;
    }
    return !decoder_eof_ && Decode(d, want);
  }
  bool AtEof() const { return decoder_eof_ && carry_pos_ == carry_.size(); }

  // Appends up to `want` decoded bytes to `d`; false at the end of the stream or on error.
  bool Decode(std::string& d, size_t want) {
    size_t old = d.size();
    if (d.capacity() < old + want + kChunkPadding) {
      d.reserve(std::max(old + want + kChunkPadding, d.capacity() * 2));
    }
    d.resize(old + want);
    absl::StatusOr<size_t> n = decoder_->Fill(d.data() + old, want);
    if (!n.ok() || *n == 0) {
      d.resize(old);
      if (!n.ok()) pending_error_ = n.status();
      decoder_eof_ = true;
      return false;
    }
    d.resize(old + *n);
    return true;
  }

  // Decodes into carry_ until it holds `n` bytes or the stream ends.
  absl::Status DecodeAtLeast(size_t n) {
    while (carry_.size() < n && !decoder_eof_) Decode(carry_, kReadBytes);
    if (!pending_error_.ok() && carry_.size() < n) return pending_error_;
    return absl::OkStatus();
  }

  void ReportSkipped() {
    skipped_.push_back(
        SkippedRecord{next_line_, next_offset_,
                      absl::StrCat("record exceeds ", options_.max_record_bytes, " bytes")});
  }
  // Moves the position (line, offset) past `n` bytes handed out or dropped.
  void Advance(const char* p, size_t n) {
    next_line_ += CountByte(std::string_view(p, n), '\n');
    next_offset_ += n;
  }

  // d holds the start of an over-long record at d[0] and no record end; `in_quotes` is
  // the CSV quote state at d's end. Reports the record and drops bytes up to its end;
  // afterwards d starts at the next record (or is empty at the end of input).
  void SkipLongRecord(std::string& d, bool in_quotes) {
    ReportSkipped();
    size_t scanned = d.size();
    for (;;) {
      size_t b = FirstBoundary(d.data(), scanned, d.size(), format_, in_quotes);
      if (b != std::string::npos) {
        Advance(d.data(), b);
        d.erase(0, b);
        return;
      }
      Advance(d.data(), d.size());
      d.clear();
      scanned = 0;
      if (!ReadMore(d, kReadBytes)) return;
    }
  }

  absl::Status ReadCsvHeader() {
    bool q = false;
    size_t scanned = 0;
    size_t b = std::string::npos;
    for (;;) {
      b = FirstBoundary(carry_.data(), scanned, carry_.size(), format_, q);
      scanned = carry_.size();
      if (b != std::string::npos || decoder_eof_) break;
      if (carry_.size() > options_.max_record_bytes) {
        return absl::InvalidArgumentError(
            absl::StrCat(display_, ": CSV header exceeds ", options_.max_record_bytes, " bytes"));
      }
      Decode(carry_, kReadBytes);
    }
    if (!pending_error_.ok() && b == std::string::npos) return pending_error_;
    size_t end = b == std::string::npos ? carry_.size() : b;
    std::string_view rec(carry_.data(), end);
    while (!rec.empty() && (rec.back() == '\n' || rec.back() == '\r')) rec.remove_suffix(1);
    if (rec.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(display_, ": missing CSV header row"));
    }
    std::vector<std::string_view> fields;
    std::string scratch;
    scratch.reserve(rec.size());
    bool unterminated = false;
    std::string_view err = SplitCsv(rec, fields, scratch, unterminated);
    if (!err.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(display_, ": CSV header: ", ToAbsl(err)));
    }
    auto schema = std::make_shared<CsvSchema>();
    schema->column_count = static_cast<int>(fields.size());
    for (int i = 0; i < schema->column_count; ++i) {
      std::string_view f = fields[i];
      int* slot = nullptr;
      if (f == "id")
        slot = &schema->id;
      else if (f == "title")
        slot = &schema->title;
      else if (f == "description")
        slot = &schema->description;
      else if (f == "price")
        slot = &schema->price;
      else if (f == "currency")
        slot = &schema->currency;
      else if (f == "seller_id")
        slot = &schema->seller_id;
      else if (f == "category")
        slot = &schema->category;
      else if (f == "condition")
        slot = &schema->condition;
      else if (f == "quantity")
        slot = &schema->quantity;
      else if (f == "images")
        slot = &schema->images;
      else if (f == "marketplace")
        slot = &schema->marketplace;
      if (slot != nullptr && *slot < 0) *slot = i;
    }
    const std::pair<const char*, int> required[] = {{"id", schema->id},
                                                    {"title", schema->title},
                                                    {"price", schema->price},
                                                    {"currency", schema->currency},
                                                    {"seller_id", schema->seller_id}};
    for (const auto& [name, index] : required) {
      if (index < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(display_, ": CSV header lacks required column \"", name, "\""));
      }
    }
    csv_ = std::move(schema);
    next_line_ += static_cast<uint64_t>(std::count(carry_.begin(), carry_.begin() + end, '\n'));
    next_offset_ += end;
    carry_.erase(0, end);
    return absl::OkStatus();
  }

  std::string path_, display_;
  int fd_;
  bool owns_fd_;
  InputOptions options_;
  uint64_t total_ = 0;
  std::unique_ptr<Decoder> decoder_;
  InputFormat format_ = InputFormat::kJsonLines;
  std::shared_ptr<const CsvSchema> csv_;
  // Decoded bytes not yet handed out (carry_[carry_pos_, size)): the part of the last
  // chunk after its final record boundary, or bytes decoded while opening.
  std::string carry_;
  size_t carry_pos_ = 0;
  uint64_t next_line_ = 1;    // line number of the next byte handed out
  uint64_t next_offset_ = 0;  // offset of the next byte handed out
  bool decoder_eof_ = false;  // the decoder is used up (or failed)
  bool done_ = false;
  absl::Status pending_error_;
  std::vector<SkippedRecord> skipped_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<InputSource>> InputSource::Open(std::string_view path,
                                                               const InputOptions& options) {
  std::string p(path);
  int fd = 0;
  bool owns = false;
  uint64_t total = 0;
  if (p != "-") {
    fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      if (e == ENOENT) return absl::NotFoundError(absl::StrCat(p, ": no such file"));
      if (e == EACCES) return absl::PermissionDeniedError(absl::StrCat(p, ": permission denied"));
      return absl::ErrnoToStatus(e, absl::StrCat(p, ": cannot open"));
    }
    owns = true;
  }
  struct stat st;
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      if (owns) ::close(fd);
      return absl::InvalidArgumentError(absl::StrCat(p, ": is a directory"));
    }
    if (S_ISREG(st.st_mode)) {
      total = static_cast<uint64_t>(st.st_size);
#ifdef POSIX_FADV_SEQUENTIAL
      ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
  }
  auto source = std::make_unique<InputSourceImpl>(std::move(p), fd, owns, options);
  BONAFIDE_RETURN_IF_ERROR(source->Init(total));
  return std::unique_ptr<InputSource>(std::move(source));
}

// ---------------------------------------------------------------------------------------
// ChunkParser.

namespace {

enum class Field : uint8_t {
  kUnknown,
  kId,
  kTitle,
  kDescription,
  kPrice,
  kCurrency,
  kSellerId,
  kCategory,
  kCondition,
  kQuantity,
  kImages,
  kMarketplace,
};

constexpr uint32_t Bit(Field f) { return 1u << static_cast<int>(f); }
constexpr uint32_t kRequired = Bit(Field::kId) | Bit(Field::kTitle) | Bit(Field::kPrice) |
                               Bit(Field::kCurrency) | Bit(Field::kSellerId);

const char* FieldName(Field f) {
  switch (f) {
    case Field::kId:
      return "id";
    case Field::kTitle:
      return "title";
    case Field::kDescription:
      return "description";
    case Field::kPrice:
      return "price";
    case Field::kCurrency:
      return "currency";
    case Field::kSellerId:
      return "seller_id";
    case Field::kCategory:
      return "category";
    case Field::kCondition:
      return "condition";
    case Field::kQuantity:
      return "quantity";
    case Field::kImages:
      return "images";
    case Field::kMarketplace:
      return "marketplace";
    case Field::kUnknown:
      break;
  }
  return "?";
}

// Maps an (unescaped) key to a known field.
Field MatchKey(std::string_view k) {
  auto is = [&](const char* name, size_t n) { return std::memcmp(k.data(), name, n) == 0; };
  switch (k.size()) {
    case 2:
      return is("id", 2) ? Field::kId : Field::kUnknown;
    case 5:
      if (is("title", 5)) return Field::kTitle;
      if (is("price", 5)) return Field::kPrice;
      return Field::kUnknown;
    case 6:
      return is("images", 6) ? Field::kImages : Field::kUnknown;
    case 8:
      if (is("currency", 8)) return Field::kCurrency;
      if (is("category", 8)) return Field::kCategory;
      if (is("quantity", 8)) return Field::kQuantity;
      return Field::kUnknown;
    case 9:
      if (is("seller_id", 9)) return Field::kSellerId;
      if (is("condition", 9)) return Field::kCondition;
      return Field::kUnknown;
    case 11:
      if (is("description", 11)) return Field::kDescription;
      if (is("marketplace", 11)) return Field::kMarketplace;
      return Field::kUnknown;
    default:
      return Field::kUnknown;
  }
}

std::string* StringSlot(Listing& l, Field f) {
  switch (f) {
    case Field::kId:
      return &l.id;
    case Field::kTitle:
      return &l.title;
    case Field::kDescription:
      return &l.description;
    case Field::kCurrency:
      return &l.currency;
    case Field::kSellerId:
      return &l.seller_id;
    case Field::kCategory:
      return &l.category;
    case Field::kCondition:
      return &l.condition;
    case Field::kMarketplace:
      return &l.marketplace;
    default:
      return nullptr;
  }
}

bool IsCurrencyCode(std::string_view c) {
  return c.size() == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] >= 'A' &&
         c[2] <= 'Z';
}

// True when `p` stays inside the image root: relative, no ".." component, no backslash
// or NUL.
bool ImagePathStaysInRoot(std::string_view p) {
  // One pass (paths are short; memchr-based finds cost more in calls than they save).
  if (p.front() == '/') return false;
  size_t component_start = 0;
  const size_t n = p.size();
  for (size_t i = 0; i <= n; ++i) {
    const char c = i < n ? p[i] : '/';
    if (c == '/') {
      if (i - component_start == 2 && p[component_start] == '.' && p[component_start + 1] == '.') {
        return false;
      }
      component_start = i + 1;
    } else if (c == '\\' || c == '\0') {
      return false;
    }
  }
  return true;
}

// True when `t` (a raw token, maybe with trailing whitespace) is a JSON number by the
// grammar; used to tell an out-of-range number (1e999) from a malformed one.
bool IsJsonNumber(std::string_view t) {
  while (!t.empty() &&
         (t.back() == ' ' || t.back() == '\t' || t.back() == '\r' || t.back() == '\n')) {
    t.remove_suffix(1);
  }
  size_t i = 0, n = t.size();
  auto digits = [&] {
    size_t s = i;
    while (i < n && t[i] >= '0' && t[i] <= '9') ++i;
    return i > s;
  };
  if (i < n && t[i] == '-') ++i;
  if (i < n && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < n && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

// True when `rec` holds a complete JSON object followed by more than whitespace. A
// light scan (strings and nesting only) for the error path.
bool HasTrailingContent(std::string_view rec) {
  size_t i = 0, n = rec.size();
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < n && ws(rec[i])) ++i;
  if (i == n || rec[i] != '{') return false;
  int depth = 0;
  bool in_string = false;
  for (; i < n; ++i) {
    char c = rec[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) {
        for (++i; i < n; ++i) {
          if (!ws(rec[i])) return true;
        }
        return false;
      }
    }
  }
  return false;
}

}  // namespace

size_t Utf8PrefixLength(std::string_view s, size_t cap) {
  if (s.size() <= cap) return s.size();
  // s[cap] is the first byte cut off; while it is a continuation byte (10xxxxxx) the
  // character it belongs to straddles the cap, so back off to that character's lead
  // byte. A UTF-8 character has at most 3 continuation bytes; the bound also keeps
  // invalid input (rejected elsewhere) from walking far.
  size_t n = cap;
  for (int i = 0; i < 3 && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80; ++i) {
    --n;
  }
  return n;
}

struct ChunkParser::Impl {
  simdjson::ondemand::parser parser;
  std::string padded;              // copy of a record that lacks padding (rare)
  std::vector<std::string> spare;  // recycled image strings (keep their capacity)
  std::vector<std::string_view> csv_fields;
  std::string csv_scratch;
  std::string reason;  // the current record's reject reason, "" if none

  // Per-record state.
  uint32_t seen = 0;

  void Parse(const InputChunk& chunk, ParsedBatch& out);
  // Returns true and leaves `reason` empty when `l` is a valid listing.
  void ParseJson(const char* rec, size_t len, size_t padded_len, Listing& l,
                 bool truncated_candidate);
  void ParseCsv(std::string_view rec, const CsvSchema& schema, Listing& l,
                bool truncated_candidate);
  void FindInvalidUtf8Field(const char* rec, size_t len);

  void ResetListing(Listing& l) {
    seen = 0;
    reason.clear();
    l.id.clear();
    l.title.clear();
    l.description.clear();
    l.price = 0;
    l.currency.clear();
    l.seller_id.clear();
    l.category.clear();
    l.condition.clear();
    l.quantity = 1;
    for (std::string& s : l.images) spare.push_back(std::move(s));
    l.images.clear();
    l.marketplace.assign("default", 7);
    l.truncated_fields = 0;
  }
  // Stores string field `f` into `l`, applying its cap (listing_input.h): identifiers
  // over their cap are a reject (the slot is left as is), other text is truncated at a
  // UTF-8 character boundary and flagged in l.truncated_fields.
  void StoreString(Listing& l, Field f, std::string_view s) {
    size_t cap = kMaxShortFieldBytes;
    uint32_t bit = 0;
    bool identifier = false;
    switch (f) {
      case Field::kId:
      case Field::kSellerId:
        cap = kMaxIdBytes;
        identifier = true;
        break;
      case Field::kMarketplace:
        cap = kMaxMarketplaceBytes;
        identifier = true;
        break;
      case Field::kTitle:
        cap = kMaxTitleBytes;
        bit = Listing::kTruncatedTitle;
        break;
      case Field::kDescription:
        cap = kMaxDescriptionBytes;
        bit = Listing::kTruncatedDescription;
        break;
      case Field::kCategory:
        bit = Listing::kTruncatedCategory;
        break;
      case Field::kCondition:
        bit = Listing::kTruncatedCondition;
        break;
      default:
        break;  // currency: not a 3-letter code is a reject already
    }
    if (s.size() > cap) {
      if (identifier) {
        Fail("field \"", FieldName(f), "\" exceeds ", cap, " bytes");
        return;
      }
      s = s.substr(0, Utf8PrefixLength(s, cap));
      l.truncated_fields |= bit;
    }
    std::string& slot = *StringSlot(l, f);
    // A batch's listing slots are reused chunk after chunk; growing a slot to a power of
    // two (at least 64 bytes) means it soon fits whatever the dump holds, and the steady
    // state stops allocating.
    if (s.size() > slot.capacity()) slot.reserve(std::max<size_t>(64, std::bit_ceil(s.size())));
    slot.assign(s.data(), s.size());
  }
  void AddImage(Listing& l, std::string_view path) {
    if (spare.empty()) {
      l.images.emplace_back(path);
    } else {
      l.images.push_back(std::move(spare.back()));
      spare.pop_back();
      l.images.back().assign(path.data(), path.size());
    }
  }
  // Sets the reject reason unless one is set already (the first problem wins).
  template <typename... Args>
  void Fail(const Args&... args) {
    if (reason.empty()) absl::StrAppend(&reason, args...);
  }
  void FailImagePath(std::string_view p) {
    if (!reason.empty()) return;
    reason.assign("image path escapes the image root: ");
    AppendJsonString(p.substr(0, 256), reason);
  }
  void CheckImage(Listing& l, std::string_view p) {
    if (p.empty()) {
      Fail("image path is empty");
    } else if (!ImagePathStaysInRoot(p)) {
      FailImagePath(p);
    } else if (l.images.size() >= kMaxImages || p.size() > kMaxImagePathBytes) {
      l.truncated_fields |= Listing::kTruncatedImages;  // dropped; see listing_input.h
    } else {
      AddImage(l, p);
    }
  }
  // Checks what only the whole record can tell; call after all fields are seen.
  void Finish(const Listing& l) {
    if (!reason.empty()) return;
    for (Field f : {Field::kId, Field::kTitle, Field::kPrice, Field::kCurrency, Field::kSellerId}) {
      if (!(seen & Bit(f))) {
        Fail("missing required field \"", FieldName(f), "\"");
        return;
      }
    }
    if (l.id.empty()) Fail("field \"id\" must not be empty");
    if (l.seller_id.empty()) Fail("field \"seller_id\" must not be empty");
  }
};

ChunkParser::ChunkParser() : impl_(std::make_unique<Impl>()) {}
ChunkParser::~ChunkParser() = default;

void ChunkParser::Parse(const InputChunk& chunk, ParsedBatch& out) { impl_->Parse(chunk, out); }

void ChunkParser::Impl::Parse(const InputChunk& chunk, ParsedBatch& out) {
  const char* const data = chunk.data.data();
  const size_t size = chunk.data.size();
  // Readable bytes past data + size (the chunk's own padding).
  const size_t readable = chunk.data.capacity();
  const bool csv = chunk.format == InputFormat::kCsv;
  if (csv && chunk.csv == nullptr) {
    // A CSV chunk without its schema is a caller bug; reject everything loudly.
    Reject r;
    r.input_index = chunk.input_index;
    r.line = chunk.first_line;
    r.byte_offset = chunk.first_offset;
    r.reason = "internal: CSV chunk without a header schema";
    out.rejects.push_back(std::move(r));
    return;
  }
  uint64_t line = chunk.first_line;
  size_t pos = 0;
  bool in_quotes = false;
  while (pos < size) {
    // Find the end of this record.
    size_t end;  // just after the record's '\n', or size
    bool terminated;
    size_t b = FirstBoundary(data, pos, size, chunk.format, in_quotes);
    if (b == std::string::npos) {
      end = size;
      terminated = false;
      in_quotes = false;
    } else {
      end = b;
      terminated = true;
    }
    size_t len = end - pos - (terminated ? 1 : 0);
    if (len > 0 && data[pos + len - 1] == '\r') --len;
    const bool truncated_candidate = !terminated && chunk.ends_input;

    if (out.listings_size == out.listings.size()) out.listings.emplace_back();
    Listing& l = out.listings[out.listings_size];
    ResetListing(l);

    const char* rec = data + pos;
    if (csv) {
      ParseCsv(std::string_view(rec, len), *chunk.csv, l, truncated_candidate);
    } else {
      ParseJson(rec, len, readable - pos, l, truncated_candidate);
    }
    if (reason.empty()) {
      l.line_number = line;
      l.byte_offset = chunk.first_offset + pos;
      ++out.listings_size;
    } else {
      Reject& r = out.rejects.emplace_back();
      r.input_index = chunk.input_index;
      r.line = line;
      r.byte_offset = chunk.first_offset + pos;
      r.reason = reason;
      r.listing_id = l.id;
    }
    if (csv) {
      line += CountByte(std::string_view(data + pos, end - pos), '\n');
    } else {
      line += terminated ? 1 : 0;
    }
    pos = end;
  }
}

void ChunkParser::Impl::ParseJson(const char* rec, size_t len, size_t padded_len, Listing& l,
                                  bool truncated_candidate) {
  // Blank lines (spaces and tabs only) are "empty".
  size_t first = 0;
  while (first < len && (rec[first] == ' ' || rec[first] == '\t')) ++first;
  if (first == len) {
    Fail("empty line");
    return;
  }
  if (padded_len < len + simdjson::SIMDJSON_PADDING) {
    padded.assign(rec, len);
    padded.append(simdjson::SIMDJSON_PADDING, '\0');
    rec = padded.data();
    padded_len = padded.size();
  }
  using simdjson::error_code;
  namespace od = simdjson::ondemand;
  auto json_error = [&](error_code e) {
    reason.clear();
    if (HasTrailingContent(std::string_view(rec, len))) {
      reason.assign("trailing content after JSON object");
    } else if (truncated_candidate) {
      reason.assign("truncated last line (no newline at end of input)");
    } else {
      absl::StrAppend(&reason, "invalid JSON: ", simdjson::error_message(e));
    }
  };

  od::document doc;
  error_code err = parser.iterate(rec, len, padded_len).get(doc);
  if (err) {
    if (err == simdjson::UTF8_ERROR) return FindInvalidUtf8Field(rec, len);
    return json_error(err);
  }
  od::json_type type;
  if ((err = doc.type().get(type))) return json_error(err);
  if (type != od::json_type::object) {
    Fail("not a JSON object");
    return;
  }
  od::object obj;
  if ((err = doc.get_object().get(obj))) return json_error(err);
  for (auto field_result : obj) {
    od::field field;
    if ((err = std::move(field_result).get(field))) return json_error(err);
    // Fast key match on the raw key; fall back to unescaping when it has escapes.
    // Stage 1 has checked that the key's closing quote exists, so this loop is bounded;
    // keys are short, and an inline loop beats memchr's call overhead here.
    const char* k = field.key().raw();
    const char* e = k;
    while (*e != '"' && *e != '\\') ++e;
    Field f;
    if (*e == '\\') {
      std::string_view unescaped;
      if ((err = field.unescaped_key().get(unescaped))) return json_error(err);
      f = MatchKey(unescaped);
    } else {
      f = MatchKey(std::string_view(k, static_cast<size_t>(e - k)));
    }
    if (f == Field::kUnknown) continue;  // skipped by the next iteration step
    seen |= Bit(f);
    od::value v = field.value();
    od::json_type vt;
    if ((err = v.type().get(vt))) return json_error(err);
    const bool is_null = vt == od::json_type::null;
    switch (f) {
      case Field::kPrice: {
        if (vt != od::json_type::number) {
          Fail("field \"price\" must be a number");
          break;
        }
        double d;
        if ((err = v.get_double().get(d))) {
          if (IsJsonNumber(v.raw_json_token())) {  // 1e999: valid JSON, not finite
            reason.assign("price must be finite and >= 0");
            return;
          }
          return json_error(err);
        }
        if (!std::isfinite(d) || d < 0) Fail("price must be finite and >= 0");
        l.price = d;
        break;
      }
      case Field::kQuantity: {
        if (is_null) {
          seen &= ~Bit(f);
          break;
        }
        if (vt != od::json_type::number) {
          Fail("field \"quantity\" must be a number");
          break;
        }
        od::number_type nt;
        if ((err = v.get_number_type().get(nt))) return json_error(err);
        if (nt == od::number_type::signed_integer) {
          int64_t q = 0;
          if ((err = v.get_int64().get(q))) return json_error(err);
          if (q < 1) Fail("quantity must be an integer >= 1");
          l.quantity = q;
        } else {
          double d;
          if ((err = v.get_double().get(d))) {
            if (IsJsonNumber(v.raw_json_token())) {
              reason.assign("quantity must be an integer >= 1");
              return;
            }
            return json_error(err);
          }
          // Integral floats (2.0) are accepted; unsigned beyond int64 is not.
          if (!(d >= 1 && d < 9.2e18 && d == std::floor(d))) {
            Fail("quantity must be an integer >= 1");
          } else {
            l.quantity = static_cast<int64_t>(d);
          }
        }
        break;
      }
      case Field::kImages: {
        if (is_null) break;
        if (vt != od::json_type::array) {
          Fail("field \"images\" must be an array of strings");
          break;
        }
        od::array arr;
        if ((err = v.get_array().get(arr))) return json_error(err);
        for (auto el_result : arr) {
          od::value el;
          if ((err = std::move(el_result).get(el))) return json_error(err);
          od::json_type et;
          if ((err = el.type().get(et))) return json_error(err);
          if (et != od::json_type::string) {
            Fail("field \"images\" must be an array of strings");
            continue;
          }
          std::string_view s;
          if ((err = el.get_string().get(s))) {
            if (err == simdjson::STRING_ERROR) {
              Fail("invalid UTF-8 in field \"images\"");
              continue;
            }
            return json_error(err);
          }
          CheckImage(l, s);
        }
        break;
      }
      default: {  // string fields
        if (vt != od::json_type::string) {
          const bool required = (Bit(f) & kRequired) != 0;
          if (is_null && !required) {
            seen &= ~Bit(f);
            break;
          }
          Fail("field \"", FieldName(f), "\" must be a string");
          break;
        }
        std::string_view s;
        if ((err = v.get_string().get(s))) {
          // Invalid escapes (e.g. a lone surrogate \ud800) cannot become UTF-8.
          if (err == simdjson::STRING_ERROR) {
            Fail("invalid UTF-8 in field \"", FieldName(f), "\"");
            break;
          }
          return json_error(err);
        }
        if (f == Field::kCurrency && !IsCurrencyCode(s)) {
          Fail("currency must be a 3-letter ISO 4217 code");
        }
        StoreString(l, f, s);
        break;
      }
    }
  }
  // The object is done; anything but whitespace after it is an error.
  const char* loc = nullptr;
  err = doc.current_location().get(loc);
  if (err != simdjson::OUT_OF_BOUNDS) {
    if (truncated_candidate) return json_error(simdjson::TAPE_ERROR);
    reason.assign("trailing content after JSON object");
    return;
  }
  Finish(l);
}

// simdjson validates UTF-8 for the whole record; find which top-level field holds the
// first bad byte so that the reason names it. Rare path: copies the record.
void ChunkParser::Impl::FindInvalidUtf8Field(const char* rec, size_t len) {
  std::string_view r(rec, len);
  // Offset of the first invalid byte: shrink a valid prefix by bisection would be costly
  // to get right; a linear decode is fine on this rare path.
  size_t bad = len;
  for (size_t i = 0; i < len;) {
    unsigned char c = static_cast<unsigned char>(rec[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > len || !simdjson::validate_utf8(rec + i, n)) {
      bad = i;
      break;
    }
    i += n;
  }
  // Replace every non-ASCII byte by 'x' (never structural) and walk the fields.
  std::string copy(r);
  for (char& c : copy) {
    if (static_cast<unsigned char>(c) >= 0x80) c = 'x';
  }
  copy.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::parser p;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  std::string_view name;
  if (!p.iterate(copy.data(), len, copy.size()).get(doc) && !doc.get_object().get(obj)) {
    for (auto fr : obj) {
      simdjson::ondemand::field field;
      if (std::move(fr).get(field)) break;
      const char* k = field.key().raw();
      size_t at = static_cast<size_t>(k - copy.data());
      if (at > bad) break;
      const char* kq = static_cast<const char*>(std::memchr(k, '"', copy.data() + len - k));
      if (kq == nullptr) break;
      name = std::string_view(rec + at, static_cast<size_t>(kq - k));
    }
  }
  reason.clear();
  if (name.empty() || !simdjson::validate_utf8(name.data(), name.size())) {
    reason.assign("invalid JSON: ");
    reason.append(simdjson::error_message(simdjson::UTF8_ERROR));
    return;
  }
  reason.assign("invalid UTF-8 in field \"");
  reason.append(name);
  reason.push_back('"');
}

void ChunkParser::Impl::ParseCsv(std::string_view rec, const CsvSchema& schema, Listing& l,
                                 bool truncated_candidate) {
  if (rec.empty()) {
    Fail("empty line");
    return;
  }
  if (csv_scratch.capacity() < rec.size()) csv_scratch.reserve(rec.size());
  bool unterminated = false;
  std::string_view err = SplitCsv(rec, csv_fields, csv_scratch, unterminated);
  if (!err.empty()) {
    if (unterminated && truncated_candidate) {
      Fail("truncated last line (no newline at end of input)");
    } else {
      Fail(ToAbsl(err));
    }
    return;
  }
  if (static_cast<int>(csv_fields.size()) != schema.column_count) {
    Fail("CSV row has ", csv_fields.size(), " fields, header has ", schema.column_count);
    return;
  }
  const bool valid_utf8 = simdjson::validate_utf8(rec.data(), rec.size());
  auto get = [&](int index) -> std::string_view {
    return index < 0 ? std::string_view() : csv_fields[index];
  };
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  const std::pair<Field, int> strings[] = {{Field::kId, schema.id},
                                           {Field::kTitle, schema.title},
                                           {Field::kDescription, schema.description},
                                           {Field::kCurrency, schema.currency},
                                           {Field::kSellerId, schema.seller_id},
                                           {Field::kCategory, schema.category},
                                           {Field::kCondition, schema.condition},
                                           {Field::kMarketplace, schema.marketplace}};
  for (const auto& [f, index] : strings) {
    std::string_view s = get(index);
    if (s.empty()) continue;  // an empty cell is an absent value
    seen |= Bit(f);
    if (!valid_utf8 && !simdjson::validate_utf8(s.data(), s.size())) {
      Fail("invalid UTF-8 in field \"", FieldName(f), "\"");
      continue;
    }
    if (f == Field::kCurrency && !IsCurrencyCode(s)) {
      Fail("currency must be a 3-letter ISO 4217 code");
    }
    StoreString(l, f, s);
  }
  if (std::string_view s = get(schema.price); !s.empty()) {
    seen |= Bit(Field::kPrice);
    s = trim(s);
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (s.empty() || ec == std::errc::invalid_argument || p != s.data() + s.size()) {
      Fail("field \"price\" must be a number");
    } else if (ec == std::errc::result_out_of_range || !std::isfinite(d) || d < 0) {
      Fail("price must be finite and >= 0");
    } else {
      l.price = d;
    }
  }
  if (std::string_view s = get(schema.quantity); !s.empty()) {
    s = trim(s);
    int64_t q = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), q);
    if (ec == std::errc() && p == s.data() + s.size()) {
      if (q < 1) Fail("quantity must be an integer >= 1");
      l.quantity = q;
    } else {
      double d = 0;
      auto [p2, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (ec2 == std::errc() && p2 == s.data() + s.size() && d >= 1 && d < 9.2e18 &&
          d == std::floor(d)) {
        l.quantity = static_cast<int64_t>(d);
      } else {
        Fail("quantity must be an integer >= 1");
      }
    }
  }
  if (std::string_view s = get(schema.images); !s.empty()) {
    if (!valid_utf8 && !simdjson::validate_utf8(s.data(), s.size())) {
      Fail("invalid UTF-8 in field \"images\"");
    } else {
      size_t start = 0;
      for (;;) {
        size_t bar = s.find('|', start);
        CheckImage(l, s.substr(start, bar == std::string_view::npos ? std::string_view::npos
                                                                    : bar - start));
        if (bar == std::string_view::npos) break;
        start = bar + 1;
      }
    }
  }
  Finish(l);
}

}  // namespace bonafide::engine
