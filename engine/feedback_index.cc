#include "engine/feedback_index.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

#include "util/strings.h"

namespace bonafide::engine {
namespace {

// Banks with more hashes than this use MultiIndex, smaller ones FlatIndex (as the genuine
// photo bank decides: both give the same matches, the flat scan is faster when small).
constexpr size_t kMultiIndexMinHashes = 20'000;

// The inverse of a rotation or flip: a listing photo whose variant `v` matches a
// counterfeit photo shows that photo transformed by the inverse of v.
uint8_t InverseVariant(int v) {
  switch (static_cast<models::Dihedral>(v)) {
    case models::Dihedral::kRotate90:
      return static_cast<uint8_t>(models::Dihedral::kRotate270);
    case models::Dihedral::kRotate270:
      return static_cast<uint8_t>(models::Dihedral::kRotate90);
    default:  // the rest are their own inverse
      return static_cast<uint8_t>(v);
  }
}

}  // namespace

absl::StatusOr<FeedbackIndex> FeedbackIndex::Build(OutboxFeedback feedback,
                                                   const rules::CompiledRules& rules) {
  FeedbackIndex index;
  index.feedback_ = std::move(feedback);
  const OutboxFeedback& f = index.feedback_;
  absl::flat_hash_map<std::string, int32_t> holder_of;
  for (size_t h = 0; h < rules.holders().size(); ++h) {
    holder_of[rules.holders()[h].id] = static_cast<int32_t>(h);
  }
  auto holder = [&](const std::string& id) {
    auto it = holder_of.find(id);
    return it == holder_of.end() ? -1 : it->second;
  };
  auto seller = [&](int32_t h, const std::string& id) -> SellerFeedback& {
    if (index.sellers_.empty()) index.sellers_.resize(rules.holders().size());
    return index.sellers_[h][id];
  };
  for (const OutboxFeedback::Seller& s : f.authorized_sellers) {
    if (const int32_t h = holder(s.rights_holder); h >= 0) seller(h, s.seller_id).authorized = true;
  }
  for (size_t i = 0; i < f.seller_records.size(); ++i) {
    const OutboxFeedback::SellerRecord& r = f.seller_records[i];
    const int32_t h = holder(r.rights_holder);
    if (h < 0 || r.confirmed <= 0) continue;
    SellerFeedback& sf = seller(h, r.seller_id);
    sf.record = static_cast<int32_t>(i);
    for (const std::string& key : r.case_keys) {
      if (std::optional<CaseKeyParts> parts = ParseCaseKey(key); parts.has_value()) {
        sf.confirmed_listings.emplace_back(std::move(parts->marketplace),
                                           std::move(parts->listing_id));
      }
    }
  }

  const int min_quality = rules.pack().policy.image.min_quality;
  std::vector<models::Hash256> hashes;
  for (size_t i = 0; i < f.counterfeit_photos.size(); ++i) {
    const OutboxFeedback::CounterfeitPhoto& p = f.counterfeit_photos[i];
    absl::StatusOr<models::Hash256> hash = models::HashFromHex(p.pdq_hex);
    if (!hash.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("feedback: counterfeit photo of case \"",
                                                     p.case_key, "\": ", hash.status().message()));
    }
    PhotoCase& c = index.photo_cases_.emplace_back();
    c.holder = holder(p.rights_holder);
    if (std::optional<CaseKeyParts> parts = ParseCaseKey(p.case_key); parts.has_value()) {
      c.marketplace = std::move(parts->marketplace);
      c.listing_id = std::move(parts->listing_id);
    }
    if (c.holder < 0 || p.quality < min_quality) continue;
    hashes.push_back(*hash);
    index.photo_of_id_.push_back(static_cast<int32_t>(i));
  }
  index.use_multi_ = hashes.size() > kMultiIndexMinHashes;
  if (index.use_multi_) {
    index.multi_ = models::MultiIndex::Build(std::move(hashes));
  } else {
    index.flat_ = models::FlatIndex::Build(std::move(hashes));
  }
  return index;
}

const FeedbackIndex::SellerFeedback* FeedbackIndex::Find(int32_t holder,
                                                         std::string_view seller) const {
  if (sellers_.empty()) return nullptr;
  const auto& sellers = sellers_[holder];
  if (sellers.empty()) return nullptr;
  auto it = sellers.find(ToAbsl(seller));
  return it == sellers.end() ? nullptr : &it->second;
}

void FeedbackIndex::QueryPhotos(absl::Span<const models::PdqResult> variants, int32_t image,
                                int max_distance, std::string_view marketplace,
                                std::string_view listing_id, std::vector<models::IndexMatch>& hits,
                                std::vector<KnownPhotoMatch>& out) const {
  for (int v = 0; v < static_cast<int>(variants.size()); ++v) {
    if (use_multi_) {
      multi_.Query(variants[v].hash, max_distance, hits);
    } else {
      flat_.Query(variants[v].hash, max_distance, hits);
    }
    for (const models::IndexMatch& hit : hits) {
      const int32_t photo = photo_of_id_[hit.id];
      const PhotoCase& c = photo_cases_[photo];
      if (c.listing_id == listing_id && c.marketplace == marketplace) continue;
      KnownPhotoMatch m;
      m.holder = c.holder;
      m.image = image;
      m.photo = photo;
      m.variant = InverseVariant(v);
      m.distance = static_cast<int16_t>(hit.distance);
      m.quality = static_cast<int16_t>(variants[0].quality);
      KnownPhotoMatch* same = nullptr;
      for (KnownPhotoMatch& x : out) {
        if (x.holder == m.holder) same = &x;
      }
      if (same == nullptr) {
        out.push_back(m);
      } else if (m.distance < same->distance) {  // ties: the earlier match stays
        *same = m;
      }
    }
  }
}

int64_t FeedbackIndex::ConfirmedCases(int32_t holder, std::string_view seller,
                                      std::string_view marketplace, std::string_view listing_id,
                                      int32_t& record) const {
  const SellerFeedback* f = Find(holder, seller);
  if (f == nullptr || f->record < 0) return 0;
  record = f->record;
  int64_t confirmed = feedback_.seller_records[f->record].confirmed;
  for (const auto& [m, id] : f->confirmed_listings) {
    if (m == marketplace && id == listing_id) --confirmed;
  }
  return confirmed;
}

}  // namespace bonafide::engine
