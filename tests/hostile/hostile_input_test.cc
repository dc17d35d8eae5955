// Hostile listing dumps through the public API: every record is scanned or rejected with a
// reason (docs/listings.md), and nothing crashes or grows without bound.
//
// Every file of tests/hostile/listings/ goes through Scanner::ScanFiles (examples/rules, a
// temporary SQLite outbox, a rejects file) with its expected outcome in the table below:
// how many records, which were scanned, and for every rejected one its line and reason
// (the full reason, or its class: the text before the first ": "). The rejects file must
// name each reject's input, line and byte offset (the start of that line in the file), and
// must not depend on the chunk size or the thread count. Inputs too big or too opaque to
// commit (a 50 MB title, a truncated .zst, random bytes) are generated here.
#include <algorithm>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <zstd.h>

#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "bonafide/summary.h"
#include "tests/hostile/memory.h"
#include "tests/outbox_test_util.h"
#include "tests/test_util.h"

namespace bonafide {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kExampleRules = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";
const std::string kListings = std::string(BONAFIDE_SOURCE_DIR) + "/tests/hostile/listings/";
constexpr size_t kMaxRecordBytes = 8 << 20;  // InputOptions::max_record_bytes default

// One line of a rejects file.
struct RejectLine {
  std::string input;
  uint64_t line = 0;
  uint64_t offset = 0;
  std::string reason;
  std::string id;
};

std::vector<RejectLine> ReadRejects(const std::string& path) {
  std::vector<RejectLine> out;
  const std::string text = testing::ReadFileOrDie(path);
  simdjson::ondemand::parser parser;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    EXPECT_NE(end, std::string::npos) << "rejects file lacks a final newline";
    if (end == std::string::npos) end = text.size();
    simdjson::padded_string line(std::string_view(text).substr(pos, end - pos));
    simdjson::ondemand::document doc;
    RejectLine r;
    std::string_view s;
    EXPECT_EQ(parser.iterate(line).get(doc), simdjson::SUCCESS);
    EXPECT_EQ(doc["input"].get_string().get(s), simdjson::SUCCESS) << line;
    r.input = std::string(s);
    EXPECT_EQ(doc["line"].get_uint64().get(r.line), simdjson::SUCCESS) << line;
    EXPECT_EQ(doc["offset"].get_uint64().get(r.offset), simdjson::SUCCESS) << line;
    EXPECT_EQ(doc["reason"].get_string().get(s), simdjson::SUCCESS) << line;
    r.reason = std::string(s);
    if (doc["id"].get_string().get(s) == simdjson::SUCCESS) r.id = std::string(s);
    out.push_back(std::move(r));
    pos = end + 1;
  }
  return out;
}

std::string_view ReasonClass(std::string_view reason) {
  return reason.substr(0, reason.find(": "));
}

// Byte offset of the start of each (physical) line: starts[k] is line k + 1.
std::vector<uint64_t> LineStarts(const std::string& bytes) {
  std::vector<uint64_t> starts = {0};
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\n') starts.push_back(i + 1);
  }
  if (bytes.compare(0, 3, "\xEF\xBB\xBF") == 0) starts[0] = 3;  // a leading BOM is skipped
  return starts;
}

// Records of a JSON Lines file: its lines, the last one counted even without a newline.
int64_t JsonLinesRecords(const std::string& bytes) {
  return std::count(bytes.begin(), bytes.end(), '\n') +
         (!bytes.empty() && bytes.back() != '\n' ? 1 : 0);
}

struct Expected {
  uint64_t line;
  const char* reason;  // the full reason, or its class
};

struct HostileCase {
  const char* file;  // in tests/hostile/listings/
  int64_t records;
  int64_t scanned;
  std::vector<Expected> rejects;  // in line order
};

