// ListingBuilder: fills a recycled Listing from the values of one dump record, as a parser
// finds them, and decides whether the record becomes a listing or a reject. The JSON Lines
// and CSV parsers both go through it, so the field table's caps and the value checks of
// engine/listing_validation.h apply to both formats the same way.
//
//   builder.Start(listing);                       // per record
//   builder.SetText(ListingField::kTitle, value);   // as the parser meets each field
//   builder.SetPrice(12.5);
//   builder.Finish();                              // required fields present?
//   if (builder.has_problem()) { ...builder.reason(), builder.reason_class()... }
//
// One per parser (per worker thread); not thread-safe; not copyable (it holds recycled
// image strings).
#ifndef BONAFIDE_ENGINE_LISTING_BUILDER_H_
#define BONAFIDE_ENGINE_LISTING_BUILDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bonafide/listing.h"
#include "engine/listing_fields.h"

namespace bonafide::engine {

// Reject messages about a whole record, shared by both formats.
inline constexpr std::string_view kEmptyLine = "empty line";
inline constexpr std::string_view kTruncatedLastLine =
    "truncated last line (no newline at end of input)";

class ListingBuilder {
 public:
  ListingBuilder() = default;
  ListingBuilder(const ListingBuilder&) = delete;
  ListingBuilder& operator=(const ListingBuilder&) = delete;

  // Starts a record in `listing`: resets every field to its default, keeping string
  // capacity (image strings are kept for reuse). Keeps a pointer to `listing` until the
  // next Start().
  void Start(Listing& listing);

  // Records whether the record holds field `f`, for Finish()'s required-field check. A
  // JSON null or an empty CSV cell of an optional field does not count.
  void MarkPresent(ListingField f) { present_ |= FieldBit(f); }
  void MarkAbsent(ListingField f) { present_ &= ~FieldBit(f); }

  // Stores text field `f` (valid UTF-8; the caller checks). A currency must be a code;
  // over its cap, text is truncated and flagged, an identifier is a problem (and the
  // field is left unset).
  void SetText(ListingField f, std::string_view value);
  void SetPrice(double price);
  void SetQuantity(int64_t quantity);
  void SetQuantityFromDouble(double quantity);  // 2.0 is 2; 1.5 is a problem
  // Checks one image path and keeps it unless it is beyond the count or length cap
  // (then it is dropped and flagged). Call for every path, even beyond the cap: a bad
  // path anywhere in the list is a problem.
  void AddImagePath(std::string_view path);
  // The same, for an entry that carries the photo's hash (`hash.present()`; the caller
  // checked it): kept or dropped with its path.
  void AddImage(std::string_view path, const Listing::ImageHash& hash);

  // Records a problem unless the record has one already (the first problem wins). The
  // message is its own reject class.
  void Fail(std::string_view message);
  // Returns the buffer to append a problem's message to (the whole message is its
  // class), or null when the record has a problem already.
  std::string* FailMessage() { return reason_.empty() ? &reason_ : nullptr; }
  // Records `reason_class: detail` unless the record has a problem already.
  void FailWithDetail(std::string_view reason_class, std::string_view detail);
  // Replace any earlier problem: for problems with the record as a whole (its syntax),
  // which outrank problems with its values.
  void Replace(std::string_view message);
  void ReplaceWithDetail(std::string_view reason_class, std::string_view detail);

  // Ends the record: unless it has a problem, checks that every required field was
  // present and the non-empty ones are not empty.
  void Finish();

  bool has_problem() const { return !reason_.empty(); }
  // The reject message, e.g. `invalid JSON: TAPE_ERROR: ...` ("" = none).
  const std::string& reason() const { return reason_; }
  // What the scan summary counts the reject by: the message without details
  // (`invalid JSON`), or the whole message.
  std::string_view reason_class() const { return std::string_view(reason_).substr(0, class_size_); }

 private:
  Listing* listing_ = nullptr;
  uint32_t present_ = 0;  // FieldBit()s of the fields the record holds
  std::string reason_;
  size_t class_size_ = std::string::npos;  // reason_'s first class_size_ bytes are its class
  std::vector<std::string> spare_images_;  // recycled image strings (keep their capacity)
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_LISTING_BUILDER_H_
