// Crash safety: `bonafide scan` killed with SIGKILL at random points, or stopped with Ctrl-C,
// and run again ends with exactly the cases, events and rejects of an uninterrupted run
// (docs/outbox-format.md, "Resume rules").
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "bonafide/summary.h"
#include "tests/generated_dump.h"
#include "tests/outbox_test_util.h"
#include "tests/test_util.h"
#include "tools/gen/listing_generator.h"

extern char** environ;

namespace bonafide {
namespace {

const std::string kRules = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";
const std::string kBonafide = std::string(BONAFIDE_BINARY_DIR) + "/tools/bonafide";

void Generate(const std::string& path, int64_t count) {
  gen::GeneratorOptions options;
  options.count = count;
  options.seed = 99;
  // A few rejects too, so that the rejects file is checked as well.
  testing::WriteGeneratedDump(
      path, options,
      "not json\n{\"id\":\"x\",\"title\":\"t\",\"price\":-1,\"currency\":\"EUR\","
      "\"seller_id\":\"s\"}\n");
}

// Starts `bonafide scan` on `input`, its stderr to `stderr_path` ("" = inherited); returns
// its pid.
pid_t StartScan(const std::string& input, const std::string& outbox, const std::string& rejects,
                const std::string& cache, const std::string& stderr_path = "",
                const std::string& shard = "") {
  std::vector<std::string> args = {
      kBonafide,   "scan", "--rules",     kRules, "--outbox",    outbox, "--rejects", rejects,
      "--threads", "2",    "--cache-dir", cache,  "--chunk-kib", "256",  input};
  if (!shard.empty()) args.insert(args.end() - 1, {"--shard", shard});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  if (!stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, kBonafide.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

using CaseRow = std::tuple<std::string, double, std::string, std::string>;
using EventRow = std::tuple<int64_t, std::string, std::string, std::string>;

void ReadOutbox(const std::string& path, std::vector<CaseRow>& cases,
                std::vector<EventRow>& events) {
  auto outbox = OpenOutbox(path, OutboxAccess::kReadOnly);
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  auto c = testing::AllCases(**outbox);
  auto e = testing::AllEvents(**outbox);
  ASSERT_TRUE(c.ok() && e.ok());
  for (const auto& x : *c) cases.emplace_back(x.case_key, x.score, x.reasons_json, x.evidence_json);
  // PostgreSQL's ids have gaps where a transaction that took some was killed or retried:
  // there only their order counts.
  for (const auto& x : *e) {
    const int64_t id = testing::PostgresOutbox() ? static_cast<int64_t>(events.size()) + 1 : x.id;
    events.emplace_back(id, x.case_key, x.type, x.payload_json);
  }
}

// The uninterrupted scan that a killed or stopped one must end up equal to: one run to
// fill the compiled-rules cache, then the reference run, timed so that kills can be placed
// inside it.
struct ReferenceScan {
  double seconds = 0;
  std::vector<CaseRow> cases;
  std::vector<EventRow> events;
  std::string rejects;
};

ReferenceScan ScanForReference(const testing::TempDir& dir, const std::string& input,
                               const std::string& cache) {
  ReferenceScan ref;
  EXPECT_EQ(Wait(StartScan(input, testing::TestOutboxLocation(dir, "warm.db"),
                           dir.Join("warm.rejects"), cache)),
            0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Wait(StartScan(input, testing::TestOutboxLocation(dir, "ref.db"),
                           dir.Join("ref.rejects"), cache)),
            0);
  ref.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ReadOutbox(testing::TestOutboxLocation(dir, "ref.db"), ref.cases, ref.events);
  ref.rejects = testing::ReadFileOrDie(dir.Join("ref.rejects"));
  return ref;
}

TEST(ResumeTest, KilledScansResumeToExactlyTheUninterruptedOutbox) {
  testing::TempDir dir;
  const std::string input = dir.Join("dump.jsonl");
  Generate(input, 30000);
  const std::string cache = dir.Join("cache");
  const ReferenceScan ref = ScanForReference(dir, input, cache);
  ASSERT_GT(ref.cases.size(), 1000u);

  std::mt19937 rng(20261128);
  std::uniform_real_distribution<double> when(0.05, 0.95);
  // Each run against PostgreSQL costs a database and about ten seconds here: five kills at
  // random points there, twenty against SQLite.
  const int runs = testing::PostgresOutbox() ? 5 : 20;
  for (int run = 0; run < runs; ++run) {
    const std::string db = testing::TestOutboxLocation(dir, "run" + std::to_string(run) + ".db");
    const std::string rejects = dir.Join("run" + std::to_string(run) + ".rejects");
    // Kill a run at a random moment; a run that finished first is thrown away and tried
    // again sooner, so that every run is really interrupted.
    bool interrupted = false;
    for (double scale = 1.0; !interrupted && scale > 0.01; scale /= 2) {
      for (const std::string& f : {db, db + "-wal", db + "-shm", rejects}) {
        std::remove(f.c_str());
      }
      const pid_t pid = StartScan(input, db, rejects, cache);
      std::this_thread::sleep_for(std::chrono::duration<double>(when(rng) * scale * ref.seconds));
      kill(pid, SIGKILL);
      interrupted = WIFSIGNALED(Wait(pid));
    }
    ASSERT_TRUE(interrupted) << "run " << run;
    ASSERT_EQ(Wait(StartScan(input, db, rejects, cache)), 0) << "run " << run;

    std::vector<CaseRow> cases;
    std::vector<EventRow> events;
    ReadOutbox(db, cases, events);
    ASSERT_EQ(cases.size(), ref.cases.size()) << "run " << run;
    EXPECT_EQ(cases, ref.cases) << "run " << run;
    ASSERT_EQ(events.size(), ref.events.size()) << "run " << run;
    EXPECT_EQ(events, ref.events) << "run " << run;
    EXPECT_EQ(testing::ReadFileOrDie(rejects), ref.rejects) << "run " << run;
  }
  std::printf("%d runs killed mid-scan and resumed (reference run %.2f s)\n", runs, ref.seconds);
}

// Ctrl-C: the scan stops after the batches in flight, commits them, says how to resume and
// exits 130; the same command then completes with exactly the uninterrupted outbox.
TEST(ResumeTest, CtrlCCommitsAndTheSameCommandResumes) {
  testing::TempDir dir;
  const std::string input = dir.Join("dump.jsonl");
  Generate(input, 30000);
  const std::string cache = dir.Join("cache");
  const ReferenceScan ref = ScanForReference(dir, input, cache);
  ASSERT_FALSE(ref.cases.empty());

  const std::string rejects = dir.Join("out.rejects");
  const std::string messages = dir.Join("stderr.txt");
  std::string db;
  std::vector<CaseRow> cases;
  std::vector<EventRow> events;
  bool interrupted = false;
  int attempt = 0;
  for (double scale = 0.5; !interrupted && scale > 0.005; scale /= 2) {
    // A fresh outbox per attempt (a file, or a database of the PostgreSQL test server).
    db = testing::TestOutboxLocation(dir, "out" + std::to_string(attempt++) + ".db");
    std::remove(rejects.c_str());
    const pid_t pid = StartScan(input, db, rejects, cache, messages);
    std::this_thread::sleep_for(std::chrono::duration<double>(scale * ref.seconds));
    kill(pid, SIGINT);
    const int status = Wait(pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 130) {
      cases.clear();
      events.clear();
      ReadOutbox(db, cases, events);
      // A signal after the last batch was written stops only the publication: too late for
      // this test, like a run that finished before it; both are tried again sooner.
      interrupted = cases.size() < ref.cases.size();
    } else {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
  }
  ASSERT_TRUE(interrupted);
  EXPECT_NE(testing::ReadFileOrDie(messages).find(
                "bonafide scan: interrupted: run the same command to resume"),
            std::string::npos)
      << testing::ReadFileOrDie(messages);

  // What was committed is a consistent part of the full outbox.
  for (const CaseRow& c : cases) {
    EXPECT_TRUE(std::binary_search(ref.cases.begin(), ref.cases.end(), c)) << std::get<0>(c);
  }
  ASSERT_LE(events.size(), ref.events.size());
  EXPECT_TRUE(std::equal(events.begin(), events.end(), ref.events.begin()));

  ASSERT_EQ(Wait(StartScan(input, db, rejects, cache, messages)), 0);
  cases.clear();
  events.clear();
  ReadOutbox(db, cases, events);
  EXPECT_EQ(cases, ref.cases);
  EXPECT_EQ(events, ref.events);
  EXPECT_EQ(testing::ReadFileOrDie(rejects), ref.rejects);
}

// Shards run side by side into one outbox; one is killed and run again: it resumes on its
// own, and the outbox ends with exactly the unsharded scan's cases and events.
TEST(ResumeTest, AKilledShardResumesOnItsOwnBesideTheOthers) {
  testing::TempDir dir;
  const std::string input = dir.Join("dump.jsonl");
  Generate(input, 30000);
  const std::string cache = dir.Join("cache");
  const ReferenceScan ref = ScanForReference(dir, input, cache);
  ASSERT_GT(ref.cases.size(), 1000u);

  constexpr int kShards = 3;
  const std::string db = dir.Join("sharded.db");
  auto rejects = [&](int i) { return dir.Join("shard" + std::to_string(i) + ".rejects"); };
  auto shard = [&](int i) { return std::to_string(i) + "/" + std::to_string(kShards); };
  bool interrupted = false;
  for (double scale = 0.5; !interrupted && scale > 0.005; scale /= 2) {
    for (const std::string& f : {db, db + "-wal", db + "-shm"}) std::remove(f.c_str());
    pid_t pids[kShards];
    for (int i = 0; i < kShards; ++i)
      pids[i] = StartScan(input, db, rejects(i), cache, "", shard(i));
    std::this_thread::sleep_for(std::chrono::duration<double>(scale * ref.seconds));
    kill(pids[1], SIGKILL);
    interrupted = WIFSIGNALED(Wait(pids[1]));
    EXPECT_EQ(Wait(pids[0]), 0);
    EXPECT_EQ(Wait(pids[2]), 0);
  }
  ASSERT_TRUE(interrupted);
  ASSERT_EQ(Wait(StartScan(input, db, rejects(1), cache, "", shard(1))), 0);

  std::vector<CaseRow> cases;
  std::vector<EventRow> events;
  ReadOutbox(db, cases, events);
  EXPECT_EQ(cases, ref.cases);
  // Each shard publishes its own run: the same events, not in the same order.
  auto without_ids = [](const std::vector<EventRow>& rows) {
    std::multiset<std::tuple<std::string, std::string, std::string>> out;
    for (const auto& [id, key, type, payload] : rows) out.emplace(key, type, payload);
    return out;
  };
  EXPECT_EQ(without_ids(events), without_ids(ref.events));
  std::string all_rejects;
  for (int i = 0; i < kShards; ++i) all_rejects += testing::ReadFileOrDie(rejects(i));
  EXPECT_EQ(all_rejects, ref.rejects);
}

// Forwards to an outbox until the `fail_at`-th write, which fails like a full disk.
class FailingSink : public CaseSink {
 public:
  FailingSink(Outbox& outbox, int fail_at) : outbox_(outbox), fail_at_(fail_at) {}
  absl::StatusOr<OutboxWriteStats> Write(const OutboxBatch& batch) override {
    if (++writes_ != fail_at_) return outbox_.Write(batch);
    // The outbox itself fails this write (a listing whose cases are not in the batch), so
    // that it rolls back the batches deferred before it, as on a full disk.
    std::vector<ScannedListing> listings(batch.listings.begin(), batch.listings.end());
    ScannedListing& broken = listings.emplace_back();
    broken.cases_end = static_cast<uint32_t>(batch.cases.size()) + 1;
    OutboxBatch failing = batch;
    failing.listings = listings;
    absl::StatusOr<OutboxWriteStats> written = outbox_.Write(failing);
    EXPECT_FALSE(written.ok());
    return written;
  }
  absl::StatusOr<OutboxWriteStats> Publish(std::string_view run) override {
    return outbox_.Publish(run);
  }
  absl::StatusOr<std::vector<ScanCheckpoint>> LoadCheckpoints(std::string_view run) override {
    return outbox_.LoadCheckpoints(run);
  }
  absl::Status ClearCheckpoints(std::string_view run) override {
    return outbox_.ClearCheckpoints(run);
  }
  bool DefersCommits() const override { return outbox_.DefersCommits(); }

 private:
  Outbox& outbox_;
  int fail_at_;
  int writes_ = 0;
};

TEST(ResumeTest, AStoppedScanResumesAfterItsLastCommittedBatch) {
  testing::TempDir dir;
  const std::string input = dir.Join("dump.jsonl");
  Generate(input, 8000);
  ScannerOptions scanner_options;
  scanner_options.rules_dir = kRules;
  auto scanner = Scanner::Create(scanner_options);
  ASSERT_TRUE(scanner.ok()) << scanner.status();
  ScanOptions options;
  options.threads = 2;
  options.chunk_bytes = 64 << 10;    // about 60 batches
  options.commit_bytes = 256 << 10;  // committed four at a time

  auto reference = OpenOutbox(testing::TestOutboxLocation(dir, "ref.db"));
  ASSERT_TRUE(reference.ok());
  options.rejects_path = dir.Join("ref.rejects");
  auto full = (*scanner)->ScanFiles({input}, **reference, options);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_TRUE(full->resumed.empty());

  auto outbox = OpenOutbox(testing::TestOutboxLocation(dir, "out.db"));
  ASSERT_TRUE(outbox.ok());
  options.rejects_path = dir.Join("out.rejects");
  FailingSink failing(**outbox, 20);
  auto stopped = (*scanner)->ScanFiles({input}, failing, options);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kInvalidArgument);  // the outbox's

  auto resumed = (*scanner)->ScanFiles({input}, **outbox, options);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ASSERT_EQ(resumed->resumed.size(), 1u);
  EXPECT_NE(resumed->resumed[0].find("from line"), std::string::npos) << resumed->resumed[0];
  // Only what the stopped run had not committed was read again.
  EXPECT_LT(resumed->listings_read, full->listings_read);
  EXPECT_GT(resumed->listings_read, 0);

  std::vector<CaseRow> ref_cases, cases;
  std::vector<EventRow> ref_events, events;
  ReadOutbox(testing::TestOutboxLocation(dir, "ref.db"), ref_cases, ref_events);
  ReadOutbox(testing::TestOutboxLocation(dir, "out.db"), cases, events);
  EXPECT_EQ(cases, ref_cases);
  EXPECT_EQ(events, ref_events);
  EXPECT_EQ(testing::ReadFileOrDie(dir.Join("out.rejects")),
            testing::ReadFileOrDie(dir.Join("ref.rejects")));

  // Completed: the checkpoints are gone, and the same scan again is a full (idempotent)
  // rescan, not a resumption.
  auto again = (*scanner)->ScanFiles({input}, **outbox, options);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->resumed.empty());
  EXPECT_EQ(again->listings_read, full->listings_read);
  EXPECT_EQ(again->outbox.opened + again->outbox.updated, 0);
}

// A case reported through on_case is a case the outbox holds: the batch whose write failed
// is not reported.
TEST(ResumeTest, OnCaseReportsOnlyCommittedCases) {
  testing::TempDir dir;
  const std::string input = dir.Join("dump.jsonl");
  Generate(input, 8000);
  ScannerOptions scanner_options;
  scanner_options.rules_dir = kRules;
  auto scanner = Scanner::Create(scanner_options);
  ASSERT_TRUE(scanner.ok()) << scanner.status();
  ScanOptions options;
  options.threads = 2;
  options.chunk_bytes = 64 << 10;
  options.commit_bytes = 256 << 10;
  options.rejects_path = "";
  std::vector<std::string> reported;
  options.on_case = [&](const CaseRecord& c) {
    reported.push_back(CaseKey(c.rights_holder, c.marketplace, c.listing_id));
  };
  auto outbox = OpenOutbox(testing::TestOutboxLocation(dir, "out.db"));
  ASSERT_TRUE(outbox.ok());
  FailingSink failing(**outbox, 10);
  ASSERT_FALSE((*scanner)->ScanFiles({input}, failing, options).ok());

  auto stored = testing::AllCases(**outbox);
  ASSERT_TRUE(stored.ok());
  std::vector<std::string> committed;
  for (const StoredCase& c : *stored) committed.push_back(c.case_key);
  std::sort(reported.begin(), reported.end());
  EXPECT_GT(committed.size(), 0u);
  EXPECT_EQ(reported, committed);
}

// ScanOptions::stop: the library side of Ctrl-C. The scan ends early with an interrupted
// summary, keeps its checkpoints, and the same scan resumes to the uninterrupted outbox.
TEST(ResumeTest, AStopRequestEndsTheScanResumably) {
  testing::TempDir dir;
  const std::string input = dir.Join("dump.jsonl");
  Generate(input, 8000);
  ScannerOptions scanner_options;
  scanner_options.rules_dir = kRules;
  auto scanner = Scanner::Create(scanner_options);
  ASSERT_TRUE(scanner.ok()) << scanner.status();
  ScanOptions options;
  options.threads = 2;
  options.chunk_bytes = 64 << 10;
  options.commit_bytes = 256 << 10;

  auto reference = OpenOutbox(testing::TestOutboxLocation(dir, "ref.db"));
  ASSERT_TRUE(reference.ok());
  options.rejects_path = dir.Join("ref.rejects");
  auto full = (*scanner)->ScanFiles({input}, **reference, options);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_FALSE(full->interrupted);

  std::atomic<bool> stop{false};
  int batches = 0;
  options.stop = &stop;
  options.on_progress = [&](const ScanProgress&) {
    if (++batches == 5) stop.store(true);
  };
  options.rejects_path = dir.Join("out.rejects");
  auto outbox = OpenOutbox(testing::TestOutboxLocation(dir, "out.db"));
  ASSERT_TRUE(outbox.ok());
  auto stopped = (*scanner)->ScanFiles({input}, **outbox, options);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_TRUE(stopped->interrupted);
  EXPECT_TRUE(stopped->resumable);
  EXPECT_GT(stopped->listings_read, 0);
  EXPECT_LT(stopped->listings_read, full->listings_read);
  EXPECT_NE(SummaryJson(*stopped).find("\"interrupted\":true"), std::string::npos);
  // Committed, not only seen by the connection that wrote them: another sees as many.
  auto reader = OpenOutbox(testing::TestOutboxLocation(dir, "out.db"), OutboxAccess::kReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.status();
  const size_t committed = testing::AllCases(**reader)->size();
  EXPECT_GT(committed, 0u);
  EXPECT_EQ(committed, testing::AllCases(**outbox)->size());

  options.stop = nullptr;
  options.on_progress = nullptr;
  auto resumed = (*scanner)->ScanFiles({input}, **outbox, options);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_FALSE(resumed->interrupted);
  ASSERT_EQ(resumed->resumed.size(), 1u);
  EXPECT_EQ(stopped->listings_read + resumed->listings_read, full->listings_read);

  std::vector<CaseRow> ref_cases, cases;
  std::vector<EventRow> ref_events, events;
  ReadOutbox(testing::TestOutboxLocation(dir, "ref.db"), ref_cases, ref_events);
  ReadOutbox(testing::TestOutboxLocation(dir, "out.db"), cases, events);
  EXPECT_EQ(cases, ref_cases);
  EXPECT_EQ(events, ref_events);
  EXPECT_EQ(testing::ReadFileOrDie(dir.Join("out.rejects")),
            testing::ReadFileOrDie(dir.Join("ref.rejects")));
}

// ScanOptions::resume = false (`scan --restart`) drops an interrupted scan's checkpoints
// and keeps its own: after a stopped scan, a restart stopped in turn resumes from the
// restart's progress, and a completed restart leaves nothing to resume, so the next scan
// reads everything again.
TEST(ResumeTest, ARestartReplacesTheCheckpointsOfTheScanItRestarts) {
  testing::TempDir dir;
  const std::string input = dir.Join("dump.jsonl");
  Generate(input, 8000);
  const std::string dump = testing::ReadFileOrDie(input);
  const int64_t records = std::count(dump.begin(), dump.end(), '\n');
  ScannerOptions scanner_options;
  scanner_options.rules_dir = kRules;
  auto scanner = Scanner::Create(scanner_options);
  ASSERT_TRUE(scanner.ok()) << scanner.status();
  auto outbox = OpenOutbox(testing::TestOutboxLocation(dir, "out.db"));
  ASSERT_TRUE(outbox.ok());
  ScanOptions options;
  options.threads = 2;
  options.chunk_bytes = 64 << 10;
  options.commit_bytes = 256 << 10;
  options.rejects_path = "";

  auto stopped_after = [&](int stop_at_batch, bool resume) {
    std::atomic<bool> stop{false};
    int batches = 0;
    ScanOptions o = options;
    o.resume = resume;
    o.stop = &stop;
    o.on_progress = [&](const ScanProgress&) {
      if (++batches == stop_at_batch) stop.store(true);
    };
    auto summary = (*scanner)->ScanFiles({input}, **outbox, o);
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary.ok() ? *summary : ScanSummary{};
  };

  const ScanSummary first = stopped_after(8, /*resume=*/true);
  ASSERT_TRUE(first.interrupted);
  const ScanSummary restart = stopped_after(3, /*resume=*/false);
  ASSERT_TRUE(restart.interrupted);
  EXPECT_TRUE(restart.resumed.empty());
  EXPECT_LT(restart.listings_read, first.listings_read);

  // Resumes after the restart's last batch, not after the first scan's.
  auto resumed = (*scanner)->ScanFiles({input}, **outbox, options);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ASSERT_EQ(resumed->resumed.size(), 1u);
  EXPECT_EQ(restart.listings_read + resumed->listings_read, records);

  // A completed restart leaves no checkpoint behind.
  options.resume = false;
  ASSERT_TRUE((*scanner)->ScanFiles({input}, **outbox, options).ok());
  options.resume = true;
  auto again = (*scanner)->ScanFiles({input}, **outbox, options);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->resumed.empty());
  EXPECT_EQ(again->listings_read, records);
}

}  // namespace
}  // namespace bonafide
