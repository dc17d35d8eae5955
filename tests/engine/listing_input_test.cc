// Tests for engine/listing_input: InputSource (files, compression, chunking) and
// ChunkParser (JSON Lines and CSV records to listings or rejects).
//
// Fixtures are written in code to a temporary directory. Every test checks the invariant
//   records in the input = listings + rejects (+ records the source skipped itself).
#include "engine/listing_input.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <zlib.h>
#include <zstd.h>

#include "engine/csv_listing_parser.h"
#include "engine/listing_fields.h"
#include "engine/listing_validation.h"
#include "models/pdq.h"
#include "tests/allocation_counter.h"
#include "tests/test_util.h"

namespace bonafide::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

std::string Zstd(const std::string& s) {
  std::string out(ZSTD_compressBound(s.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), s.data(), s.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string Gzip(const std::string& s) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, s.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
  zs.avail_in = static_cast<uInt>(s.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A valid listing line (no newline) with the given id.
std::string Line(const std::string& id, const std::string& extra = "") {
  return R"({"id":")" + id +
         R"(","title":"ACME Runner 22","price":49.5,"currency":"EUR","seller_id":"s-1")" + extra +
         "}";
}

// Records of a JSON Lines text: lines, plus a final one without '\n'.
size_t CountLines(const std::string& s) {
  size_t n = static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
  return n + (!s.empty() && s.back() != '\n' ? 1 : 0);
}

struct Result {
  std::vector<Listing> listings;
  std::vector<Reject> rejects;  // parser rejects and source-skipped records, by line
  absl::Status status;          // Open or final Next status
  int chunks = 0;
  bool saw_ends_input = false;
};

// Reads the whole input; with `records_per_slice`, parses each chunk a few records at a
// time into the same few listings, as the scan does (ChunkParser::ParseSome).
Result ReadAll(const std::string& path, InputOptions options = {}, size_t records_per_slice = 0) {
  Result r;
  auto source = InputSource::Open(path, options);
  if (!source.ok()) {
    r.status = source.status();
    return r;
  }
  InputChunk chunk;
  ChunkParser parser;
  ParsedBatch batch;
  uint64_t next_line = 1;  // where the previous chunk said the next one starts
  for (;;) {
    absl::StatusOr<bool> more = (*source)->Next(chunk);
    EXPECT_EQ(chunk.line_ends,
              static_cast<uint64_t>(std::count(chunk.data.begin(), chunk.data.end(), '\n')));
    if (!chunk.data.empty()) {
      EXPECT_GE(chunk.first_line, next_line);  // skipped records lie in between
      next_line = chunk.first_line + chunk.line_ends;
    }
    for (auto& s : (*source)->TakeSkipped()) {
      Reject rej;
      rej.line = s.line;
      rej.byte_offset = s.byte_offset;
      rej.reason = s.reason;
      rej.reason_class = s.reason_class;
      r.rejects.push_back(rej);
    }
    if (!more.ok()) {
      r.status = more.status();
      break;
    }
    if (!*more) break;
    EXPECT_FALSE(r.saw_ends_input) << "a chunk after the one with ends_input";
    EXPECT_GE(chunk.data.capacity(), chunk.data.size() + kChunkPadding);
    ++r.chunks;
    r.saw_ends_input |= chunk.ends_input;
    batch.Clear();
    if (records_per_slice == 0) {
      parser.Parse(chunk, batch);
      for (size_t i = 0; i < batch.listings_size; ++i) r.listings.push_back(batch.listings[i]);
    } else {
      ChunkParser::Cursor cursor;
      for (bool rest = true; rest;) {
        batch.listings_size = 0;
        rest = parser.ParseSome(chunk, batch, cursor, records_per_slice);
        EXPECT_LE(batch.listings_size, records_per_slice);
        for (size_t i = 0; i < batch.listings_size; ++i) r.listings.push_back(batch.listings[i]);
      }
      EXPECT_EQ(cursor.pos, chunk.data.size());
      EXPECT_EQ(cursor.lines, chunk.line_ends);
    }
    for (auto& rej : batch.rejects) r.rejects.push_back(rej);
  }
  std::stable_sort(r.rejects.begin(), r.rejects.end(),
                   [](const Reject& a, const Reject& b) { return a.line < b.line; });
  EXPECT_LE((*source)->bytes_consumed(), (*source)->total_bytes() + 0u);
  return r;
}

// Parses `text` given as one hand-built chunk.
ParsedBatch ParseText(const std::string& text, bool ends_input = true,
                      InputFormat format = InputFormat::kJsonLines,
                      std::shared_ptr<const CsvSchema> csv = nullptr) {
  InputChunk chunk;
  chunk.data.reserve(text.size() + kChunkPadding);
  chunk.data = text;
  chunk.ends_input = ends_input;
  chunk.format = format;
  chunk.csv = std::move(csv);
  ChunkParser parser;
  ParsedBatch batch;
  parser.Parse(chunk, batch);
  EXPECT_EQ(batch.listings_size + batch.rejects.size(), CountLines(text));
  return batch;
}

// --- JSON Lines ------------------------------------------------------------------------

TEST(ListingInputTest, ParsesAllFields) {
  TempDir dir;
  std::string text =
      R"({"id":"l-1","title":"ACME \"Runner\" 22 \u00e9","description":"new, boxed",)"
      R"("price":120.25,"currency":"EUR","seller_id":"s-9","category":"shoes",)"
      R"("condition":"new","quantity":3,"images":["a/1.jpg","b/2.png"],)"
      R"("marketplace":"ebay-de","extra":{"nested":[1,2,{"x":null}]},"flag":true})"
      "\n" +
      Line("l-2") + "\n";
  Result r = ReadAll(dir.Write("in.jsonl", text));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.listings.size(), 2u);
  EXPECT_TRUE(r.rejects.empty());
  const Listing& l = r.listings[0];
  EXPECT_EQ(l.id, "l-1");
  EXPECT_EQ(l.title, "ACME \"Runner\" 22 \xc3\xa9");
  EXPECT_EQ(l.description, "new, boxed");
  EXPECT_EQ(l.price, 120.25);
  EXPECT_EQ(l.currency, "EUR");
  EXPECT_EQ(l.seller_id, "s-9");
  EXPECT_EQ(l.category, "shoes");
  EXPECT_EQ(l.condition, "new");
  EXPECT_EQ(l.quantity, 3);
  EXPECT_THAT(l.images, ElementsAre("a/1.jpg", "b/2.png"));
  EXPECT_EQ(l.marketplace, "ebay-de");
  EXPECT_EQ(l.line_number, 1u);
  EXPECT_EQ(l.byte_offset, 0u);
  // Defaults, and no leftovers from the recycled first listing.
  const Listing& m = r.listings[1];
  EXPECT_EQ(m.marketplace, "default");
  EXPECT_EQ(m.quantity, 1);
  EXPECT_TRUE(m.images.empty());
  EXPECT_EQ(m.description, "");
  EXPECT_EQ(m.line_number, 2u);
  EXPECT_EQ(m.byte_offset, text.find('\n') + 1);
}