// Shorthands for the reason classes that simdjson words.
constexpr const char* kInvalidJson = "invalid JSON";
constexpr const char* kTrailing = "trailing content after JSON object";
constexpr const char* kNotObject = "not a JSON object";
constexpr const char* kEmpty = "empty line";
constexpr const char* kBadPrice = "price must be finite and >= 0";
constexpr const char* kBadCurrency = "currency must be a 3-letter ISO 4217 code";
constexpr const char* kEscapes = "image path escapes the image root";

std::vector<HostileCase> Cases() {
  return {
      {"empty.jsonl", 0, 0, {}},
      {"invalid_json.jsonl",
       12,
       2,
       {{2, kInvalidJson},   // {"id":"j2",
        {3, kNotObject},     // not json
        {4, kInvalidJson},   // a missing comma
        {5, kNotObject},     // [1,2,3]
        {6, kNotObject},     // "just a string"
        {7, kTrailing},      // {...} trailing
        {8, kTrailing},      // {...}}
        {9, kInvalidJson},   // trailing comma
        {10, kInvalidJson},  // single quotes
        {12, "truncated last line (no newline at end of input)"}}},
      {"wrong_types.jsonl",
       16,
       3,  // w1, w13 (nulls for optional fields), w16 (quantity 2.0, nested unknown field)
       {{2, "field \"id\" must be a string"},
        {3, "field \"title\" must be a string"},
        {4, "field \"price\" must be a number"},
        {5, "field \"currency\" must be a string"},
        {6, "field \"seller_id\" must be a string"},
        {7, "field \"images\" must be an array of strings or objects"},
        {8, "field \"images\" must be an array of strings or objects"},
        {9, "field \"quantity\" must be a number"},
        {10, "quantity must be an integer >= 1"},
        {11, "quantity must be an integer >= 1"},
        {12, "field \"description\" must be a string"},
        {14, "field \"price\" must be a number"},
        {15, "field \"title\" must be a string"}}},
      {"missing_fields.jsonl",
       11,
       2,  // m9 (an empty title is a title), m11
       {{1, "missing required field \"id\""},
        {2, "missing required field \"title\""},
        {3, "missing required field \"price\""},
        {4, "missing required field \"currency\""},
        {5, "missing required field \"seller_id\""},
        {6, "missing required field \"id\""},
        {7, "field \"id\" must not be empty"},
        {8, "field \"seller_id\" must not be empty"},
        {10, "field \"price\" must be a number"}}},
      {"prices.jsonl",
       13,
       6,                    // 1e308, 30-digit integer, 0, -0.0, a subnormal, DBL_MAX JPY
       {{1, kBadPrice},      // -1
        {2, kInvalidJson},   // NaN is not JSON
        {3, kBadPrice},      // 1e999
        {4, kBadPrice},      // -1e999
        {5, kInvalidJson},   // Infinity is not JSON
        {11, kInvalidJson},  // 01: a leading zero
        {12, "field \"price\" must be a number"}}},  // "NaN"
      {"currencies.jsonl",
       7,
       1,                         // USD
       {{1, "unknown currency"},  // XYZ: well-formed, not in policy fx
        {2, kBadCurrency},        // eur
        {3, kBadCurrency},        // EURO
        {4, kBadCurrency},        // ""
        {5, kBadCurrency},        // US$
        {7, kBadCurrency}}},      // full-width ＥＵＲ
      {"invalid_utf8.jsonl",
       8,
       2,                                               // é and an emoji
       {{2, "invalid UTF-8 in field \"title\""},        // \xFF
        {3, "invalid UTF-8 in field \"description\""},  // overlong \xC0\xAF
        {4, "invalid UTF-8 in field \"title\""},        // escaped lone surrogate \ud800
        {5, "invalid UTF-8 in field \"unknown\""},      // encoded surrogate, unknown field
        {6, "invalid UTF-8 in field \"title\""},        // cut sequence
        {7, "invalid UTF-8 in field \"id\""}}},
      {"bom.jsonl", 3, 2, {{3, kInvalidJson}}},  // only a leading BOM is skipped
      {"crlf.jsonl", 4, 3, {{3, kEmpty}}},
      {"crlf.csv", 2, 2, {}},  // CRLF rows, a quoted CRLF inside a field
      {"nul_bytes.jsonl",
       7,
       2,                     // n1, n7 (an escaped \u0000 is a character like any other)
       {{2, kInvalidJson},    // a raw NUL inside a string
        {3, kTrailing},       // a NUL after the object
        {4, kInvalidJson},    // a NUL before it
        {5, kInvalidJson},    // NULs only
        {6, kInvalidJson}}},  // a NUL between tokens
      {"empty_lines.jsonl",
       7,
       2,
       {{1, kEmpty}, {3, kEmpty}, {4, kEmpty}, {5, kEmpty}, {7, kEmpty}}},
      {"image_paths.jsonl",
       9,
       1,  // ok/photo.jpg, ./a.jpg and ..hidden.jpg stay inside the root
       {{2, "image path escapes the image root: \"../x.jpg\""},
        {3, "image path escapes the image root: \"/etc/passwd\""},
        {4, "image path escapes the image root: \"a/../../b.jpg\""},
        {5, kEscapes},  // backslashes
        {6, "image path is empty"},
        {7, "image path escapes the image root: \"a/..\""},
        {8, kEscapes},  // an escaped NUL
        {9, "image path escapes the image root: \"..\""}}},
      {"images.csv",
       4,
       1,
       {{3, "image path escapes the image root: \"../b.jpg\""},
        {4, "image path escapes the image root: \"/abs.jpg\""},
        {5, "image path is empty"}}},  // a||b
      {"ragged.csv",
       14,
       3,  // r1, r4 (a quoted newline: lines 5-6), r5 (doubled quotes)
       {{3, "CSV row has 5 fields, header has 6"},
        {4, "CSV row has 7 fields, header has 6"},
        {8, kEmpty},
        {9, "invalid CSV: quote inside an unquoted field"},
        {10, "invalid CSV: text after a closing quote"},
        {11, kBadPrice},  // -3
        {12, "field \"price\" must be a number"},
        {13, kBadPrice},  // 1e999
        {14, "missing required field \"id\""},
        // A quote that never closes: only its line is rejected, reading resumes after it.
        {15, "unbalanced quote"},
        {16, "CSV row has 4 fields, header has 6"}}},
  };
}

class HostileInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ScannerOptions options;
    options.rules_dir = kExampleRules;
    auto scanner = Scanner::Create(options);
    ASSERT_TRUE(scanner.ok()) << scanner.status();
    scanner_ = scanner->release();
  }
  static void TearDownTestSuite() {
    delete scanner_;
    scanner_ = nullptr;
  }

  // Scans `inputs` into a fresh outbox; rejects go to `rejects`.
  absl::StatusOr<ScanSummary> Scan(const std::vector<std::string>& inputs,
                                   const std::string& rejects, size_t chunk_bytes = 1 << 20,
                                   int threads = 2) {
    auto outbox = OpenOutbox(dir_.Join("outbox-" + std::to_string(++runs_) + ".db"));
    EXPECT_TRUE(outbox.ok()) << outbox.status();
    if (!outbox.ok()) return outbox.status();
    outbox_ = std::move(*outbox);
    ScanOptions options;
    options.threads = threads;
    options.chunk_bytes = chunk_bytes;
    options.rejects_path = rejects;
    return scanner_->ScanFiles(inputs, *outbox_, options);
  }

  static void ExpectConsistent(const ScanSummary& s) {
    EXPECT_EQ(s.listings_read, s.scanned + s.rejected);
    int64_t by_reason = 0;
    for (const auto& [reason, count] : s.rejects_by_reason) by_reason += count;
    EXPECT_EQ(by_reason, s.rejected);
  }

  static Scanner* scanner_;
  testing::TempDir dir_;
  std::unique_ptr<Outbox> outbox_;
  int runs_ = 0;
};

