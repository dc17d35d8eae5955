// OutboxWriter: commits listings judged one at a time to an outbox in groups, from a thread
// of its own, for services (a queue consumer, an ingestion endpoint) where one
// transaction per listing would cost more than the judging.
//
//   auto writer = bonafide::OutboxWriter::Open("outbox.db", {});   // or a postgresql:// URI
//   // On any number of threads, each with its own Scratch and Verdict:
//   if (!scanner->Scan(listing, *scratch, verdict).ok()) ...;   // refused: a reject
//   bonafide::JudgedListing judged{listing.marketplace, listing.id, {}};
//   for (const bonafide::HolderVerdict& h : verdict.holders) {
//     if (h.case_opened) scanner->MakeCaseRecord(listing, verdict, h, judged.cases.emplace_back());
//   }
//   absl::Status added = (*writer)->Add(std::move(judged));   // blocks while the queue is full
//   ...
//   absl::Status committed = (*writer)->Flush();   // all added so far is committed (or the error)
//   absl::Status closed = (*writer)->Close();      // flushes, stops the thread
//
// Each group is one CaseSink::Write with an empty run, so its events are published in the
// same transaction: once Flush() returns OK, the cases and their events are in the outbox.
#ifndef BONAFIDE_OUTBOX_WRITER_H_
#define BONAFIDE_OUTBOX_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "bonafide/export.h"
#include "bonafide/sink.h"

namespace bonafide {

// One listing as a service judged it. Plain value.
struct JudgedListing {
  std::string marketplace;
  std::string listing_id;
  // Scanner::MakeCaseRecord of every rights holder whose case the verdict opened. Empty:
  // the listing holds no case (any more), and its pending cases are closed, as a rescan
  // closes them.
  std::vector<CaseRecord> cases;
};

struct OutboxWriterOptions {
  // Parameters that affect performance:
  // A group commits once it holds this many listings (4096: a transaction costs about what
  // a thousand listings' rows do, and at 256 the writer cost 1.6x a scan's time against
  // 1.13x at 4096, bench/RESULTS.md)...
  size_t max_group_listings = 4096;
  // ...or this long after its oldest entry was added, whichever comes first (5). 0: as soon
  // as the writer thread is free. A Flush() commits at once.
  int64_t max_group_delay_ms = 5;
  // Entries added and not yet taken into a group; Add() blocks and TryAdd() fails beyond
  // this (16384: room for the next groups while one commits). At least 1.
  size_t max_queued = 16384;
};

// What the writer has committed so far.
struct OutboxWriterStats {
  int64_t listings = 0;        // listings committed
  int64_t cases = 0;           // case records committed
  int64_t groups = 0;          // transactions (CaseSink::Write calls that succeeded)
  OutboxWriteStats announced;  // the events those transactions published
};

// Thread-safe: Add, TryAdd, AddCheckpoints, Flush and stats may be called from any number
// of threads at once. Entries commit in the order Add calls took them (so two threads
// adding the same listing get the outcome of the later call); a group may hold the same
// listing twice, and then announces only its last state, as a scan does. Not copyable or
// movable (a thread refers to it).
//
// Errors: when a group's Write fails, the writer stops. That group's entries and every
// entry queued behind it are not committed, and every later Add, TryAdd, AddCheckpoints,
// Flush and Close returns that same error: nothing is dropped without every caller
// hearing about it. A service recovers by opening a new writer and judging again from its
// last committed checkpoint (LoadCheckpoints on the outbox).
class BONAFIDE_EXPORT OutboxWriter {
 public:
  // Opens its own connection to the outbox at `location` (an SQLite path or a
  // postgresql:// URI, as OpenOutbox) and starts the writer thread. Returns OpenOutbox's
  // errors, or InvalidArgument for options out of range.
  static absl::StatusOr<std::unique_ptr<OutboxWriter>> Open(std::string_view location,
                                                            const OutboxWriterOptions& options);
  // The same on a sink of the caller's (which the writer then owns and calls from its
  // thread only).
  static absl::StatusOr<std::unique_ptr<OutboxWriter>> Create(std::unique_ptr<CaseSink> sink,
                                                              const OutboxWriterOptions& options);

  // Closes (see Close), ignoring its status: call Close() to learn whether the last
  // entries committed.
  ~OutboxWriter();
  OutboxWriter(const OutboxWriter&) = delete;
  OutboxWriter& operator=(const OutboxWriter&) = delete;

  // Queues `listing` for the next group, with `checkpoints` to commit in the same
  // transaction (copied; each replaces the stored one of its (run, input), and within a
  // group the latest added of a (run, input) wins). Blocks while max_queued entries wait.
  // Returns the writer's error once a group failed, or FailedPrecondition after Close.
  absl::Status Add(JudgedListing listing, std::span<const ScanCheckpoint> checkpoints = {});
  // As Add, but returns ResourceExhausted at once instead of blocking when the queue is
  // full (nothing is queued then).
  absl::Status TryAdd(JudgedListing listing, std::span<const ScanCheckpoint> checkpoints = {});
  // Queues checkpoints alone (a position that moved past input that held no listing, such
  // as a rejected record). Blocks and fails as Add.
  absl::Status AddCheckpoints(std::span<const ScanCheckpoint> checkpoints);

  // Returns once every entry added before the call is committed, committing the current
  // group without waiting for it to fill; returns the writer's error if a group failed
  // (also one that failed earlier), or FailedPrecondition after Close.
  absl::Status Flush();

  // Commits what is queued, stops the writer thread and closes the connection. Returns the
  // writer's error, if any. Later calls return the same status.
  absl::Status Close();

  // Drops every entry not yet taken into a group and stops the writer as a failed group
  // would, with Aborted("... <why>"): for a caller that must not commit what it added
  // any more (a stream consumer whose partitions were taken from it). A group already being
  // written still commits. No-op when the writer has failed already.
  void Discard(std::string_view why);

  OutboxWriterStats stats() const;

 private:
  class Impl;
  explicit OutboxWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bonafide

#endif  // BONAFIDE_OUTBOX_WRITER_H_