// Strings without escapes are read in place and the others unescaped: both give the same
// values, whatever the length of the string, where its escape is, and whether the record
// ends its chunk (the search for the closing quote reads a block past it).
TEST(ListingInputTest, StringsWithAndWithoutEscapesOfEveryLength) {
  for (size_t length = 0; length <= 40; ++length) {
    const std::string plain(length, 'x');
    std::vector<std::pair<std::string, std::string>> titles = {{plain, plain}};  // JSON, value
    for (size_t at = 0; at < length; at += 7) {
      titles.emplace_back(plain.substr(0, at) + R"(\"q\u00e9)" + plain.substr(at),
                          plain.substr(0, at) + "\"q\xc3\xa9" + plain.substr(at));
    }
    for (const auto& [json, value] : titles) {
      // An escaped key, then the title as the record's last value, the record last in its
      // chunk without a line end.
      const std::string record =
          R"({"i\u0064":"a","price":1,"currency":"EUR","seller_id":"s","title":")" + json + "\"}";
      ParsedBatch b = ParseText(Line("before") + "\n" + record);
      ASSERT_EQ(b.listings_size, 2u) << record;
      EXPECT_EQ(b.listings[1].id, "a");
      EXPECT_EQ(b.listings[1].title, value) << record;
    }
  }
  // A string with a bad escape after many plain bytes is still the field's problem.
  ParsedBatch b = ParseText(R"({"id":"a","title":")" + std::string(33, 'x') +
                            R"(\ud800","price":1,"currency":"EUR","seller_id":"s"})"
                            "\n");
  ASSERT_EQ(b.rejects.size(), 1u);
  EXPECT_EQ(b.rejects[0].reason, "invalid UTF-8 in field \"title\"");
}

TEST(ListingInputTest, FieldsInAnyOrderAndIntegralFloatQuantity) {
  ParsedBatch b = ParseText(
      R"({"seller_id":"s","quantity":2.0,"currency":"USD","price":0,"title":"t","id":"x"})"
      "\n");
  ASSERT_EQ(b.listings_size, 1u);
  EXPECT_EQ(b.listings[0].quantity, 2);
  EXPECT_EQ(b.listings[0].price, 0);
  EXPECT_EQ(b.listings[0].currency, "USD");
}

TEST(ListingInputTest, RejectReasons) {
  const std::string base = R"("title":"t","price":1,"currency":"EUR","seller_id":"s")";
  struct Case {
    std::string line, reason;
  };
  const std::vector<Case> cases = {
      {"", "empty line"},
      {"   ", "empty line"},
      {R"({"id":"a",)", "invalid JSON: "},
      {R"([1,2])", "not a JSON object"},
      {R"("str")", "not a JSON object"},
      {R"({"id":"a","title":"t","currency":"EUR","seller_id":"s"})",
       "missing required field \"price\""},
      {R"({"title":"t","price":1,"currency":"EUR","seller_id":"s"})",
       "missing required field \"id\""},
      {R"({"id":"a",)" +
           std::string(R"("title":"t","price":"12","currency":"EUR","seller_id":"s"})"),
       "field \"price\" must be a number"},
      {R"({"id":"a","title":5,"price":1,"currency":"EUR","seller_id":"s"})",
       "field \"title\" must be a string"},
      {R"({"id":"a","title":null,"price":1,"currency":"EUR","seller_id":"s"})",
       "field \"title\" must be a string"},
      {R"({"id":"a","title":"t","price":-1,"currency":"EUR","seller_id":"s"})",
       "price must be finite and >= 0"},
      {R"({"id":"a","title":"t","price":1e999,"currency":"EUR","seller_id":"s"})",
       "price must be finite and >= 0"},
      {R"({"id":"a",)" + base + R"(,"quantity":0})", "quantity must be an integer >= 1"},
      {R"({"id":"a",)" + base + R"(,"quantity":1.5})", "quantity must be an integer >= 1"},
      {R"({"id":"a",)" + base + R"(,"quantity":-3})", "quantity must be an integer >= 1"},
      {R"({"id":"a","title":"t","price":1,"currency":"eur","seller_id":"s"})",
       "currency must be a 3-letter ISO 4217 code"},
      {R"({"id":"a","title":"t","price":1,"currency":"EURO","seller_id":"s"})",
       "currency must be a 3-letter ISO 4217 code"},
      {R"({"id":"a",)" + base + R"(,"images":["ok.jpg","../x.jpg"]})",
       "image path escapes the image root: \"../x.jpg\""},
      {R"({"id":"a",)" + base + R"(,"images":["/etc/passwd"]})",
       "image path escapes the image root: \"/etc/passwd\""},
      {R"({"id":"a",)" + base + R"(,"images":["a/../../b.jpg"]})",
       "image path escapes the image root: \"a/../../b.jpg\""},
      {R"({"id":"a",)" + base + R"(,"images":["a\\b.jpg"]})",
       "image path escapes the image root: \"a\\\\b.jpg\""},
      {R"({"id":"a",)" + base + R"(,"images":["a\u0000.jpg"]})",
       "image path escapes the image root: \"a\\u0000.jpg\""},
      {R"({"id":"a",)" + base + R"(,"images":[1]})",
       "field \"images\" must be an array of strings or objects"},
      {R"({"id":"a",)" + base + R"(,"images":"a.jpg"})",
       "field \"images\" must be an array of strings or objects"},
      {"{\"id\":\"a\",\"title\":\"bad "
       "\xff\xfe\",\"price\":1,\"currency\":\"EUR\",\"seller_id\":\"s\"}",
       "invalid UTF-8 in field \"title\""},
      {R"({"id":"a","title":"\ud800","price":1,"currency":"EUR","seller_id":"s"})",
       "invalid UTF-8 in field \"title\""},
      {R"({"id":"a",)" + base + R"(} x)", "trailing content after JSON object"},
      {R"({"id":"a",)" + base + R"(}{})", "trailing content after JSON object"},
      {R"({"id":"",)" + base + R"(})", "field \"id\" must not be empty"},
  };
  // One file with every case, each followed by a valid line.
  TempDir dir;
  std::string text;
  std::vector<uint64_t> offsets;
  for (const Case& c : cases) {
    offsets.push_back(text.size());
    text += c.line + "\n" + Line("ok") + "\n";
  }
  Result r = ReadAll(dir.Write("rejects.jsonl", text));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.listings.size(), cases.size());
  ASSERT_EQ(r.rejects.size(), cases.size());
  EXPECT_EQ(r.listings.size() + r.rejects.size(), CountLines(text));
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].line);
    const Reject& rej = r.rejects[i];
    if (cases[i].reason == "invalid JSON: ") {
      EXPECT_THAT(rej.reason, ::testing::StartsWith("invalid JSON: "));
    } else {
      EXPECT_EQ(rej.reason, cases[i].reason);
    }
    EXPECT_EQ(rej.line, 2 * i + 1);
    EXPECT_EQ(rej.byte_offset, offsets[i]);
  }
  for (size_t i = 0; i < r.listings.size(); ++i) EXPECT_EQ(r.listings[i].line_number, 2 * i + 2);
  // The id is reported when it was read.
  EXPECT_EQ(r.rejects[5].listing_id, "a");

  // Each record read alone (a Kafka message, a request body) is refused in the same words.
  ListingJsonParser parser;
  Listing alone;
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].line);
    const absl::Status status = parser.Parse(cases[i].line, alone);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), r.rejects[i].reason);
  }
}