Scanner* HostileInputTest::scanner_ = nullptr;

TEST_F(HostileInputTest, EveryCommittedCaseHasItsExpectedOutcome) {
  for (const HostileCase& c : Cases()) {
    SCOPED_TRACE(c.file);
    const std::string path = kListings + c.file;
    const std::string bytes = testing::ReadFileOrDie(path);
    if (std::string_view(c.file).ends_with(".jsonl")) {
      EXPECT_EQ(JsonLinesRecords(bytes), c.records) << "table and file disagree";
    }
    const std::vector<uint64_t> starts = LineStarts(bytes);
    std::string first_rejects;
    // Results must not depend on where chunks end or on the number of threads.
    for (const auto& [chunk_bytes, threads] :
         std::vector<std::pair<size_t, int>>{{1 << 20, 2}, {61, 2}, {1, 1}}) {
      SCOPED_TRACE(::testing::Message() << "chunk_bytes " << chunk_bytes);
      const std::string rejects = dir_.Join("rejects.jsonl");
      absl::StatusOr<ScanSummary> s = Scan({path}, rejects, chunk_bytes, threads);
      ASSERT_TRUE(s.ok()) << s.status();
      ExpectConsistent(*s);
      EXPECT_EQ(s->listings_read, c.records);
      EXPECT_EQ(s->scanned, c.scanned);
      EXPECT_EQ(s->rejected, static_cast<int64_t>(c.rejects.size()));
      EXPECT_THAT(s->input_errors, ::testing::IsEmpty());

      const std::vector<RejectLine> got = ReadRejects(rejects);
      ASSERT_EQ(got.size(), c.rejects.size());
      for (size_t i = 0; i < got.size(); ++i) {
        const RejectLine& r = got[i];
        const Expected& e = c.rejects[i];
        EXPECT_EQ(r.input, path);
        EXPECT_EQ(r.line, e.line) << r.reason;
        if (r.reason != e.reason) {
          EXPECT_EQ(ReasonClass(r.reason), e.reason) << "line " << r.line;
        }
        ASSERT_GE(r.line, 1u);
        ASSERT_LE(r.line, starts.size());
        EXPECT_EQ(r.offset, starts[r.line - 1]) << "line " << r.line;
      }
      const std::string text = testing::ReadFileOrDie(rejects);
      if (first_rejects.empty()) {
        first_rejects = text;
      } else {
        EXPECT_EQ(text, first_rejects);
      }
    }
  }
}

// Writes a JSON Lines file of: a listing, one with a `title_bytes` title, a listing.
void WriteLongTitleDump(const std::string& path, size_t title_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  const std::string tail = R"(","price":3,"currency":"EUR","seller_id":"s-1"})"
                           "\n";
  std::fputs(R"({"id":"t1","title":"plain socks)", f);
  std::fputs(tail.c_str(), f);
  std::fputs(R"({"id":"t2","title":")", f);
  const std::string block(1 << 20, 'a');
  for (size_t left = title_bytes; left > 0;) {
    const size_t n = std::min(left, block.size());
    ASSERT_EQ(std::fwrite(block.data(), 1, n, f), n);
    left -= n;
  }
  std::fputs(tail.c_str(), f);
  std::fputs(R"({"id":"t3","title":"plain socks)", f);
  std::fputs(tail.c_str(), f);
  ASSERT_EQ(std::fclose(f), 0);
}

