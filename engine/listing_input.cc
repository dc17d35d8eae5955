// ChunkParser: walks the records of a chunk and hands each to the parser of its format,
// which fills a recycled Listing through the ListingBuilder; each record becomes a
// listing or a reject.
#include "engine/listing_input.h"

#include <string>
#include <string_view>

#include "engine/csv_listing_parser.h"
#include "engine/json_listing_parser.h"
#include "engine/listing_builder.h"
#include "engine/record_framing.h"
#include "util/strings.h"

#include "simdjson.h"

namespace bonafide::engine {

static_assert(kChunkPadding >= simdjson::SIMDJSON_PADDING);

struct ChunkParser::Impl {
  ListingBuilder builder;
  JsonListingParser json;
  CsvListingParser csv;
};

ChunkParser::ChunkParser() : impl_(std::make_unique<Impl>()) {}
ChunkParser::~ChunkParser() = default;

void ChunkParser::Parse(const InputChunk& chunk, ParsedBatch& out) {
  Cursor cursor;
  while (ParseSome(chunk, out, cursor, SIZE_MAX)) {
  }
}

bool ChunkParser::ParseSome(const InputChunk& chunk, ParsedBatch& out, Cursor& cursor,
                            size_t max_records) {
  const char* const data = chunk.data.data();
  const size_t size = chunk.data.size();
  // Readable bytes past data + size (the chunk's own padding).
  const size_t readable = chunk.data.capacity();
  const bool csv = chunk.format == InputFormat::kCsv;
  if (csv && chunk.csv == nullptr) {
    // A CSV chunk without its schema is a caller bug; reject everything loudly.
    Reject& r = out.rejects.emplace_back();
    r.input_index = chunk.input_index;
    r.line = chunk.first_line;
    r.byte_offset = chunk.first_offset;
    r.reason = "internal: CSV chunk without a header schema";
    r.reason_class = "internal";
    return false;
  }
  ListingBuilder& builder = impl_->builder;
  uint64_t line = chunk.first_line + cursor.lines;
  size_t pos = cursor.pos;
  bool in_quotes = false;  // a record never starts inside quotes
  for (size_t records = 0; pos < size && records < max_records; ++records) {
    // Find the end of this record.
    size_t end;  // just after the record's '\n', or size
    bool terminated;
    size_t b = FindRecordEnd(data, pos, size, csv, in_quotes);
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
    const bool last_line_of_input = !terminated && chunk.ends_input;

    if (out.listings_size == out.listings.size()) out.listings.emplace_back();
    Listing& l = out.listings[out.listings_size];
    builder.Start(l);
    const char* rec = data + pos;
    if (csv) {
      impl_->csv.Parse(std::string_view(rec, len), *chunk.csv, last_line_of_input, builder);
    } else {
      impl_->json.Parse(rec, len, readable - pos, last_line_of_input, builder);
    }
    if (!builder.has_problem()) {
      l.line_number = line;
      l.byte_offset = chunk.first_offset + pos;
      ++out.listings_size;
    } else {
      Reject& r = out.rejects.emplace_back();
      r.input_index = chunk.input_index;
      r.line = line;
      r.byte_offset = chunk.first_offset + pos;
      r.reason = builder.reason();
      r.reason_class = builder.reason_class();
      r.listing_id = l.id;
    }
    if (csv) {
      line += CountByte(std::string_view(data + pos, end - pos), '\n');
    } else {
      line += terminated ? 1 : 0;
    }
    pos = end;
  }
  cursor.lines = line - chunk.first_line;
  cursor.pos = pos;
  return pos < size;
}

}  // namespace bonafide::engine