TEST(ListingJsonParserTest, ReadsARecordAloneAsTheDumpReaderDoes) {
  const std::string over_cap_title(kMaxTitleBytes + 100, 't');
  const std::string record = R"({"id":"m-1","title":")" + over_cap_title +
                             R"(","price":12.5,"currency":"USD","seller_id":"s-2",)" +
                             R"("marketplace":"mp","images":["a/b.jpg"],"quantity":3})";
  TempDir dir;
  Result dump = ReadAll(dir.Write("one.jsonl", record + "\n"));
  ASSERT_TRUE(dump.status.ok()) << dump.status;
  ASSERT_EQ(dump.listings.size(), 1u);

  ListingJsonParser parser;
  Listing listing;
  listing.description = "left over from the previous message";
  ASSERT_TRUE(parser.Parse("  " + record + "\n", listing).ok());
  const Listing& read = dump.listings[0];
  EXPECT_EQ(listing.id, read.id);
  EXPECT_EQ(listing.title, read.title);
  EXPECT_EQ(listing.title.size(), kMaxTitleBytes);
  EXPECT_EQ(listing.truncated_fields, Listing::kTruncatedTitle);
  EXPECT_EQ(listing.truncated_fields, read.truncated_fields);
  EXPECT_EQ(listing.description, "");
  EXPECT_EQ(listing.price, 12.5);
  EXPECT_EQ(listing.currency, "USD");
  EXPECT_EQ(listing.marketplace, "mp");
  EXPECT_EQ(listing.images, read.images);
  EXPECT_EQ(listing.quantity, 3);
  EXPECT_TRUE(ValidateListing(listing).ok());
  EXPECT_THAT(std::string(parser.Parse("", listing).message()), ::testing::Eq("empty line"));
}

// An `images` entry may be an object carrying the photo's hash; plain paths around it
// get no hash, and the hash keeps the canonical hex's bit order (models::HashFromHex).
TEST(ListingInputTest, ImageEntriesWithHashes) {
  const std::string hex = "f" + std::string(62, '0') + "1";
  const std::string text =
      Line("a", R"(,"images":["p.jpg",{"path":"q/r.jpg","pdq":")" + hex +
                    R"(","quality":87,"note":"ignored"}])") +
      "\n" + Line("b", R"(,"images":[{"quality":0,"pdq":")" + hex + R"(","path":"x.jpg"}])") +
      "\n" + Line("c", R"(,"images":["only.jpg"])") + "\n";
  ParsedBatch batch = ParseText(text);
  ASSERT_EQ(batch.listings_size, 3u);
  ASSERT_TRUE(batch.rejects.empty());
  const Listing& a = batch.listings[0];
  EXPECT_THAT(a.images, ElementsAre("p.jpg", "q/r.jpg"));
  ASSERT_EQ(a.image_hashes.size(), 2u);
  EXPECT_FALSE(a.image_hashes[0].present());
  EXPECT_EQ(a.image_hashes[1].quality, 87);
  models::Hash256 hash;
  std::memcpy(hash.words, a.image_hashes[1].pdq, sizeof(hash.words));
  EXPECT_EQ(models::ToHex(hash), hex);
  EXPECT_TRUE(ValidateListing(a).ok());
  ASSERT_EQ(batch.listings[1].image_hashes.size(), 1u);
  EXPECT_EQ(batch.listings[1].image_hashes[0].quality, 0);
  EXPECT_TRUE(batch.listings[2].image_hashes.empty());  // recycled listing: cleared
}

TEST(ListingInputTest, InvalidImageEntriesNameTheKey) {
  const std::string hex(64, 'a');
  struct Case {
    std::string images;
    std::string reason;
  };
  const Case cases[] = {
      {R"(["a.jpg",{"path":"b.jpg","pdq":")" + hex.substr(1) + R"(","quality":5}])",
       "invalid image entry: images[1].pdq must be 64 hex digits"},
      {R"([{"path":"b.jpg","pdq":")" + hex.substr(1) + R"(g","quality":5}])",
       "invalid image entry: images[0].pdq must be 64 hex digits"},
      {R"([{"path":"b.jpg","pdq":7,"quality":5}])",
       "invalid image entry: images[0].pdq must be 64 hex digits"},
      {R"([{"path":"b.jpg","pdq":")" + hex + R"(","quality":101}])",
       "invalid image entry: images[0].quality must be an integer 0..100"},
      {R"([{"path":"b.jpg","pdq":")" + hex + R"(","quality":-1}])",
       "invalid image entry: images[0].quality must be an integer 0..100"},
      {R"([{"path":"b.jpg","pdq":")" + hex + R"(","quality":50.5}])",
       "invalid image entry: images[0].quality must be an integer 0..100"},
      {R"([{"path":"b.jpg","pdq":")" + hex + R"(","quality":"50"}])",
       "invalid image entry: images[0].quality must be an integer 0..100"},
      {R"([{"pdq":")" + hex + R"(","quality":50}])",
       "invalid image entry: images[0].path is missing"},
      {R"([{"path":"b.jpg","quality":50}])", "invalid image entry: images[0].pdq is missing"},
      {R"([{"path":"b.jpg","pdq":")" + hex + R"("}])",
       "invalid image entry: images[0].quality is missing"},
      {R"([{"path":3,"pdq":")" + hex + R"(","quality":50}])",
       "invalid image entry: images[0].path must be a string"},
      // The path is checked as a plain entry's.
      {R"([{"path":"../b.jpg","pdq":")" + hex + R"(","quality":50}])",
       "image path escapes the image root: \"../b.jpg\""},
      {R"([{"path":"","pdq":")" + hex + R"(","quality":50}])", "image path is empty"},
      {R"([[1]])", "field \"images\" must be an array of strings or objects"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.images);
    ParsedBatch batch = ParseText(Line("a", R"(,"images":)" + c.images) + "\n");
    ASSERT_EQ(batch.rejects.size(), 1u);
    EXPECT_EQ(batch.rejects[0].reason, c.reason);
    if (c.reason.starts_with("invalid image entry")) {
      EXPECT_EQ(batch.rejects[0].reason_class, "invalid image entry");
    }
  }
}