// A 50 MB title is over the reader's max_record_bytes (8 MiB): the record is rejected
// without ever being held whole, the records around it are scanned.
TEST_F(HostileInputTest, FiftyMegabyteTitleIsRejectedInBoundedMemory) {
  const std::string path = dir_.Join("long_title.jsonl");
  WriteLongTitleDump(path, 50 << 20);
  const std::string rejects = dir_.Join("rejects.jsonl");

  const bool measure = testing::ResetPeakRss();
  const uint64_t before = testing::CurrentRssBytes();
  absl::StatusOr<ScanSummary> s = Scan({path}, rejects);
  const uint64_t growth = testing::PeakRssBytes() - before;
  std::printf("peak RSS growth scanning a 50 MB title: %llu MiB\n",
              static_cast<unsigned long long>(growth >> 20));

  ASSERT_TRUE(s.ok()) << s.status();
  ExpectConsistent(*s);
  EXPECT_EQ(s->listings_read, 3);
  EXPECT_EQ(s->scanned, 2);
  EXPECT_EQ(s->rejected, 1);
  const std::vector<RejectLine> got = ReadRejects(rejects);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].line, 2u);
  EXPECT_EQ(got[0].offset, 79u);  // after line 1
  EXPECT_EQ(got[0].reason, "record exceeds " + std::to_string(kMaxRecordBytes) + " bytes");
  // Two 8 MiB record windows at most, plus the pipeline's 1 MiB chunks: far below 50 MB.
  if (measure && !testing::kUnderAsan) {
    EXPECT_LT(growth, uint64_t{40} << 20) << "peak RSS grew by " << (growth >> 20) << " MiB";
  }
}

// Just at the limit a record is still scanned; one byte over, it is rejected.
TEST_F(HostileInputTest, RecordAtTheLimitIsScannedOneByteOverIsRejected) {
  const size_t overhead =
      std::string(R"({"id":"t2","title":"","price":3,"currency":"EUR","seller_id":"s-1"})").size();
  for (const size_t extra : {0, 1}) {
    const std::string path = dir_.Join("limit.jsonl");
    WriteLongTitleDump(path, kMaxRecordBytes - overhead + extra);
    absl::StatusOr<ScanSummary> s = Scan({path}, dir_.Join("rejects.jsonl"));
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->listings_read, 3);
    EXPECT_EQ(s->scanned, extra == 0 ? 3 : 2) << "extra " << extra;
  }
}

std::string Zstd(const std::string& raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

// A .zst cut in the middle: the input's error is reported (and names it), every record
// decoded before the damage is scanned, and the scan goes on with the next input.
TEST_F(HostileInputTest, TruncatedZstdScansWhatCameBeforeTheDamage) {
  std::string raw;
  std::mt19937 rng(5);
  for (int i = 1; i <= 30000; ++i) {
    // Varied text so that the stream has many blocks and does not compress to nothing.
    raw += R"({"id":"z)" + std::to_string(i) + R"(","title":"Nike Air Max 90 replica )" +
           std::to_string(rng()) + R"(","price":20,"currency":"EUR","seller_id":"s-1"})" + "\n";
  }
  const std::string compressed = Zstd(raw);
  ASSERT_GT(compressed.size(), 100000u);
  const std::string path =
      dir_.Write("truncated.jsonl.zst", compressed.substr(0, compressed.size() / 2));
  const std::string good = dir_.Write(
      "good.jsonl",
      R"({"id":"g1","title":"Nike Air Max 90 replica","price":20,"currency":"EUR","seller_id":"s-1"})"
      "\n");

  absl::StatusOr<ScanSummary> s = Scan({path, good}, dir_.Join("rejects.jsonl"));
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectConsistent(*s);
  ASSERT_EQ(s->input_errors.size(), 1u);
  const std::string& error = s->input_errors[0];
  EXPECT_THAT(error, HasSubstr(path));
  EXPECT_THAT(error, HasSubstr("zstd"));
  // "... input lost from line N, offset O)": lines 1..N-1 were scanned, nothing rejected.
  const size_t at = error.find("input lost from line ");
  ASSERT_NE(at, std::string::npos) << error;
  const int64_t lost_from = std::stoll(error.substr(at + 21));
  EXPECT_GT(lost_from, 1000) << "half of the stream decodes to many records";
  EXPECT_LT(lost_from, 30000);
  EXPECT_EQ(s->rejected, 0);
  EXPECT_EQ(s->scanned, (lost_from - 1) + 1);  // + the good input

  // Exactly those listings opened cases: z1 .. z(N-1) and g1.
  auto cases = testing::AllCases(*outbox_);
  ASSERT_TRUE(cases.ok()) << cases.status();
  std::set<std::string> ids;
  for (const StoredCase& c : *cases) ids.insert(c.listing_id);
  EXPECT_EQ(static_cast<int64_t>(ids.size()), lost_from);
  EXPECT_TRUE(ids.contains("g1"));
  EXPECT_TRUE(ids.contains("z1"));
  EXPECT_TRUE(ids.contains("z" + std::to_string(lost_from - 1)));
  EXPECT_FALSE(ids.contains("z" + std::to_string(lost_from)));
}

