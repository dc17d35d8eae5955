// The steady-state scan must not allocate per listing (docs/design.md). Counts every operator new
// of this test binary (tests/allocation_counter.cc replaces the global one) while the bundled rules
// judge generated nightly listings:
//   - Scanner::Scan, once its scratch and verdict have grown, allocates nothing at all,
//     with or without feedback from verdicts (authorized sellers, seller records);
//   - a whole ScanFiles run allocates per case, never per listing: once the batches in
//     flight have grown (their listing slots are reused chunk after chunk), a listing that
//     opens no case costs no allocation.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bonafide/scanner.h"
#include "engine/listing_input.h"
#include "rules/text_matcher.h"
#include "tests/allocation_counter.h"
#include "tests/generated_dump.h"
#include "tests/test_util.h"
#include "tools/gen/listing_generator.h"

namespace bonafide {
namespace {

const std::string kExampleRules = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";

void Generate(const std::string& path, int64_t count) {
  gen::GeneratorOptions options;
  options.count = count;
  options.seed = 404;
  options.mix = gen::ScenarioMix::kNightly;
  testing::WriteGeneratedDump(path, options);
}

std::vector<Listing> ReadListings(const std::string& path) {
  std::vector<Listing> listings;
  auto source = engine::InputSource::Open(path, {});
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return listings;
  engine::ChunkParser parser;
  engine::InputChunk chunk;
  engine::ParsedBatch batch;
  for (;;) {
    auto more = (*source)->Next(chunk);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    batch.Clear();
    parser.Parse(chunk, batch);
    EXPECT_TRUE(batch.rejects.empty());
    listings.insert(listings.end(), batch.listings.begin(),
                    batch.listings.begin() + static_cast<std::ptrdiff_t>(batch.listings_size));
  }
  return listings;
}

// Counts cases without keeping them.
class CountingSink : public CaseSink {
 public:
  absl::StatusOr<OutboxWriteStats> Write(const OutboxBatch&) override { return OutboxWriteStats{}; }
  absl::StatusOr<OutboxWriteStats> Publish(std::string_view) override { return OutboxWriteStats{}; }
};

std::unique_ptr<Scanner> MakeScanner(const OutboxFeedback& feedback = {}) {
  ScannerOptions options;
  options.rules_dir = kExampleRules;
  options.feedback = feedback;
  auto scanner = Scanner::Create(options);
  EXPECT_TRUE(scanner.ok()) << scanner.status();
  return scanner.ok() ? std::move(*scanner) : nullptr;
}

// The guarantee is the Hyperscan backend's; RE2::Set allocates a set per matching text.
bool HasHyperscan() { return rules::DefaultMatcherBackend() == rules::MatcherBackend::kHyperscan; }

TEST(ScanAllocationTest, ScanAllocatesNothingOnceWarm) {
  if (!HasHyperscan()) GTEST_SKIP() << "this build matches with RE2::Set, which allocates";
  testing::TempDir dir;
  const std::string input = dir.path() + "/nightly.jsonl";
  Generate(input, 3000);
  std::vector<Listing> listings = ReadListings(input);
  ASSERT_EQ(listings.size(), 3000u);
  // A reject: a currency the policy has no rate for.
  listings.push_back(listings.front());
  listings.back().currency = "XTS";
  // Without feedback, and with verdicts' feedback on the listings' sellers (authorized for
  // one rights holder, a record for every other), so that its lookups hit and miss.
  OutboxFeedback feedback;
  for (size_t i = 0; i < listings.size(); i += 2) {
    feedback.authorized_sellers.push_back({"nike", listings[i].seller_id});
    for (const char* holder : {"adidas", "apple", "casio", "dior", "supreme"}) {
      feedback.seller_records.push_back({holder, listings[i].seller_id, 2});
    }
  }
  OutboxFeedback none;
  int64_t authorized_without_feedback = 0;
  for (const OutboxFeedback* f : {&none, &feedback}) {
    auto scanner = MakeScanner(*f);
    ASSERT_NE(scanner, nullptr);
    auto scratch = scanner->NewScratch();
    ASSERT_TRUE(scratch.ok());
    Verdict verdict;

    int64_t cases = 0, rejects = 0, authorized = 0, records = 0;
    for (const Listing& listing : listings)
      scanner->Scan(listing, **scratch, verdict).IgnoreError();
    // A refused listing's Status holds its message (an allocation, documented); every
    // listing judged allocates nothing.
    int64_t allocations = 0;
    for (const Listing& listing : listings) {
      const int64_t before = testing::AllocationCount();
      const absl::Status judged = scanner->Scan(listing, **scratch, verdict);
      if (judged.ok()) allocations += testing::AllocationCount() - before;
      for (const HolderVerdict& h : verdict.holders) {
        cases += h.case_opened;
        authorized += h.authorized_seller;
      }
      for (const Signal& signal : verdict.signals) {
        records += signal.kind == SignalKind::kSellerRecord;
      }
      rejects += !judged.ok();
      EXPECT_EQ(judged.ok(), verdict.reject_reason.empty());
    }
    EXPECT_EQ(allocations, 0) << f->seller_records.size() << " records";
    if (f == &none) {
      authorized_without_feedback = authorized;
      EXPECT_EQ(records, 0);
    } else {
      EXPECT_GT(authorized, authorized_without_feedback);
      EXPECT_GT(records, 0);
    }
    // The data exercises the paths that could allocate: cases, rejects, reasons.
    EXPECT_GT(cases, 30);
    EXPECT_GT(rejects, 0);
  }
}

TEST(ScanAllocationTest, ScanFilesAllocatesPerCaseNotPerListing) {
  if (!HasHyperscan()) GTEST_SKIP() << "this build matches with RE2::Set, which allocates";
  testing::TempDir dir;
  auto scanner = MakeScanner();
  ASSERT_NE(scanner, nullptr);
  const std::string input = dir.path() + "/nightly.jsonl";
  Generate(input, 60000);
  // The second half of the run: by then both batches in flight (2 threads, one token each;
  // about 2,000 listings a batch) have each been used several times and their listing slots
  // have grown. With more tokens, a batch first taken late in a run on a busy machine would
  // count its own warm-up.
  struct Mark {
    bool set = false;
    int64_t allocations = 0, listings = 0, cases = 0;
  } mark;
  CountingSink sink;
  ScanOptions options;
  options.threads = 2;
  options.tokens_per_thread = 1;
  options.resume = false;
  options.on_progress = [&](const ScanProgress& p) {
    if (mark.set || p.listings_read < 30000) return;
    mark = Mark{true, testing::AllocationCount(), p.listings_read, p.cases};
  };
  auto summary = scanner->ScanFiles({input}, sink, options);
  const int64_t allocations = testing::AllocationCount() - mark.allocations;
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_TRUE(mark.set);
  int64_t cases = -mark.cases;
  for (const auto& h : summary->holders) cases += h.cases;
  const int64_t listings = summary->listings_read - mark.listings;
  ASSERT_GT(listings, 20000);
  ASSERT_GT(cases, 300);
  RecordProperty("allocations_per_listing",
                 std::to_string(static_cast<double>(allocations) / listings));
  RecordProperty("allocations_per_case", std::to_string(static_cast<double>(allocations) / cases));
  // A case record's strings and its outbox statements allocate a little (the explanation,
  // the photo list, the case key); a listing that opens no case allocates nothing.
  EXPECT_LE(allocations, 8 * cases + listings / 100)
      << allocations << " allocations for the last " << listings << " listings and " << cases
      << " cases";
}

}  // namespace
}  // namespace bonafide
