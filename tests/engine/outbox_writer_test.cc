// OutboxWriter (bonafide/outbox_writer.h) on SQLite and, built a second time as
// postgres_outbox_writer_test, on PostgreSQL (tests/outbox_test_util.h): many threads adding
// give the outbox that per-listing writes give, backpressure, Flush, checkpoints committed
// with their cases, and a failed group stopping the writer for every caller.
#include "bonafide/outbox_writer.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "bonafide/outbox.h"
#include "bonafide/sink.h"
#include "tests/outbox_test_util.h"
#include "tests/temp_dir.h"

namespace bonafide {
namespace {

using testing::AllCases;
using testing::AllEvents;
using ::testing::HasSubstr;
using testing::OpenTestOutbox;
using testing::TempDir;
using testing::TestOutboxLocation;

CaseRecord MakeCase(const std::string& rights_holder, const std::string& listing_id,
                    const std::string& material_key) {
  CaseRecord c;
  c.rights_holder = rights_holder;
  c.marketplace = "shopx";
  c.listing_id = listing_id;
  c.seller_id = "s1";
  c.score = 0.75;
  c.reasons_json = R"([{"signal":"cue","rule":"cue.replica","shadow":false}])";
  c.evidence_json = absl::StrCat(R"({"title":")", listing_id, R"("})");
  c.signals = "cue:cue.replica";
  c.material_key = material_key;
  return c;
}

// Listing `i` of the first round: one case, or two for every third listing.
JudgedListing FirstRound(int i) {
  JudgedListing l{"shopx", absl::StrCat("L", i), {}};
  l.cases.push_back(MakeCase("acme", l.listing_id, "m1"));
  if (i % 3 == 0) l.cases.push_back(MakeCase("globex", l.listing_id, "m1"));
  return l;
}

// Listing `i` seen again: every fourth no longer holds (its cases close), every fourth
// changed materially, the rest unchanged.
JudgedListing SecondRound(int i) {
  JudgedListing l{"shopx", absl::StrCat("L", i), {}};
  if (i % 4 == 0) return l;
  l.cases.push_back(MakeCase("acme", l.listing_id, i % 4 == 1 ? "m2" : "m1"));
  return l;
}

// What a test compares: every case without its times, every event's case, type and payload.
std::vector<std::string> Digest(Outbox& outbox) {
  std::vector<std::string> rows;
  auto cases = AllCases(outbox);
  EXPECT_TRUE(cases.ok()) << cases.status();
  for (const StoredCase& c : *cases) {
    rows.push_back(absl::StrCat("case ", c.case_key, " ", c.seller_id, " ", c.score, " ",
                                c.reasons_json, " ", c.evidence_json, " ", c.signals, " ",
                                CaseStatusName(c.status), " ", c.revision));
  }
  auto events = AllEvents(outbox);
  EXPECT_TRUE(events.ok()) << events.status();
  std::vector<std::string> event_rows;
  for (const StoredEvent& e : *events) {
    event_rows.push_back(absl::StrCat("event ", e.case_key, " ", e.type, " ", e.event_key));
  }
  std::sort(event_rows.begin(), event_rows.end());
  rows.insert(rows.end(), event_rows.begin(), event_rows.end());
  return rows;
}

// Writes one listing in its own transaction, as a service without the writer would.
void WriteOne(Outbox& outbox, const JudgedListing& l) {
  ScannedListing s{l.marketplace, l.listing_id, ListingKeyHash(l.marketplace, l.listing_id), 0,
                   static_cast<uint32_t>(l.cases.size())};
  OutboxBatch batch;
  batch.listings = {&s, 1};
  batch.cases = l.cases;
  ASSERT_TRUE(outbox.Write(batch).ok());
}

// A sink that passes writes on to a real outbox, but holds each until the test opens the
// gate: the writer thread is then busy, as it is behind a slow database.
class GatedSink : public CaseSink {
 public:
  explicit GatedSink(std::unique_ptr<Outbox> outbox) : outbox_(std::move(outbox)) {}
  absl::StatusOr<OutboxWriteStats> Write(const OutboxBatch& batch) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    --waiting_;
    return outbox_->Write(batch);
  }
  absl::StatusOr<OutboxWriteStats> Publish(std::string_view run) override {
    return outbox_->Publish(run);
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  void AwaitWriter() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return waiting_ > 0; });
  }

 private:
  std::unique_ptr<Outbox> outbox_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool open_ = false;
  int waiting_ = 0;
};

