#include "models/photo_bank.h"

#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

#include "util/files.h"
#include "util/hash.h"

namespace bonafide::models {
namespace {

// Bump when decoding or hashing changes what a photo hashes to: old entries are then
// ignored (the file name carries the format version, this the content version).
constexpr uint32_t kHashVersion = 1;
constexpr std::string_view kCacheMagic("BFPDQC01", 8);
constexpr char kCacheFile[] = "pdq-photos-v1.bin";

// Content digest of a photo: util/hash.h's stable 128-bit hash, not cryptographic.
struct Digest {
  uint64_t lo = 0, hi = 0;
  friend bool operator==(const Digest&, const Digest&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Digest& d) {
    return H::combine(std::move(h), d.lo, d.hi);
  }
};

Digest ContentDigest(std::string_view bytes) {
  Hasher128 h;
  h.Add(bytes);
  const auto [lo, hi] = h.Digest();
  return {lo, hi};
}

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // little-endian hosts only (x86-64 is the build floor)
}

// ---------------------------------------------------------------------------------------
// Cache file (util/files.h SealCache): magic (8), hash version (u32), record count (u32),
// records, then the digest of everything before it (16). A record: content digest (16), quality
// (i32), padding (4), the 8 dihedral hashes (8 x 4 x u64), all little-endian.

struct CacheRecord {
  int quality = 0;
  std::array<Hash256, kNumDihedral> hashes;
};
using CacheMap = absl::flat_hash_map<Digest, CacheRecord>;
constexpr size_t kRecordBytes = 16 + 8 + kNumDihedral * 32;

void Put64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }
void Put32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Reads the cache; anything unexpected gives an empty map (the photos are then rehashed).
CacheMap ReadCache(const std::string& path) {
  CacheMap map;
  const absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return map;
  const std::optional<std::string_view> body = UnsealCache(*bytes, kCacheMagic);
  if (!body.has_value() || body->size() < 8 || Load32(body->data()) != kHashVersion) return map;
  const uint32_t count = Load32(body->data() + 4);
  if (body->size() != 8 + size_t{count} * kRecordBytes) return map;
  map.reserve(count);
  const char* p = body->data() + 8;
  for (uint32_t r = 0; r < count; ++r, p += kRecordBytes) {
    Digest d{Load64(p), Load64(p + 8)};
    CacheRecord rec;
    rec.quality = static_cast<int32_t>(Load32(p + 16));
    for (int v = 0; v < kNumDihedral; ++v) {
      for (int w = 0; w < 4; ++w) rec.hashes[v].words[w] = Load64(p + 24 + v * 32 + w * 8);
    }
    map.emplace(d, rec);
  }
  return map;
}

// Writes the cache atomically (util/files.h).
void WriteCache(const std::string& dir, const std::string& path, const CacheMap& map) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string data;
  Put32(data, kHashVersion);
  Put32(data, static_cast<uint32_t>(map.size()));
  for (const auto& [d, rec] : map) {
    Put64(data, d.lo);
    Put64(data, d.hi);
    Put32(data, static_cast<uint32_t>(rec.quality));
    Put32(data, 0);
    for (const Hash256& h : rec.hashes) {
      for (uint64_t w : h.words) Put64(data, w);
    }
  }
  // A cache that cannot be written only costs the next build rehashing the photos.
  WriteFileAtomically(path, SealCache(kCacheMagic, data)).IgnoreError();
}

}  // namespace

const char* DihedralName(Dihedral variant) {
  switch (variant) {
    case Dihedral::kOriginal:
      return "original";
    case Dihedral::kRotate90:
      return "rotate90";
    case Dihedral::kRotate180:
      return "rotate180";
    case Dihedral::kRotate270:
      return "rotate270";
    case Dihedral::kFlipX:
      return "flip_x";
    case Dihedral::kFlipY:
      return "flip_y";
    case Dihedral::kTranspose:
      return "transpose";
    case Dihedral::kTransverse:
      return "transverse";
  }
  return "original";
}

