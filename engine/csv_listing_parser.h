// CSV listing dumps: the header row (CsvSchema) and one row -> the values of a Listing
// (CsvListingParser), through a ListingBuilder.
//
// RFC 4180: fields separated by ',', a field may be quoted ("..."), a quote inside a
// quoted field is doubled (""), and a quoted field may span lines. The first row names
// the columns: the field table's names, exactly (lower-case); unknown columns are
// ignored, and the first of two equal names counts. In a row, an empty cell is an absent
// value; `images` holds paths separated by '|'; price and quantity may have spaces
// around them.
#ifndef BONAFIDE_ENGINE_CSV_LISTING_PARSER_H_
#define BONAFIDE_ENGINE_CSV_LISTING_PARSER_H_

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "engine/listing_builder.h"
#include "engine/listing_fields.h"

namespace bonafide::engine {

// Which column holds each field. Immutable once made; shared read-only by all chunks of
// one input (thread-safe to read).
struct CsvSchema {
  std::array<int, kListingFieldCount> column;  // by ListingField; -1 = no such column
  int column_count = 0;

  // Returns the schema of `header`, the first row (no line end). Returns InvalidArgument
  // when the row is not valid CSV or lacks a required column; the message then says what
  // it probably is instead, e.g. `CSV header lacks required column "id" (the header looks
  // ';'-separated; use ',')` or `... (column names are lower-case: "ID" should be "id")`.
  static absl::StatusOr<std::shared_ptr<const CsvSchema>> FromHeader(std::string_view header);
};

enum class CsvSyntaxError {
  kNone,
  kUnterminatedQuote,      // "unterminated quoted CSV field"
  kTextAfterClosingQuote,  // "invalid CSV: text after a closing quote"
  kQuoteInUnquotedField,   // "invalid CSV: quote inside an unquoted field"
};
// Splits one CSV record (no line end) into `fields`. Quoted fields without "" are views
// into `rec`; others are unescaped into `scratch`, which must have capacity for
// rec.size() bytes so that the views stay valid.
CsvSyntaxError SplitCsvRecord(std::string_view rec, std::vector<std::string_view>& fields,
                              std::string& scratch);

// Parses rows into listings. One per worker thread; not thread-safe; not copyable.
class CsvListingParser {
 public:
  CsvListingParser() = default;
  CsvListingParser(const CsvListingParser&) = delete;
  CsvListingParser& operator=(const CsvListingParser&) = delete;

  // Parses the row `rec` (no line end) of a file with header `schema` into `builder`,
  // which Start() has prepared, and calls builder.Finish(). `last_line_of_input`: the row
  // is the input's last and has no line end, so an unclosed quote is reported as a
  // truncated last line.
  void Parse(std::string_view rec, const CsvSchema& schema, bool last_line_of_input,
             ListingBuilder& builder);

 private:
  std::vector<std::string_view> fields_;
  std::string scratch_;
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_CSV_LISTING_PARSER_H_