TEST(OutboxWriterTest, ManyThreadsGiveWhatPerListingWritesGive) {
  TempDir dir;
  constexpr int kListings = 600;
  constexpr int kThreads = 6;
  {
    auto outbox = OpenTestOutbox(dir, "expected.db");
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    for (int i = 0; i < kListings; ++i) WriteOne(**outbox, FirstRound(i));
    for (int i = 0; i < kListings; ++i) WriteOne(**outbox, SecondRound(i));
  }
  OutboxWriterOptions options;
  options.max_group_listings = 32;
  options.max_queued = 64;
  auto writer = OutboxWriter::Open(TestOutboxLocation(dir, "actual.db"), options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (auto round : {&FirstRound, &SecondRound}) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < kListings; i += kThreads) {
          EXPECT_TRUE((*writer)->Add(round(i)).ok());
        }
      });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_TRUE((*writer)->Flush().ok());
  }
  const OutboxWriterStats stats = (*writer)->stats();
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ(stats.listings, 2 * kListings);
  EXPECT_LT(stats.groups, stats.listings / 4);  // grouped, not one transaction per listing
  EXPECT_EQ(stats.announced.opened, kListings + kListings / 3);

  auto expected = OpenTestOutbox(dir, "expected.db");
  auto actual = OpenTestOutbox(dir, "actual.db");
  ASSERT_TRUE(expected.ok() && actual.ok());
  const std::vector<std::string> want = Digest(**expected);
  EXPECT_EQ(Digest(**actual), want);
  EXPECT_GT(want.size(), static_cast<size_t>(kListings));
}

TEST(OutboxWriterTest, FlushCommitsAGroupWithoutWaitingForItToFill) {
  TempDir dir;
  OutboxWriterOptions options;
  options.max_group_listings = 1000;
  options.max_group_delay_ms = 600'000;
  auto writer = OutboxWriter::Open(TestOutboxLocation(dir), options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*writer)->Add(FirstRound(i)).ok());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE((*writer)->Flush().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  auto reader = OpenTestOutbox(dir);
  ASSERT_TRUE(reader.ok());
  auto cases = AllCases(**reader);
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ(cases->size(), 7u);  // L0 and L3 have two
  auto events = AllEvents(**reader);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 7u);  // published in the same transaction
  EXPECT_EQ((*writer)->stats().groups, 1);
}

TEST(OutboxWriterTest, DestructionCommitsWhatWasAdded) {
  TempDir dir;
  OutboxWriterOptions options;
  options.max_group_delay_ms = 600'000;
  {
    auto writer = OutboxWriter::Open(TestOutboxLocation(dir), options);
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*writer)->Add(FirstRound(i)).ok());
  }
  auto reader = OpenTestOutbox(dir);
  ASSERT_TRUE(reader.ok());
  auto cases = AllCases(**reader);
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ(cases->size(), 14u);
}

