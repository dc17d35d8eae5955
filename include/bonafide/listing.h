// The listing: one marketplace offer, as read from a dump or handed over by a service.
//
// Field meanings, limits and rejects are documented in docs/listings.md. A Listing owns its
// strings so that a batch can be reused: assigning into a field keeps its capacity, and
// the steady-state reader allocates nothing per listing.
//
// A service that builds listings itself checks each one before scanning it:
//   bonafide::Listing listing;
//   listing.id = ...;
//   if (absl::Status s = bonafide::ValidateListing(listing); !s.ok()) { ... s.message() ... }
#ifndef BONAFIDE_LISTING_H_
#define BONAFIDE_LISTING_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

#include "bonafide/export.h"

namespace bonafide {

// Thread-compatible plain value; copyable and movable.
struct BONAFIDE_EXPORT Listing {
  std::string id;                   // required, not empty, unique within `marketplace`
  std::string title;                // required
  std::string description;          // optional ("" when absent)
  double price = 0;                 // required, price of the whole listing, finite and >= 0
  std::string currency;             // required, ISO 4217 code known to the rules' policy
  std::string seller_id;            // required, not empty
  std::string category;             // optional
  std::string condition;            // optional: new, used, refurbished, parts (or "")
  int64_t quantity = 1;             // units in the listing (>= 1)
  std::vector<std::string> images;  // relative to the scan's image root
  // A photo's PDQ hash computed before the scan (at upload), which the scan uses instead
  // of reading the file: a JSON `images` entry written as {"path", "pdq", "quality"}.
  struct ImageHash {
    uint64_t pdq[4] = {0, 0, 0, 0};  // bit k is bit k % 64 of pdq[k / 64] (ImageResult::hash)
    int32_t quality = kNoHash;       // PDQ quality 0..100, or kNoHash: read the file
    static constexpr int32_t kNoHash = -1;
    bool present() const { return quality != kNoHash; }
  };
  // Empty when no entry carries a hash (the usual case); otherwise one per `images` entry,
  // in the same order, with kNoHash for the plain paths.
  std::vector<ImageHash> image_hashes;
  // Photos handed over in memory by a service (JPEG, PNG, WebP or BMP bytes, as uploaded):
  // empty, or one per `images` entry, in the same order; an empty view leaves that photo
  // to its hash or its file. The `images` entry still names the photo in cases. Not owned:
  // the bytes must stay valid while the listing is scanned (a copy of the listing shares
  // them). A photo with a hash in image_hashes is not decoded.
  std::vector<std::string_view> image_bytes;
  std::string marketplace = "default";

  // Where the listing came from, for rejects and evidence (0 when not from a file).
  uint64_t line_number = 0;  // 1-based line of the record's first byte
  uint64_t byte_offset = 0;  // 0-based offset of the record's first byte

  // Which fields the reader cut to their size cap (a bitmask of the kTruncated* bits
  // below; 0 when nothing was cut). A truncated string field holds its first cap bytes,
  // shortened to a UTF-8 character boundary; truncated images means that image paths
  // beyond the count cap, or longer than the path cap, were dropped. The caps are in
  // engine/listing_fields.h and docs/listings.md ("Truncation"). Identifiers (id,
  // seller_id, marketplace) are never truncated: an over-cap one is a reject.
  uint32_t truncated_fields = 0;
  static constexpr uint32_t kTruncatedTitle = 1u << 0;
  static constexpr uint32_t kTruncatedDescription = 1u << 1;
  static constexpr uint32_t kTruncatedCategory = 1u << 2;
  static constexpr uint32_t kTruncatedCondition = 1u << 3;
  static constexpr uint32_t kTruncatedImages = 1u << 4;

  // Resets every field to its default, keeping string capacity.
  void Clear();
};

// Returns OK when `listing` holds what a scan expects of it, the same checks the dump
// reader applies to every record: id and seller_id not empty; every text field valid
// UTF-8 and within its cap (the reader truncates over-cap text; a hand-built listing must
// do so itself); price finite and >= 0; currency a 3-letter upper-case code; quantity
// >= 1; at most 32 image paths, each non-empty, at most 1 KiB, relative, without a ".."
// component, backslash or NUL; image_hashes empty or one per path, each quality kNoHash or
// 0..100; image_bytes empty or one per path. Otherwise returns InvalidArgument with the message the
// reader gives such a record, e.g. `field "id" must not be empty` or
// `price must be finite and >= 0`; the first problem in field order wins. Whether the
// currency has a rate in the rules' policy is the scanner's check, not this one.
// Thread-safe; does not allocate unless it fails.
BONAFIDE_EXPORT absl::Status ValidateListing(const Listing& listing);

// Reads listings written as JSON objects one at a time (a Kafka message, a request body):
// the format of a JSON Lines dump record (docs/listings.md), read by the dump reader's own
// code, so the fields, caps, truncation and reject messages are the same.
//
//   bonafide::ListingJsonParser parser;  // one per thread
//   bonafide::Listing listing;           // reused: keeps its capacity
//   if (absl::Status s = parser.Parse(message, listing); !s.ok()) { ...s.message()... }
//
// Not thread-safe (it holds the JSON parser's buffers); not copyable.
class BONAFIDE_EXPORT ListingJsonParser {
 public:
  ListingJsonParser();
  ~ListingJsonParser();
  ListingJsonParser(const ListingJsonParser&) = delete;
  ListingJsonParser& operator=(const ListingJsonParser&) = delete;

  // Parses `json`, one JSON object (surrounding whitespace allowed), into `listing` (reset
  // first). Over-cap text is truncated and flagged in Listing::truncated_fields, as the
  // dump reader does; a listing parsed without error passes ValidateListing(). Otherwise
  // returns InvalidArgument with the message a dump reader gives the same record
  // (`invalid JSON: ...`, `missing required field "price"`, `image path escapes the image
  // root: "../x.jpg"`), and `listing` holds whatever was read before the problem.
  absl::Status Parse(std::string_view json, Listing& listing);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// How a dump is written. kAuto decides by the file name: ".csv" (also ".csv.gz",
// ".csv.zst"; any letter case) is CSV, anything else, and standard input, JSON Lines.
enum class InputFormat {
  kAuto,
  kJsonLines,
  kCsv,
};

}  // namespace bonafide

#endif  // BONAFIDE_LISTING_H_
