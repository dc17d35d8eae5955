#include "bonafide/scanner.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "engine/case_record_renderer.h"
#include "engine/decision.h"
#include "engine/explanation.h"
#include "engine/feedback_index.h"
#include "engine/listing_validation.h"
#include "engine/photo_hash_cache.h"
#include "engine/scan_run.h"
#include "models/image_decode.h"
#include "models/pdq.h"
#include "models/photo_bank.h"
#include "models/photo_matcher.h"
#include "rules/compiled_rules.h"
#include "rules/normalize.h"
#include "rules/rule_pack.h"
#include "rules/rule_pack_cache.h"
#include "rules/rule_pack_digest.h"
#include "rules/text_matcher.h"
#include "util/hash.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide {

struct Scanner::Impl {
  std::shared_ptr<const rules::CompiledRules> rules;
  // The genuine photos; null when no product registers any (then nothing image-related
  // costs anything).
  std::shared_ptr<const models::PhotoBank> bank;
  // The stages after PDQ (trimmed PDQ, local features); null without a bank or when
  // ScannerOptions::edited_photos is false.
  std::unique_ptr<const models::PhotoMatcher> edited;
  // edited->ResultDigest under the policy's limits: kept in the listing-photo cache beside
  // a photo in which those stages found nothing.
  uint64_t edited_result_digest = 0;
  // What the rights holders' verdicts taught (ScannerOptions::feedback).
  engine::FeedbackIndex feedback;
  RulesInfo info;
  std::string image_root_real;  // realpath of info.image_root
  // The patterns compiled by ScannerOptions::text_backend; each scratch has a matcher.
  std::shared_ptr<const rules::MatcherDatabase> matchers;
  // Listing photos' hashes kept across scans, in the cache dir (null: none).
  std::unique_ptr<engine::PhotoHashCache> photo_cache;
  // Refers to *rules and info; set once both are final.
  std::optional<engine::CaseRecordRenderer> renderer;

  // Genuine photos or photos of confirmed counterfeits exist: listing photos can matter.
  bool matches_photos = false;

  // How many hashes of a listing photo are matched: all 8 rotations and flips when known
  // counterfeit photos are (the bank holds one hash each), else the photo as shown.
  size_t VariantsNeeded() const { return feedback.has_photos() ? models::kNumDihedral : 1; }

  // True when some photo of `listing` can be read: it carries photos (in memory or as
  // hashes), or an image root is set.
  bool CanReadPhotos(const Listing& listing) const {
    return !info.image_root.empty() || !listing.image_hashes.empty() ||
           !listing.image_bytes.empty();
  }
  // Reads, hashes and matches (against the banks there are) the listing's photos into
  // scratch.images, scratch.image_matches and scratch.known_photos. Each photo comes from
  // its hash, else its bytes in memory, else its file under the image root (kNotRead when
  // there is none).
  void ScanImages(const Listing& listing, Scanner::Scratch::Impl& scratch) const;
  // Reads and hashes the listing photo at `relative_path` (under the image root) into
  // variants[0, variant_count): all 8 rotations and flips when known counterfeit photos
  // are matched, else the photo as shown. Returns false with the failure in `r`.
  bool HashPhoto(const std::string& relative_path, Scanner::Scratch::Impl& scratch,
                 std::array<models::PdqResult, models::kNumDihedral>& variants,
                 size_t& variant_count, ImageResult& r) const;
  // Decodes and hashes encoded photo `bytes` into variants[0, variant_count) (all 8
  // rotations and flips when known counterfeit photos are matched). Returns false with the
  // failure in `r`.
  bool HashEncoded(std::string_view bytes, Scanner::Scratch::Impl& scratch,
                   std::array<models::PdqResult, models::kNumDihedral>& variants,
                   size_t& variant_count, ImageResult& r) const;
  // Decodes the photo at s.path (resolved by HashPhoto, whose hash came from the cache)
  // into s.luma for the stages after PDQ. False, with the reason in r.detail, when it
  // cannot be read any more.
  bool DecodeCached(Scanner::Scratch::Impl& s, ImageResult& r) const;
  // Adds the genuine photos of s.stage_matches (whichever stage found them) to
  // s.image_matches, keeping the best match per rights holder.
  void AddImageMatches(int32_t image, int quality, Scanner::Scratch::Impl& s) const;
  // Builds `edited` and sets info.photo_features. A build without OpenCV has no feature
  // stage (reported, not an error). Errors: a genuine photo that cannot be read or decoded.
  absl::Status BuildEditedPhotoStages(const rules::RulePack& pack, const std::string& cache_dir);
};

