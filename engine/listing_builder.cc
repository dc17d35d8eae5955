#include "engine/listing_builder.h"

#include <algorithm>
#include <bit>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "engine/listing_validation.h"
#include "util/strings.h"

namespace bonafide::engine {

void ListingBuilder::Start(Listing& listing) {
  listing_ = &listing;
  present_ = 0;
  reason_.clear();
  class_size_ = std::string::npos;
  for (std::string& s : listing.images) spare_images_.push_back(std::move(s));
  listing.Clear();
}

void ListingBuilder::SetText(ListingField f, std::string_view s) {
  const FieldSpec& spec = FieldSpecOf(f);
  if (f == ListingField::kCurrency && !IsCurrencyCode(s)) Fail(kCurrencyNotACode);
  if (s.size() > spec.max_bytes) {
    if (spec.over_cap == OverCap::kReject) {
      if (std::string* message = FailMessage()) AppendFieldOverCap(spec, *message);
      return;
    }
    s = s.substr(0, Utf8PrefixLength(s, spec.max_bytes));
    listing_->truncated_fields |= spec.truncated_bit;
  }
  std::string& slot = listing_->*spec.text;
  // A batch's listing slots are reused chunk after chunk; growing a slot to a power of
  // two (at least 64 bytes) means it soon fits whatever the dump holds, and the steady
  // state stops allocating.
  if (s.size() > slot.capacity()) slot.reserve(std::max<size_t>(64, std::bit_ceil(s.size())));
  // clear() + append() copies without assign()'s overlap checks (`s` is never inside slot).
  slot.clear();
  slot.append(s.data(), s.size());
}

void ListingBuilder::SetPrice(double price) {
  if (!IsValidPrice(price)) {
    Fail(kPriceOutOfRange);
    return;
  }
  listing_->price = price;
}

void ListingBuilder::SetQuantity(int64_t quantity) {
  if (!IsValidQuantity(quantity)) {
    Fail(kQuantityOutOfRange);
    return;
  }
  listing_->quantity = quantity;
}

void ListingBuilder::SetQuantityFromDouble(double quantity) {
  std::optional<int64_t> q = QuantityFromDouble(quantity);
  if (!q.has_value()) {
    Fail(kQuantityOutOfRange);
    return;
  }
  listing_->quantity = *q;
}

void ListingBuilder::AddImagePath(std::string_view path) { AddImage(path, Listing::ImageHash{}); }

void ListingBuilder::AddImage(std::string_view path, const Listing::ImageHash& hash) {
  switch (CheckImagePath(path)) {
    case ImagePathProblem::kNone:
      break;
    case ImagePathProblem::kEmpty:
      Fail(kImagePathEmpty);
      return;
    case ImagePathProblem::kEscapesRoot:
      if (std::string* message = FailMessage()) {
        AppendImagePathEscapesWithDetail(path, *message);
        class_size_ = kImagePathEscapesRoot.size();
      }
      return;
  }
  std::vector<std::string>& images = listing_->images;
  if (images.size() >= kMaxImages || path.size() > FieldSpecOf(ListingField::kImages).max_bytes) {
    // Dropped, not cut: a cut path names a different file.
    listing_->truncated_fields |= Listing::kTruncatedImages;
    return;
  }
  if (spare_images_.empty()) {
    images.emplace_back(path);
  } else {
    images.push_back(std::move(spare_images_.back()));
    spare_images_.pop_back();
    images.back().assign(path.data(), path.size());
  }
  // Hashes stay empty until an entry carries one; from then on, one per path.
  std::vector<Listing::ImageHash>& hashes = listing_->image_hashes;
  if (!hashes.empty() || hash.present()) {
    hashes.resize(images.size() - 1);  // plain paths before the first hash: none
    hashes.push_back(hash);
  }
}

void ListingBuilder::Fail(std::string_view message) {
  if (reason_.empty()) reason_.assign(message);
}

void ListingBuilder::FailWithDetail(std::string_view reason_class, std::string_view detail) {
  if (!reason_.empty()) return;
  reason_.assign(reason_class).append(": ").append(detail);
  class_size_ = reason_class.size();
}

void ListingBuilder::Replace(std::string_view message) {
  reason_.assign(message);
  class_size_ = std::string::npos;
}

void ListingBuilder::ReplaceWithDetail(std::string_view reason_class, std::string_view detail) {
  reason_.clear();
  class_size_ = std::string::npos;
  FailWithDetail(reason_class, detail);
}

void ListingBuilder::Finish() {
  if (has_problem()) return;
  if ((present_ & kRequiredFieldBits) != kRequiredFieldBits) {
    for (const FieldSpec& spec : kListingFields) {
      if (spec.required && !(present_ & FieldBit(spec.field))) {
        AppendMissingField(spec, reason_);
        return;
      }
    }
  }
  for (const FieldSpec& spec : kListingFields) {
    if (spec.non_empty && (listing_->*spec.text).empty()) {
      AppendEmptyField(spec, reason_);
      return;
    }
  }
}

}  // namespace bonafide::engine