// A hashed entry dropped beyond the count cap takes its hash with it.
TEST(ListingInputTest, ImageHashesFollowTheirPathsPastTheCap) {
  std::string images = "[";
  for (size_t i = 0; i < kMaxImages + 2; ++i) {
    if (i > 0) images += ",";
    images += R"({"path":"p)" + std::to_string(i) + R"(.jpg","pdq":")" + std::string(64, '0') +
              R"(","quality":)" + std::to_string(i) + "}";
  }
  images += "]";
  ParsedBatch batch = ParseText(Line("a", R"(,"images":)" + images) + "\n");
  ASSERT_EQ(batch.listings_size, 1u);
  const Listing& l = batch.listings[0];
  EXPECT_EQ(l.images.size(), kMaxImages);
  ASSERT_EQ(l.image_hashes.size(), kMaxImages);
  EXPECT_EQ(l.image_hashes.back().quality, static_cast<int32_t>(kMaxImages - 1));
  EXPECT_EQ(l.truncated_fields, Listing::kTruncatedImages);
}
TEST(ListingInputTest, OptionalNullsAreAbsent) {
  ParsedBatch b = ParseText(
      Line("x", R"(,"description":null,"quantity":null,"images":null,"marketplace":null)") + "\n");
  ASSERT_EQ(b.listings_size, 1u);
  EXPECT_EQ(b.listings[0].marketplace, "default");
  EXPECT_EQ(b.listings[0].quantity, 1);
}

TEST(ListingInputTest, CrlfBomAndEmptyLines) {
  TempDir dir;
  std::string text = "\xEF\xBB\xBF" + Line("a") + "\r\n\r\n" + Line("b") + "\r\n\n" + Line("c");
  Result r = ReadAll(dir.Write("crlf.jsonl", text));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.listings.size(), 3u);
  EXPECT_EQ(r.listings[0].byte_offset, 3u);  // after the BOM
  EXPECT_EQ(r.listings[0].line_number, 1u);
  EXPECT_EQ(r.listings[1].line_number, 3u);
  EXPECT_EQ(r.listings[1].byte_offset, text.find("{\"id\":\"b\""));
  EXPECT_EQ(r.listings[2].line_number, 5u);
  EXPECT_EQ(r.listings[2].id, "c");
  ASSERT_EQ(r.rejects.size(), 2u);
  EXPECT_EQ(r.rejects[0].reason, "empty line");
  EXPECT_EQ(r.rejects[0].line, 2u);
  EXPECT_EQ(r.rejects[0].byte_offset, 3 + Line("a").size() + 2);
  EXPECT_EQ(r.rejects[1].line, 4u);
  EXPECT_EQ(r.listings.size() + r.rejects.size(), 5u);
}

TEST(ListingInputTest, LastLineWithoutNewline) {
  TempDir dir;
  std::string good = Line("a") + "\n" + Line("b");
  Result r = ReadAll(dir.Write("nonl.jsonl", good));
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.listings.size(), 2u);
  EXPECT_TRUE(r.rejects.empty());
  EXPECT_TRUE(r.saw_ends_input);

  std::string cut = Line("a") + "\n" + Line("b").substr(0, 30);
  r = ReadAll(dir.Write("cut.jsonl", cut));
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.listings.size(), 1u);
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].reason, "truncated last line (no newline at end of input)");
  EXPECT_EQ(r.rejects[0].line, 2u);
  EXPECT_EQ(r.rejects[0].byte_offset, Line("a").size() + 1);

  // A broken line in the middle is plain invalid JSON.
  ParsedBatch b = ParseText(Line("b").substr(0, 30) + "\n" + Line("c") + "\n");
  ASSERT_EQ(b.rejects.size(), 1u);
  EXPECT_THAT(b.rejects[0].reason, HasSubstr("invalid JSON: "));
}

std::string SyntheticJsonl(int n, bool with_bad) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    if (with_bad && i % 7 == 3) {
      text += R"({"id":"bad)" + std::to_string(i) +
              R"(","price":"x"})"
              "\n";
    } else if (with_bad && i % 11 == 5) {
      text += "\n";
    } else {
      text += Line("id-" + std::to_string(i), R"(,"description":"line )" +
                                                  std::string(i % 50, 'x') + R"(","images":["p/)" +
                                                  std::to_string(i) + R"(.jpg"])") +
              "\n";
    }
  }
  return text;
}

void ExpectSameResults(const Result& a, const Result& b) {
  ASSERT_EQ(a.listings.size(), b.listings.size());
  for (size_t i = 0; i < a.listings.size(); ++i) {
    EXPECT_EQ(a.listings[i].id, b.listings[i].id);
    EXPECT_EQ(a.listings[i].description, b.listings[i].description);
    EXPECT_EQ(a.listings[i].images, b.listings[i].images);
    EXPECT_EQ(a.listings[i].line_number, b.listings[i].line_number);
    EXPECT_EQ(a.listings[i].byte_offset, b.listings[i].byte_offset);
  }
  ASSERT_EQ(a.rejects.size(), b.rejects.size());
  for (size_t i = 0; i < a.rejects.size(); ++i) {
    EXPECT_EQ(a.rejects[i].line, b.rejects[i].line);
    EXPECT_EQ(a.rejects[i].byte_offset, b.rejects[i].byte_offset);
    EXPECT_EQ(a.rejects[i].reason, b.rejects[i].reason);
  }
}

TEST(ListingInputTest, TinyChunksGiveSameResults) {
  TempDir dir;
  std::string text = SyntheticJsonl(300, true) + Line("last");  // no final newline
  std::string path = dir.Write("many.jsonl", text);
  Result big = ReadAll(path);
  InputOptions tiny;
  tiny.chunk_bytes = 64;
  Result small = ReadAll(path, tiny);
  ASSERT_TRUE(big.status.ok());
  ASSERT_TRUE(small.status.ok());
  EXPECT_EQ(big.chunks, 1);
  EXPECT_GT(small.chunks, 100);
  EXPECT_EQ(big.listings.size() + big.rejects.size(), CountLines(text));
  ExpectSameResults(big, small);
  EXPECT_EQ(small.listings.back().id, "last");

  // Also through zstd and gzip.
  for (const std::string& name : {std::string("many.jsonl.zst"), std::string("many.jsonl.gz")}) {
    std::string compressed = name.ends_with(".zst") ? Zstd(text) : Gzip(text);
    Result z = ReadAll(dir.Write(name, compressed), tiny);
    ASSERT_TRUE(z.status.ok()) << z.status;
    ExpectSameResults(big, z);
  }
}

