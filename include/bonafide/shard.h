// Shards: splitting one scan over N processes or machines by a stable hash of each
// listing's (marketplace, id), so that every listing is judged by exactly one of them and
// the N shards together open the same cases as one unsharded scan (docs/scale-out.md).
//
//   absl::StatusOr<bonafide::Shard> shard = bonafide::ParseShard("3/16");
//   if (bonafide::InShard(listing.marketplace, listing.id, *shard)) { ... }
//
// The hash is part of the contract: other tools may compute it to route listings the same
// way, so it never changes.
#ifndef BONAFIDE_SHARD_H_
#define BONAFIDE_SHARD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

#include "bonafide/export.h"

namespace bonafide {

// Shard `index` of `count` (0 <= index < count). The default is the whole input.
struct BONAFIDE_EXPORT Shard {
  uint32_t index = 0;
  uint32_t count = 1;

  bool whole() const { return count == 1; }
  // "I/N", as ParseShard reads it.
  std::string ToString() const;
};

// The most shards a scan can be split into.
inline constexpr uint32_t kMaxShards = 1 << 20;

// Reads "I/N" (decimal, 0 <= I < N <= kMaxShards). InvalidArgument, naming the text,
// otherwise.
BONAFIDE_EXPORT absl::StatusOr<Shard> ParseShard(std::string_view text);

// The stable 64-bit hash of a listing's key: FNV-1a (64-bit) over the bytes of
// `marketplace`, one zero byte and the bytes of `listing_id`, then MurmurHash3's 64-bit
// finalizer (which spreads FNV-1a's weak low bits over every bit, so that any N divides
// evenly). The marketplace is the one the listing is judged under ("default" when the
// record names none).
BONAFIDE_EXPORT uint64_t ShardHash(std::string_view marketplace, std::string_view listing_id);

// True when the listing belongs to `shard`: ShardHash(...) % shard.count == shard.index.
inline bool InShard(std::string_view marketplace, std::string_view listing_id, Shard shard) {
  return shard.count <= 1 || ShardHash(marketplace, listing_id) % shard.count == shard.index;
}

}  // namespace bonafide

#endif  // BONAFIDE_SHARD_H_
