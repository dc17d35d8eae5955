// The checks a listing's values must pass and the reject messages they give: one
// implementation for the JSON Lines and CSV parsers (through ListingBuilder) and for
// ValidateListing (bonafide/listing.h), so that a record and a hand-built listing are held
// to the same rules in the same words.
//
// Messages are stable: rejects files and the scan summary's "rejects by reason" quote
// them, and users grep for them. A message is its own reject class (what the summary
// counts by), except those built by the Append*WithDetail functions, whose class is the
// part before ": ".
#ifndef BONAFIDE_ENGINE_LISTING_VALIDATION_H_
#define BONAFIDE_ENGINE_LISTING_VALIDATION_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/listing_fields.h"

namespace bonafide::engine {

// --- value checks -------------------------------------------------------------------

inline bool IsValidPrice(double price) { return std::isfinite(price) && price >= 0; }

inline bool IsValidQuantity(int64_t quantity) { return quantity >= 1; }

// Returns `value` as a quantity when it is integral and in [1, 2^63) (so 2.0 is 2), else
// nullopt. For numbers written with a fraction or exponent.
std::optional<int64_t> QuantityFromDouble(double value);

enum class ImagePathProblem { kNone, kEmpty, kEscapesRoot };
// Checks that `path` names a file inside the image root: not empty, relative, no ".."
// component, no backslash or NUL.
ImagePathProblem CheckImagePath(std::string_view path);

// True when `s` is valid UTF-8 (SIMD; the parsers call it per field).
bool IsUtf8(std::string_view s);

// --- messages -----------------------------------------------------------------------

inline constexpr std::string_view kPriceOutOfRange = "price must be finite and >= 0";
inline constexpr std::string_view kQuantityOutOfRange = "quantity must be an integer >= 1";
inline constexpr std::string_view kCurrencyNotACode = "currency must be a 3-letter ISO 4217 code";
inline constexpr std::string_view kImagePathEmpty = "image path is empty";
inline constexpr std::string_view kTooManyImages = "field \"images\" holds more than 32 paths";
// The class of a problem with an `images` entry written as an object (a photo with its
// hash): `invalid image entry: images[2].pdq must be 64 hex digits`.
inline constexpr std::string_view kInvalidImageEntry = "invalid image entry";

// `missing required field "price"`
void AppendMissingField(const FieldSpec& spec, std::string& out);
// `field "id" must not be empty`
void AppendEmptyField(const FieldSpec& spec, std::string& out);
// `field "id" exceeds 1024 bytes` (image paths: `field "images" has a path over 1024 bytes`)
void AppendFieldOverCap(const FieldSpec& spec, std::string& out);
// `field "title" must be a string` / `... must be a number` / `... must be an array of
// strings`, by the field's type.
void AppendWrongType(const FieldSpec& spec, std::string& out);
// The detail of a kInvalidImageEntry problem: `images[2].quality must be an integer 0..100`
// (`index` 0-based, `key` the entry's key, `problem` what is wrong with it).
void AppendImageEntryDetail(size_t index, std::string_view key, std::string_view problem,
                            std::string& out);
inline constexpr std::string_view kPdqNotHex = "must be 64 hex digits";
inline constexpr std::string_view kQualityNotInRange = "must be an integer 0..100";
inline constexpr std::string_view kImageEntryKeyMissing = "is missing";
inline constexpr std::string_view kImageEntryPathNotString = "must be a string";
// `invalid UTF-8 in field "title"`; `name` may be a key outside the table.
void AppendInvalidUtf8(std::string_view name, std::string& out);
// The class and the message of an image path that escapes the root:
// `image path escapes the image root: "../x.jpg"` (the path's first 256 bytes, as JSON).
inline constexpr std::string_view kImagePathEscapesRoot = "image path escapes the image root";
void AppendImagePathEscapesWithDetail(std::string_view path, std::string& out);

// The reject class of a message of ValidateListing() (what the scan summary counts it
// by): the class of a message with detail, else the whole message.
std::string_view RejectClassOf(std::string_view message);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_LISTING_VALIDATION_H_