TEST(ListingInputTest, OverLongRecordIsSkipped) {
  TempDir dir;
  std::string longline = Line("long", R"(,"description":")" + std::string(500, 'y') + "\"");
  std::string text = Line("a") + "\n" + longline + "\n" + Line("b") + "\n" + longline;
  InputOptions options;
  options.max_record_bytes = 200;
  for (size_t chunk_bytes : {size_t{64}, size_t{1} << 20}) {
    options.chunk_bytes = chunk_bytes;
    Result r = ReadAll(dir.Write("long.jsonl", text), options);
    ASSERT_TRUE(r.status.ok());
    ASSERT_EQ(r.listings.size(), 2u);
    EXPECT_EQ(r.listings[1].id, "b");
    EXPECT_EQ(r.listings[1].line_number, 3u);
    EXPECT_EQ(r.listings[1].byte_offset, Line("a").size() + 1 + longline.size() + 1);
    ASSERT_EQ(r.rejects.size(), 2u);
    EXPECT_EQ(r.rejects[0].reason, "record exceeds 200 bytes");
    EXPECT_EQ(r.rejects[0].line, 2u);
    EXPECT_EQ(r.rejects[0].byte_offset, Line("a").size() + 1);
    EXPECT_EQ(r.rejects[1].line, 4u);
    EXPECT_EQ(r.listings.size() + r.rejects.size(), CountLines(text));
  }
}

TEST(ListingInputTest, TruncatedZstdIsDataLossAfterGoodRecords) {
  TempDir dir;
  std::string text = SyntheticJsonl(2000, false);
  std::string z = Zstd(text);
  Result full = ReadAll(dir.Write("full.jsonl.zst", z));
  ASSERT_TRUE(full.status.ok()) << full.status;
  EXPECT_EQ(full.listings.size(), 2000u);

  InputOptions options;
  options.chunk_bytes = 4096;
  Result r = ReadAll(dir.Write("cut.jsonl.zst", z.substr(0, z.size() / 2)), options);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << r.status;
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("cut.jsonl.zst: truncated zstd stream"));
  EXPECT_GT(r.listings.size(), 100u);
  EXPECT_LT(r.listings.size(), 2000u);
  EXPECT_TRUE(r.rejects.empty());  // no partial record is passed on
  for (size_t i = 0; i < r.listings.size(); ++i) {
    EXPECT_EQ(r.listings[i].id, full.listings[i].id);
  }

  // Corrupt bytes in the middle.
  std::string bad = z;
  for (size_t i = bad.size() / 2; i < bad.size() / 2 + 64; ++i) bad[i] ^= 0x5a;
  r = ReadAll(dir.Write("bad.jsonl.zst", bad));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << r.status;
}

TEST(ListingInputTest, GzipConcatenatedMembersAndTruncation) {
  TempDir dir;
  std::string a = SyntheticJsonl(100, false), b = Line("tail") + "\n";
  Result r = ReadAll(dir.Write("two.jsonl.gz", Gzip(a) + Gzip(b)));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.listings.size(), 101u);
  EXPECT_EQ(r.listings.back().id, "tail");
  EXPECT_EQ(r.listings.back().line_number, 101u);

  std::string g = Gzip(a);
  r = ReadAll(dir.Write("cut.jsonl.gz", g.substr(0, g.size() - 20)));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << r.status;
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("truncated gzip stream"));
}

TEST(ListingInputTest, OpenErrors) {
  EXPECT_EQ(InputSource::Open("/nonexistent/x.jsonl", {}).status().code(),
            absl::StatusCode::kNotFound);
  TempDir dir;
  std::string p = dir.Write("empty.jsonl", "");
  Result r = ReadAll(p);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.chunks, 0);
}

// --- CSV -------------------------------------------------------------------------------

TEST(ListingInputTest, CsvRecords) {
  TempDir dir;
  std::string header = "id,title,price,currency,seller_id,images,extra,quantity\r\n";
  std::string text = header +
                     "c1,\"Runner, 22\",10.5,EUR,s1,a.jpg|b/c.jpg,x,2\r\n"  // line 2
                     "c2,\"multi\nline \"\"quoted\"\"\",3,USD,s2,,,\r\n"    // lines 3-4
                     "c3,t,abc,EUR,s3,,,\n"                                 // 5
                     "c4,t,1,EUR,s4\n"                                      // 6
                     "\n"                                                   // 7
                     "c5,t,nan,EUR,s5,,,\n"                                 // 8
                     "c6,t,1,EUR,s6,../x.jpg,,\n"                           // 9
                     "c7,t,,EUR,s7,,,\n"                                    // 10
                     "c8,t,2,EUR,s8,,,0\n"                                  // 11
                     "c9,\"last\",1,EUR,s9,,,";                             // 12
  for (size_t chunk_bytes : {size_t{16}, size_t{1} << 20}) {
    InputOptions options;
    options.chunk_bytes = chunk_bytes;
    Result r = ReadAll(dir.Write("in.csv", text), options);
    ASSERT_TRUE(r.status.ok()) << r.status;
    ASSERT_EQ(r.listings.size(), 3u);
    EXPECT_EQ(r.listings[0].title, "Runner, 22");
    EXPECT_EQ(r.listings[0].price, 10.5);
    EXPECT_EQ(r.listings[0].quantity, 2);
    EXPECT_THAT(r.listings[0].images, ElementsAre("a.jpg", "b/c.jpg"));
    EXPECT_EQ(r.listings[0].line_number, 2u);
    EXPECT_EQ(r.listings[0].byte_offset, header.size());
    EXPECT_EQ(r.listings[1].title, "multi\nline \"quoted\"");
    EXPECT_EQ(r.listings[1].line_number, 3u);
    EXPECT_TRUE(r.listings[1].images.empty());
    EXPECT_EQ(r.listings[2].id, "c9");
    EXPECT_EQ(r.listings[2].line_number, 12u);
    ASSERT_EQ(r.rejects.size(), 7u);
    EXPECT_EQ(r.rejects[0].reason, "field \"price\" must be a number");
    EXPECT_EQ(r.rejects[0].line, 5u);
    EXPECT_EQ(r.rejects[0].byte_offset, text.find("c3,"));
    EXPECT_EQ(r.rejects[0].listing_id, "c3");
    EXPECT_EQ(r.rejects[1].reason, "CSV row has 5 fields, header has 8");
    EXPECT_EQ(r.rejects[1].line, 6u);
    EXPECT_EQ(r.rejects[2].reason, "empty line");
    EXPECT_EQ(r.rejects[2].line, 7u);
    EXPECT_EQ(r.rejects[3].reason, "price must be finite and >= 0");
    EXPECT_EQ(r.rejects[4].reason, "image path escapes the image root: \"../x.jpg\"");
    EXPECT_EQ(r.rejects[5].reason, "missing required field \"price\"");
    EXPECT_EQ(r.rejects[6].reason, "quantity must be an integer >= 1");
    EXPECT_EQ(r.rejects[6].line, 11u);
    EXPECT_EQ(r.listings.size() + r.rejects.size(), 10u);
  }
}

