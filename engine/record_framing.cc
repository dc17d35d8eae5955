// InputSource: reads one input and hands out chunks that end on record boundaries.
//
// Data flow:
//   fd --read(2), 1 MiB--> InputDecoder (raw | zstd | gzip) --Fill()--> chunk.data
//   chunk.data = carry-over of the previous call + newly decoded bytes, cut at the last
//   record boundary; the bytes after it become the next carry-over.
#include "engine/record_framing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "engine/csv_listing_parser.h"
#include "engine/input_decoder.h"
#include "engine/listing_input.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide::engine {

size_t FindRecordEnd(const char* data, size_t from, size_t to, bool csv_quotes, bool& in_quotes) {
  if (!csv_quotes) {
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

namespace {

constexpr size_t kReadBytes = 1 << 20;  // decoded bytes asked for at a time
constexpr std::string_view kUnbalancedQuote = "unbalanced quote";

// The format a path's name calls for: ".csv" before any ".zst"/".gz" is CSV.
InputFormat FormatFromName(std::string_view path) {
  if (path == "-") return InputFormat::kJsonLines;
  std::string_view name = path;
  for (std::string_view suffix : {".zst", ".gz"}) {
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      name.remove_suffix(suffix.size());
      break;
    }
  }
  if (name.size() < 4) return InputFormat::kJsonLines;
  std::string ext(name.substr(name.size() - 4));
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".csv" ? InputFormat::kCsv : InputFormat::kJsonLines;
}

// What a first line looks like (InputSource::apparent_format()).
InputFormat ApparentFormat(std::string_view text) {
  std::string_view line = text.substr(0, text.find('\n'));
  const size_t first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return InputFormat::kAuto;
  if (line[first] == '{') return InputFormat::kJsonLines;
  if (line.find_first_of(",;\t") != std::string_view::npos) return InputFormat::kCsv;
  return InputFormat::kAuto;
}

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
    BONAFIDE_ASSIGN_OR_RETURN(decoder_, InputDecoder::Open(fd_, display_));
    format_ = options_.format == InputFormat::kAuto ? FormatFromName(path_) : options_.format;

    // Skip a UTF-8 BOM (it counts for byte offsets). A decode error this early is kept in
    // pending_error_ and returned by the first Next(), like one further in: a stream that
    // is corrupt from its first bytes is a damaged input, not one that cannot be opened.
    DecodeAtLeast(3).IgnoreError();
    if (carry_.size() >= 3 && std::memcmp(carry_.data(), "\xEF\xBB\xBF", 3) == 0) {
      carry_.erase(0, 3);
      next_offset_ = 3;
    }
    apparent_format_ = ApparentFormat(carry_);
    if (format_ == InputFormat::kCsv) BONAFIDE_RETURN_IF_ERROR(ReadCsvHeader());
    return absl::OkStatus();
  }

  absl::StatusOr<bool> Next(InputChunk& chunk) override {
    std::string& d = chunk.data;
    d.clear();
    chunk.line_ends = 0;
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
    const bool csv_quotes = format_ == InputFormat::kCsv;
    size_t scanned = 0;                   // d[0, scanned) has been scanned for record ends
    bool in_quotes = false;               // CSV quote state at d[scanned]
    size_t boundary = std::string::npos;  // end of the last complete record in d
    size_t record_start = 0;              // start of the record after `boundary`
    uint64_t records = 0;                 // complete records in d[0, boundary)
    bool at_end = false;                  // the input ended: d is the last chunk
    for (;;) {
      // Walk the complete records among the new bytes; an over-long one is dropped when
      // it starts the chunk, else the chunk is cut before it.
      bool cut = false;
      for (;;) {
        size_t b = FindRecordEnd(d.data(), scanned, d.size(), csv_quotes, in_quotes);
        if (b == std::string::npos) {
          scanned = d.size();
          break;
        }
        if (b - 1 - record_start > max_record) {
          if (record_start > 0) {
            cut = true;
            break;
          }
          DropOverLongRecord(d);
          scanned = 0;
          in_quotes = false;
          records = 0;
          continue;
        }
        boundary = record_start = scanned = b;
        ++records;
      }
      if (cut) break;
      if (d.size() - record_start > max_record) {  // the unfinished record is too long
        if (record_start > 0) break;
        DropOverLongRecord(d);
        scanned = record_start = 0;
        in_quotes = false;
        boundary = std::string::npos;
        records = 0;
        continue;
      }
      // At the end of input (not through damage) the unfinished record is inside a
      // quoted field that never closes: unless its first line is all there is, that line
      // is the broken record; drop it and go on with the next.
      if (in_quotes && AtEof() && pending_error_.ok()) {
        const size_t line_end = d.find('\n', record_start);
        if (line_end != std::string::npos) {
          if (record_start > 0) break;  // hand out the records before it first
          Report(std::string(kUnbalancedQuote));
          Advance(d.data(), line_end + 1);
          d.erase(0, line_end + 1);
          scanned = record_start = 0;
          in_quotes = false;
          boundary = std::string::npos;
          records = 0;
          continue;
        }
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
    if (csv_quotes) {
      Advance(d.data(), d.size());  // a quoted field may hold line ends
    } else {
      // Each record found ends with the chunk's only line ends (a last record without
      // one adds none): counted as they were found, not by reading the chunk again.
      next_line_ += records;
      next_offset_ += d.size();
    }
    chunk.line_ends = next_line_ - chunk.first_line;
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
  InputFormat format() const override { return format_; }
  InputFormat apparent_format() const override { return apparent_format_; }
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
    // Sized by what the decoder can deliver: resize() zeroes what it adds.
    const size_t bound = decoder_->FillBound(want);
    if (bound == 0 && want > 0) {  // the end of the input
      decoder_eof_ = true;
      return false;
    }
    want = bound;
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

  // Reports the record at the current position as rejected (the reason has no details:
  // it is its own class).
  void Report(std::string reason) {
    std::string reason_class = reason;
    skipped_.push_back(
        SkippedRecord{next_line_, next_offset_, std::move(reason), std::move(reason_class)});
  }
  void ReportTooLong() {
    Report(absl::StrCat("record exceeds ", options_.max_record_bytes, " bytes"));
  }
  // Moves the position (line, offset) past `n` bytes handed out or dropped.
  void Advance(const char* p, size_t n) {
    next_line_ += CountByte(std::string_view(p, n), '\n');
    next_offset_ += n;
  }

  // d holds an over-long record at d[0] (its end, if there, is past max_record_bytes).
  // Rejects it and drops it; afterwards d starts at the next record (or is empty at the
  // end of input). A CSV record still inside a quoted field at its cap is taken as an
  // unbalanced quote: it ends at its first line end (rejected as "unbalanced quote" when
  // that line is within the cap). The decision depends only on the record's first
  // max_record_bytes + 1 bytes, so results do not depend on how the input was read.
  void DropOverLongRecord(std::string& d) {
    const size_t max_record = options_.max_record_bytes;
    bool ignore_quotes = false;
    if (format_ == InputFormat::kCsv) {
      bool in_quotes = false;  // the quote state after the first max_record + 1 bytes
      FindRecordEnd(d.data(), 0, max_record + 1, /*csv_quotes=*/true, in_quotes);
      if (in_quotes) {
        const void* nl = std::memchr(d.data(), '\n', max_record + 1);
        if (nl != nullptr) {
          Report(std::string(kUnbalancedQuote));
          const size_t line_end = static_cast<const char*>(nl) - d.data() + 1;
          Advance(d.data(), line_end);
          d.erase(0, line_end);
          return;
        }
        ignore_quotes = true;
      }
    }
    ReportTooLong();
    const bool csv_quotes = format_ == InputFormat::kCsv && !ignore_quotes;
    bool in_quotes = false;
    for (;;) {
      size_t b = FindRecordEnd(d.data(), 0, d.size(), csv_quotes, in_quotes);
      if (b != std::string::npos) {
        Advance(d.data(), b);
        d.erase(0, b);
        return;
      }
      Advance(d.data(), d.size());
      d.clear();
      if (!ReadMore(d, kReadBytes)) return;
    }
  }

  absl::Status ReadCsvHeader() {
    bool q = false;
    size_t scanned = 0;
    size_t b = std::string::npos;
    for (;;) {
      b = FindRecordEnd(carry_.data(), scanned, carry_.size(), /*csv_quotes=*/true, q);
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
    absl::StatusOr<std::shared_ptr<const CsvSchema>> schema = CsvSchema::FromHeader(rec);
    if (!schema.ok()) {
      return absl::Status(schema.status().code(),
                          absl::StrCat(display_, ": ", schema.status().message()));
    }
    csv_ = *std::move(schema);
    next_line_ += CountByte(std::string_view(carry_.data(), end), '\n');
    next_offset_ += end;
    carry_.erase(0, end);
    return absl::OkStatus();
  }

  std::string path_, display_;
  int fd_;
  bool owns_fd_;
  InputOptions options_;
  uint64_t total_ = 0;
  std::unique_ptr<InputDecoder> decoder_;
  InputFormat format_ = InputFormat::kJsonLines;
  InputFormat apparent_format_ = InputFormat::kAuto;
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

}  // namespace bonafide::engine
