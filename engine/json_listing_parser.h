// JsonListingParser: one JSON Lines record -> the values of a Listing, through a
// ListingBuilder (which applies the field table and records the reject reason).
//
// The record is parsed in place with simdjson On-Demand; keys are matched exactly
// (escaped keys are unescaped first), unknown fields are skipped (not fully validated),
// and `null` for an optional field means absent.
//
// One per worker thread (it holds the simdjson parser); not thread-safe; not copyable.
#ifndef BONAFIDE_ENGINE_JSON_LISTING_PARSER_H_
#define BONAFIDE_ENGINE_JSON_LISTING_PARSER_H_

#include <cstddef>
#include <string>

#include "engine/listing_builder.h"

#include "simdjson.h"

namespace bonafide::engine {

class JsonListingParser {
 public:
  JsonListingParser() = default;
  JsonListingParser(const JsonListingParser&) = delete;
  JsonListingParser& operator=(const JsonListingParser&) = delete;

  // Parses the record rec[0, len) (no line end) into `builder`, which Start() has
  // prepared, and calls builder.Finish(). `readable` is how many bytes from `rec` may be
  // read (simdjson reads past the record); when that is less than len + SIMDJSON_PADDING
  // the record is copied first. `last_line_of_input`: the record is the input's last and
  // has no line end, so a syntax error is reported as a truncated last line.
  void Parse(const char* rec, size_t len, size_t readable, bool last_line_of_input,
             ListingBuilder& builder);

 private:
  // Replaces the reason after simdjson error `e` (syntax outranks values).
  void ReportJsonError(simdjson::error_code e, const char* rec, size_t len, bool last_line_of_input,
                       ListingBuilder& builder);
  // Parses an `images` entry written as an object into `builder`; returns a syntax error.
  simdjson::error_code ParseImageEntry(simdjson::ondemand::value& entry, size_t index,
                                       ListingBuilder& builder);
  // simdjson found invalid UTF-8 somewhere in the record; names the field that holds it.
  void ReportInvalidUtf8(const char* rec, size_t len, ListingBuilder& builder);

  simdjson::ondemand::parser parser_;
  std::string padded_;  // copy of a record that lacks padding (rare)
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_JSON_LISTING_PARSER_H_
