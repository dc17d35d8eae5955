// Where verification cases go: the rights holders' outbox (docs/outbox-format.md).
//
// The scan pipeline hands a CaseSink every judged listing, in input order, in batches; one
// Write() is one transaction, or joins the next one (OutboxBatch::defer_commit). A run's events are
// published when the run completes (Publish), so that a listing repeated in one input announces
// only its last record. The default sink is the outbox of OpenOutbox() (bonafide/outbox.h), SQLite
// or PostgreSQL.
#ifndef BONAFIDE_SINK_H_
#define BONAFIDE_SINK_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "bonafide/export.h"

namespace bonafide {

// One case as the scan produced it. Plain value.
struct CaseRecord {
  std::string rights_holder;
  std::string marketplace;
  std::string listing_id;
  std::string seller_id;
  double score = 0;
  std::string reasons_json;   // JSON array of reasons
  std::string evidence_json;  // JSON object: listing snapshot, rules version, ...
  // The scored signals that hold, as sorted space-separated names ("cue:replica-word
  // obfuscated_brand price"): what a rejected case must gain to reopen.
  std::string signals;
  // Digest of what a rights holder reads: the listing's title, description, price,
  // currency, seller and photos, the signals and each cue's matched text. A case whose
  // material key did not change is updated silently (no event).
  std::string material_key;
};

// Hash of a listing's (marketplace, listing id) for in-memory sets: equal within one
// process, not stable across processes or builds (never store it).
BONAFIDE_EXPORT uint64_t ListingKeyHash(std::string_view marketplace, std::string_view listing_id);

// One listing judged in a batch (flagged or not): its cases are
// OutboxBatch::cases[cases_begin, cases_end). The outbox closes the pending cases of a
// listing that no longer holds for their rights holder.
struct ScannedListing {
  std::string_view marketplace;
  std::string_view listing_id;
  // ListingKeyHash(marketplace, listing_id), computed where listings are judged in
  // parallel, so that the serial write stage does not hash every listing again.
  uint64_t key_hash = 0;
  uint32_t cases_begin = 0;
  uint32_t cases_end = 0;
};

// How far a reader has got through one input, committed together with the cases found up
// to there, so that a killed reader resumes where it stopped (docs/outbox-format.md). A
// scan keeps one per input file; a stream consumer one per partition (run: the consumer,
// input: the partition, byte_offset: the next message to read). Keyed by (run, input).
struct ScanCheckpoint {
  std::string run;             // identifies the scan: its inputs, their identities and the rules
  std::string input;           // the input as named on the command line
  std::string identity;        // size and modification time of the input when the scan started
  uint64_t byte_offset = 0;    // next record to read (decompressed offset)
  uint64_t line = 1;           // its 1-based line number
  uint64_t rejects_bytes = 0;  // size of the rejects file after this input's rejects so far
  bool done = false;           // the input has been read to its end
};

// One Write's worth of scan results: one transaction, or part of one (defer_commit).
// Views: valid during Write() only.
struct OutboxBatch {
  // The run the batch belongs to; its events wait for Publish(run). Empty: the events are
  // published in this Write's transaction (a service judging listings one at a time).
  std::string_view run;
  std::span<const ScannedListing> listings;  // in input order
  std::span<const CaseRecord> cases;         // in input order
  // Committed with the batch, each replacing the stored one of its (run, input): the
  // latest position of every input the batch covers. At most one per (run, input).
  std::span<const ScanCheckpoint> checkpoints;
  // True, for a sink whose DefersCommits() is true: the sink leaves the batch's
  // transaction open, and the next Write joins it. The first Write whose defer_commit is
  // false (it may carry no listings, cases or checkpoints at all) commits them all, as
  // does any other write of the sink (Publish, ClearCheckpoints, ...), which commits them
  // before its own. Until then nothing of them is visible to other connections or
  // durable, the transaction holds the outbox's write lock, and a Write that fails rolls
  // them back with it. Other sinks commit every Write. Requires a run (a batch published
  // at once cannot wait).
  bool defer_commit = false;
};

// What a Publish (or an immediate Write) announced.
struct OutboxWriteStats {
  int64_t opened = 0;    // case.opened
  int64_t updated = 0;   // case.updated: a material change
  int64_t closed = 0;    // case.closed: no longer meets the threshold, no verdict yet
  int64_t reopened = 0;  // case.reopened
  int64_t silent = 0;    // cases the run changed with nothing to announce (not material)
};

// Receives cases. Implementations are not thread-safe: the pipeline calls them from its
// serial, in-order stage only.
class BONAFIDE_EXPORT CaseSink {
 public:
  virtual ~CaseSink() = default;

  // Writes the batch atomically (all or nothing; with the batches deferred before it, see
  // OutboxBatch::defer_commit). A case is keyed by (rights_holder,
  // marketplace, listing_id). Returns what was announced (zero unless batch.run is empty),
  // or Unavailable, ResourceExhausted (disk full), PermissionDenied (read-only) or
  // InvalidArgument (a malformed record) naming the outbox.
  virtual absl::StatusOr<OutboxWriteStats> Write(const OutboxBatch& batch) = 0;

  // Announces, in one transaction, what `run`'s batches changed: one event per case whose
  // status or material key differs from what was last announced. Idempotent.
  virtual absl::StatusOr<OutboxWriteStats> Publish(std::string_view run) = 0;

  // Returns the checkpoints of scan `run` (empty when it never ran or completed), or of
  // nothing for sinks that do not keep them.
  virtual absl::StatusOr<std::vector<ScanCheckpoint>> LoadCheckpoints(std::string_view run) {
    (void)run;
    return std::vector<ScanCheckpoint>{};
  }
  // Forgets the checkpoints of `run` (called when the scan completed).
  virtual absl::Status ClearCheckpoints(std::string_view run) {
    (void)run;
    return absl::OkStatus();
  }
  // Whether Write honours OutboxBatch::defer_commit (the SQLite outbox does; the
  // PostgreSQL outbox does not: it retries a transaction that lost a serialization race,
  // which it cannot do for batches it no longer holds). A scan defers commits only with
  // such a sink, so that the cases it reports as committed are.
  virtual bool DefersCommits() const { return false; }
};

}  // namespace bonafide

#endif  // BONAFIDE_SINK_H_
