#include "models/feature_bank.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

#include "util/files.h"
#include "util/hash.h"

namespace bonafide::models {
namespace {

// ---------------------------------------------------------------------------------------
// Keypoint cache (util/files.h SealCache): magic (8), record count (u32), records, then the
// digest of everything before it (16). A record: the photo's content digest (16), width, height and
// keypoint count (3 x u32), the points (count x 2 x f32), the descriptors (count x 32).
// Native byte order: the cache never leaves the machine (x86-64 is the build floor).

constexpr std::string_view kCacheMagic("BFORBC01", 8);
using ContentDigest = std::pair<uint64_t, uint64_t>;
using CacheMap = absl::flat_hash_map<ContentDigest, LocalFeatures>;

// Options that change what a photo's keypoints are name the file, so that different
// options never read each other's keypoints.
std::string CachePath(const FeatureBankOptions& options) {
  Hasher128 key;
  key.Add(absl::StrCat("orb ", options.features.max_side, " ", options.features.max_keypoints, " ",
                       options.features.levels, " ", LocalFeatureVersion()));
  return absl::StrCat(options.cache_dir, "/orb-photos-v1-", key.Hex64(), ".bin");
}

template <typename T>
void Put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

// Reads values off the front of a byte range; false once it runs short.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : rest_(bytes) {}
  template <typename T>
  bool Get(T& value) {
    return Get(&value, sizeof value);
  }
  bool Get(void* out, size_t size) {
    if (rest_.size() < size) return false;
    std::memcpy(out, rest_.data(), size);
    rest_.remove_prefix(size);
    return true;
  }
  bool at_end() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// Anything unexpected gives an empty map (the photos are then extracted again).
CacheMap ReadCache(const std::string& path) {
  CacheMap map;
  const absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return map;
  const std::optional<std::string_view> body = UnsealCache(*bytes, kCacheMagic);
  if (!body.has_value()) return map;
  Cursor in(*body);
  uint32_t count = 0;
  if (!in.Get(count)) return {};
  for (uint32_t r = 0; r < count; ++r) {
    ContentDigest digest;
    uint32_t width = 0, height = 0, points = 0;
    if (!in.Get(digest.first) || !in.Get(digest.second) || !in.Get(width) || !in.Get(height) ||
        !in.Get(points) || points > body->size()) {
      return {};
    }
    LocalFeatures f;
    f.width = static_cast<int>(width);
    f.height = static_cast<int>(height);
    f.points.resize(points);
    f.descriptors.resize(points);
    for (FeaturePoint& p : f.points) {
      if (!in.Get(p.x) || !in.Get(p.y)) return {};
    }
    for (Hash256& d : f.descriptors) {
      if (!in.Get(d.words, sizeof d.words)) return {};
    }
    map.insert_or_assign(digest, std::move(f));
  }
  if (!in.at_end()) return {};
  return map;
}

void WriteCache(const FeatureBankOptions& options, const CacheMap& map) {
  std::string data;
  Put(data, static_cast<uint32_t>(map.size()));
  for (const auto& [digest, f] : map) {
    Put(data, digest.first);
    Put(data, digest.second);
    Put(data, static_cast<uint32_t>(f.width));
    Put(data, static_cast<uint32_t>(f.height));
    Put(data, static_cast<uint32_t>(f.size()));
    for (const FeaturePoint& p : f.points) {
      Put(data, p.x);
      Put(data, p.y);
    }
    for (const Hash256& d : f.descriptors) data.append(reinterpret_cast<const char*>(d.words), 32);
  }
  std::error_code ec;
  std::filesystem::create_directories(options.cache_dir, ec);
  // A cache that cannot be written only costs the next build extracting again.
  WriteFileAtomically(CachePath(options), SealCache(kCacheMagic, data)).IgnoreError();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const FeatureBank>> FeatureBank::Build(
    const PhotoBank& photos, const FeatureBankOptions& options, size_t* failed_photo) {
  std::shared_ptr<FeatureBank> bank(new FeatureBank());
  bank->options_ = options;
  bank->photo_count_ = photos.photo_count();
  bank->features_.resize(photos.photo_count());
  ImageDecoder decoder(options.limits);
  DecodedLuma luma;
  FeatureExtractor extractor(options.features);
  std::vector<Hash256> descriptors;
  CacheMap cache;
  if (!options.cache_dir.empty()) cache = ReadCache(CachePath(options));
  bool extracted = false;
  for (uint32_t i = 0; i < photos.photo_count(); ++i) {
    const PhotoBank::Photo& photo = photos.photo(i);
    if (!photo.indexed) continue;
    if (auto cached = cache.find(photo.content_digest); cached != cache.end()) {
      bank->features_[i] = cached->second;
    } else {
      absl::Status s = decoder.DecodeFile(photo.path, DecodeMode::kReduced, luma);
      if (s.ok()) {
        s = extractor.Extract(luma.luma.data(), luma.width, luma.height, bank->features_[i]);
      }
      if (!s.ok()) {
        if (failed_photo != nullptr) *failed_photo = i;
        if (s.code() == absl::StatusCode::kUnimplemented) return s;
        return absl::Status(s.code(), absl::StrCat(photo.path, ": ", s.message()));
      }
      if (!options.cache_dir.empty()) {
        cache.insert_or_assign(photo.content_digest, bank->features_[i]);
        extracted = true;
      }
    }
    LocalFeatures& f = bank->features_[i];
    if (static_cast<int>(f.size()) < options.geometry.min_inliers) {
      f = LocalFeatures{};  // too few keypoints ever to verify
      continue;
    }
    ++bank->matchable_;
    descriptors.insert(descriptors.end(), f.descriptors.begin(), f.descriptors.end());
    bank->id_photo_.insert(bank->id_photo_.end(), f.size(), i);
  }
  if (extracted) WriteCache(options, cache);
  bank->use_multi_ = descriptors.size() > options.multi_index_min_descriptors;
  if (bank->use_multi_) {
    bank->multi_ = MultiIndex::Build(std::move(descriptors));
  } else {
    bank->flat_ = FlatIndex::Build(std::move(descriptors));
  }
  return std::shared_ptr<const FeatureBank>(std::move(bank));
}

absl::Status FeatureBank::Match(const float* luma, int width, int height, Scratch& scratch,
                                std::optional<FeatureBankMatch>& out) const {
  out.reset();
  if (id_photo_.empty()) return absl::OkStatus();
  if (absl::Status s = scratch.extractor_.Extract(luma, width, height, scratch.listing_); !s.ok()) {
    return s;
  }
  MatchFeatures(scratch.listing_, scratch, out);
  return absl::OkStatus();
}

void FeatureBank::MatchFeatures(const LocalFeatures& listing, Scratch& s,
                                std::optional<FeatureBankMatch>& out) const {
  out.reset();
  const int min_inliers = options_.geometry.min_inliers;
  if (id_photo_.empty() || static_cast<int>(listing.size()) < min_inliers) return;
  // 1. Votes: each listing descriptor once per photo it meets.
  s.votes_.assign(photo_count_, 0);
  s.last_voter_.assign(photo_count_, 0);
  for (uint32_t q = 0; q < listing.size(); ++q) {
    if (use_multi_) {
      multi_.Query(listing.descriptors[q], options_.vote_distance, s.multi_, s.hits_);
    } else {
      flat_.Query(listing.descriptors[q], options_.vote_distance, s.hits_);
    }
    // A descriptor met in many genuine photos (texture, noise, a common corner) says
    // nothing about which one is shown: it does not vote. Hits come by ascending id, and
    // ids are grouped by photo, so the photos met are counted by changes of photo.
    int photos_met = 0;
    for (size_t h = 0; h < s.hits_.size(); ++h) {
      if (h == 0 || id_photo_[s.hits_[h].id] != id_photo_[s.hits_[h - 1].id]) ++photos_met;
    }
    if (photos_met > options_.max_photos_per_vote) continue;
    for (const IndexMatch& m : s.hits_) {
      const uint32_t photo = id_photo_[m.id];
      if (s.last_voter_[photo] == q + 1) continue;
      s.last_voter_[photo] = q + 1;
      ++s.votes_[photo];
    }
  }
  // 2. Candidates: enough votes, most votes first (ties: lower photo), at most
  // max_candidates.
  s.candidates_.clear();
  for (uint32_t p = 0; p < photo_count_; ++p) {
    if (static_cast<int>(s.votes_[p]) >= options_.min_votes) s.candidates_.push_back(p);
  }
  std::sort(s.candidates_.begin(), s.candidates_.end(), [&](uint32_t a, uint32_t b) {
    return s.votes_[a] != s.votes_[b] ? s.votes_[a] > s.votes_[b] : a < b;
  });
  if (s.candidates_.size() > static_cast<size_t>(options_.max_candidates)) {
    s.candidates_.resize(options_.max_candidates);
  }
  // 3-4. Pairs by nearest descriptor with the ratio test, then the geometry.
  for (const uint32_t photo : s.candidates_) {
    const LocalFeatures& genuine = features_[photo];
    s.pairs_.clear();
    for (uint32_t q = 0; q < listing.size(); ++q) {
      int best = 257, second = 257;
      uint32_t best_j = 0;
      for (uint32_t j = 0; j < genuine.size(); ++j) {
        const int d = HammingDistance(listing.descriptors[q], genuine.descriptors[j]);
        if (d < best) {
          second = best;
          best = d;
          best_j = j;
        } else if (d < second) {
          second = d;
        }
      }
      if (best <= options_.match_distance && best < options_.ratio * second) {
        s.pairs_.push_back({q, best_j});
      }
    }
    const GeometryCheck check = VerifyGeometry(listing, genuine, s.pairs_, options_.geometry);
    if (check.verified && (!out.has_value() || check.inliers > out->inliers)) {
      out = FeatureBankMatch{photo, check.inliers};
    }
  }
}

}  // namespace bonafide::models