// The scan parses a few records at a time (ParseSome); that must find what Parse finds.
TEST(ListingInputTest, ParsingAFewRecordsAtATimeFindsWhatParseFinds) {
  TempDir dir;
  const std::string csv =
      "id,title,price,currency,seller_id\n"
      "c1,\"Runner, 22\",10.5,EUR,s1\n"
      "c2,\"multi\nline \"\"quoted\"\"\",3,USD,s2\r\n"
      "c3,t,abc,EUR,s3\n"
      "\n"
      "c4,\"two\n\nblank lines\",1,EUR,s4\n"
      "c5,t,2,EUR,s5";
  const std::string inputs[] = {dir.Write("in.jsonl", SyntheticJsonl(100, true) + Line("last")),
                                dir.Write("in.csv", csv)};
  for (const std::string& path : inputs) {
    for (size_t chunk_bytes : {size_t{64}, size_t{1} << 20}) {
      InputOptions options;
      options.chunk_bytes = chunk_bytes;
      const Result whole = ReadAll(path, options);
      ASSERT_TRUE(whole.status.ok()) << whole.status;
      ASSERT_FALSE(whole.rejects.empty());
      for (size_t slice : {1, 2, 3, 32}) {
        SCOPED_TRACE(absl::StrCat(path, ", chunks of ", chunk_bytes, " bytes, slices of ", slice));
        const Result sliced = ReadAll(path, options, slice);
        ASSERT_TRUE(sliced.status.ok()) << sliced.status;
        ExpectSameResults(sliced, whole);
        for (size_t i = 0; i < whole.listings.size(); ++i) {
          EXPECT_EQ(sliced.listings[i].title, whole.listings[i].title);
        }
      }
    }
  }
}

TEST(ListingInputTest, CsvHeaderErrorsAndTruncation) {
  TempDir dir;
  auto s = InputSource::Open(dir.Write("h.csv", "id,title,currency,seller_id\n1,t,EUR,s\n"), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("\"price\""));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("h.csv"));

  // Header through gzip, with BOM; a quote still open at the end of input, in a last
  // line without a line end: the line was cut.
  std::string text = "\xEF\xBB\xBFid,title,price,currency,seller_id\n1,t,1,EUR,s\n2,\"open,1,EUR,s";
  Result r = ReadAll(dir.Write("q.csv.gz", Gzip(text)));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.listings.size(), 1u);
  EXPECT_EQ(r.listings[0].byte_offset, text.find("1,t"));
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].reason, "truncated last line (no newline at end of input)");
  EXPECT_EQ(r.rejects[0].line, 3u);

  // The same line with its line end is complete, and its quote never closes.
  r = ReadAll(dir.Write("q2.csv.gz", Gzip(text + "\n")));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.listings.size(), 1u);
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].reason, "unbalanced quote");
  EXPECT_EQ(r.rejects[0].line, 3u);
}

// A quote that never closes rejects only its own line, at the end of input and at the
// record cap alike; reading resumes on the next line. Quoted newlines still work.
TEST(ListingInputTest, CsvUnbalancedQuoteRejectsOnlyItsLine) {
  TempDir dir;
  const std::string header = "id,title,price,currency,seller_id\n";
  const std::string text = header +
                           "a,\"two\nlines\",1,EUR,s\n"  // lines 2-3: a quoted newline
                           "b,\"open,1,EUR,s\n"          // line 4: never closed
                           "c,t,1,EUR,s\n"               // 5
                           "d,\"t\",1,EUR,s\n";          // 6: its quotes pair up again
  for (size_t chunk_bytes : {size_t{7}, size_t{1} << 20}) {
    InputOptions options;
    options.chunk_bytes = chunk_bytes;
    Result r = ReadAll(dir.Write("q.csv", text), options);
    ASSERT_TRUE(r.status.ok()) << r.status;
    ASSERT_EQ(r.listings.size(), 3u);
    EXPECT_EQ(r.listings[0].title, "two\nlines");
    EXPECT_EQ(r.listings[1].id, "c");
    EXPECT_EQ(r.listings[1].line_number, 5u);
    EXPECT_EQ(r.listings[1].byte_offset, text.find("c,t"));
    EXPECT_EQ(r.listings[2].id, "d");
    ASSERT_EQ(r.rejects.size(), 1u);
    EXPECT_EQ(r.rejects[0].reason, "unbalanced quote");
    EXPECT_EQ(r.rejects[0].reason_class, "unbalanced quote");
    EXPECT_EQ(r.rejects[0].line, 4u);
    EXPECT_EQ(r.rejects[0].byte_offset, text.find("b,"));
  }

  // At the cap: the quote opened on line 2 is still open 64 bytes on, although more
  // input follows (and a later quote would close it).
  std::string capped = header + "a,\"open,1,EUR,s\n";
  for (int i = 0; i < 10; ++i) capped += "r" + std::to_string(i) + ",t,1,EUR,s\n";
  capped += "z,\"t\",1,EUR,s\n";
  for (size_t chunk_bytes : {size_t{5}, size_t{1} << 20}) {
    InputOptions options;
    options.chunk_bytes = chunk_bytes;
    options.max_record_bytes = 64;
    Result r = ReadAll(dir.Write("capped.csv", capped), options);
    ASSERT_TRUE(r.status.ok()) << r.status;
    ASSERT_EQ(r.rejects.size(), 1u);
    EXPECT_EQ(r.rejects[0].reason, "unbalanced quote");
    EXPECT_EQ(r.rejects[0].line, 2u);
    ASSERT_EQ(r.listings.size(), 11u);
    EXPECT_EQ(r.listings[0].id, "r0");
    EXPECT_EQ(r.listings.back().id, "z");
  }
}

// The format comes from InputOptions::format when set, else from the name.
TEST(ListingInputTest, InputFormatOverridesTheName) {
  TempDir dir;
  const std::string csv = "id,title,price,currency,seller_id\nx,t,1,EUR,s\n";
  const std::string path = dir.Write("listings.txt", csv);
  Result by_name = ReadAll(path);
  ASSERT_TRUE(by_name.status.ok());
  EXPECT_TRUE(by_name.listings.empty());
  EXPECT_EQ(by_name.rejects.size(), 2u);  // read as JSON Lines

  InputOptions options;
  options.format = InputFormat::kCsv;
  Result as_csv = ReadAll(path, options);
  ASSERT_TRUE(as_csv.status.ok()) << as_csv.status;
  ASSERT_EQ(as_csv.listings.size(), 1u);
  EXPECT_EQ(as_csv.listings[0].id, "x");

  auto source = InputSource::Open(path, {});
  ASSERT_TRUE(source.ok());
  EXPECT_EQ((*source)->format(), InputFormat::kJsonLines);
  EXPECT_EQ((*source)->apparent_format(), InputFormat::kCsv);
  for (const std::string name : {"a.CSV", "a.csv.gz", "a.csv.zst"}) {
    auto s = InputSource::Open(dir.Write(name, csv), {});
    ASSERT_TRUE(s.ok()) << name << ": " << s.status();
    EXPECT_EQ((*s)->format(), InputFormat::kCsv) << name;
  }
  auto json = InputSource::Open(dir.Write("a.jsonl", Line("a") + "\n"), {});
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)->apparent_format(), InputFormat::kJsonLines);
}

