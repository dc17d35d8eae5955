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
// Fields are capped (kMaxTitleBytes and the others below); over-cap text is truncated
// and flagged in Listing::truncated_fields, over-cap identifiers are rejects.
// Nothing is skipped silently: empty lines, invalid JSON, wrong types, missing fields,
// negative or non-finite prices, image paths that escape the image root, over-long records
// and a truncated last line all become rejects with a reason and their place.
#ifndef BONAFIDE_ENGINE_LISTING_INPUT_H_
#define BONAFIDE_ENGINE_LISTING_INPUT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "bonafide/listing.h"

namespace bonafide::engine {

enum class InputFormat { kJsonLines, kCsv };

// Bytes guaranteed readable past the end of a chunk's data (simdjson needs 64).
inline constexpr size_t kChunkPadding = 64;

// Column positions of a CSV header; shared read-only by all chunks of one input.
struct CsvSchema {
  // Index of each known column in the header, or -1. Unknown columns are ignored.
  int id = -1, title = -1, description = -1, price = -1, currency = -1, seller_id = -1,
      category = -1, condition = -1, quantity = -1, images = -1, marketplace = -1;
  int column_count = 0;
};

// A run of whole records of one input. Reused between calls (capacity kept).
struct InputChunk {
  std::string data;           // data.size() is the payload; capacity >= size + kChunkPadding
  uint64_t first_line = 1;    // 1-based line number of data[0]
  uint64_t first_offset = 0;  // offset of data[0] in the (decompressed) input
  // True when this is the input's last chunk. A final record without a line end is then
  // parsed as usual; if it is not a valid record it is rejected as a truncated last line.
  bool ends_input = false;
  InputFormat format = InputFormat::kJsonLines;
  std::shared_ptr<const CsvSchema> csv;  // set for kCsv
  int input_index = 0;                   // which of the scan's inputs (for rejects)
};

// Per-field caps, applied by ChunkParser to JSON Lines and CSV alike, so that a listing
// stays small even when its record is below max_record_bytes (8 MiB). Sizes are in bytes
// of UTF-8, after JSON unescaping / CSV unquoting. The rule (docs/design.md, "Limits"):
//  - title, description, category, condition: a longer value is truncated to the cap at
//    a UTF-8 character boundary (a multi-byte character that would straddle the cap is
//    dropped whole, so the value may end up to 3 bytes shorter than the cap), the bit of
//    the field is set in Listing::truncated_fields, and the listing is still scanned.
//  - id, seller_id, marketplace: identifiers are never truncated (cutting them could
//    merge distinct listings, sellers or case keys); a longer one is a reject,
//    `field "id" exceeds 1024 bytes`.
//  - currency: anything but a 3-letter code is a reject already, so it never reaches
//    its cap.
//  - images: at most kMaxImages paths are kept (later ones are dropped); a path longer
//    than kMaxImagePathBytes is dropped too (a cut path names a different file). Either
//    sets Listing::kTruncatedImages. Dropped paths are still checked: an empty path or
//    one that escapes the image root is a reject wherever it appears in the list.
//
// Why these values: marketplaces cap titles at a few hundred characters (eBay 80, Amazon
// 200), so 4 KiB never cuts a real title yet keeps matching cost small; 64 KiB holds any
// real description; real ids, codes and image paths are tens of bytes, so 1 KiB only
// stops abuse. Worst case per listing: 4 + 64 + 6 x 1 + 32 x 1 KiB = 106 KiB, against
// up to 8 MiB before the caps.
inline constexpr size_t kMaxTitleBytes = 4 << 10;
inline constexpr size_t kMaxDescriptionBytes = 64 << 10;
inline constexpr size_t kMaxIdBytes = 1 << 10;           // id, seller_id: reject above
inline constexpr size_t kMaxMarketplaceBytes = 1 << 10;  // reject above
inline constexpr size_t kMaxShortFieldBytes = 1 << 10;   // currency, category, condition
inline constexpr size_t kMaxImages = 32;
inline constexpr size_t kMaxImagePathBytes = 1 << 10;

// Returns the length of the longest prefix of the UTF-8 text `s` that is at most `cap`
// bytes and does not split a multi-byte character (s.size() when it fits already).
size_t Utf8PrefixLength(std::string_view s, size_t cap);

struct InputOptions {
  size_t chunk_bytes = 1 << 20;  // target chunk size (1 MiB)
  // A record longer than this is rejected ("record exceeds N bytes") and skipped without
  // being held in memory whole (8 MiB).
  size_t max_record_bytes = 8 << 20;
  int input_index = 0;
};

// Reads one input sequentially. One per input; not thread-safe.
class InputSource {
 public:
  // Opens `path`; "-" is standard input. Compression (.zst, .gz) is detected from the
  // magic bytes; the format from the name with any .zst/.gz stripped: ".csv" is CSV,
  // anything else JSON Lines. A leading UTF-8 BOM is skipped. For CSV the header row is
  // read here. Returns NotFound / PermissionDenied / InvalidArgument (bad CSV header,
  // naming the missing required column) with the path in the message.
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

  // Records (over-long ones) that the source skipped itself since the last call, reported
  // as rejects; drained by the caller after each Next(), including the last one (that
  // returns false or an error). An over-long record is never inside a chunk: the chunk
  // before it ends where it starts, so results do not depend on chunk_bytes.
  struct SkippedRecord {
    uint64_t line = 0, byte_offset = 0;
    std::string reason;
  };
  virtual std::vector<SkippedRecord> TakeSkipped() = 0;

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
  std::string reason;        // e.g. "missing required field \"price\""
  std::string listing_id;    // when known
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

// Parses chunks into listings. One per worker thread (holds the simdjson parser).
class ChunkParser {
 public:
  ChunkParser();
  ~ChunkParser();
  ChunkParser(const ChunkParser&) = delete;
  ChunkParser& operator=(const ChunkParser&) = delete;

  // Appends every record of `chunk` to `out` as a listing or a reject.
  //
  // JSON: unknown fields are ignored (and only skipped, not fully validated); `null` for
  // an optional field means absent; `id` and `seller_id` must not be empty; keys are
  // matched exactly (escaped keys are unescaped first). CSV: an empty cell is an absent
  // value. Field caps (kMaxTitleBytes etc.) are applied as described above. Does not
  // allocate once warm (strings keep their capacity, image strings are
  // recycled), except for reject reasons. If `chunk.data` lacks kChunkPadding readable
  // bytes, records near its end are copied into a padded buffer.
  void Parse(const InputChunk& chunk, ParsedBatch& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_LISTING_INPUT_H_
