// ScanRun: one Scanner::ScanFiles call, the oneTBB pipeline over a list of inputs.
//
//   read (serial, in order)  ->  parse + scan (parallel)  ->  write (serial, in order)
//
// Batches are whole input chunks (about 1 MiB). The serial stages keep input order, so the
// outbox, the rejects file and the counters are the same for any number of threads. The
// number of batches in flight is bounded (threads x tokens_per_thread), which bounds memory.
//
// Each stage is a method; what the stages share (inputs, resume points, rejects file,
// totals) are members. The parallel stage touches only its batch and its worker.
//
//   return engine::ScanRun(scanner, inputs, sink, options).Run();
#ifndef BONAFIDE_ENGINE_SCAN_RUN_H_
#define BONAFIDE_ENGINE_SCAN_RUN_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <tbb/concurrent_queue.h>
#include <tbb/enumerable_thread_specific.h>

#include "bonafide/scanner.h"
#include "engine/listing_input.h"

namespace bonafide::engine {

// Counters of judged listings: kept per batch by the parallel stage, merged in input order
// by the write stage. Thread-compatible value.
struct ScanTally {
  static constexpr int kImageStatuses = static_cast<int>(ImageStatus::kNotRead) + 1;

  int64_t scanned = 0;
  std::vector<int64_t> cue_listings;  // listings by RulesInfo::cue_rules index
  ScanSummary::SignalCounts signals;
  int64_t photos = 0, photos_not_read = 0, photos_matched = 0;
  int64_t photos_by_status[kImageStatuses] = {};
  int64_t photos_from_cache = 0, photos_from_listing = 0;  // HashSource of hashed photos

  // Zeroes every counter for `cues` cue rules (keeps capacity).
  void Reset(size_t cues);
  // Counts a scanned (not rejected) listing and its verdict.
  void Add(const Listing& listing, const Verdict& verdict);
  // REQUIRES: both were Reset with the same sizes.
  void Merge(const ScanTally& other);
};

struct Batch;
struct ScanWorker;
class RejectsFile;

// One per scan; Run drives its own threads. Not copyable or movable.
//
// IMPORTANT: keeps references to every constructor argument until it is destroyed.
class ScanRun {
 public:
  ScanRun(const Scanner& scanner, const std::vector<std::string>& inputs, CaseSink& sink,
          const ScanOptions& options);
  ~ScanRun();
  ScanRun(const ScanRun&) = delete;
  ScanRun& operator=(const ScanRun&) = delete;

  // Scans every input. Returns the summary (marked interrupted after a stop request) or the
  // error that stopped the scan: an input that cannot be opened, the sink (its status), the
  // rejects file (PermissionDenied, ResourceExhausted). REQUIRES: called once.
  absl::StatusOr<ScanSummary> Run();

 private:
  // Opens every input; computes the run's identity and, when resuming, where each input
  // continues; opens the rejects file.
  absl::Status Prepare();
  // Stage 1: returns the next chunk as a batch, or null when every input is read, a stop
  // was requested or the sink failed.
  Batch* Read();
  // Stage 2 (parallel): parses and judges the batch's listings, renders its cases.
  Batch* Scan(Batch* batch);
  // Stage 3: writes the batch's rejects, its cases with its checkpoint, counts.
  void Write(Batch* batch);
  // Whether the write stage leaves the commit of the batch it writes to a later batch.
  bool DeferCommit(const Batch& batch);
  // The write stage after a commit: counts the committed cases, hands them to on_case.
  void Committed();
  void WriteReject(const std::string& input, uint64_t line, uint64_t offset,
                   const std::string& reason, const std::string& reason_class,
                   const std::string& listing_id);
  // Warns about each input read from its start that gave no listing: it held no records,
  // or every record was rejected (then with the format it looks like, when that is not the
  // format it was read as: a CSV file read as JSON Lines rejects every line).
  void AddInputWarnings(std::vector<ScanSummary::InputWarning>& out) const;
  void ReportProgress(const Batch& batch);
  // Write stage: remembers the batch's listings and cases for CountCasesAndDuplicates.
  void CountListings(const Batch& batch);
  // Fills s.duplicates and s.holders. REQUIRES: listing_hashes_ sorted (in place: the input
  // order is no longer needed, and a copy of millions of hashes would cost more page faults
  // than the sort).
  void CountCasesAndDuplicates(ScanSummary& s);
  // The threads the scan runs on (ScanOptions::threads, or one per core).
  int Threads() const;
  // Completes the summary after the pipeline has drained.
  absl::StatusOr<ScanSummary> Finish();

  const Scanner& scanner_;
  const RulesInfo& info_;
  const std::vector<std::string>& inputs_;
  CaseSink& sink_;
  const ScanOptions& options_;
  const std::chrono::steady_clock::time_point start_;

  std::vector<std::unique_ptr<InputSource>> sources_;
  std::vector<std::string> identities_;  // InputIdentity() of each input
  std::string run_;                      // checkpoint key; "" = not resumable
  std::string publish_run_;              // the run the sink publishes: run_, or a one-off id
  std::vector<std::optional<ScanCheckpoint>> resume_at_;
  std::unique_ptr<RejectsFile> rejects_;

  // Read stage.
  size_t current_ = 0;  // input being read
  std::vector<std::unique_ptr<Batch>> all_batches_;
  tbb::concurrent_queue<Batch*> free_batches_;
  // Batches handed to the pipeline; read by the write stage (DeferCommit).
  std::atomic<uint64_t> batches_read_{0};
  bool interrupted_ = false;
  // Relaxed: set by the write stage after a sink failure, read by the read stage only to
  // stop reading early; the failure itself is reported through sink_status_.
  std::atomic<bool> sink_failed_{false};

  // Scan stage.
  tbb::enumerable_thread_specific<std::unique_ptr<ScanWorker>> workers_;

  // Write stage.
  absl::Status sink_status_;
  ScanSummary summary_;
  ScanTally totals_;
  absl::flat_hash_map<std::string, int64_t> reject_classes_;
  // Records of each input read in this run, for the input warnings.
  struct InputRecordCounts {
    int64_t records = 0, rejected = 0;
    void Add(int64_t scanned, size_t rejects) {
      records += scanned + static_cast<int64_t>(rejects);
      rejected += static_cast<int64_t>(rejects);
    }
  };
  std::vector<InputRecordCounts> input_records_;
  int64_t cases_written_ = 0;  // committed
  // Batches written since the last commit (their commit deferred: OutboxBatch::defer_commit),
  // their input bytes and cases, and copies of those cases for ScanOptions::on_case, which
  // sees only committed ones.
  bool commit_pending_ = false;
  uint64_t batches_written_ = 0;  // handed to the sink
  uint64_t bytes_since_commit_ = 0;
  std::chrono::steady_clock::time_point group_start_;  // first batch since the last commit
  int64_t uncommitted_cases_ = 0;
  std::vector<CaseRecord> uncommitted_records_;
  int64_t other_shards_ = 0;
  // For the duplicates and the per rights holder case counts, which need the whole run
  // (the last record of a listing wins): every listing's ListingKeyHash, the cases written
  // (superseded when a later record of their listing came), and where the cases of each
  // flagged listing's last record are in flagged_.
  std::vector<uint64_t> listing_hashes_;
  struct FlaggedCase {
    size_t holder;
    bool superseded;
  };
  std::vector<FlaggedCase> flagged_;
  absl::flat_hash_map<uint64_t, std::pair<size_t, size_t>> last_flagged_;
  absl::flat_hash_map<std::string, size_t> holder_index_;  // rights holder id -> index
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_SCAN_RUN_H_
