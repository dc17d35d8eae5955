#include "bonafide/shard.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "util/strings.h"

namespace bonafide {
namespace {

constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t FnvAppend(uint64_t h, std::string_view bytes) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime;
  }
  return h;
}

// MurmurHash3's fmix64.
uint64_t Finalize(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// A decimal without sign or leading '+', fully consumed.
bool ParseDecimal(std::string_view text, uint32_t& out) {
  if (text.empty() || text.size() > 9) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string Shard::ToString() const { return absl::StrCat(index, "/", count); }

absl::StatusOr<Shard> ParseShard(std::string_view text) {
  const size_t slash = text.find('/');
  Shard shard;
  if (slash == std::string_view::npos || !ParseDecimal(text.substr(0, slash), shard.index) ||
      !ParseDecimal(text.substr(slash + 1), shard.count)) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard \"", ToAbsl(text), "\": expected I/N, e.g. 0/4"));
  }
  if (shard.count == 0 || shard.count > kMaxShards || shard.index >= shard.count) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard \"", ToAbsl(text), "\": need 0 <= I < N <= ", kMaxShards));
  }
  return shard;
}

uint64_t ShardHash(std::string_view marketplace, std::string_view listing_id) {
  uint64_t h = FnvAppend(kFnvOffsetBasis, marketplace);
  h = FnvAppend(h, std::string_view("\0", 1));
  return Finalize(FnvAppend(h, listing_id));
}

}  // namespace bonafide
