// Reading listings from dumps: JSON Lines or CSV, plain, .zst or .gz, files or stdin.
//
// Reading is split in two so that parsing runs in the parallel stage of the pipeline:
//
//   auto source = InputSource::Open("dump.jsonl.zst", {});      // serial side
//   InputChunk chunk;
//   ChunkParser parser;                                          // one per worker
//   while (*source->Next(chunk)) {
//     parser.Parse(chunk, batch);                                // parallel side
//   }
//
// InputSource hands out chunks of about 1 MiB that start and end on record boundaries
// (newlines; for CSV, newlines outside quotes). ChunkParser turns every record of a chunk
// into either a Listing or a Reject, so for every chunk
//   records = batch.listings_size + batch.rejects.size().
// Nothing is skipped silently: empty lines, invalid JSON, wrong types, missing fields,
// negative or non-finite prices, image paths that escape the image root, over-long
// records, unbalanced CSV quotes and a truncated last line all become rejects with a
// reason and their place. Fields are capped as engine/listing_fields.h says.
//
// The code is split by job: input_decoder (raw / zstd / gzip), record_framing (this
// InputSource), listing_fields (the schema table), json_listing_parser and
// csv_listing_parser (one record each), listing_builder and listing_validation (the
// field checks, shared with ValidateListing), and listing_input.cc (ChunkParser).
#ifndef BONAFIDE_ENGINE_LISTING_INPUT_H_
#define BONAFIDE_ENGINE_LISTING_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "bonafide/listing.h"

namespace bonafide::engine {

struct CsvSchema;  // engine/csv_listing_parser.h

// Bytes guaranteed readable past the end of a chunk's data (simdjson needs 64).
inline constexpr size_t kChunkPadding = 64;

// A run of whole records of one input. Reused between calls (capacity kept).
struct InputChunk {
  std::string data;           // data.size() is the payload; capacity >= size + kChunkPadding
  uint64_t first_line = 1;    // 1-based line number of data[0]
  uint64_t line_ends = 0;     // '\n' bytes in data: the line after it is first_line + line_ends
  uint64_t first_offset = 0;  // offset of data[0] in the (decompressed) input
  // True when this is the input's last chunk. A final record without a line end is then
  // parsed as usual; if it is not a valid record it is rejected as a truncated last line.
  bool ends_input = false;
  InputFormat format = InputFormat::kJsonLines;  // kJsonLines or kCsv, never kAuto
  std::shared_ptr<const CsvSchema> csv;          // set for kCsv
  int input_index = 0;                           // which of the scan's inputs (for rejects)
};

struct InputOptions {
  InputFormat format = InputFormat::kAuto;  // kAuto: by the file name (bonafide/listing.h)
  size_t chunk_bytes = 1 << 20;             // target chunk size (1 MiB)
  // A record longer than this is rejected ("record exceeds N bytes") and skipped without
  // being held in memory whole (8 MiB). It also bounds a CSV quoted field that never
  // closes (see InputSource).
  size_t max_record_bytes = 8 << 20;
  int input_index = 0;
};

// Reads one input sequentially. One per input; not thread-safe; not copyable.
//
// CSV framing: a quoted field may span lines, so a record ends at a newline outside
// quotes. A quote that never closes would make the rest of the input one record; so a
// record still inside quotes at the end of input, or after max_record_bytes, ends at its
// first line end instead and is rejected as "unbalanced quote", and reading resumes on the
// next line. (A record whose first line is the input's last is left to the parser: a
// truncated last line.)
class InputSource {
 public:
  // Opens `path`; "-" is standard input. Compression (.zst, .gz) is detected from the
  // magic bytes; the format is options.format, or for kAuto from the name. A leading
  // UTF-8 BOM is skipped. For CSV the header row is read here. Returns NotFound /
  // PermissionDenied / InvalidArgument (a directory; a bad CSV header, naming the
  // missing required column and what the header looks like instead) with the path in the
  // message.
  static absl::StatusOr<std::unique_ptr<InputSource>> Open(std::string_view path,
                                                           const InputOptions& options);
  virtual ~InputSource() = default;

