// Fuzz target: the listing reader and parser (engine/listing_input.h).
//
// The input is used three ways:
//   1. as one JSON Lines chunk for ChunkParser (the last chunk of an input);
//   2. as one CSV chunk, with a fixed header of every known column;
//   3. as a file read through InputSource (as .jsonl and as .csv: header from the data),
//      with tiny chunks and a small max_record_bytes so that chunk cuts, carry-over and
//      over-long records are exercised, every chunk parsed by ChunkParser.
// Invariants: no crash or sanitizer report; every record becomes exactly one listing or
// reject (records = listings + rejects, counted independently of the reader); line
// numbers stay within the input; every listing passes ValidateListing, and the fields
// it checks are checked here independently too; every reject has a reason and a class
// that starts it.
#include <stddef.h>
#include <stdint.h>

#include <cmath>
#include <memory>
#include <string>
#include <string_view>

#include "engine/csv_listing_parser.h"
#include "engine/listing_input.h"
#include "engine/record_framing.h"
#include "tests/fuzz/fuzz_check.h"

namespace bonafide::fuzz {
namespace {

using engine::ChunkParser;
using engine::CsvSchema;
using engine::InputChunk;
using engine::InputOptions;
using engine::InputSource;
using engine::ParsedBatch;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Records in `data` as the reader splits them: at '\n' (for CSV, outside double quotes),
// plus a final record without a line end.
uint64_t CountRecords(std::string_view data, InputFormat format) {
  uint64_t records = 0;
  bool in_quotes = false;
  size_t start = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    if (format == InputFormat::kCsv && data[i] == '"') {
      in_quotes = !in_quotes;
    } else if (data[i] == '\n' && !in_quotes) {
      ++records;
      in_quotes = false;
      start = i + 1;
    }
  }
  return records + (start < data.size() ? 1 : 0);
}

// Records in `data` as InputSource frames them, with a record cap of `max_record`
// bytes: as CountRecords, except that a CSV record still inside quotes at the end of
// input, or over the cap while inside quotes at its (max_record + 1)th byte, ends at its
// first line end (an "unbalanced quote").
uint64_t CountSourceRecords(std::string_view data, bool csv, size_t max_record) {
  uint64_t records = 0;
  size_t pos = 0;
  const size_t n = data.size();
  while (pos < n) {
    ++records;
    const size_t cap_end = pos + max_record + 1;
    bool q = false, q_at_cap = false;
    size_t end = std::string_view::npos;  // the quote-aware record end ('\n')
    for (size_t i = pos; i < n; ++i) {
      if (i == cap_end) q_at_cap = q;
      if (csv && data[i] == '"') {
        q = !q;
      } else if (data[i] == '\n' && !q) {
        end = i;
        break;
      }
    }
    const size_t first_line_end = data.find('\n', pos);
    const size_t after_line = first_line_end == std::string_view::npos ? n : first_line_end + 1;
    const size_t length = (end == std::string_view::npos ? n : end) - pos;
    if (length > max_record) {
      pos = csv && q_at_cap ? after_line : (end == std::string_view::npos ? n : end + 1);
    } else if (end == std::string_view::npos) {
      pos = csv && q ? after_line : n;
    } else {
      pos = end + 1;
    }
  }
  return records;
}

uint64_t CountLines(std::string_view data) {
  uint64_t lines = 1;
  for (char c : data) lines += c == '\n';
  return lines;
}

// True when `p` has a ".." component, is absolute, or holds a backslash or NUL.
bool EscapesRoot(std::string_view p) {
  if (p.empty() || p[0] == '/') return true;
  if (p.find('\\') != std::string_view::npos || p.find('\0') != std::string_view::npos) {
    return true;
  }
  size_t start = 0;
  for (;;) {
    const size_t slash = p.find('/', start);
    if (p.substr(start, slash == std::string_view::npos ? slash : slash - start) == "..") {
      return true;
    }
    if (slash == std::string_view::npos) return false;
    start = slash + 1;
  }
}

void CheckBatch(const ParsedBatch& batch, uint64_t max_line) {
  for (size_t i = 0; i < batch.listings_size; ++i) {
    const Listing& l = batch.listings[i];
    BONAFIDE_FUZZ_CHECK(!l.id.empty() && !l.seller_id.empty(), "listing without id/seller");
    BONAFIDE_FUZZ_CHECK(std::isfinite(l.price) && l.price >= 0, "price %g", l.price);
    BONAFIDE_FUZZ_CHECK(l.quantity >= 1, "quantity %lld", static_cast<long long>(l.quantity));
    BONAFIDE_FUZZ_CHECK(l.currency.size() == 3, "currency '%s'", l.currency.c_str());
    for (const std::string& image : l.images) {
      BONAFIDE_FUZZ_CHECK(!EscapesRoot(image), "image path '%s' escapes", image.c_str());
    }
    const absl::Status valid = ValidateListing(l);
    BONAFIDE_FUZZ_CHECK(valid.ok(), "a listing fails ValidateListing: %s",
                        std::string(valid.message()).c_str());
    BONAFIDE_FUZZ_CHECK(l.line_number >= 1 && l.line_number <= max_line, "line %llu of %llu",
                        static_cast<unsigned long long>(l.line_number),
                        static_cast<unsigned long long>(max_line));
  }
  for (const engine::Reject& r : batch.rejects) {
    BONAFIDE_FUZZ_CHECK(!r.reason.empty(), "reject without a reason");
    BONAFIDE_FUZZ_CHECK(!r.reason_class.empty() && r.reason.starts_with(r.reason_class),
                        "reject class '%s' of '%s'", r.reason_class.c_str(), r.reason.c_str());
    BONAFIDE_FUZZ_CHECK(r.line >= 1 && r.line <= max_line, "reject line %llu of %llu",
                        static_cast<unsigned long long>(r.line),
                        static_cast<unsigned long long>(max_line));
  }
}

// Parses `data` as one chunk that ends the input.
void ParseAsOneChunk(std::string_view data, InputFormat format,
                     std::shared_ptr<const CsvSchema> csv) {
  static ChunkParser* parser = new ChunkParser;  // reused: exercises recycling
  InputChunk chunk;
  chunk.data.reserve(data.size() + engine::kChunkPadding);
  chunk.data.assign(data);
  chunk.data.append(engine::kChunkPadding, '\0');
  chunk.data.resize(data.size());
  chunk.ends_input = true;
  chunk.format = format;
  chunk.csv = std::move(csv);
  ParsedBatch batch;
  parser->Parse(chunk, batch);
  const uint64_t records = CountRecords(data, format);
  BONAFIDE_FUZZ_CHECK(batch.listings_size + batch.rejects.size() == records,
                      "%s chunk: %zu listings + %zu rejects != %llu records",
                      format == InputFormat::kCsv ? "CSV" : "JSONL", batch.listings_size,
                      batch.rejects.size(), static_cast<unsigned long long>(records));
  CheckBatch(batch, CountLines(data));
}

// Reads `data` from a file named `name` through InputSource and parses every chunk.
void ReadThroughSource(std::string_view data, const std::string& name, size_t chunk_bytes,
                       size_t max_record_bytes) {
  const std::string path = ScratchDir().Write(name, data);
  InputOptions options;
  options.chunk_bytes = chunk_bytes;
  options.max_record_bytes = max_record_bytes;
  absl::StatusOr<std::unique_ptr<InputSource>> source = InputSource::Open(path, options);
  if (!source.ok()) return;  // e.g. a CSV without a usable header

  // Compressed inputs decode to other bytes: only "no crash" applies to them.
  const bool compressed = data.starts_with("\x28\xB5\x2F\xFD") || data.starts_with("\x1F\x8B");
  const bool csv = name.ends_with(".csv");
  std::string_view text = data;
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  std::string_view body = text;
  if (csv) {  // Open read the header: the first record, quotes and all
    bool in_quotes = false;
    const size_t header_end = engine::FindRecordEnd(text.data(), 0, text.size(), true, in_quotes);
    body.remove_prefix(header_end == std::string_view::npos ? text.size() : header_end);
  }
  const uint64_t expected = CountSourceRecords(body, csv, max_record_bytes);
  const uint64_t max_line = CountLines(text);

  static ChunkParser* parser = new ChunkParser;
  InputChunk chunk;
  ParsedBatch batch;
  uint64_t records = 0;
  uint64_t last_offset = 0;
  bool error = false;
  for (int guard = 0;; ++guard) {
    BONAFIDE_FUZZ_CHECK(guard < 1000000, "Next() does not finish");
    absl::StatusOr<bool> more = (*source)->Next(chunk);
    for (const auto& s : (*source)->TakeSkipped()) {
      ++records;
      BONAFIDE_FUZZ_CHECK(!s.reason.empty(), "skipped record without a reason");
      if (!compressed) BONAFIDE_FUZZ_CHECK(s.line >= 1 && s.line <= max_line, "skipped line");
    }
    if (!more.ok()) {
      error = true;
      break;
    }
    if (!*more) break;
    BONAFIDE_FUZZ_CHECK(!chunk.data.empty(), "Next() returned true with an empty chunk");
    BONAFIDE_FUZZ_CHECK(chunk.data.capacity() >= chunk.data.size() + engine::kChunkPadding,
                        "chunk without padding");
    BONAFIDE_FUZZ_CHECK(chunk.first_offset >= last_offset, "offsets go backwards");
    last_offset = chunk.first_offset;
    batch.Clear();
    parser->Parse(chunk, batch);
    records += batch.listings_size + batch.rejects.size();
    if (!compressed) CheckBatch(batch, max_line);
  }
  if (!compressed) {
    BONAFIDE_FUZZ_CHECK(!error, "plain input gave a read error");
    BONAFIDE_FUZZ_CHECK(records == expected, "%s via InputSource: %llu records != %llu",
                        name.c_str(), static_cast<unsigned long long>(records),
                        static_cast<unsigned long long>(expected));
  }
}

}  // namespace
}  // namespace bonafide::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace bonafide::fuzz;  // NOLINT(google-build-using-namespace)
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  ParseAsOneChunk(data, bonafide::InputFormat::kJsonLines, nullptr);

  static const std::shared_ptr<const CsvSchema> csv = *CsvSchema::FromHeader(
      "id,title,description,price,currency,seller_id,category,condition,quantity,images,"
      "marketplace");
  ParseAsOneChunk(data, bonafide::InputFormat::kCsv, csv);

  // Chunk and record limits from the input's length, so that both vary.
  const size_t chunk_bytes = 1 + size % 97;
  const size_t max_record_bytes = 16 + size % 251;
  ReadThroughSource(data, "in.jsonl", chunk_bytes, max_record_bytes);
  ReadThroughSource(data, "in.csv", chunk_bytes, max_record_bytes);
  return 0;
}
