#include "bonafide/listing.h"

#include <memory>

#include "engine/json_listing_parser.h"
#include "engine/listing_builder.h"

namespace bonafide {

void Listing::Clear() {
  id.clear();
  title.clear();
  description.clear();
  price = 0;
  currency.clear();
  seller_id.clear();
  category.clear();
  condition.clear();
  quantity = 1;
  images.clear();
  image_hashes.clear();
  image_bytes.clear();
  marketplace.assign("default");
  line_number = 0;
  truncated_fields = 0;
  byte_offset = 0;
}

struct ListingJsonParser::Impl {
  engine::ListingBuilder builder;
  engine::JsonListingParser json;
};

ListingJsonParser::ListingJsonParser() : impl_(std::make_unique<Impl>()) {}
ListingJsonParser::~ListingJsonParser() = default;

absl::Status ListingJsonParser::Parse(std::string_view json, Listing& listing) {
  impl_->builder.Start(listing);
  // Nothing is readable past the caller's bytes: the parser copies them into padding.
  impl_->json.Parse(json.data(), json.size(), json.size(), /*last_line_of_input=*/false,
                    impl_->builder);
  if (impl_->builder.has_problem()) return absl::InvalidArgumentError(impl_->builder.reason());
  return absl::OkStatus();
}

}  // namespace bonafide
