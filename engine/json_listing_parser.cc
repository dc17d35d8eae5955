// JSON Lines records are parsed in place with simdjson On-Demand: the bytes that follow a
// line inside its chunk (plus the chunk's padding) serve as simdjson's padding, so nothing
// is copied. Only a record that lacks that padding (a hand-built chunk) is copied.
#include "engine/json_listing_parser.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "engine/listing_fields.h"
#include "engine/listing_validation.h"
#include "models/pdq.h"
#include "util/strings.h"

namespace bonafide::engine {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

constexpr std::string_view kInvalidJson = "invalid JSON";
constexpr std::string_view kNotAnObject = "not a JSON object";
constexpr std::string_view kTrailingContent = "trailing content after JSON object";

// True when `t` (a raw token, maybe with trailing whitespace) is a JSON number by the
// grammar; tells an out-of-range number (1e999) from a malformed one.
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

// Returns the first '"' or '\\' at or after `p`, a position inside a JSON string that stage
// 1 has checked is closed. Reads 16 bytes at a time, up to 15 past that quote: a record is
// followed by SIMDJSON_PADDING readable bytes.
const char* FindQuoteOrBackslash(const char* p) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  for (;; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const auto found = static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash))));
    if (found != 0) return p + std::countr_zero(found);
  }
#else
  while (*p != '"' && *p != '\\') ++p;
  return p;
#endif
}

}  // namespace

void JsonListingParser::ReportJsonError(error_code e, const char* rec, size_t len,
                                        bool last_line_of_input, ListingBuilder& builder) {
  if (HasTrailingContent(std::string_view(rec, len))) {
    builder.Replace(kTrailingContent);
  } else if (last_line_of_input) {
    builder.Replace(kTruncatedLastLine);
  } else {
    builder.ReplaceWithDetail(kInvalidJson, simdjson::error_message(e));
  }
}