// A header that lacks a required column says what it looks like instead.
TEST(ListingInputTest, CsvHeaderHints) {
  TempDir dir;
  struct Case {
    std::string header, message;
  };
  const std::vector<Case> cases = {
      {"id;title;price;currency;seller_id",
       "CSV header lacks required column \"id\" (the header looks ';'-separated; columns are "
       "separated by ',')"},
      {"id\ttitle\tprice\tcurrency\tseller_id",
       "CSV header lacks required column \"id\" (the header looks tab-separated; columns are "
       "separated by ',')"},
      {"ID,TITLE,PRICE,CURRENCY,SELLER_ID",
       "CSV header lacks required column \"id\" (column names are lower-case, without spaces: "
       "\"ID\" should be \"id\")"},
      {"id,Title,Price,currency,seller_id",
       "CSV header lacks required column \"title\" (column names are lower-case, without "
       "spaces: \"Title\" should be \"title\")"},
      {"id,title,currency,seller_id", "CSV header lacks required column \"price\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.header);
    const std::string path = dir.Write("h.csv", c.header + "\n1,t,1,EUR,s\n");
    auto s = InputSource::Open(path, {});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(s.status().message()), path + ": " + c.message);
  }
}

// Every reject carries the class the summary counts it by: the message without details.
TEST(ListingInputTest, RejectClassesAreSetWhereRejectsAreMade) {
  ParsedBatch b = ParseText(
      R"({"id":"a",)"
      "\n"
      R"({"id":"a","title":"t","price":1,"currency":"EUR","seller_id":"s","images":["../x"]})"
      "\n"
      "[1]\n");
  ASSERT_EQ(b.rejects.size(), 3u);
  EXPECT_THAT(b.rejects[0].reason, ::testing::StartsWith("invalid JSON: "));
  EXPECT_EQ(b.rejects[0].reason_class, "invalid JSON");
  EXPECT_EQ(b.rejects[1].reason, "image path escapes the image root: \"../x\"");
  EXPECT_EQ(b.rejects[1].reason_class, "image path escapes the image root");
  EXPECT_EQ(b.rejects[2].reason_class, "not a JSON object");

  auto schema = CsvSchema::FromHeader("id,title,price,currency,seller_id");
  ASSERT_TRUE(schema.ok());
  b = ParseText("x,\"t\"z,1,EUR,s\nx,t,1,EUR\n", true, InputFormat::kCsv, *schema);
  ASSERT_EQ(b.rejects.size(), 2u);
  EXPECT_EQ(b.rejects[0].reason, "invalid CSV: text after a closing quote");
  EXPECT_EQ(b.rejects[0].reason_class, "invalid CSV");
  EXPECT_EQ(b.rejects[1].reason_class, "CSV row has 4 fields, header has 5");
}

TEST(ListingInputTest, SampleFixtures) {
  const std::string dir = std::string(BONAFIDE_SOURCE_DIR) + "/testdata/listings/";
  Result r = ReadAll(dir + "sample.jsonl");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.listings.size(), 2u);
  ASSERT_EQ(r.rejects.size(), 4u);
  EXPECT_EQ(r.rejects[0].line, 3u);
  EXPECT_EQ(r.rejects[2].reason, "image path escapes the image root: \"../etc/x.jpg\"");
  EXPECT_EQ(r.rejects[3].line, 6u);

  r = ReadAll(dir + "sample.csv");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.listings.size(), 2u);
  EXPECT_EQ(r.listings[1].title, "Multi-line \"quoted\"\ntitle");
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].reason, "CSV row has 4 fields, header has 7");
  EXPECT_EQ(r.rejects[0].line, 5u);
}

// --- field caps --------------------------------------------------------------------------

// One listing's fields, written as a JSON line and as a CSV row of the header below.
struct CapCase {
  std::string id = "x", seller_id = "s", title = "t", description, marketplace;
  std::vector<std::string> images;
};
const char kCapCsvHeader[] = "id,title,description,price,currency,seller_id,images,marketplace\n";

std::string CapJson(const CapCase& c) {
  std::string s = R"({"id":")" + c.id + R"(","title":")" + c.title +
                  R"(","price":1,"currency":"EUR","seller_id":")" + c.seller_id + "\"";
  if (!c.description.empty()) s += R"(,"description":")" + c.description + "\"";
  if (!c.marketplace.empty()) s += R"(,"marketplace":")" + c.marketplace + "\"";
  if (!c.images.empty()) {
    s += R"(,"images":[)";
    for (size_t i = 0; i < c.images.size(); ++i) s += (i ? ",\"" : "\"") + c.images[i] + "\"";
    s += "]";
  }
  return s + "}\n";
}

std::string CapCsv(const CapCase& c) {
  std::string images;
  for (size_t i = 0; i < c.images.size(); ++i) images += (i ? "|" : "") + c.images[i];
  return c.id + "," + c.title + "," + c.description + ",1,EUR," + c.seller_id + "," + images + "," +
         c.marketplace + "\n";
}