  // Fills `chunk` with the next records. Returns false (and leaves `chunk` empty) at the
  // end of input. Returns DataLoss for a corrupt or truncated compressed stream (records
  // decoded before the damage are still returned first; the partial record at the damage
  // is dropped and the message names the line and offset where input was lost), or an
  // I/O error. The chunk's capacity is at least size + kChunkPadding and the padding
  // bytes are zeroed.
  virtual absl::StatusOr<bool> Next(InputChunk& chunk) = 0;

  // Records that the source rejected itself (over-long records, unbalanced CSV quotes)
  // since the last call; drained by the caller after each Next(), including the last one
  // (that returns false or an error). Such a record is never inside a chunk: the chunk
  // before it ends where it starts, so results do not depend on chunk_bytes.
  struct SkippedRecord {
    uint64_t line = 0, byte_offset = 0;
    std::string reason;        // e.g. "record exceeds 8388608 bytes"
    std::string reason_class;  // what the scan summary counts it by (see Reject)
  };
  virtual std::vector<SkippedRecord> TakeSkipped() = 0;

  // The format the input is read as (kJsonLines or kCsv).
  virtual InputFormat format() const = 0;
  // What the input's first line looks like: kJsonLines when it starts with '{', kCsv
  // when it holds a ',', ';' or tab and does not, kAuto when neither. For a hint when
  // every record is rejected.
  virtual InputFormat apparent_format() const = 0;
  // Bytes consumed so far from the underlying file (compressed bytes for .zst/.gz), for
  // progress. Total size (0 when unknown, e.g. stdin).
  virtual uint64_t bytes_consumed() const = 0;
  virtual uint64_t total_bytes() const = 0;
  virtual const std::string& path() const = 0;
};

struct Reject {
  int input_index = 0;
  uint64_t line = 0;         // 1-based
  uint64_t byte_offset = 0;  // 0-based
  std::string reason;        // the message, e.g. "invalid JSON: TAPE_ERROR: ..."
  // What the scan summary counts the reject by: the message without the record's
  // details ("invalid JSON", "image path escapes the image root"), or the whole message
  // when it has none (`missing required field "price"`). Set where the reject is made.
  std::string reason_class;
  std::string listing_id;  // when known
};

// Listings and rejects from one chunk, in input order within each vector.
// Reused between chunks: `listings` elements are recycled (only the first
// `listings_size` are valid) so that parsing allocates nothing in the steady state.
struct ParsedBatch {
  std::vector<Listing> listings;
  size_t listings_size = 0;
  std::vector<Reject> rejects;

  void Clear() {
    listings_size = 0;
    rejects.clear();
  }
};

// Parses chunks into listings. One per worker thread (holds the simdjson parser); not
// thread-safe; not copyable.
class ChunkParser {
 public:
  ChunkParser();
  ~ChunkParser();
  ChunkParser(const ChunkParser&) = delete;
  ChunkParser& operator=(const ChunkParser&) = delete;

  // Appends every record of `chunk` to `out` as a listing or a reject (JSON Lines and
  // CSV rules: engine/json_listing_parser.h, engine/csv_listing_parser.h). Does not
  // allocate once warm (strings keep their capacity, image strings are recycled), except
  // for reject reasons. If `chunk.data` lacks kChunkPadding readable bytes, records near
  // its end are copied into a padded buffer.
  void Parse(const InputChunk& chunk, ParsedBatch& out);

  // Where ParseSome stopped in a chunk; a fresh cursor starts at the chunk's beginning.
  struct Cursor {
    size_t pos = 0;      // offset in chunk.data of the next record
    uint64_t lines = 0;  // lines before it in the chunk
  };
  // Parse, a few records at a time: appends the records of `chunk` from `cursor` on, at
  // most `max_records` of them, and moves `cursor` past them. Returns false once the chunk
  // is done. For a caller that judges a few listings at a time in the same few Listing
  // objects, whose text then stays in the CPU's cache.
  bool ParseSome(const InputChunk& chunk, ParsedBatch& out, Cursor& cursor, size_t max_records);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_LISTING_INPUT_H_