struct Scanner::Scratch::Impl {
  Impl(const Scanner::Impl& scanner, const rules::CompiledRules& rules,
       std::unique_ptr<rules::TextMatcher> text_matcher)
      : owner(&scanner), matcher(std::move(text_matcher)), decision(rules) {}

  // The scanner that made it: its matcher and decision tables fit that scanner's rules only.
  const Scanner::Impl* owner;

  // Finds the patterns of `scope` in `text`.
  void Match(std::string_view text, rules::MatchScope scope, std::vector<rules::TextHit>& hits) {
    const absl::Status status = matcher->Match(text, scope, hits);
    // A matcher fails only on misuse (a scratch shared between threads) or exhaustion.
    BONAFIDE_CHECK(status.ok());
  }

  std::unique_ptr<rules::TextMatcher> matcher;
  engine::MatchedField title;
  engine::MatchedField description;
  engine::DecisionScratch decision;

  // The image stage, used only when the scanner reads photos.
  models::ImageDecoder decoder;
  models::DecodedLuma luma;
  models::PdqHasher hasher;
  models::PhotoBank::Scratch bank_scratch;
  std::vector<models::BankMatch> bank_matches;
  std::optional<models::PhotoMatcher::Scratch> edited_scratch;  // made at the first use
  std::vector<models::StageMatch> stage_matches;  // of the photo being matched, any stage
  std::vector<engine::ImageMatch> image_matches;  // best per holder
  std::vector<models::IndexMatch> known_hits;
  std::vector<engine::KnownPhotoMatch> known_photos;  // best per holder
  std::vector<ImageResult> images;                    // swapped into the verdict
  // The listing-photo hash cache's connection, opened at the first photo (null when the
  // scanner has no cache or it cannot be opened).
  std::unique_ptr<engine::PhotoHashCache::Session> cache_session;
  bool cache_session_tried = false;
  engine::CachedPhotoHash cached;
  // The photo being matched has a row in the cache under this identity and content (set by
  // HashPhoto when the photo was read from a file with a cache session).
  bool cache_row = false;
  engine::FileIdentity cache_identity;
  engine::ContentDigest cache_digest;
  std::string file_bytes;  // the photo being read
  std::string path;
  char resolved[PATH_MAX];
};

namespace {

// True when `resolved` (a realpath) is `root` (a realpath) or inside it.
bool InsideRoot(std::string_view resolved, std::string_view root) {
  if (root == "/") return true;
  return resolved.size() > root.size() && resolved.compare(0, root.size(), root) == 0 &&
         resolved[root.size()] == '/';
}

// Sets `r` to a failure of `status` (a decode error, which does not name the path): the
// kind by status code, the message as the detail.
void SetFailure(const absl::Status& status, ImageResult& r) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      r.status = ImageStatus::kMissing;
      break;
    case absl::StatusCode::kResourceExhausted:
      r.status = ImageStatus::kTooLarge;
      break;
    default:
      r.status = ImageStatus::kUnreadable;
      break;
  }
  r.detail.assign(status.message().data(), status.message().size());
}

// True when image match `a` is stronger evidence than `b`: an earlier stage (whole-photo
// PDQ, then trimmed PDQ, then local features), then a smaller distance, then more inliers.
bool Better(const engine::ImageMatch& a, const engine::ImageMatch& b) {
  if (a.stage != b.stage) return a.stage < b.stage;
  if (a.distance != b.distance) return a.distance < b.distance;
  return a.inliers > b.inliers;
}