void JsonListingParser::Parse(const char* rec, size_t len, size_t readable, bool last_line_of_input,
                              ListingBuilder& builder) {
  // Blank lines (spaces and tabs only) are "empty".
  size_t first = 0;
  while (first < len && (rec[first] == ' ' || rec[first] == '\t')) ++first;
  if (first == len) {
    builder.Fail(kEmptyLine);
    return;
  }
  if (readable < len + simdjson::SIMDJSON_PADDING) {
    padded_.assign(rec, len);
    padded_.append(simdjson::SIMDJSON_PADDING, '\0');
    rec = padded_.data();
    readable = padded_.size();
  }
  auto json_error = [&](error_code e) {
    ReportJsonError(e, rec, len, last_line_of_input, builder);
  };

  od::document doc;
  error_code err = parser_.iterate(rec, len, readable).get(doc);
  if (err) {
    if (err == simdjson::UTF8_ERROR) return ReportInvalidUtf8(rec, len, builder);
    return json_error(err);
  }
  od::json_type type;
  if ((err = doc.type().get(type))) return json_error(err);
  if (type != od::json_type::object) {
    builder.Fail(kNotAnObject);
    return;
  }
  od::object obj;
  if ((err = doc.get_object().get(obj))) return json_error(err);
  for (auto field_result : obj) {
    od::field field;
    if ((err = std::move(field_result).get(field))) return json_error(err);
    // Fast key match on the raw key; fall back to unescaping when it has escapes.
    const char* k = field.key().raw();
    const char* e = FindQuoteOrBackslash(k);
    std::optional<ListingField> f;
    if (*e == '\\') {
      std::string_view unescaped;
      if ((err = field.unescaped_key().get(unescaped))) return json_error(err);
      f = FieldByName(unescaped);
    } else {
      f = FieldByName(std::string_view(k, static_cast<size_t>(e - k)));
    }
    if (!f.has_value()) continue;  // skipped by the next iteration step
    const FieldSpec& spec = FieldSpecOf(*f);
    builder.MarkPresent(*f);
    od::value v = field.value();
    od::json_type vt;
    if ((err = v.type().get(vt))) return json_error(err);
    const bool is_null = vt == od::json_type::null;
    if (is_null && !spec.required) {  // an optional field's null means absent
      builder.MarkAbsent(*f);
      continue;
    }
    switch (spec.type) {
      case FieldType::kPrice: {
        if (vt != od::json_type::number) {
          if (std::string* message = builder.FailMessage()) AppendWrongType(spec, *message);
          break;
        }
        double d;
        if ((err = v.get_double().get(d))) {
          if (IsJsonNumber(v.raw_json_token())) {  // 1e999: valid JSON, not finite
            builder.Replace(kPriceOutOfRange);
            return;
          }
          return json_error(err);
        }
        builder.SetPrice(d);
        break;
      }
      case FieldType::kQuantity: {
        if (vt != od::json_type::number) {
          if (std::string* message = builder.FailMessage()) AppendWrongType(spec, *message);
          break;
        }
        od::number_type nt;
        if ((err = v.get_number_type().get(nt))) return json_error(err);
        if (nt == od::number_type::signed_integer) {
          int64_t q = 0;
          if ((err = v.get_int64().get(q))) return json_error(err);
          builder.SetQuantity(q);
        } else {  // a fraction, an exponent, or unsigned beyond int64
          double d;
          if ((err = v.get_double().get(d))) {
            if (IsJsonNumber(v.raw_json_token())) {
              builder.Replace(kQuantityOutOfRange);
              return;
            }
            return json_error(err);
          }
          builder.SetQuantityFromDouble(d);
        }
        break;
      }
      case FieldType::kImagePaths: {
        if (vt != od::json_type::array) {
          if (std::string* message = builder.FailMessage()) AppendWrongType(spec, *message);
          break;
        }
        od::array arr;
        if ((err = v.get_array().get(arr))) return json_error(err);
        size_t index = 0;
        for (auto el_result : arr) {
          od::value el;
          // get() is rvalue-qualified in simdjson, whatever clang-tidy says of the type.
          // NOLINTNEXTLINE(performance-move-const-arg)
          if ((err = std::move(el_result).get(el))) return json_error(err);
          od::json_type et;
          if ((err = el.type().get(et))) return json_error(err);
          if (et == od::json_type::object) {
            if ((err = ParseImageEntry(el, index++, builder))) return json_error(err);
            continue;
          }
          ++index;
          if (et != od::json_type::string) {
            if (std::string* message = builder.FailMessage()) AppendWrongType(spec, *message);
            continue;
          }
          std::string_view s;
          if ((err = el.get_string().get(s))) {
            if (err == simdjson::STRING_ERROR) {
              if (std::string* message = builder.FailMessage()) {
                AppendInvalidUtf8(spec.name, *message);
              }
              continue;
            }
            return json_error(err);
          }
          builder.AddImagePath(s);
        }
        break;
      }
      case FieldType::kText: {
        if (vt != od::json_type::string) {
          if (std::string* message = builder.FailMessage()) AppendWrongType(spec, *message);
          break;
        }
        // Most strings have no escape: their bytes in the record are their value, read in
        // place; simdjson's unescaping copy is only for the others.
        const char* raw = v.raw_json_token().data() + 1;  // after the opening quote
        if (const char* end = FindQuoteOrBackslash(raw); *end == '"') {
          builder.SetText(*f, std::string_view(raw, static_cast<size_t>(end - raw)));
          break;
        }
        std::string_view s;
        if ((err = v.get_string().get(s))) {
          // Invalid escapes (e.g. a lone surrogate \ud800) cannot become UTF-8.
          if (err == simdjson::STRING_ERROR) {
            if (std::string* message = builder.FailMessage()) {
              AppendInvalidUtf8(spec.name, *message);
            }
            break;
          }
          return json_error(err);
        }
        builder.SetText(*f, s);
        break;
      }
    }
  }
  // The object is done; anything but whitespace after it is an error.
  const char* loc = nullptr;
  err = doc.current_location().get(loc);
  if (err != simdjson::OUT_OF_BOUNDS) {
    if (last_line_of_input) return json_error(simdjson::TAPE_ERROR);
    builder.Replace(kTrailingContent);
    return;
  }
  builder.Finish();
}