TEST(ListingInputTest, FieldCapsTruncateTextAndRejectIdentifiers) {
  const std::string e_acute = "\xc3\xa9", euro = "\xe2\x82\xac", smile = "\xf0\x9f\x98\x80";
  struct Expect {
    CapCase in;
    std::string reason;  // "" = scanned
    std::string title, description;
    uint32_t truncated = 0;
    size_t images = 0;
  };
  auto title = [](std::string t) {
    CapCase c;
    c.title = std::move(t);
    return c;
  };
  auto desc = [](std::string d) {
    CapCase c;
    c.description = std::move(d);
    return c;
  };
  const size_t T = kMaxTitleBytes, D = kMaxDescriptionBytes, I = kMaxIdBytes;
  const std::string tA(T, 'a'), dA(D, 'd');
  std::vector<Expect> cases = {
      // title: exact cap, cap + 1, multi-byte characters ending at / straddling the cap
      {title(tA), "", tA, "", 0},
      {title(tA + "b"), "", tA, "", Listing::kTruncatedTitle},
      {title(std::string(T - 2, 'a') + e_acute), "", std::string(T - 2, 'a') + e_acute, "", 0},
      {title(std::string(T - 1, 'a') + e_acute), "", std::string(T - 1, 'a'), "",
       Listing::kTruncatedTitle},
      {title(std::string(T - 2, 'a') + euro), "", std::string(T - 2, 'a'), "",
       Listing::kTruncatedTitle},
      {title(std::string(T - 1, 'a') + smile + "zz"), "", std::string(T - 1, 'a'), "",
       Listing::kTruncatedTitle},
      // description likewise
      {desc(dA), "", "t", dA, 0},
      {desc(dA + "e"), "", "t", dA, Listing::kTruncatedDescription},
      {desc(std::string(D - 1, 'd') + e_acute), "", "t", std::string(D - 1, 'd'),
       Listing::kTruncatedDescription},
      {desc(std::string(D - 3, 'd') + euro), "", "t", std::string(D - 3, 'd') + euro, 0},
      {desc(std::string(D - 2, 'd') + smile), "", "t", std::string(D - 2, 'd'),
       Listing::kTruncatedDescription},
  };
  // Identifiers: exact cap scanned, cap + 1 rejected (never truncated).
  {
    Expect e;
    e.in.id = std::string(I, 'i');
    e.in.seller_id = std::string(I, 's');
    e.title = "t";
    cases.push_back(e);
    e.in.id = std::string(I + 1, 'i');
    e.reason = "field \"id\" exceeds 1024 bytes";
    cases.push_back(e);
    e.in.id = "x";
    e.in.seller_id = std::string(I + 1, 's');
    e.reason = "field \"seller_id\" exceeds 1024 bytes";
    cases.push_back(e);
    e.in.seller_id = "s";
    e.in.marketplace = std::string(kMaxIdBytes + 1, 'm');
    e.reason = "field \"marketplace\" exceeds 1024 bytes";
    cases.push_back(e);
  }
  // Images: 40 -> the first 32; an over-long path is dropped; a bad path beyond the cap
  // is still a reject.
  {
    Expect e;
    e.title = "t";
    for (int i = 0; i < 40; ++i) e.in.images.push_back("img/" + std::to_string(i) + ".jpg");
    e.truncated = Listing::kTruncatedImages;
    e.images = kMaxImages;
    cases.push_back(e);
    e.in.images = {"a.jpg", std::string(kMaxImagePathBytes + 1, 'p'), "b.jpg",
                   std::string(kMaxImagePathBytes, 'q')};
    e.images = 3;
    cases.push_back(e);
    e.in.images.assign(32, "ok.jpg");
    e.truncated = 0;
    e.images = 32;
    cases.push_back(e);
    e.in.images.emplace_back("../x.jpg");
    e.reason = "image path escapes the image root: \"../x.jpg\"";
    cases.push_back(e);
  }

  std::string jsonl, csv = kCapCsvHeader;
  for (const Expect& e : cases) {
    jsonl += CapJson(e.in);
    csv += CapCsv(e.in);
  }
  TempDir dir;
  for (const std::string& path : {dir.Write("caps.jsonl", jsonl), dir.Write("caps.csv", csv)}) {
    SCOPED_TRACE(path);
    Result r = ReadAll(path);
    ASSERT_TRUE(r.status.ok()) << r.status;
    ASSERT_EQ(r.listings.size() + r.rejects.size(), cases.size());
    size_t li = 0, ri = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
      SCOPED_TRACE("case " + std::to_string(i));
      const Expect& e = cases[i];
      if (!e.reason.empty()) {
        ASSERT_LT(ri, r.rejects.size());
        EXPECT_EQ(r.rejects[ri++].reason, e.reason);
        continue;
      }
      ASSERT_LT(li, r.listings.size());
      const Listing& l = r.listings[li++];
      EXPECT_EQ(l.title, e.title);
      EXPECT_EQ(l.description, e.description);
      EXPECT_EQ(l.id, e.in.id);
      EXPECT_EQ(l.seller_id, e.in.seller_id);
      EXPECT_EQ(l.truncated_fields, e.truncated);
      ASSERT_EQ(l.images.size(), e.images);
      for (const std::string& image : l.images) EXPECT_LE(image.size(), kMaxImagePathBytes);
      if (e.images == kMaxImages && e.truncated) {
        EXPECT_EQ(l.images.back(), "img/31.jpg");
      }
      if (e.images == 3) {
        EXPECT_THAT(l.images[2], ::testing::StartsWith("qqq"));
      }
    }
    EXPECT_EQ(li, r.listings.size());
    EXPECT_EQ(ri, r.rejects.size());
  }
}

TEST(ListingInputTest, TruncationFlagIsResetForRecycledListings) {
  ParsedBatch b = ParseText(CapJson({.title = std::string(kMaxTitleBytes + 1, 'a')}));
  ASSERT_EQ(b.listings_size, 1u);
  EXPECT_EQ(b.listings[0].truncated_fields, Listing::kTruncatedTitle);
  // A recycled Listing must not keep the flag of the record parsed into it before.
  InputChunk chunk;
  ChunkParser parser;
  ParsedBatch batch;
  chunk.data = CapJson({.title = std::string(kMaxTitleBytes + 5, 'a')});
  chunk.data.reserve(chunk.data.size() + kChunkPadding);
  parser.Parse(chunk, batch);
  ASSERT_EQ(batch.listings_size, 1u);
  EXPECT_NE(batch.listings[0].truncated_fields, 0u);
  batch.Clear();
  chunk.data = Line("y") + "\n";
  parser.Parse(chunk, batch);
  ASSERT_EQ(batch.listings_size, 1u);
  EXPECT_EQ(batch.listings[0].truncated_fields, 0u);
  EXPECT_EQ(batch.listings[0].title, "ACME Runner 22");
}

TEST(ListingInputTest, ChunkWithoutPaddingIsCopied) {
  InputChunk chunk;
  chunk.data = Line("a") + "\n" + Line("b");
  chunk.data.shrink_to_fit();
  chunk.ends_input = true;
  ChunkParser parser;
  ParsedBatch batch;
  parser.Parse(chunk, batch);
  ASSERT_EQ(batch.listings_size, 2u);
  EXPECT_EQ(batch.listings[1].id, "b");
}

TEST(ListingInputTest, ParseDoesNotAllocateWhenWarm) {
  InputChunk chunk;
  std::string text = SyntheticJsonl(500, true);
  chunk.data.reserve(text.size() + kChunkPadding);
  chunk.data = text;
  ChunkParser parser;
  ParsedBatch batch;
  batch.rejects.reserve(1000);
  for (int i = 0; i < 2; ++i) {  // warm up
    batch.Clear();
    parser.Parse(chunk, batch);
  }
  // Rejects allocate their reason strings; count only the valid listings' cost.
  std::string valid = SyntheticJsonl(500, false);
  chunk.data = valid;
  for (int i = 0; i < 2; ++i) {
    batch.Clear();
    parser.Parse(chunk, batch);
  }
  const int64_t before = testing::AllocationCount();
  for (int i = 0; i < 5; ++i) {
    batch.Clear();
    parser.Parse(chunk, batch);
  }
  EXPECT_EQ(testing::AllocationCount() - before, 0);
  EXPECT_EQ(batch.listings_size, 500u);
}

}  // namespace
}  // namespace bonafide::engine