// Streams that are damaged from their first bytes on: only the magic number, or the magic
// number and noise. Like a truncated stream they are input errors (no crash, nothing
// scanned from them) and the scan goes on with the next input.
TEST_F(HostileInputTest, ZstdCorruptFromTheStartIsAnInputError) {
  std::string noise = "\x28\xB5\x2F\xFD";
  std::mt19937 rng(7);
  for (int i = 0; i < 4096; ++i) noise.push_back(static_cast<char>(rng()));
  const std::string good =
      dir_.Write("good.jsonl",
                 R"({"id":"g1","title":"plain socks","price":3,"currency":"EUR","seller_id":"s-1"})"
                 "\n");
  for (const std::string& bytes :
       {std::string("\x28\xB5\x2F\xFD"), noise, Zstd("{\"id\":\"x\"}\n").substr(0, 6)}) {
    const std::string path = dir_.Write("corrupt.jsonl.zst", bytes);
    absl::StatusOr<ScanSummary> s = Scan({path, good}, dir_.Join("rejects.jsonl"));
    ASSERT_TRUE(s.ok()) << s.status();
    ExpectConsistent(*s);
    EXPECT_EQ(s->scanned, 1);  // the good input
    EXPECT_EQ(s->rejected, 0);
    ASSERT_EQ(s->input_errors.size(), 1u);
    EXPECT_THAT(s->input_errors[0], HasSubstr(path + ": "));
    EXPECT_THAT(s->input_errors[0], HasSubstr("zstd"));
    EXPECT_THAT(s->input_errors[0], HasSubstr("input lost from line 1, offset 0"));
  }
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  bytes[0] = 'x';  // not a compression magic number
  return bytes;
}

// Random bytes: every "line" is rejected with its line and offset; nothing is scanned.
TEST_F(HostileInputTest, RandomBinaryFileIsRejectedLineByLine) {
  const std::string bytes = RandomBytes(256 << 10, 2026);
  const std::string path = dir_.Write("random.bin", bytes);
  const std::string rejects = dir_.Join("rejects.jsonl");
  absl::StatusOr<ScanSummary> s = Scan({path}, rejects, 4096);
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectConsistent(*s);
  const int64_t records = JsonLinesRecords(bytes);
  EXPECT_GT(records, 500);
  EXPECT_EQ(s->listings_read, records);
  EXPECT_EQ(s->scanned, 0);
  const std::vector<RejectLine> got = ReadRejects(rejects);
  ASSERT_EQ(static_cast<int64_t>(got.size()), records);
  const std::vector<uint64_t> starts = LineStarts(bytes);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].line, i + 1);
    ASSERT_EQ(got[i].offset, starts[i]);
    ASSERT_FALSE(got[i].reason.empty());
  }
}

