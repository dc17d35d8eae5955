// Tests for ValidateListing (bonafide/listing.h) and the field table it shares with the
// dump parsers (engine/listing_fields.h).
#include "engine/listing_validation.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "bonafide/listing.h"
#include "engine/listing_fields.h"
#include "engine/listing_input.h"

namespace bonafide::engine {
namespace {

Listing Valid() {
  Listing l;
  l.id = "l-1";
  l.title = "ACME Runner 22";
  l.price = 49.5;
  l.currency = "EUR";
  l.seller_id = "s-1";
  l.images = {"a/1.jpg"};
  return l;
}

std::string Problem(const Listing& l) {
  absl::Status s = ValidateListing(l);
  EXPECT_TRUE(s.ok() || s.code() == absl::StatusCode::kInvalidArgument) << s;
  return std::string(s.message());
}

TEST(ValidateListingTest, AcceptsAValidListing) {
  EXPECT_TRUE(ValidateListing(Valid()).ok());
  Listing l = Valid();
  l.title.clear();  // a title may be empty, as in a dump
  l.price = 0;
  l.title.assign(kMaxTitleBytes, 't');
  l.images.assign(kMaxImages, "p.jpg");
  EXPECT_TRUE(ValidateListing(l).ok());
}

TEST(ValidateListingTest, RejectsWithTheReadersMessages) {
  struct Case {
    void (*edit)(Listing&);
    std::string message;
  };
  const Case cases[] = {
      {[](Listing& l) { l.id.clear(); }, "field \"id\" must not be empty"},
      {[](Listing& l) { l.seller_id.clear(); }, "field \"seller_id\" must not be empty"},
      {[](Listing& l) { l.id.assign(kMaxIdBytes + 1, 'i'); }, "field \"id\" exceeds 1024 bytes"},
      {[](Listing& l) { l.marketplace.assign(kMaxIdBytes + 1, 'm'); },
       "field \"marketplace\" exceeds 1024 bytes"},
      {[](Listing& l) { l.title.assign(kMaxTitleBytes + 1, 't'); },
       "field \"title\" exceeds 4096 bytes"},
      {[](Listing& l) { l.title = "bad \xff"; }, "invalid UTF-8 in field \"title\""},
      {[](Listing& l) { l.price = -1; }, "price must be finite and >= 0"},
      {[](Listing& l) { l.price = 1.0 / 0.0; }, "price must be finite and >= 0"},
      {[](Listing& l) { l.currency = "eur"; }, "currency must be a 3-letter ISO 4217 code"},
      {[](Listing& l) { l.quantity = 0; }, "quantity must be an integer >= 1"},
      {[](Listing& l) { l.images = {""}; }, "image path is empty"},
      {[](Listing& l) {
         l.images = {"ok.jpg", "../x.jpg"};
       },
       "image path escapes the image root: \"../x.jpg\""},
      {[](Listing& l) { l.images.assign(kMaxImages + 1, "p.jpg"); },
       "field \"images\" holds more than 32 paths"},
      {[](Listing& l) { l.images = {std::string(kMaxImagePathBytes + 1, 'p')}; },
       "field \"images\" has a path over 1024 bytes"},
      {[](Listing& l) {
         l.images = {"a.jpg", "b.jpg"};
         l.image_hashes.resize(1);
       },
       "invalid image entry: 1 image hashes for 2 paths"},
      {[](Listing& l) {
         l.images = {"a.jpg", "b.jpg"};
         l.image_hashes.resize(2);
         l.image_hashes[1].quality = 101;
       },
       "invalid image entry: images[1].quality must be an integer 0..100"},
      // The first problem in field order wins.
      {[](Listing& l) {
         l.id.clear();
         l.price = -1;
       },
       "field \"id\" must not be empty"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    Listing l = Valid();
    c.edit(l);
    EXPECT_EQ(Problem(l), c.message);
  }
}

// Whatever the reader accepts passes ValidateListing, and a record that breaks a rule
// ValidateListing also checks is rejected by the reader with the same message.
TEST(ValidateListingTest, AgreesWithTheReader) {
  const std::string text =
      R"({"id":"a","title":"t","price":1,"currency":"EUR","seller_id":"s","quantity":2.0,)"
      R"("images":["x.jpg"],"title":")" +
      std::string(kMaxTitleBytes + 10, 'y') +
      R"("})"
      "\n"
      R"({"id":"b","title":"t","price":-1,"currency":"EUR","seller_id":"s"})"
      "\n";
  InputChunk chunk;
  chunk.data.reserve(text.size() + kChunkPadding);
  chunk.data = text;
  chunk.ends_input = true;
  ChunkParser parser;
  ParsedBatch batch;
  parser.Parse(chunk, batch);
  ASSERT_EQ(batch.listings_size, 1u);
  EXPECT_EQ(batch.listings[0].truncated_fields, Listing::kTruncatedTitle);
  EXPECT_TRUE(ValidateListing(batch.listings[0]).ok());
  ASSERT_EQ(batch.rejects.size(), 1u);
  Listing l = Valid();
  l.price = -1;
  EXPECT_EQ(batch.rejects[0].reason, Problem(l));
}

TEST(ListingFieldsTest, FieldByNameFindsEveryFieldExactly) {
  for (const FieldSpec& spec : kListingFields) {
    EXPECT_EQ(FieldByName(spec.name), spec.field) << spec.name;
  }
  EXPECT_EQ(FieldByName("Title"), std::nullopt);
  EXPECT_EQ(FieldByName("titles"), std::nullopt);
  EXPECT_EQ(FieldByName(""), std::nullopt);
  EXPECT_EQ(FieldByName("description_"), std::nullopt);
  EXPECT_EQ(FieldByName("pricf"), std::nullopt);
}

TEST(ListingFieldsTest, RequiredFieldsAreTheContract) {
  std::string required;
  for (const FieldSpec& spec : kListingFields) {
    if (spec.required) required += std::string(spec.name) + " ";
  }
  EXPECT_EQ(required, "id title price currency seller_id ");
}

}  // namespace
}  // namespace bonafide::engine