TEST(OutboxWriterTest, AddBlocksAndTryAddFailsWhileTheQueueIsFull) {
  TempDir dir;
  auto outbox = OpenTestOutbox(dir);
  ASSERT_TRUE(outbox.ok());
  auto gated = std::make_unique<GatedSink>(std::move(*outbox));
  GatedSink& gate = *gated;
  OutboxWriterOptions options;
  options.max_group_listings = 1;
  options.max_group_delay_ms = 0;
  options.max_queued = 2;
  auto writer = OutboxWriter::Create(std::move(gated), options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Add(FirstRound(0)).ok());
  gate.AwaitWriter();  // L0 is in the writer's hands, held at the gate
  ASSERT_TRUE((*writer)->Add(FirstRound(1)).ok());
  ASSERT_TRUE((*writer)->TryAdd(FirstRound(2)).ok());
  const absl::Status full = (*writer)->TryAdd(FirstRound(3));
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;

  std::atomic<bool> added{false};
  std::thread blocked([&] {
    EXPECT_TRUE((*writer)->Add(FirstRound(3)).ok());
    added.store(true, std::memory_order_release);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(added.load(std::memory_order_acquire));  // still waiting for room
  gate.Open();
  blocked.join();
  EXPECT_TRUE(added.load(std::memory_order_acquire));
  ASSERT_TRUE((*writer)->Flush().ok());
  EXPECT_EQ((*writer)->stats().listings, 4);
  ASSERT_TRUE((*writer)->Close().ok());
  auto reader = OpenTestOutbox(dir);
  ASSERT_TRUE(reader.ok());
  auto cases = AllCases(**reader);
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ(cases->size(), 6u);
}

// A stream consumer's positions: one per partition, the latest of each in every group.
ScanCheckpoint Position(int partition, uint64_t next_offset) {
  ScanCheckpoint c;
  c.run = "kafka:g:listings";
  c.input = absl::StrCat("listings/", partition);
  c.byte_offset = next_offset;
  return c;
}

TEST(OutboxWriterTest, CommitsTheLatestCheckpointOfEachInputWithTheCases) {
  TempDir dir;
  OutboxWriterOptions options;
  options.max_group_delay_ms = 600'000;
  auto writer = OutboxWriter::Open(TestOutboxLocation(dir), options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (int i = 0; i < 9; ++i) {
    const ScanCheckpoint position = Position(i % 3, static_cast<uint64_t>(i / 3 + 1));
    ASSERT_TRUE((*writer)->Add(FirstRound(i), {&position, 1}).ok());
  }
  const ScanCheckpoint rejected = Position(1, 7);  // partition 1 moved on past a bad message
  ASSERT_TRUE((*writer)->AddCheckpoints({&rejected, 1}).ok());
  ASSERT_TRUE((*writer)->Flush().ok());
  EXPECT_EQ((*writer)->stats().groups, 1);

  auto reader = OpenTestOutbox(dir);
  ASSERT_TRUE(reader.ok());
  auto checkpoints = (*reader)->LoadCheckpoints("kafka:g:listings");
  ASSERT_TRUE(checkpoints.ok()) << checkpoints.status();
  ASSERT_EQ(checkpoints->size(), 3u);
  EXPECT_EQ((*checkpoints)[0].input, "listings/0");
  EXPECT_EQ((*checkpoints)[0].byte_offset, 3u);
  EXPECT_EQ((*checkpoints)[1].byte_offset, 7u);
  EXPECT_EQ((*checkpoints)[2].byte_offset, 3u);
  auto cases = AllCases(**reader);
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ(cases->size(), 12u);
}

TEST(OutboxWriterTest, AFailedGroupCommitsNothingAndStopsTheWriterForEveryCaller) {
  TempDir dir;
  auto outbox = OpenTestOutbox(dir);
  ASSERT_TRUE(outbox.ok());
  auto gated = std::make_unique<GatedSink>(std::move(*outbox));
  GatedSink& gate = *gated;
  OutboxWriterOptions options;
  options.max_group_listings = 3;
  options.max_group_delay_ms = 600'000;
  auto writer = OutboxWriter::Create(std::move(gated), options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  gate.Open();
  for (int i = 0; i < 3; ++i) {  // group 1: committed with its position
    const ScanCheckpoint position = Position(0, static_cast<uint64_t>(i + 1));
    ASSERT_TRUE((*writer)->Add(FirstRound(i), {&position, 1}).ok());
  }
  ASSERT_TRUE((*writer)->Flush().ok());
  // Group 2 holds a record the outbox refuses (no rights holder): the whole transaction,
  // its good listings and its position included, rolls back.
  JudgedListing bad = FirstRound(4);
  bad.cases[0].rights_holder.clear();
  for (JudgedListing l : {FirstRound(3), std::move(bad), FirstRound(5)}) {
    const ScanCheckpoint position = Position(0, 10);
    ASSERT_TRUE((*writer)->Add(std::move(l), {&position, 1}).ok());
  }
  const absl::Status flushed = (*writer)->Flush();
  EXPECT_EQ(flushed.code(), absl::StatusCode::kInvalidArgument) << flushed;
  EXPECT_THAT(flushed.message(), HasSubstr("rights_holder must not be empty"));
  EXPECT_THAT(flushed.message(), HasSubstr("a group of 3 listings did not commit"));
  EXPECT_EQ((*writer)->Add(FirstRound(6)), flushed);
  EXPECT_EQ((*writer)->TryAdd(FirstRound(6)), flushed);
  EXPECT_EQ((*writer)->Flush(), flushed);
  EXPECT_EQ((*writer)->Close(), flushed);
  EXPECT_EQ((*writer)->stats().listings, 3);

  auto reader = OpenTestOutbox(dir);
  ASSERT_TRUE(reader.ok());
  auto cases = AllCases(**reader);
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ(cases->size(), 4u);  // L0 (two), L1, L2
  auto checkpoints = (*reader)->LoadCheckpoints("kafka:g:listings");
  ASSERT_TRUE(checkpoints.ok());
  ASSERT_EQ(checkpoints->size(), 1u);
  EXPECT_EQ((*checkpoints)[0].byte_offset, 3u);
}

TEST(OutboxWriterTest, DiscardDropsWhatIsQueuedAndStopsTheWriter) {
  TempDir dir;
  auto outbox = OpenTestOutbox(dir);
  ASSERT_TRUE(outbox.ok());
  auto gated = std::make_unique<GatedSink>(std::move(*outbox));
  GatedSink& gate = *gated;
  OutboxWriterOptions options;
  options.max_group_listings = 1;
  options.max_group_delay_ms = 0;
  auto writer = OutboxWriter::Create(std::move(gated), options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Add(FirstRound(0)).ok());
  gate.AwaitWriter();  // L0 is being written: it still commits
  ASSERT_TRUE((*writer)->Add(FirstRound(1)).ok());
  ASSERT_TRUE((*writer)->Add(FirstRound(2)).ok());
  (*writer)->Discard("partitions lost");
  gate.Open();
  const absl::Status closed = (*writer)->Close();
  EXPECT_EQ(closed.code(), absl::StatusCode::kAborted) << closed;
  EXPECT_THAT(closed.message(), HasSubstr("2 entries discarded: partitions lost"));
  EXPECT_EQ((*writer)->Add(FirstRound(3)), closed);
  EXPECT_EQ((*writer)->stats().listings, 1);
  auto reader = OpenTestOutbox(dir);
  ASSERT_TRUE(reader.ok());
  auto cases = AllCases(**reader);
  ASSERT_TRUE(cases.ok());
  EXPECT_EQ(cases->size(), 2u);  // L0's two
}

TEST(OutboxWriterTest, RefusesOptionsOutOfRangeAndAddsAfterClose) {
  TempDir dir;
  OutboxWriterOptions options;
  options.max_queued = 0;
  EXPECT_EQ(OutboxWriter::Open(TestOutboxLocation(dir), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto writer = OutboxWriter::Open(TestOutboxLocation(dir), {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ((*writer)->Add(FirstRound(0)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Flush().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*writer)->Close().ok());
}

}  // namespace
}  // namespace bonafide
