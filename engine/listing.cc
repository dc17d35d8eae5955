#include "bonafide/listing.h"

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
  marketplace.assign("default");
  line_number = 0;
  truncated_fields = 0;
  byte_offset = 0;
}

}  // namespace bonafide
