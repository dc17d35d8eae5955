// The listing schema, written down once: every field a dump record may carry, its type,
// whether it is required, its size cap and what happens above the cap, and where it goes
// in a Listing. The JSON Lines and CSV parsers, the field checks (ValidateListing) and
// the reject messages all read this table; docs/listings.md ("Fields") renders it.
//
//   const FieldSpec& spec = FieldSpecOf(ListingField::kTitle);   // "title", 4 KiB, ...
//   std::optional<ListingField> f = FieldByName("seller_id");     // a JSON key or CSV column
#ifndef BONAFIDE_ENGINE_LISTING_FIELDS_H_
#define BONAFIDE_ENGINE_LISTING_FIELDS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "bonafide/listing.h"

namespace bonafide::engine {

// The fields, in Listing's order, which is also the table's order and the order in which
// problems are looked for (ValidateListing, missing required fields, CSV cells).
enum class ListingField : uint8_t {
  kId,
  kTitle,
  kDescription,
  kPrice,
  kCurrency,
  kSellerId,
  kCategory,
  kCondition,
  kQuantity,
  kImages,
  kMarketplace,
};
inline constexpr int kListingFieldCount = 11;

enum class FieldType : uint8_t {
  kText,        // a string: JSON string, CSV cell
  kPrice,       // a finite number >= 0: JSON number, CSV decimal
  kQuantity,    // an integer >= 1 (2.0 counts as 2): JSON number, CSV decimal
  kImagePaths,  // JSON array of strings; CSV cell of paths separated by '|'
};

// What a value longer than its cap becomes.
enum class OverCap : uint8_t {
  // Text keeps its longest prefix of at most the cap that does not split a UTF-8
  // character, and FieldSpec::truncated_bit is set in Listing::truncated_fields; image
  // paths beyond the count cap, or longer than the path cap, are dropped (and flagged).
  kTruncate,
  // The record is rejected: identifiers are never cut (a cut id could merge distinct
  // listings, sellers or case keys), nor is a currency code.
  kReject,
};

// Caps, in bytes of UTF-8 after JSON unescaping / CSV unquoting. Marketplaces cap titles
// at a few hundred characters (eBay 80, Amazon 200), so 4 KiB never cuts a real title yet
// keeps matching cost small; 64 KiB holds any real description; real ids, codes and
// image paths are tens of bytes, so 1 KiB only stops abuse. Worst case per listing:
// 4 + 64 + 6 x 1 + 32 x 1 KiB = 106 KiB, against up to 8 MiB of record before the caps.
inline constexpr size_t kMaxTitleBytes = 4 << 10;
inline constexpr size_t kMaxDescriptionBytes = 64 << 10;
inline constexpr size_t kMaxIdBytes = 1 << 10;          // id, seller_id, marketplace
inline constexpr size_t kMaxShortFieldBytes = 1 << 10;  // currency, category, condition
inline constexpr size_t kMaxImages = 32;
inline constexpr size_t kMaxImagePathBytes = 1 << 10;

struct FieldSpec {
  ListingField field;
  std::string_view name;  // the JSON key and CSV column name (exact, lower-case)
  FieldType type;
  bool required;     // a record without it is rejected ("missing required field")
  bool non_empty;    // "" is rejected too ("field \"id\" must not be empty")
  size_t max_bytes;  // kText: the value; kImagePaths: each path (at most kMaxImages paths)
  OverCap over_cap;
  uint32_t truncated_bit;      // Listing::kTruncated* set on truncation (0 = none)
  std::string Listing::*text;  // where a kText value goes (null for the other types)
};

inline constexpr std::array<FieldSpec, kListingFieldCount> kListingFields = {{
    {ListingField::kId, "id", FieldType::kText, true, true, kMaxIdBytes, OverCap::kReject, 0,
     &Listing::id},
    {ListingField::kTitle, "title", FieldType::kText, true, false, kMaxTitleBytes,
     OverCap::kTruncate, Listing::kTruncatedTitle, &Listing::title},
    {ListingField::kDescription, "description", FieldType::kText, false, false,
     kMaxDescriptionBytes, OverCap::kTruncate, Listing::kTruncatedDescription,
     &Listing::description},
    {ListingField::kPrice, "price", FieldType::kPrice, true, false, 0, OverCap::kReject, 0,
     nullptr},
    {ListingField::kCurrency, "currency", FieldType::kText, true, false, kMaxShortFieldBytes,
     OverCap::kReject, 0, &Listing::currency},
    {ListingField::kSellerId, "seller_id", FieldType::kText, true, true, kMaxIdBytes,
     OverCap::kReject, 0, &Listing::seller_id},
    {ListingField::kCategory, "category", FieldType::kText, false, false, kMaxShortFieldBytes,
     OverCap::kTruncate, Listing::kTruncatedCategory, &Listing::category},
    {ListingField::kCondition, "condition", FieldType::kText, false, false, kMaxShortFieldBytes,
     OverCap::kTruncate, Listing::kTruncatedCondition, &Listing::condition},
    {ListingField::kQuantity, "quantity", FieldType::kQuantity, false, false, 0, OverCap::kReject,
     0, nullptr},
    {ListingField::kImages, "images", FieldType::kImagePaths, false, false, kMaxImagePathBytes,
     OverCap::kTruncate, Listing::kTruncatedImages, nullptr},
    {ListingField::kMarketplace, "marketplace", FieldType::kText, false, false, kMaxIdBytes,
     OverCap::kReject, 0, &Listing::marketplace},

}};

static_assert(
    [] {
      for (size_t i = 0; i < kListingFields.size(); ++i) {
        if (kListingFields[i].field != static_cast<ListingField>(i)) return false;
      }
      return true;
    }(),
    "kListingFields must list the fields in ListingField order");

constexpr const FieldSpec& FieldSpecOf(ListingField f) {
  return kListingFields[static_cast<size_t>(f)];
}
constexpr uint32_t FieldBit(ListingField f) { return 1u << static_cast<int>(f); }

// Every required field's FieldBit.
inline constexpr uint32_t kRequiredFieldBits = [] {
  uint32_t bits = 0;
  for (const FieldSpec& spec : kListingFields) bits |= spec.required ? FieldBit(spec.field) : 0;
  return bits;
}();

namespace internal {
// The table's fields by name length, for FieldByName: up to kPerLength indexes per
// length, -1 for none.
inline constexpr size_t kMaxNameLength = 11, kPerLength = 3;
inline constexpr auto kFieldsByNameLength = [] {
  std::array<std::array<int8_t, kPerLength>, kMaxNameLength + 1> by_length{};
  for (auto& row : by_length) row.fill(-1);
  for (size_t i = 0; i < kListingFields.size(); ++i) {
    const size_t length = kListingFields[i].name.size();
    size_t k = 0;
    while (k < kPerLength && by_length[length][k] >= 0) ++k;
    if (k < kPerLength) by_length[length][k] = static_cast<int8_t>(i);
  }
  return by_length;
}();
static_assert(
    [] {
      for (size_t i = 0; i < kListingFields.size(); ++i) {
        bool found = false;
        for (int8_t f : kFieldsByNameLength[kListingFields[i].name.size()]) {
          found |= f == static_cast<int8_t>(i);
        }
        if (!found) return false;
      }
      return true;
    }(),
    "more than kPerLength field names of one length: raise kPerLength");
}  // namespace internal

namespace internal {
// The field of length N named by p[0, N), or nullopt: compares against the K-th and later
// names of that length. Everything but the bytes at p is a constant, so each compare is
// a load or two.
template <size_t N, size_t K = 0>
inline std::optional<ListingField> FieldOfLength(const char* p) {
  if constexpr (K == kPerLength || kFieldsByNameLength[N][K] < 0) {
    return std::nullopt;
  } else {
    // Not a character: a field index, known to be >= 0 here.
    // NOLINTNEXTLINE(bugprone-signed-char-misuse)
    constexpr int kIndex = kFieldsByNameLength[N][K];
    if (std::memcmp(kListingFields[kIndex].name.data(), p, N) == 0) {
      return static_cast<ListingField>(kIndex);
    }
    return FieldOfLength<N, K + 1>(p);
  }
}
}  // namespace internal

// Returns the field named `name` exactly (case-sensitive), or nullopt. Runs per JSON key
// of every record, so it compares only against the few names of the key's length.
inline std::optional<ListingField> FieldByName(std::string_view name) {
  static_assert(internal::kMaxNameLength == 11, "add a case per name length");
  const char* p = name.data();
  switch (name.size()) {
    case 1:
      return internal::FieldOfLength<1>(p);
    case 2:
      return internal::FieldOfLength<2>(p);
    case 3:
      return internal::FieldOfLength<3>(p);
    case 4:
      return internal::FieldOfLength<4>(p);
    case 5:
      return internal::FieldOfLength<5>(p);
    case 6:
      return internal::FieldOfLength<6>(p);
    case 7:
      return internal::FieldOfLength<7>(p);
    case 8:
      return internal::FieldOfLength<8>(p);
    case 9:
      return internal::FieldOfLength<9>(p);
    case 10:
      return internal::FieldOfLength<10>(p);
    case 11:
      return internal::FieldOfLength<11>(p);
    default:
      return std::nullopt;
  }
}

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_LISTING_FIELDS_H_