// Random bytes named .csv: the header row is unusable, so the input cannot be read at all
// and the scan stops with InvalidArgument naming it (no crash, nothing half-done).
TEST_F(HostileInputTest, RandomBinaryCsvFailsOnItsHeader) {
  const std::string path = dir_.Write("random.csv", RandomBytes(64 << 10, 99));
  absl::StatusOr<ScanSummary> s = Scan({path}, dir_.Join("rejects.jsonl"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
  EXPECT_THAT(std::string(s.status().message()), HasSubstr(path));
}

// CSV under another name is read as JSON Lines, so every line is rejected: the summary
// says so and suggests CSV; with input_format = kCsv the same file scans.
TEST_F(HostileInputTest, CsvUnderAnotherNameIsFlaggedAndReadWithInputFormat) {
  const std::string csv =
      "id,title,price,currency,seller_id\n"
      "a1,plain socks,3,EUR,s-1\n"
      "a2,plain socks,4,EUR,s-1\n";
  const std::string path = dir_.Write("listings.txt", csv);
  absl::StatusOr<ScanSummary> s = Scan({path}, dir_.Join("rejects.jsonl"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->rejected, 3);
  ASSERT_EQ(s->input_warnings.size(), 1u);
  const ScanSummary::InputWarning& w = s->input_warnings[0];
  EXPECT_EQ(w.input, path);
  EXPECT_EQ(w.kind, ScanSummary::InputWarning::Kind::kEveryRecordRejected);
  EXPECT_EQ(w.records, 3);
  EXPECT_EQ(w.suggested_format, InputFormat::kCsv);
  EXPECT_THAT(SummaryText(*s), HasSubstr("warning: every record of " + path +
                                         " was rejected (3 records; is it CSV? try "
                                         "--input-format csv)\n"));
  EXPECT_THAT(SummaryJson(*s), HasSubstr("\"input_warnings\":[{\"input\":\"" + path +
                                         "\",\"kind\":\"every_record_rejected\",\"records\":3,"
                                         "\"suggested_format\":\"csv\"}]"));

  auto outbox = OpenOutbox(dir_.Join("outbox-csv.db"));
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  ScanOptions options;
  options.input_format = InputFormat::kCsv;
  s = scanner_->ScanFiles({path}, **outbox, options);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->scanned, 2);
  EXPECT_EQ(s->rejected, 0);
  EXPECT_THAT(s->input_warnings, ::testing::IsEmpty());
  EXPECT_THAT(SummaryText(*s), Not(HasSubstr("warning:")));
}

// An empty input is reported, not passed over; JSON Lines rejected for their content get
// the warning without a format hint.
TEST_F(HostileInputTest, EmptyInputAndAllRejectedJsonLinesAreReported) {
  const std::string empty = dir_.Write("empty.jsonl", "");
  const std::string bad = dir_.Write(
      "bad.jsonl", R"({"id":"x","title":"t","price":-1,"currency":"EUR","seller_id":"s"})"
                   "\n");
  absl::StatusOr<ScanSummary> s = Scan({empty, bad}, dir_.Join("rejects.jsonl"));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->input_warnings.size(), 2u);
  EXPECT_EQ(s->input_warnings[0].input, empty);
  EXPECT_EQ(s->input_warnings[0].kind, ScanSummary::InputWarning::Kind::kNoRecords);
  EXPECT_EQ(s->input_warnings[1].kind, ScanSummary::InputWarning::Kind::kEveryRecordRejected);
  EXPECT_EQ(s->input_warnings[1].suggested_format, InputFormat::kAuto);
  const std::string text = SummaryText(*s);
  EXPECT_THAT(text, HasSubstr("warning: " + empty + " holds no records\n"));
  EXPECT_THAT(text, HasSubstr("warning: every record of " + bad + " was rejected (1 record)\n"));
  // The reject classes come from where each reject was made.
  EXPECT_THAT(s->rejects_by_reason,
              ::testing::ElementsAre(::testing::Pair("price must be finite and >= 0", 1)));
}

}  // namespace
}  // namespace bonafide
