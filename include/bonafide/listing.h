// The listing: one marketplace offer, as read from a dump or handed over by a service.
//
// Field meanings, limits and rejects are documented in docs/listings.md. A Listing owns its
// strings so that a batch can be reused: assigning into a field keeps its capacity, and
// the steady-state reader allocates nothing per listing.
#ifndef BONAFIDE_LISTING_H_
#define BONAFIDE_LISTING_H_

#include <cstdint>
#include <string>
#include <vector>

namespace bonafide {

// Thread-compatible plain value; copyable and movable.
struct Listing {
  std::string id;                   // required, unique within `marketplace`
  std::string title;                // required
  std::string description;          // optional ("" when absent)
  double price = 0;                 // required, price of the whole listing, finite and >= 0
  std::string currency;             // required, ISO 4217 code known to the rules' policy
  std::string seller_id;            // required
  std::string category;             // optional
  std::string condition;            // optional: new, used, refurbished, parts (or "")
  int64_t quantity = 1;             // units in the listing (>= 1)
  std::vector<std::string> images;  // relative to the scan's image root
  std::string marketplace = "default";

  // Where the listing came from, for rejects and evidence (0 when not from a file).
  uint64_t line_number = 0;  // 1-based line of the record's first byte
  uint64_t byte_offset = 0;  // 0-based offset of the record's first byte

  // Which fields the reader cut to their size cap (a bitmask of the kTruncated* bits
  // below; 0 when nothing was cut). A truncated string field holds its first cap bytes,
  // shortened to a UTF-8 character boundary; truncated images means that image paths
  // beyond the count cap, or longer than the path cap, were dropped. The caps and the
  // rule are in engine/listing_input.h and docs/listings.md ("Truncation"). Identifiers
  // (id, seller_id, marketplace) are never truncated: an over-cap one is a reject.
  uint32_t truncated_fields = 0;
  static constexpr uint32_t kTruncatedTitle = 1u << 0;
  static constexpr uint32_t kTruncatedDescription = 1u << 1;
  static constexpr uint32_t kTruncatedCategory = 1u << 2;
  static constexpr uint32_t kTruncatedCondition = 1u << 3;
  static constexpr uint32_t kTruncatedImages = 1u << 4;

  // Resets every field to its default, keeping string capacity.
  void Clear();
};

}  // namespace bonafide

#endif  // BONAFIDE_LISTING_H_