// An `images` entry written as an object: {"path": "...", "pdq": "<64 hex>", "quality":
// 0..100}. Unknown keys are ignored, as in the record. Returns a syntax error, if any;
// problems with values go to `builder` (the first problem wins).
error_code JsonListingParser::ParseImageEntry(od::value& entry, size_t index,
                                              ListingBuilder& builder) {
  auto problem = [&](std::string_view key, std::string_view what) {
    if (builder.has_problem()) return;
    std::string detail;
    AppendImageEntryDetail(index, key, what, detail);
    builder.FailWithDetail(kInvalidImageEntry, detail);
  };
  od::object obj;
  error_code err;
  if ((err = entry.get_object().get(obj))) return err;
  std::string_view path;
  bool has_path = false, has_pdq = false, has_quality = false;
  Listing::ImageHash hash;
  for (auto field_result : obj) {
    od::field field;
    if ((err = std::move(field_result).get(field))) return err;
    std::string_view key;
    if ((err = field.unescaped_key().get(key))) return err;
    od::value v = field.value();
    od::json_type vt;
    if ((err = v.type().get(vt))) return err;
    if (key == "path") {
      if (vt != od::json_type::string) {
        problem("path", kImageEntryPathNotString);
        continue;
      }
      if ((err = v.get_string().get(path))) {
        if (err != simdjson::STRING_ERROR) return err;
        if (std::string* message = builder.FailMessage()) {
          AppendInvalidUtf8(FieldSpecOf(ListingField::kImages).name, *message);
        }
        continue;
      }
      has_path = true;
    } else if (key == "pdq") {
      std::string_view hex;
      if (vt != od::json_type::string || v.get_string().get(hex) != simdjson::SUCCESS) {
        problem("pdq", kPdqNotHex);
        continue;
      }
      absl::StatusOr<models::Hash256> parsed = models::HashFromHex(hex);
      if (!parsed.ok()) {
        problem("pdq", kPdqNotHex);
        continue;
      }
      std::memcpy(hash.pdq, parsed->words, sizeof(hash.pdq));
      has_pdq = true;
    } else if (key == "quality") {
      od::number_type nt{};
      int64_t q = -1;
      if (vt != od::json_type::number || v.get_number_type().get(nt) != simdjson::SUCCESS ||
          nt != od::number_type::signed_integer || v.get_int64().get(q) != simdjson::SUCCESS ||
          q < 0 || q > 100) {
        problem("quality", kQualityNotInRange);
        continue;
      }
      hash.quality = static_cast<int32_t>(q);
      has_quality = true;
    }
  }
  if (!has_path) {
    problem("path", kImageEntryKeyMissing);
  } else if (!has_pdq) {
    problem("pdq", kImageEntryKeyMissing);
  } else if (!has_quality) {
    problem("quality", kImageEntryKeyMissing);
  }
  if (!builder.has_problem()) builder.AddImage(path, hash);
  return simdjson::SUCCESS;
}

// simdjson validates UTF-8 for the whole record; find which top-level field holds the
// first bad byte so that the reason names it. Rare path: copies the record.
void JsonListingParser::ReportInvalidUtf8(const char* rec, size_t len, ListingBuilder& builder) {
  std::string_view r(rec, len);
  // Offset of the first invalid byte: a linear decode is fine on this rare path.
  const size_t invalid = FindInvalidUtf8(r);
  const size_t bad = invalid == std::string_view::npos ? len : invalid;
  // Replace every non-ASCII byte by 'x' (never structural) and walk the fields.
  std::string copy(r);
  for (char& c : copy) {
    if (static_cast<unsigned char>(c) >= 0x80) c = 'x';
  }
  copy.append(simdjson::SIMDJSON_PADDING, '\0');
  od::parser p;
  od::document doc;
  od::object obj;
  std::string_view name;
  if (!p.iterate(copy.data(), len, copy.size()).get(doc) && !doc.get_object().get(obj)) {
    for (auto fr : obj) {
      od::field field;
      if (std::move(fr).get(field)) break;
      const char* k = field.key().raw();
      size_t at = static_cast<size_t>(k - copy.data());
      if (at > bad) break;
      const char* kq = static_cast<const char*>(std::memchr(k, '"', copy.data() + len - k));
      if (kq == nullptr) break;
      name = std::string_view(rec + at, static_cast<size_t>(kq - k));
    }
  }
  if (name.empty() || !simdjson::validate_utf8(name.data(), name.size())) {
    builder.ReplaceWithDetail(kInvalidJson, simdjson::error_message(simdjson::UTF8_ERROR));
    return;
  }
  std::string message;
  AppendInvalidUtf8(name, message);
  builder.Replace(message);
}

}  // namespace bonafide::engine