// Returns the product of every genuine photo, in PhotoBank order.
std::vector<const rules::Product*> PhotoProducts(const rules::RulePack& pack) {
  std::vector<const rules::Product*> products;
  for (const rules::RightsHolder& holder : pack.rights_holders) {
    for (const rules::Product& product : holder.products) {
      for (size_t i = 0; i < product.images.size(); ++i) products.push_back(&product);
    }
  }
  return products;
}

}  // namespace

bool Scanner::Impl::HashPhoto(const std::string& relative_path, Scanner::Scratch::Impl& s,
                              std::array<models::PdqResult, models::kNumDihedral>& variants,
                              size_t& variant_count, ImageResult& r) const {
  // ValidateListing refused absolute paths, `..` and NUL (Scan applies it, the reader did for
  // ScanRead); a symbolic link may still lead out.
  s.path.assign(info.image_root);
  s.path.push_back('/');
  s.path.append(relative_path);
  if (::realpath(s.path.c_str(), s.resolved) == nullptr) {
    const int err = errno;
    r.status = err == ENOENT || err == ENOTDIR ? ImageStatus::kMissing : ImageStatus::kUnreadable;
    r.detail = err == ENOENT || err == ENOTDIR ? "no such file" : std::strerror(err);
    return false;
  }
  if (!InsideRoot(s.resolved, image_root_real)) {
    r.status = ImageStatus::kOutsideRoot;
    r.detail = "resolves outside the image root";
    return false;
  }
  s.path.assign(s.resolved);  // decode what was checked
  const size_t needed = VariantsNeeded();
  // The cache: by identity without reading the file, then by content without decoding it.
  engine::PhotoHashCache::Session* cache = nullptr;
  engine::FileIdentity identity;
  // The photo has a row in the cache under `identity` and this content.
  auto has_row = [&](const engine::ContentDigest& content) {
    s.cache_row = true;
    s.cache_identity = identity;
    s.cache_digest = content;
  };
  if (photo_cache != nullptr) {
    if (s.cache_session == nullptr && !s.cache_session_tried) {
      s.cache_session = photo_cache->NewSession();
      s.cache_session_tried = true;
    }
    struct stat st;
    if (s.cache_session != nullptr && ::stat(s.path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      cache = s.cache_session.get();
      identity = engine::FileIdentity::FromStat(st);
      if (cache->Lookup(identity, needed, s.cached)) {
        variants = s.cached.variants;
        variant_count = s.cached.count;
        r.source = HashSource::kCache;
        has_row(s.cached.digest);
        return true;
      }
    }
  }
  if (absl::Status st = models::ReadImageFile(s.path, s.decoder.limits().max_bytes, s.file_bytes);
      !st.ok()) {
    SetFailure(st, r);
    return false;
  }
  engine::ContentDigest digest;
  if (cache != nullptr) {
    digest = engine::ContentDigest::Of(s.file_bytes);
    if (cache->LookupContent(digest, needed, s.cached)) {
      variants = s.cached.variants;
      variant_count = s.cached.count;
      cache->Store(identity, digest, variants.data(), variant_count, s.cached.nothing_after_pdq);
      r.source = HashSource::kCache;
      has_row(digest);
      return true;
    }
  }
  if (!HashEncoded(s.file_bytes, s, variants, variant_count, r)) return false;
  if (cache != nullptr) {
    cache->Store(identity, digest, variants.data(), variant_count);
    has_row(digest);
  }
  return true;
}

bool Scanner::Impl::HashEncoded(std::string_view bytes, Scanner::Scratch::Impl& s,
                                std::array<models::PdqResult, models::kNumDihedral>& variants,
                                size_t& variant_count, ImageResult& r) const {
  if (absl::Status st = s.decoder.Decode(bytes, models::DecodeMode::kReduced, s.luma); !st.ok()) {
    SetFailure(st, r);
    return false;
  }
  const size_t needed = VariantsNeeded();
  if (needed == models::kNumDihedral) {
    variants = s.hasher.HashDihedral(s.luma.luma.data(), s.luma.width, s.luma.height);
  } else {
    variants[0] = s.hasher.Hash(s.luma.luma.data(), s.luma.width, s.luma.height);
  }
  variant_count = needed;
  return true;
}

bool Scanner::Impl::DecodeCached(Scanner::Scratch::Impl& s, ImageResult& r) const {
  const absl::Status st = s.decoder.DecodeFile(s.path, models::DecodeMode::kReduced, s.luma);
  if (!st.ok()) r.detail.assign(st.message().data(), st.message().size());
  return st.ok();
}

void Scanner::Impl::AddImageMatches(int32_t image, int quality, Scanner::Scratch::Impl& s) const {
  for (const models::StageMatch& m : s.stage_matches) {
    const models::PhotoBank::Photo& photo = bank->photo(m.photo);
    engine::ImageMatch candidate;
    candidate.holder = photo.holder;
    candidate.product = photo.product;
    candidate.image = image;
    candidate.genuine_photo = static_cast<int32_t>(m.photo);
    candidate.variant = static_cast<uint8_t>(m.variant);
    candidate.stage = static_cast<uint8_t>(m.stage);
    candidate.distance = static_cast<int16_t>(m.distance);
    candidate.quality = static_cast<int16_t>(quality);
    candidate.inliers = static_cast<int16_t>(std::min(m.inliers, 32767));
    auto it = std::find_if(s.image_matches.begin(), s.image_matches.end(),
                           [&](const engine::ImageMatch& x) { return x.holder == photo.holder; });
    if (it == s.image_matches.end()) {
      s.image_matches.push_back(candidate);
    } else if (Better(candidate, *it)) {  // ties: the earlier photo stays
      *it = candidate;
    }
  }
}

void Scanner::Impl::ScanImages(const Listing& listing, Scanner::Scratch::Impl& s) const {
  s.images.clear();
  s.image_matches.clear();
  s.known_photos.clear();
  if (listing.images.empty()) return;
  const auto& policy = rules->pack().policy;
  for (size_t i = 0; i < listing.images.size(); ++i) {
    s.images.emplace_back();
    ImageResult& r = s.images.back();
    r.image = static_cast<int32_t>(i);
    s.cache_row = false;
    // Counterfeit photos are matched in every rotation and flip of the listing photo (the
    // bank holds one hash per photo); the 8 hashes cost one DCT and 8 thresholdings. A
    // hash that came with the listing has only the photo as shown.
    std::array<models::PdqResult, models::kNumDihedral> variants;
    size_t variant_count = 1;
    if (!listing.image_hashes.empty() && listing.image_hashes[i].present()) {
      const Listing::ImageHash& given = listing.image_hashes[i];
      std::memcpy(variants[0].hash.words, given.pdq, sizeof(given.pdq));
      variants[0].quality = given.quality;
      r.source = HashSource::kListing;
    } else if (!listing.image_bytes.empty() && !listing.image_bytes[i].empty()) {
      // Bytes a service just received: new content, so the listing-photo cache (keyed by
      // file identity, or content after a file read) would cost a digest for nothing.
      if (!HashEncoded(listing.image_bytes[i], s, variants, variant_count, r)) continue;
    } else if (info.image_root.empty()) {
      r.status = ImageStatus::kNotRead;
      r.detail = "no image root to read it under";
      continue;
    } else if (!HashPhoto(listing.images[i], s, variants, variant_count, r)) {
      continue;
    }
    const models::PdqResult& pdq = variants[0];
    r.quality = pdq.quality;
    std::memcpy(r.hash, pdq.hash.words, sizeof(r.hash));
    if (pdq.quality < policy.image.min_quality) {
      r.status = ImageStatus::kTooPlain;
      continue;
    }
    if (feedback.has_photos()) {
      feedback.QueryPhotos(absl::MakeConstSpan(variants.data(), variant_count),
                           static_cast<int32_t>(i), policy.image.max_distance, listing.marketplace,
                           listing.id, s.known_hits, s.known_photos);
    }
    if (bank == nullptr) continue;
    bank->Query(pdq.hash, policy.image.max_distance, s.bank_scratch, s.bank_matches);
    s.stage_matches.clear();
    for (const models::BankMatch& m : s.bank_matches) {
      s.stage_matches.push_back({m.photo, models::MatchStage::kPdq, m.variant, m.distance, 0});
    }
    // The later stages need the pixels: a photo whose hash came from the cache is decoded
    // now (else a rescan would lose what the first scan found), unless the cache also says
    // that these stages, as configured now, found nothing in it; a hash carried by the
    // listing has no file to decode (docs/images.md, "Edited photos").
    const bool nothing_known =
        r.source == HashSource::kCache && s.cached.nothing_after_pdq == edited_result_digest;
    if (s.stage_matches.empty() && edited != nullptr && !nothing_known &&
        (r.source == HashSource::kDecoded ||
         (r.source == HashSource::kCache && DecodeCached(s, r)))) {
      if (!s.edited_scratch.has_value()) s.edited_scratch.emplace();
      if (absl::Status st =
              edited->MatchAfterPdq(s.luma, policy.image.max_distance, policy.image.min_quality,
                                    *s.edited_scratch, s.stage_matches);
          !st.ok()) {
        // The photo was hashed and PDQ found nothing; only a later stage failed on it.
        r.detail.assign(st.message().data(), st.message().size());
      } else if (s.stage_matches.empty() && s.cache_row) {
        s.cache_session->Store(s.cache_identity, s.cache_digest, variants.data(), variant_count,
                               edited_result_digest);
      }
    }
    r.matched = !s.stage_matches.empty();
    AddImageMatches(static_cast<int32_t>(i), pdq.quality, s);
  }
  std::sort(
      s.image_matches.begin(), s.image_matches.end(),
      [](const engine::ImageMatch& a, const engine::ImageMatch& b) { return a.holder < b.holder; });
  std::sort(s.known_photos.begin(), s.known_photos.end(),
            [](const engine::KnownPhotoMatch& a, const engine::KnownPhotoMatch& b) {
              return a.holder < b.holder;
            });
}

absl::Status Scanner::Impl::BuildEditedPhotoStages(const rules::RulePack& pack,
                                                   const std::string& cache_dir) {
  models::FeatureBankOptions options;
  options.cache_dir = cache_dir;
  size_t failed = 0;
  auto features = models::FeatureBank::Build(*bank, options, &failed);
  std::shared_ptr<const models::FeatureBank> feature_bank;
  if (features.ok()) {
    feature_bank = std::move(*features);
    info.photo_features =
        absl::StrFormat("on: %d photos, %d keypoints", feature_bank->matchable_photos(),
                        feature_bank->descriptor_count());
    info.photo_features_min_inliers = options.geometry.min_inliers;
  } else if (features.status().code() == absl::StatusCode::kUnimplemented) {
    info.photo_features = absl::StrCat("unavailable: ", features.status().message());
  } else {
    const rules::Product& product = *PhotoProducts(pack)[failed];
    return absl::Status(features.status().code(),
                        absl::StrFormat("%s: product \"%s\": genuine photo %s",
                                        rules::FormatLocation(product.location), product.id,
                                        features.status().message()));
  }
  edited = std::make_unique<const models::PhotoMatcher>(bank, std::move(feature_bank));
  edited_result_digest =
      edited->ResultDigest(pack.policy.image.max_distance, pack.policy.image.min_quality);
  return absl::OkStatus();
}

Scanner::Scratch::Scratch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scanner::Scratch::~Scratch() = default;

Scanner::Scanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scanner::~Scanner() = default;

absl::StatusOr<std::unique_ptr<Scanner>> Scanner::Create(const ScannerOptions& options) {
  BONAFIDE_ASSIGN_OR_RETURN(rules::RulePack pack,
                            rules::LoadRulePackCached(options.rules_dir, options.cache_dir));
  auto impl = std::make_unique<Impl>();
  BONAFIDE_ASSIGN_OR_RETURN(impl->rules, rules::CompiledRules::Compile(std::move(pack)));
  const rules::RulePack& compiled = impl->rules->pack();
  rules::MatcherBackend backend = rules::DefaultMatcherBackend();
  if (options.text_backend == TextBackend::kHyperscan) backend = rules::MatcherBackend::kHyperscan;
  if (options.text_backend == TextBackend::kRe2Set) backend = rules::MatcherBackend::kRe2Set;
  rules::MatcherOptions matcher_options;
  matcher_options.cache_dir = options.cache_dir;
  BONAFIDE_ASSIGN_OR_RETURN(impl->matchers,
                            rules::CompileMatcherDatabase(backend, impl->rules, matcher_options));

  // The photo bank, only when some product registers genuine photos. The CompiledRules
  // holders are in RulePack order (sorted by id), products too.
  RulesInfo& info = impl->info;
  std::vector<models::GenuinePhoto> photos;
  for (size_t h = 0; h < compiled.rights_holders.size(); ++h) {
    const auto& products = compiled.rights_holders[h].products;
    RulesInfo::Holder& holder = info.holders.emplace_back();
    holder.id = compiled.rights_holders[h].id;
    for (size_t p = 0; p < products.size(); ++p) {
      holder.product_ids.push_back(products[p].id);
      for (const std::string& path : products[p].images) {
        photos.push_back({static_cast<int32_t>(h), static_cast<int32_t>(p), path});
        info.genuine_photos.push_back({rules::PathInRules(compiled, path), 0, false});
      }
    }
  }
  for (const rules::CueRule& cue : compiled.cues) {
    info.cue_rules.push_back({cue.id, cue.version, cue.mode == rules::RuleMode::kShadow});
  }
  info.patterns = static_cast<int>(impl->rules->patterns().size());
  info.loaded_from_cache = impl->matchers->loaded_from_cache();
  for (const rules::RulesWarning& w : compiled.warnings) {
    info.warnings.push_back(rules::FormatWarning(w));
  }
  Hasher128 rules_version;
  rules_version.Add(rules::RulePackDigest(compiled));
  if (!photos.empty()) {
    models::PhotoBankOptions bank_options;
    bank_options.min_quality = compiled.policy.image.min_quality;
    bank_options.cache_dir = options.cache_dir;
    size_t failed = 0;
    auto bank = models::PhotoBank::Build(photos, bank_options, &failed);
    if (!bank.ok()) {
      // Name the product whose photo failed: `file:line:column: product "id": path: ...`.
      const rules::Product& product = *PhotoProducts(compiled)[failed];
      return absl::Status(bank.status().code(),
                          absl::StrFormat("%s: product \"%s\": genuine photo %s",
                                          rules::FormatLocation(product.location), product.id,
                                          bank.status().message()));
    }
    impl->bank = std::move(*bank);
    for (size_t i = 0; i < photos.size(); ++i) {
      const models::PhotoBank::Photo& photo = impl->bank->photo(static_cast<uint32_t>(i));
      info.genuine_photos[i].quality = photo.quality;
      info.genuine_photos[i].too_plain = !photo.indexed;
      // What a photo shows can change a decision, wherever it is stored.
      rules_version.Add(
          absl::StrFormat("%016x%016x", photo.content_digest.first, photo.content_digest.second));
    }
    info.genuine_photos_hashed = impl->bank->hashed_count();
    if (options.edited_photos) {
      BONAFIDE_RETURN_IF_ERROR(impl->BuildEditedPhotoStages(compiled, options.cache_dir));
    }
  }
  info.rules_version = rules_version.Hex64();
  if (!options.image_root.empty()) {
    char resolved[PATH_MAX];
    struct stat st;
    if (::realpath(options.image_root.c_str(), resolved) == nullptr || ::stat(resolved, &st) != 0 ||
        !S_ISDIR(st.st_mode)) {
      return absl::NotFoundError(
          absl::StrCat("image root \"", options.image_root, "\": no such directory"));
    }
    info.image_root = options.image_root;
    impl->image_root_real = resolved;
    if (!options.cache_dir.empty() && options.photo_cache_max_entries > 0) {
      engine::PhotoHashCacheOptions cache_options;
      cache_options.max_entries = options.photo_cache_max_entries;
      // A cache that cannot be opened costs only the hashing it would have saved.
      auto cache = engine::PhotoHashCache::Open(options.cache_dir, cache_options);
      if (cache.ok()) impl->photo_cache = std::move(*cache);
    }
  }
  BONAFIDE_ASSIGN_OR_RETURN(impl->feedback,
                            engine::FeedbackIndex::Build(options.feedback, *impl->rules));
  impl->matches_photos = impl->bank != nullptr || impl->feedback.has_photos();
  info.reads_images = impl->matches_photos && !info.image_root.empty();
  impl->renderer.emplace(*impl->rules, impl->info, impl->feedback.feedback());
  return std::unique_ptr<Scanner>(new Scanner(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Scanner::Scratch>> Scanner::NewScratch() const {
  BONAFIDE_ASSIGN_OR_RETURN(std::unique_ptr<rules::TextMatcher> matcher,
                            impl_->matchers->NewMatcher());
  auto scratch = std::make_unique<Scratch::Impl>(*impl_, *impl_->rules, std::move(matcher));
  return std::unique_ptr<Scratch>(new Scratch(std::move(scratch)));
}

absl::Status Scanner::Scan(const Listing& listing, Scratch& s, Verdict& verdict) const {
  // A listing from a dump passed these checks in its reader already; one built by a
  // service may not have, and a NaN price or an image path out of the root must not
  // become a case. Cheap next to the matching (no allocation unless it fails).
  if (absl::Status valid = ValidateListing(listing); !valid.ok()) {
    verdict.Clear();
    verdict.reject_reason.assign(valid.message().data(), valid.message().size());
    verdict.reject_class.assign(engine::RejectClassOf(verdict.reject_reason));
    return valid;
  }
  return ScanRead(listing, s, verdict);
}

absl::Status Scanner::ScanRead(const Listing& listing, Scratch& s, Verdict& verdict) const {
  Scratch::Impl& scratch = *s.impl_;
  // Another scanner's scratch (the natural mistake when rules are reloaded while scans run)
  // would judge with the wrong patterns and tables: a bug, stopped here rather than a wrong
  // verdict or a use after free.
  BONAFIDE_CHECK(scratch.owner == impl_.get() &&
                 "the scratch must come from this Scanner's NewScratch()");
  auto prepare = [&](std::string_view text, rules::MatchScope scope, engine::MatchedField& field) {
    field.original = text;
    rules::NormalizeField(text, field.normalized);
    scratch.Match(field.normalized.text, scope, field.hits);
  };
  prepare(listing.title, rules::MatchScope::kTitle, scratch.title);
  prepare(listing.description, rules::MatchScope::kDescription, scratch.description);
  // Photos are read only for a listing that will be judged (not for a currency reject).
  const bool can_read_photos = impl_->CanReadPhotos(listing);
  if (impl_->matches_photos && can_read_photos && impl_->rules->FxToBase(listing.currency) > 0) {
    impl_->ScanImages(listing, scratch);
  } else {
    scratch.images.clear();
    scratch.image_matches.clear();
    scratch.known_photos.clear();
  }
  engine::Decide(*impl_->rules, impl_->feedback, listing, scratch.title, scratch.description,
                 scratch.image_matches, scratch.known_photos, scratch.decision, verdict);
  // Without photos to match, the photos of a flagged listing are still hashed for its
  // evidence: a counterfeit verdict adds them to the known counterfeit photos.
  if (!impl_->matches_photos && can_read_photos && verdict.any_case()) {
    impl_->ScanImages(listing, scratch);
  }
  verdict.images.swap(scratch.images);  // both vectors keep their capacity
  if (!verdict.reject_reason.empty()) return absl::InvalidArgumentError(verdict.reject_reason);
  return absl::OkStatus();
}

ListingExplanation Scanner::Explain(const Listing& listing, Scratch& s,
                                    const std::vector<std::string>& also_holders) const {
  Verdict verdict;
  // A refused listing is explained by its reject reason (in the verdict).
  Scan(listing, s, verdict).IgnoreError();
  // Scan reads photos only where they can change the verdict; an explanation shows them
  // whenever they can be read.
  if (verdict.reject_reason.empty() && verdict.images.empty() && impl_->CanReadPhotos(listing) &&
      !listing.images.empty()) {
    impl_->ScanImages(listing, *s.impl_);
    verdict.images.swap(s.impl_->images);
  }
  return engine::Explain(*impl_->rules, impl_->info, impl_->bank.get(), impl_->feedback, listing,
                         verdict, also_holders);
}

void Scanner::MakeCaseRecord(const Listing& listing, const Verdict& verdict,
                             const HolderVerdict& holder, CaseRecord& record) const {
  impl_->renderer->Render(listing, verdict, holder, record);
}

std::vector<std::string> Scanner::CheckExamples() const {
  std::vector<std::string> failures;
  auto scratch = NewScratch();
  if (!scratch.ok()) return {std::string(scratch.status().message())};
  const auto& pack = impl_->rules->pack();
  Listing listing;
  listing.id = "example";
  listing.seller_id = "example";
  listing.currency = pack.policy.currency;
  Verdict verdict;
  // Scans an example title; false (with the failure recorded) when it cannot be scanned.
  auto scan_example = [&](const std::string& example, const rules::SourceLocation& where) {
    listing.title = example;
    const absl::Status scanned = Scan(listing, **scratch, verdict);
    if (!scanned.ok()) {
      failures.push_back(absl::StrFormat("%s: example \"%s\" cannot be scanned: %s",
                                         rules::FormatLocation(where), example, scanned.message()));
    }
    return scanned.ok();
  };
  for (size_t c = 0; c < pack.cues.size(); ++c) {
    const auto& rule = pack.cues[c];
    if (rule.mode == rules::RuleMode::kOff) continue;
    auto check = [&](const std::string& example, bool want) {
      if (!scan_example(example, rule.location)) return;
      bool hit = false;
      for (int32_t h : verdict.cue_hits) hit |= h == static_cast<int32_t>(c);
      if (hit != want) {
        failures.push_back(absl::StrFormat("%s: rule \"%s\": example \"%s\" should %s",
                                           rules::FormatLocation(rule.location), rule.id, example,
                                           want ? "match" : "not match"));
      }
    };
    for (const auto& ex : rule.examples_match) check(ex, true);
    for (const auto& ex : rule.examples_no_match) check(ex, false);
  }
  // Brand and product examples: titles that must, or must not, name their rights holder.
  for (size_t h = 0; h < pack.rights_holders.size(); ++h) {
    const rules::RightsHolder& holder = pack.rights_holders[h];
    auto check = [&](const rules::MentionExamples& examples, const rules::SourceLocation& where,
                     const std::string& what) {
      for (const bool want : {true, false}) {
        for (const std::string& example : want ? examples.match : examples.no_match) {
          if (!scan_example(example, where)) continue;
          bool named = false;
          for (const HolderVerdict& hv : verdict.holders) {
            named |= hv.holder == static_cast<int32_t>(h) && hv.named;
          }
          if (named != want) {
            failures.push_back(absl::StrFormat("%s: %s: example \"%s\" should %sname \"%s\"",
                                               rules::FormatLocation(where), what, example,
                                               want ? "" : "not ", holder.id));
          }
        }
      }
    };
    for (const rules::Brand& brand : holder.brands) {
      check(brand.examples, brand.location, absl::StrCat("brand \"", brand.name, "\""));
    }
    for (const rules::Product& product : holder.products) {
      check(product.examples, product.location, absl::StrCat("product \"", product.id, "\""));
    }
  }
  return failures;
}

const RulesInfo& Scanner::rules_info() const { return impl_->info; }

absl::StatusOr<ScanSummary> Scanner::ScanFiles(const std::vector<std::string>& inputs,
                                               CaseSink& sink, const ScanOptions& options) const {
  return engine::ScanRun(*this, inputs, sink, options).Run();
}

const char* Scanner::ImageStageName(int stage) {
  if (stage < 0 || stage > static_cast<int>(models::MatchStage::kFeatures)) return "pdq";
  return models::MatchStageName(static_cast<models::MatchStage>(stage));
}

const char* Scanner::ImageVariantName(int variant) {
  if (variant < 0 || variant >= models::kNumDihedral) return "original";
  return models::DihedralName(static_cast<models::Dihedral>(variant));
}
std::string Scanner::ImageHashHex(const ImageResult& image) {
  models::Hash256 h;
  std::memcpy(h.words, image.hash, sizeof(h.words));
  return models::ToHex(h);
}

}  // namespace bonafide
