// Where verification cases go: the rights holders' outbox (docs/outbox-format.md).
//
// The scan pipeline hands a CaseSink every flagged listing, in input order, in batches;
// one Write() is one transaction. The default sink is the SQLite outbox of
// SqliteOutbox::Open().
#ifndef BONAFIDE_SINK_H_
#define BONAFIDE_SINK_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

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
};

// What one Write() did.
struct OutboxWriteStats {
  int64_t opened = 0;     // new cases (each emitted a case.opened event)
  int64_t updated = 0;    // existing cases whose score/reasons/evidence changed
                          // (each emitted a case.updated event)
  int64_t unchanged = 0;  // existing identical cases (no event; last_seen_at refreshed)
};

// A case as stored in the outbox.
struct StoredCase {
  std::string case_key;
  std::string rights_holder;
  std::string marketplace;
  std::string listing_id;
  std::string seller_id;
  double score = 0;
  std::string reasons_json;
  std::string evidence_json;
  std::string status;         // "pending", ...
  std::string first_seen_at;  // ISO 8601 UTC
  std::string last_seen_at;
};

struct StoredEvent {
  int64_t id = 0;
  std::string rights_holder;
  std::string case_key;
  std::string type;  // "case.opened" / "case.updated"
  std::string payload_json;
  std::string created_at;
};

// How far a scan has got through one input, committed together with the cases found up
// to there, so that a killed scan resumes where it stopped (docs/outbox-format.md).
struct ScanCheckpoint {
  std::string run;             // identifies the scan: its inputs, their identities and the rules
  std::string input;           // the input as named on the command line
  std::string identity;        // size and modification time of the input when the scan started
  uint64_t byte_offset = 0;    // next record to read (decompressed offset)
  uint64_t line = 1;           // its 1-based line number
  uint64_t rejects_bytes = 0;  // size of the rejects file after this input's rejects so far
  bool done = false;           // the input has been read to its end
};

// Receives cases. Implementations are not thread-safe: the pipeline calls them from its
// serial, in-order stage only.
class CaseSink {
 public:
  virtual ~CaseSink() = default;

  // Writes `cases` and, when not null, `checkpoint` atomically (all or nothing). A case is
  // keyed by (rights_holder, marketplace, listing_id): a new key opens a case, a changed one
  // updates it, an identical one changes nothing visible to rights holders. Returns
  // Unavailable or ResourceExhausted (disk full) / PermissionDenied (read-only) with the
  // path.
  virtual absl::StatusOr<OutboxWriteStats> Write(const std::vector<CaseRecord>& cases,
                                                 const ScanCheckpoint* checkpoint) = 0;
  absl::StatusOr<OutboxWriteStats> Write(const std::vector<CaseRecord>& cases) {
    return Write(cases, nullptr);
  }

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
};

// The SQLite outbox file: tables `cases` and `events` (docs/outbox-format.md), WAL mode.
class SqliteOutbox : public CaseSink {
 public:
  // Opens or creates the database at `path` and its schema.
  static absl::StatusOr<std::unique_ptr<SqliteOutbox>> Open(std::string_view path);
  // Opens an existing database read-only (for `bonafide outbox list`).
  static absl::StatusOr<std::unique_ptr<SqliteOutbox>> OpenReadOnly(std::string_view path);
  ~SqliteOutbox() override;

  using CaseSink::Write;
  absl::StatusOr<OutboxWriteStats> Write(const std::vector<CaseRecord>& cases,
                                         const ScanCheckpoint* checkpoint) override;
  absl::StatusOr<std::vector<ScanCheckpoint>> LoadCheckpoints(std::string_view run) override;
  absl::Status ClearCheckpoints(std::string_view run) override;

  // Returns cases ordered by case_key, optionally of one rights holder.
  absl::StatusOr<std::vector<StoredCase>> ListCases(
      std::optional<std::string_view> rights_holder = std::nullopt) const;
  // Returns events ordered by id.
  absl::StatusOr<std::vector<StoredEvent>> ListEvents(
      std::optional<std::string_view> rights_holder = std::nullopt) const;

  // Returns the case key of (rights_holder, marketplace, listing_id):
  // "<rights_holder>:<marketplace>:<listing_id>" with '%' and ':' in the last two
  // percent-encoded.
  static std::string CaseKey(std::string_view rights_holder, std::string_view marketplace,
                             std::string_view listing_id);

 private:
  struct Impl;
  explicit SqliteOutbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bonafide

#endif  // BONAFIDE_SINK_H_