absl::StatusOr<std::shared_ptr<const PhotoBank>> PhotoBank::Build(
    const std::vector<GenuinePhoto>& photos, const PhotoBankOptions& options,
    size_t* failed_photo) {
  std::shared_ptr<PhotoBank> bank(new PhotoBank());
  CacheMap cache;
  if (!options.cache_dir.empty()) {
    bank->cache_path_ = absl::StrCat(options.cache_dir, "/", kCacheFile);
    cache = ReadCache(bank->cache_path_);
  }
  ImageDecoder decoder(options.limits);
  DecodedLuma luma;
  PdqHasher hasher;
  std::string bytes;
  bank->photos_.reserve(photos.size());
  auto fail = [&](size_t photo, const absl::Status& s) {
    if (failed_photo != nullptr) *failed_photo = photo;
    return absl::Status(s.code(), absl::StrCat(photos[photo].path, ": ", s.message()));
  };
  for (size_t i = 0; i < photos.size(); ++i) {
    const GenuinePhoto& g = photos[i];
    Photo p;
    p.holder = g.holder;
    p.product = g.product;
    p.path = g.path;
    if (absl::Status s = ReadImageFile(g.path, options.limits.max_bytes, bytes); !s.ok()) {
      return fail(i, s);
    }
    const Digest digest = ContentDigest(bytes);
    p.content_digest = {digest.lo, digest.hi};
    if (auto it = cache.find(digest); it != cache.end()) {
      p.quality = it->second.quality;
      p.hashes = it->second.hashes;
      p.from_cache = true;
    } else {
      if (absl::Status s = decoder.Decode(bytes, DecodeMode::kFull, luma); !s.ok()) {
        return fail(i, s);
      }
      const auto all = hasher.HashDihedral(luma.luma.data(), luma.width, luma.height);
      p.quality = all[0].quality;
      for (int v = 0; v < kNumDihedral; ++v) p.hashes[v] = all[v].hash;
      cache.emplace(digest, CacheRecord{p.quality, p.hashes});
      ++bank->hashed_;
    }
    p.indexed = p.quality >= options.min_quality;
    if (!p.indexed) bank->too_plain_.push_back(static_cast<uint32_t>(bank->photos_.size()));
    bank->photos_.push_back(std::move(p));
  }
  if (bank->hashed_ > 0 && !bank->cache_path_.empty()) {
    WriteCache(options.cache_dir, bank->cache_path_, cache);
  }

  std::vector<Hash256> hashes;
  for (uint32_t i = 0; i < bank->photos_.size(); ++i) {
    const Photo& p = bank->photos_[i];
    if (!p.indexed) continue;
    for (int v = 0; v < kNumDihedral; ++v) {
      hashes.push_back(p.hashes[v]);
      bank->id_photo_.push_back(i);
      bank->id_variant_.push_back(static_cast<uint8_t>(v));
    }
  }
  bank->use_multi_ = hashes.size() > options.multi_index_min_hashes;
  if (bank->use_multi_) {
    bank->multi_ = MultiIndex::Build(std::move(hashes));
  } else {
    bank->flat_ = FlatIndex::Build(std::move(hashes));
  }
  return std::shared_ptr<const PhotoBank>(std::move(bank));
}

void PhotoBank::Query(const Hash256& query, int max_distance, Scratch& scratch,
                      std::vector<BankMatch>& out) const {
  out.clear();
  if (id_photo_.empty()) return;
  if (use_multi_) {
    multi_.Query(query, max_distance, scratch.multi_, scratch.hits_);
  } else {
    flat_.Query(query, max_distance, scratch.hits_);
  }
  for (const IndexMatch& m : scratch.hits_) {
    out.push_back({id_photo_[m.id], static_cast<Dihedral>(id_variant_[m.id]), m.distance});
  }
}

}  // namespace bonafide::models
