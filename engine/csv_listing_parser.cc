#include "engine/csv_listing_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "engine/listing_validation.h"
#include "util/strings.h"

namespace bonafide::engine {
namespace {

constexpr std::string_view kInvalidCsv = "invalid CSV";

// The reject class and detail of a syntax error (kUnterminatedQuote has no detail).
std::string_view SyntaxErrorClass(CsvSyntaxError e) {
  return e == CsvSyntaxError::kUnterminatedQuote ? "unterminated quoted CSV field" : kInvalidCsv;
}
std::string_view SyntaxErrorDetail(CsvSyntaxError e) {
  switch (e) {
    case CsvSyntaxError::kTextAfterClosingQuote:
      return "text after a closing quote";
    case CsvSyntaxError::kQuoteInUnquotedField:
      return "quote inside an unquoted field";
    case CsvSyntaxError::kNone:
    case CsvSyntaxError::kUnterminatedQuote:
      break;
  }
  return {};
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// What a header that lacks the column `name` probably is instead, as " (...)", or "".
std::string MissingColumnHint(std::string_view header, const std::vector<std::string_view>& columns,
                              std::string_view name) {
  if (columns.size() == 1) {  // one column: probably another separator
    const std::pair<char, const char*> separators[] = {{';', "';'"}, {'\t', "tab"}, {'|', "'|'"}};
    for (const auto& [separator, separator_name] : separators) {
      if (header.find(separator) != std::string_view::npos) {
        return absl::StrCat(" (the header looks ", separator_name,
                            "-separated; columns are separated by ',')");
      }
    }
  }
  for (std::string_view column : columns) {
    if (EqualsIgnoringCase(TrimSpaces(column), name)) {
      return absl::StrCat(" (column names are lower-case, without spaces: \"", ToAbsl(column),
                          "\" should be \"", ToAbsl(name), "\")");
    }
  }
  return "";
}

}  // namespace

CsvSyntaxError SplitCsvRecord(std::string_view rec, std::vector<std::string_view>& fields,
                              std::string& scratch) {
  fields.clear();
  scratch.clear();
  size_t i = 0, n = rec.size();
  for (;;) {
    if (i < n && rec[i] == '"') {
      size_t start = ++i;
      size_t scratch_start = std::string::npos;
      for (;;) {
        const void* q = i < n ? std::memchr(rec.data() + i, '"', n - i) : nullptr;
        if (q == nullptr) return CsvSyntaxError::kUnterminatedQuote;
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
      if (i == n) return CsvSyntaxError::kNone;
      if (rec[i] != ',') return CsvSyntaxError::kTextAfterClosingQuote;
      ++i;
    } else {
      const void* c = i < n ? std::memchr(rec.data() + i, ',', n - i) : nullptr;
      size_t end = c ? static_cast<const char*>(c) - rec.data() : n;
      std::string_view f = rec.substr(i, end - i);
      if (f.find('"') != std::string_view::npos) return CsvSyntaxError::kQuoteInUnquotedField;
      fields.push_back(f);
      if (c == nullptr) return CsvSyntaxError::kNone;
      i = end + 1;
    }
  }
}

absl::StatusOr<std::shared_ptr<const CsvSchema>> CsvSchema::FromHeader(std::string_view header) {
  std::vector<std::string_view> columns;
  std::string scratch;
  scratch.reserve(header.size());
  if (CsvSyntaxError e = SplitCsvRecord(header, columns, scratch); e != CsvSyntaxError::kNone) {
    const std::string_view detail = SyntaxErrorDetail(e);
    return absl::InvalidArgumentError(
        detail.empty()
            ? absl::StrCat("CSV header: ", ToAbsl(SyntaxErrorClass(e)))
            : absl::StrCat("CSV header: ", ToAbsl(SyntaxErrorClass(e)), ": ", ToAbsl(detail)));
  }
  auto schema = std::make_shared<CsvSchema>();
  schema->column.fill(-1);
  schema->column_count = static_cast<int>(columns.size());
  for (int i = 0; i < schema->column_count; ++i) {
    std::optional<ListingField> f = FieldByName(columns[i]);
    if (f.has_value() && schema->column[static_cast<size_t>(*f)] < 0) {
      schema->column[static_cast<size_t>(*f)] = i;
    }
  }
  for (const FieldSpec& spec : kListingFields) {
    if (spec.required && schema->column[static_cast<size_t>(spec.field)] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("CSV header lacks required column \"", ToAbsl(spec.name), "\"",
                       MissingColumnHint(header, columns, spec.name)));
    }
  }
  return std::shared_ptr<const CsvSchema>(std::move(schema));
}

void CsvListingParser::Parse(std::string_view rec, const CsvSchema& schema, bool last_line_of_input,
                             ListingBuilder& builder) {
  if (rec.empty()) {
    builder.Fail(kEmptyLine);
    return;
  }
  if (scratch_.capacity() < rec.size()) scratch_.reserve(rec.size());
  if (CsvSyntaxError e = SplitCsvRecord(rec, fields_, scratch_); e != CsvSyntaxError::kNone) {
    if (e == CsvSyntaxError::kUnterminatedQuote && last_line_of_input) {
      builder.Fail(kTruncatedLastLine);
    } else if (const std::string_view detail = SyntaxErrorDetail(e); detail.empty()) {
      builder.Fail(SyntaxErrorClass(e));
    } else {
      builder.FailWithDetail(SyntaxErrorClass(e), detail);
    }
    return;
  }
  if (static_cast<int>(fields_.size()) != schema.column_count) {
    if (std::string* message = builder.FailMessage()) {
      absl::StrAppend(message, "CSV row has ", fields_.size(), " fields, header has ",
                      schema.column_count);
    }
    return;
  }
  // One UTF-8 check for the whole row; per field only when it fails, to name the field.
  const bool valid_utf8 = IsUtf8(rec);
  auto cell = [&](const FieldSpec& spec) -> std::string_view {
    const int index = schema.column[static_cast<size_t>(spec.field)];
    return index < 0 ? std::string_view() : fields_[index];
  };
  // Text first, then the typed fields: the order in which problems are reported.
  for (const FieldSpec& spec : kListingFields) {
    if (spec.type != FieldType::kText) continue;
    std::string_view s = cell(spec);
    if (s.empty()) continue;  // an empty cell is an absent value
    builder.MarkPresent(spec.field);
    if (!valid_utf8 && !IsUtf8(s)) {
      if (std::string* message = builder.FailMessage()) AppendInvalidUtf8(spec.name, *message);
      continue;
    }
    builder.SetText(spec.field, s);
  }
  for (const FieldSpec& spec : kListingFields) {
    std::string_view s = cell(spec);
    if (spec.type == FieldType::kText || s.empty()) continue;
    builder.MarkPresent(spec.field);
    switch (spec.type) {
      case FieldType::kText:
        break;
      case FieldType::kPrice: {
        s = TrimSpaces(s);
        double d = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
        if (s.empty() || ec == std::errc::invalid_argument || end != s.data() + s.size()) {
          if (std::string* message = builder.FailMessage()) AppendWrongType(spec, *message);
        } else if (ec == std::errc::result_out_of_range) {
          builder.Fail(kPriceOutOfRange);
        } else {
          builder.SetPrice(d);
        }
        break;
      }
      case FieldType::kQuantity: {
        s = TrimSpaces(s);
        int64_t q = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), q);
        if (ec == std::errc() && end == s.data() + s.size()) {
          builder.SetQuantity(q);
          break;
        }
        double d = 0;
        auto [end2, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
        if (ec2 == std::errc() && end2 == s.data() + s.size()) {
          builder.SetQuantityFromDouble(d);
        } else {
          builder.Fail(kQuantityOutOfRange);
        }
        break;
      }
      case FieldType::kImagePaths: {
        if (!valid_utf8 && !IsUtf8(s)) {
          if (std::string* message = builder.FailMessage()) AppendInvalidUtf8(spec.name, *message);
          break;
        }
        size_t start = 0;
        for (;;) {
          const size_t bar = s.find('|', start);
          builder.AddImagePath(s.substr(
              start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
          if (bar == std::string_view::npos) break;
          start = bar + 1;
        }
        break;
      }
    }
  }
  builder.Finish();
}

}  // namespace bonafide::engine
