// The PostgreSQL outbox: an Outbox (include/bonafide/outbox.h) in a PostgreSQL database,
// shared by any number of scans, relays and portals (docs/outbox-format.md, "PostgreSQL").
//
// Same tables, same rules (engine/case_lifecycle.h) and same stored strings as the SQLite
// outbox; what differs is how they get there:
// - every write is one REPEATABLE READ transaction, run again as a whole when PostgreSQL
//   reports a serialization failure or deadlock (pg::Connection::InTransaction), so the
//   in-memory state of an attempt is rebuilt by the attempt;
// - a scan batch takes a few round trips whatever its size: one query locks and reads the
//   stored state of every case the batch may touch, the rules run in C++ in listing order,
//   then one multi-row statement per kind of write (unnest of array parameters);
// - events are inserted under a transaction-level advisory lock, so that their ids, from
//   one identity sequence, are handed out in commit order: a reader of `id > after` never
//   skips an event that commits late.
#include "engine/postgres_outbox.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "engine/case_json_check.h"
#include "engine/case_lifecycle.h"
#include "engine/pg_connection.h"
#include "engine/postgres_schema.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide::engine {
namespace {

using pg::ArrayParam;
using pg::Connection;
using pg::Param;
using pg::Result;

// The advisory lock (any constant; "bonafide" + 1) held from a transaction's first event
// insert to its end: event-writing transactions take their ids one after the other.
constexpr const char* kEventOrderLockKey = "7089066773098792294";

// A run id no scan uses: the events of a Write with no run are published in its own
// transaction (as in the SQLite outbox).
constexpr std::string_view kImmediateRun = "\x01immediate";

// Cases are published in chunks of this many, so that a run of millions of cases does not
// hold them all in memory.
constexpr int kPublishChunk = 1000;

constexpr const char* kCaseColumns =
    "case_key, rights_holder, marketplace, listing_id, seller_id, score, reasons, evidence,"
    " signals, status,"
    " coalesce((SELECT a.revision FROM announcements a WHERE a.case_id = cases.id), 0),"
    " first_seen_at, last_seen_at";
constexpr const char* kEventColumns =
    "id, event_key, rights_holder, case_key, type, payload, created_at";

CaseStatus StatusAt(const Result& r, int row, int col) {
  return ParseCaseStatus(r.view(row, col)).value_or(CaseStatus::kPending);
}

StoredCase ReadCase(const Result& r, int row, int col = 0) {
  StoredCase c;
  c.case_key = r.text(row, col + 0);
  c.rights_holder = r.text(row, col + 1);
  c.marketplace = r.text(row, col + 2);
  c.listing_id = r.text(row, col + 3);
  c.seller_id = r.text(row, col + 4);
  c.score = r.float64(row, col + 5);
  c.reasons_json = r.text(row, col + 6);
  c.evidence_json = r.text(row, col + 7);
  c.signals = r.text(row, col + 8);
  c.status = StatusAt(r, row, col + 9);
  c.revision = r.int64(row, col + 10);
  c.first_seen_at = r.text(row, col + 11);
  c.last_seen_at = r.text(row, col + 12);
  return c;
}

StoredEvent ReadEvent(const Result& r, int row) {
  StoredEvent e;
  e.id = r.int64(row, 0);
  e.event_key = r.text(row, 1);
  e.rights_holder = r.text(row, 2);
  e.case_key = r.text(row, 3);
  e.type = r.text(row, 4);
  e.payload_json = EventPayload(r.view(row, 5), e.case_key, e.rights_holder);
  e.created_at = r.text(row, 6);
  return e;
}

std::string Int(int64_t v) { return absl::StrCat(v); }

// An event to insert.
struct NewEvent {
  std::string event_key, rights_holder, case_key, type, payload;
};

class PostgresOutbox final : public Outbox {
 public:
  explicit PostgresOutbox(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

  absl::StatusOr<OutboxWriteStats> Write(const OutboxBatch& batch) override;
  absl::StatusOr<OutboxWriteStats> Publish(std::string_view run) override;
  absl::StatusOr<std::vector<ScanCheckpoint>> LoadCheckpoints(std::string_view run) override;
  absl::Status ClearCheckpoints(std::string_view run) override;

  absl::StatusOr<std::optional<StoredCase>> GetCase(std::string_view case_key) override;
  absl::StatusOr<CasePage> ListCases(const CaseQuery& query) override;
  absl::StatusOr<std::vector<StoredEvent>> DoListEvents(
      std::optional<std::string_view> rights_holder, int64_t after_id, int limit,
      std::optional<std::string_view> case_key) override;

  absl::StatusOr<StoredCase> RecordVerdict(const VerdictRequest& request) override;
  absl::StatusOr<std::vector<StoredVerdict>> ListVerdicts(std::string_view case_key) override;
  absl::StatusOr<OutboxFeedback> LoadFeedback() override;
  absl::StatusOr<std::vector<PrecisionRow>> PrecisionReport(
      std::optional<std::string_view> rights_holder) override;

  absl::Status CreateToken(const StoredToken& token) override;
  absl::StatusOr<std::optional<StoredToken>> FindToken(std::string_view prefix) override;
  absl::StatusOr<std::vector<StoredToken>> ListTokens() override;
  absl::Status RevokeToken(std::string_view prefix) override;

  absl::StatusOr<std::optional<PendingDelivery>> NextDelivery(
      std::string_view rights_holder) override;
  absl::Status RecordDeliveryAttempt(const DeliveryAttempt& attempt) override;
  absl::Status DisableEndpoint(std::string_view rights_holder, std::string_view endpoint_digest,
                               std::string_view reason) override;
  absl::StatusOr<bool> EndpointDisabled(std::string_view rights_holder,
                                        std::string_view endpoint_digest) override;

 private:
  absl::Status RequireWritable(std::string_view what) const {
    if (!conn_->read_only()) return absl::OkStatus();
    return absl::PermissionDeniedError(
        absl::StrCat(conn_->location(), ": ", ToAbsl(what), ": outbox was opened read-only"));
  }
  // One attempt of Write's transaction.
  absl::Status WriteInTransaction(const OutboxBatch& batch, std::string_view run,
                                  std::string_view now, OutboxWriteStats& stats);
  absl::Status PublishInTransaction(std::string_view run, std::string_view now,
                                    OutboxWriteStats& stats);
  // Publishes the next chunk of the run's marked cases, those after case id `after`;
  // returns the last case id it took, nullopt when there was none.
  absl::StatusOr<std::optional<int64_t>> PublishChunk(std::string_view run, int64_t after,
                                                      std::string_view now,
                                                      OutboxWriteStats& stats);
  // Inserts `events` in their order (ids in that order), skipping an event_key seen before,
  // under the event order lock.
  absl::Status InsertEvents(const std::vector<NewEvent>& events, std::string_view now);

  std::unique_ptr<Connection> conn_;
  CaseJsonCheck json_check_;
};

// --- Scan writes -------------------------------------------------------------------------

// Locks and reads every stored case the batch can touch: those of its case keys and the
// pending cases of its listings (which a record that no longer flags them closes).
// $1 run, $2 case keys, $3/$4 marketplaces/listing ids. The last column: marked for $1.
constexpr const char* kLoadBatchStateSql =
    "SELECT c.id, c.case_key, c.marketplace, c.listing_id, c.fingerprint, c.status,"
    " (SELECT v.signals FROM verdicts v WHERE v.case_key = c.case_key ORDER BY v.id DESC"
    "  LIMIT 1),"
    " a.status,"
    " EXISTS (SELECT 1 FROM to_publish p WHERE p.run = $1 AND p.case_id = c.id)"
    " FROM cases c LEFT JOIN announcements a ON a.case_id = c.id"
    " WHERE c.id IN (SELECT id FROM cases WHERE case_key = ANY($2::text[])"
    "   UNION ALL SELECT id FROM cases WHERE status = 'pending' AND (marketplace, listing_id)"
    "   IN (SELECT * FROM unnest($3::text[], $4::text[])))"
    " ORDER BY c.id FOR UPDATE OF c";
// New cases, ids in batch order. A key another transaction inserted meanwhile conflicts:
// PostgreSQL reports a serialization failure and the batch runs again.
constexpr const char* kInsertCasesSql =
    "INSERT INTO cases (case_key, rights_holder, marketplace, listing_id, seller_id, score,"
    " reasons, evidence, signals, fingerprint, material, status, first_seen_at, last_seen_at)"
    " SELECT k, h, m, l, s, sc, r, e, sg, f, mt, st, $13, $13 FROM unnest($1::text[],"
    " $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::text[], $8::text[],"
    " $9::text[], $10::text[], $11::text[], $12::text[]) WITH ORDINALITY"
    " AS u(k, h, m, l, s, sc, r, e, sg, f, mt, st, n) ORDER BY n"
    " ON CONFLICT (case_key) DO NOTHING RETURNING id, case_key";
constexpr const char* kUpdateCasesSql =
    "UPDATE cases c SET seller_id = u.s, score = u.sc, reasons = u.r, evidence = u.e,"
    " signals = u.sg, fingerprint = u.f, material = u.mt, status = u.st, last_seen_at = $10"
    " FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::text[], $5::text[], $6::text[],"
    " $7::text[], $8::text[], $9::text[]) AS u(id, s, sc, r, e, sg, f, mt, st)"
    " WHERE c.id = u.id";
// Seen again unchanged (or closed): the status and last_seen_at only.
constexpr const char* kTouchCasesSql =
    "UPDATE cases c SET status = u.st, last_seen_at = $3"
    " FROM unnest($1::bigint[], $2::text[]) AS u(id, st) WHERE c.id = u.id";
constexpr const char* kMarkSql =
    "INSERT INTO to_publish (run, case_id) SELECT $1, unnest($2::bigint[])"
    " ON CONFLICT DO NOTHING";
constexpr const char* kUpsertCheckpointSql =
    "INSERT INTO scan_checkpoints (run, input, identity, byte_offset, line, rejects_bytes,"
    " done, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT (run, input) DO UPDATE SET identity = $3, byte_offset = $4, line = $5,"
    " rejects_bytes = $6, done = $7, updated_at = $8";

// A case as the batch sees it: loaded, then changed record by record in memory.
struct BatchCase {
  int64_t id = 0;  // 0: new in this batch
  std::string case_key;
  std::string fingerprint;
  CaseStatus status = CaseStatus::kPending;
  std::string verdict_signals;
  std::optional<CaseStatus> announced;
  bool marked = false;                  // marked for the run (before or by this batch)
  bool mark = false;                    // to mark in this batch
  bool touched = false;                 // last_seen_at (and status) to write
  const CaseRecord* content = nullptr;  // the record whose content to write, if changed
  PreparedCase prepared;
};

std::string ListingKey(std::string_view marketplace, std::string_view listing_id) {
  return absl::StrCat(marketplace.size(), ":", ToAbsl(marketplace), ToAbsl(listing_id));
}

absl::Status PostgresOutbox::WriteInTransaction(const OutboxBatch& batch, std::string_view run,
                                                std::string_view now, OutboxWriteStats& stats) {
  stats = OutboxWriteStats();
  std::vector<BatchCase> cases;
  absl::flat_hash_map<std::string, size_t> by_key;
  // Every case of a listing that the batch knows (loaded or new); CloseOthers picks the
  // pending ones.
  absl::flat_hash_map<std::string, std::vector<size_t>> by_listing;

  {
    ArrayParam keys, marketplaces, listing_ids;
    for (const CaseRecord& c : batch.cases) {
      keys.Add(CaseKey(c.rights_holder, c.marketplace, c.listing_id));
    }
    for (const ScannedListing& l : batch.listings) {
      marketplaces.Add(l.marketplace);
      listing_ids.Add(l.listing_id);
    }
    BONAFIDE_ASSIGN_OR_RETURN(
        Result r, conn_->Query("read the batch's cases", kLoadBatchStateSql,
                               {run, keys.text(), marketplaces.text(), listing_ids.text()}));
    for (int i = 0; i < r.rows(); ++i) {
      BatchCase& c = cases.emplace_back();
      c.id = r.int64(i, 0);
      c.case_key = r.text(i, 1);
      c.fingerprint = r.text(i, 4);
      c.status = StatusAt(r, i, 5);
      c.verdict_signals = r.text(i, 6);
      if (!r.null(i, 7)) c.announced = StatusAt(r, i, 7);
      c.marked = r.boolean(i, 8);
      by_key.emplace(c.case_key, cases.size() - 1);
      by_listing[ListingKey(r.view(i, 2), r.view(i, 3))].push_back(cases.size() - 1);
    }
  }

  // The SQLite outbox's WriteCase and CloseOthers, on the batch's cases in memory.
  auto write_case = [&](const CaseRecord& record) -> absl::Status {
    BONAFIDE_ASSIGN_OR_RETURN(PreparedCase p, PrepareCase(record, conn_->location()));
    BONAFIDE_RETURN_IF_ERROR(json_check_.Check(p, conn_->location()));
    auto it = by_key.find(p.case_key);
    if (it == by_key.end()) {
      BatchCase& c = cases.emplace_back();
      c.case_key = p.case_key;
      c.fingerprint = p.fingerprint;
      c.marked = c.mark = true;
      c.content = &record;
      c.prepared = std::move(p);
      by_key.emplace(c.case_key, cases.size() - 1);
      by_listing[ListingKey(record.marketplace, record.listing_id)].push_back(cases.size() - 1);
      return absl::OkStatus();
    }
    BatchCase& c = cases[it->second];
    const CaseStatus base = RescanBaseStatus(c.status, c.marked, c.announced);
    const RescanOutcome outcome = Rescan(base, record.signals, c.verdict_signals);
    c.touched = true;
    if (c.fingerprint == p.fingerprint && outcome.status == c.status) return absl::OkStatus();
    c.fingerprint = p.fingerprint;
    c.status = outcome.status;
    c.content = &record;
    c.prepared = std::move(p);
    if (outcome.mark && !c.marked) c.marked = c.mark = true;
    return absl::OkStatus();
  };
  auto close_others = [&](const ScannedListing& listing) {
    auto it = by_listing.find(ListingKey(listing.marketplace, listing.listing_id));
    if (it == by_listing.end()) return;
    for (size_t index : it->second) {
      BatchCase& c = cases[index];
      if (c.status != CaseStatus::kPending) continue;
      bool still_flagged = false;
      for (uint32_t i = listing.cases_begin; i < listing.cases_end && !still_flagged; ++i) {
        const CaseRecord& r = batch.cases[i];
        still_flagged = c.case_key == CaseKey(r.rights_holder, r.marketplace, r.listing_id);
      }
      if (still_flagged) continue;
      c.status = StatusWhenNoLongerFlagged(c.marked, c.announced);
      c.touched = true;
      if (!c.marked) c.marked = c.mark = true;
    }
  };
  if (batch.listings.empty()) {
    for (const CaseRecord& c : batch.cases) BONAFIDE_RETURN_IF_ERROR(write_case(c));
  }
  for (const ScannedListing& listing : batch.listings) {
    if (listing.cases_end > batch.cases.size() || listing.cases_begin > listing.cases_end) {
      return absl::InvalidArgumentError(
          absl::StrCat(conn_->location(), ": write: a listing's case range is outside the batch"));
    }
    for (uint32_t i = listing.cases_begin; i < listing.cases_end; ++i) {
      BONAFIDE_RETURN_IF_ERROR(write_case(batch.cases[i]));
    }
    close_others(listing);
  }

  // The writes, one statement each.
  ArrayParam n_key, n_holder, n_market, n_listing, n_seller, n_score, n_reasons, n_evidence,
      n_signals, n_fingerprint, n_material, n_status;
  ArrayParam u_id, u_seller, u_score, u_reasons, u_evidence, u_signals, u_fingerprint, u_material,
      u_status;
  ArrayParam t_id, t_status;
  ArrayParam mark_ids;
  for (const BatchCase& c : cases) {
    const char* status = CaseStatusName(c.status);
    if (c.id == 0) {
      const CaseRecord& r = *c.content;
      n_key.Add(c.case_key);
      n_holder.Add(r.rights_holder);
      n_market.Add(r.marketplace);
      n_listing.Add(r.listing_id);
      n_seller.Add(r.seller_id);
      n_score.AddDouble(r.score);
      n_reasons.Add(c.prepared.reasons);
      n_evidence.Add(c.prepared.evidence);
      n_signals.Add(r.signals);
      n_fingerprint.Add(c.fingerprint);
      n_material.Add(r.material_key);
      n_status.Add(status);
    } else if (c.content != nullptr) {
      const CaseRecord& r = *c.content;
      u_id.Add(c.id);
      u_seller.Add(r.seller_id);
      u_score.AddDouble(r.score);
      u_reasons.Add(c.prepared.reasons);
      u_evidence.Add(c.prepared.evidence);
      u_signals.Add(r.signals);
      u_fingerprint.Add(c.fingerprint);
      u_material.Add(r.material_key);
      u_status.Add(status);
      if (c.mark) mark_ids.Add(c.id);
    } else if (c.touched) {
      t_id.Add(c.id);
      t_status.Add(status);
      if (c.mark) mark_ids.Add(c.id);
    }
  }
  if (n_key.size() > 0) {
    BONAFIDE_ASSIGN_OR_RETURN(
        Result inserted,
        conn_->Query(
            "insert cases", kInsertCasesSql,
            {n_key.text(), n_holder.text(), n_market.text(), n_listing.text(), n_seller.text(),
             n_score.text(), n_reasons.text(), n_evidence.text(), n_signals.text(),
             n_fingerprint.text(), n_material.text(), n_status.text(), now}));
    if (static_cast<size_t>(inserted.rows()) != n_key.size()) {
      // Keys another transaction inserted after this one's snapshot (REPEATABLE READ
      // normally reports that itself): start over and see them.
      return absl::AbortedError(
          absl::StrCat(conn_->location(), ": insert cases: a concurrent scan inserted some"));
    }
    for (int i = 0; i < inserted.rows(); ++i) mark_ids.Add(inserted.int64(i, 0));
  }
  if (u_id.size() > 0) {
    BONAFIDE_RETURN_IF_ERROR(conn_->Exec(
        "update cases", kUpdateCasesSql,
        {u_id.text(), u_seller.text(), u_score.text(), u_reasons.text(), u_evidence.text(),
         u_signals.text(), u_fingerprint.text(), u_material.text(), u_status.text(), now}));
  }
  if (t_id.size() > 0) {
    BONAFIDE_RETURN_IF_ERROR(
        conn_->Exec("touch cases", kTouchCasesSql, {t_id.text(), t_status.text(), now}));
  }
  if (mark_ids.size() > 0) {
    BONAFIDE_RETURN_IF_ERROR(conn_->Exec("mark cases", kMarkSql, {run, mark_ids.text()}));
  }
  for (const ScanCheckpoint& cp : batch.checkpoints) {
    BONAFIDE_RETURN_IF_ERROR(
        conn_->Exec(absl::StrCat("checkpoint of \"", cp.input, "\""), kUpsertCheckpointSql,
                    {cp.run, cp.input, cp.identity, Int(static_cast<int64_t>(cp.byte_offset)),
                     Int(static_cast<int64_t>(cp.line)),
                     Int(static_cast<int64_t>(cp.rejects_bytes)), cp.done ? "1" : "0", now}));
  }
  if (batch.run.empty()) return PublishInTransaction(run, now, stats);
  return absl::OkStatus();
}

absl::StatusOr<OutboxWriteStats> PostgresOutbox::Write(const OutboxBatch& batch) {
  BONAFIDE_RETURN_IF_ERROR(RequireWritable("write"));
  OutboxWriteStats stats;
  if (batch.listings.empty() && batch.cases.empty() && batch.checkpoints.empty()) return stats;
  const std::string_view run = batch.run.empty() ? kImmediateRun : batch.run;
  const std::string now = NowIso8601();
  BONAFIDE_RETURN_IF_ERROR(conn_->InTransaction(
      [&]() -> absl::Status { return WriteInTransaction(batch, run, now, stats); }));
  return stats;
}

// --- Publishing --------------------------------------------------------------------------

absl::Status PostgresOutbox::InsertEvents(const std::vector<NewEvent>& events,
                                          std::string_view now) {
  if (events.empty()) return absl::OkStatus();
  BONAFIDE_RETURN_IF_ERROR(conn_->Exec("take the event order lock",
                                       "SELECT pg_advisory_xact_lock($1)", {kEventOrderLockKey}));
  ArrayParam keys, holders, case_keys, types, payloads;
  for (const NewEvent& e : events) {
    keys.Add(e.event_key);
    holders.Add(e.rights_holder);
    case_keys.Add(e.case_key);
    types.Add(e.type);
    payloads.Add(e.payload);
  }
  // An event_key seen before means this very event was already emitted: skip it.
  return conn_->Exec(
      "insert events",
      "INSERT INTO events (event_key, rights_holder, case_key, type, payload, created_at)"
      " SELECT k, h, c, t, p, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
      " $5::text[]) WITH ORDINALITY AS u(k, h, c, t, p, n) ORDER BY n"
      " ON CONFLICT (event_key) DO NOTHING",
      {keys.text(), holders.text(), case_keys.text(), types.text(), payloads.text(), now});
}

absl::Status PostgresOutbox::PublishInTransaction(std::string_view run, std::string_view now,
                                                  OutboxWriteStats& stats) {
  // Each chunk starts after the last one's case id: the marks it deleted stay in the index
  // until the transaction ends, and a scan from the start would step over all of them
  // again (quadratic: 13 s instead of 0.5 s for 62k cases).
  int64_t after = 0;
  while (true) {
    BONAFIDE_ASSIGN_OR_RETURN(const std::optional<int64_t> last,
                              PublishChunk(run, after, now, stats));
    if (!last.has_value()) return absl::OkStatus();
    after = *last;
  }
}

absl::StatusOr<std::optional<int64_t>> PostgresOutbox::PublishChunk(std::string_view run,
                                                                    int64_t after,
                                                                    std::string_view now,
                                                                    OutboxWriteStats& stats) {
  const std::string limit = Int(kPublishChunk), after_text = Int(after);
  BONAFIDE_ASSIGN_OR_RETURN(
      Result r,
      conn_->Query(
          "list cases to publish",
          "SELECT c.id, c.case_key, c.rights_holder, c.marketplace, c.listing_id, c.seller_id,"
          " c.score, c.reasons, c.status, c.material, a.status, a.material,"
          " coalesce(a.revision, 0), p.case_id"
          " FROM to_publish p LEFT JOIN cases c ON c.id = p.case_id"
          " LEFT JOIN announcements a ON a.case_id = p.case_id"
          " WHERE p.run = $1 AND p.case_id > $3 ORDER BY p.case_id LIMIT $2",
          {run, limit, after_text}));
  if (r.rows() == 0) return std::optional<int64_t>();
  std::vector<NewEvent> events;
  ArrayParam deleted, a_id, a_status, a_material, a_revision;
  for (int i = 0; i < r.rows(); ++i) {
    if (r.null(i, 0)) continue;  // a mark whose case is gone (SQLite's join skips it too)
    StoredCase c;
    const int64_t id = r.int64(i, 0);
    c.case_key = r.text(i, 1);
    c.rights_holder = r.text(i, 2);
    c.marketplace = r.text(i, 3);
    c.listing_id = r.text(i, 4);
    c.seller_id = r.text(i, 5);
    c.score = r.float64(i, 6);
    c.reasons_json = r.text(i, 7);
    c.status = StatusAt(r, i, 8);
    const std::string_view material = r.view(i, 9);
    std::optional<CaseStatus> announced;
    if (!r.null(i, 10)) announced = StatusAt(r, i, 10);
    const std::string_view announced_material = r.view(i, 11);
    c.revision = r.int64(i, 12);
    const Publication publication =
        DecidePublication(c.status, material, announced, announced_material);
    if (publication.action == Publication::Action::kDelete) {
      deleted.Add(id);
      continue;
    }
    const int64_t revision = c.revision + (publication.type != nullptr ? 1 : 0);
    if (publication.type != nullptr) {
      events.push_back({EventKey(c.case_key, revision), c.rights_holder, c.case_key,
                        publication.type, StoredCaseEventPayload(c, revision)});
      CountEvent(publication.type, stats);
    } else {
      ++stats.silent;
      if (announced == c.status && announced_material == material) continue;
    }
    a_id.Add(id);
    a_status.Add(CaseStatusName(c.status));
    a_material.Add(material);
    a_revision.Add(revision);
  }
  if (deleted.size() > 0) {
    // Marks of other, unfinished runs too: they must not outlive the case.
    BONAFIDE_RETURN_IF_ERROR(
        conn_->Exec("delete cases", "DELETE FROM to_publish WHERE case_id = ANY($1::bigint[]);",
                    {deleted.text()}));
    BONAFIDE_RETURN_IF_ERROR(conn_->Exec(
        "delete cases", "DELETE FROM cases WHERE id = ANY($1::bigint[])", {deleted.text()}));
  }
  BONAFIDE_RETURN_IF_ERROR(InsertEvents(events, now));
  if (a_id.size() > 0) {
    BONAFIDE_RETURN_IF_ERROR(
        conn_->Exec("record announcements",
                    "INSERT INTO announcements (case_id, status, material, revision)"
                    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])"
                    " ON CONFLICT (case_id) DO UPDATE SET status = excluded.status,"
                    " material = excluded.material, revision = excluded.revision",
                    {a_id.text(), a_status.text(), a_material.text(), a_revision.text()}));
  }
  const std::string last = r.text(r.rows() - 1, 13);
  BONAFIDE_RETURN_IF_ERROR(
      conn_->Exec("unmark published cases",
                  "DELETE FROM to_publish WHERE run = $1 AND case_id > $2 AND case_id <= $3",
                  {run, after_text, last}));
  return std::optional<int64_t>(r.int64(r.rows() - 1, 13));
}

absl::StatusOr<OutboxWriteStats> PostgresOutbox::Publish(std::string_view run) {
  BONAFIDE_RETURN_IF_ERROR(RequireWritable("publish"));
  OutboxWriteStats stats;
  const std::string now = NowIso8601();
  BONAFIDE_RETURN_IF_ERROR(conn_->InTransaction([&]() -> absl::Status {
    stats = OutboxWriteStats();
    return PublishInTransaction(run, now, stats);
  }));
  return stats;
}

// --- Checkpoints -------------------------------------------------------------------------

absl::StatusOr<std::vector<ScanCheckpoint>> PostgresOutbox::LoadCheckpoints(std::string_view run) {
  BONAFIDE_ASSIGN_OR_RETURN(
      Result r, conn_->Query("list checkpoints",
                             "SELECT run, input, identity, byte_offset, line, rejects_bytes, done"
                             " FROM scan_checkpoints WHERE run = $1 ORDER BY input",
                             {run}));
  std::vector<ScanCheckpoint> out;
  for (int i = 0; i < r.rows(); ++i) {
    ScanCheckpoint& c = out.emplace_back();
    c.run = r.text(i, 0);
    c.input = r.text(i, 1);
    c.identity = r.text(i, 2);
    c.byte_offset = static_cast<uint64_t>(r.int64(i, 3));
    c.line = static_cast<uint64_t>(r.int64(i, 4));
    c.rejects_bytes = static_cast<uint64_t>(r.int64(i, 5));
    c.done = r.int64(i, 6) != 0;
  }
  return out;
}

absl::Status PostgresOutbox::ClearCheckpoints(std::string_view run) {
  if (conn_->read_only()) return absl::OkStatus();
  return conn_->Exec("clear checkpoints", "DELETE FROM scan_checkpoints WHERE run = $1", {run});
}

// --- Reading -----------------------------------------------------------------------------

absl::StatusOr<std::optional<StoredCase>> PostgresOutbox::GetCase(std::string_view case_key) {
  const std::string sql = absl::StrCat("SELECT ", kCaseColumns, " FROM cases WHERE case_key = $1");
  BONAFIDE_ASSIGN_OR_RETURN(Result r, conn_->Query("read case", sql.c_str(), {case_key}));
  if (r.rows() == 0) return std::optional<StoredCase>();
  return std::optional<StoredCase>(ReadCase(r, 0));
}

absl::StatusOr<CasePage> PostgresOutbox::ListCases(const CaseQuery& q) {
  // Cursor: "<first_seen_at> <case_key>" of the last case of the previous page.
  std::optional<std::pair<std::string, std::string>> after;
  if (q.after.has_value()) {
    const size_t space = q.after->find(' ');
    if (space == std::string::npos || space == 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad cursor \"", *q.after, "\""));
    }
    after.emplace(q.after->substr(0, space), q.after->substr(space + 1));
  }
  std::string sql = absl::StrCat("SELECT ", kCaseColumns, " FROM cases WHERE true");
  std::vector<Param> params;
  auto add = [&](std::string_view condition, Param value) {
    params.push_back(value);
    absl::StrAppend(&sql, " AND ", ToAbsl(condition), params.size());
  };
  if (q.rights_holder) add("rights_holder = $", *q.rights_holder);
  if (q.status) add("status = $", CaseStatusName(*q.status));
  if (q.marketplace) add("marketplace = $", *q.marketplace);
  if (q.since) add("first_seen_at >= $", *q.since);
  if (after) {
    params.emplace_back(after->first);
    params.emplace_back(after->second);
    absl::StrAppend(&sql, " AND (first_seen_at, case_key) < ($", params.size() - 1, ", $",
                    params.size(), ")");
  }
  sql += " ORDER BY first_seen_at DESC, case_key DESC";
  // One more than asked: tells whether there is a next page.
  if (q.limit > 0) absl::StrAppend(&sql, " LIMIT ", static_cast<int64_t>(q.limit) + 1);
  BONAFIDE_ASSIGN_OR_RETURN(Result r, conn_->Query("list cases", sql.c_str(), params));
  CasePage page;
  page.cases.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) page.cases.push_back(ReadCase(r, i));
  if (q.limit > 0 && page.cases.size() > static_cast<size_t>(q.limit)) {
    page.cases.resize(q.limit);
    page.next = absl::StrCat(page.cases.back().first_seen_at, " ", page.cases.back().case_key);
  }
  return page;
}

absl::StatusOr<std::vector<StoredEvent>> PostgresOutbox::DoListEvents(
    std::optional<std::string_view> rights_holder, int64_t after_id, int limit,
    std::optional<std::string_view> case_key) {
  const std::string after = Int(after_id);
  std::string sql = absl::StrCat("SELECT ", kEventColumns, " FROM events WHERE id > $1");
  std::vector<Param> params = {after};
  std::string first_key, past_last_key;  // params are views: alive until the query ran
  if (rights_holder) {
    params.emplace_back(*rights_holder);
    absl::StrAppend(&sql, " AND rights_holder = $", params.size());
  }
  if (case_key) {
    // A case's events: the key range "<case_key>:".."<case_key>;" of the unique index on
    // event_key (text COLLATE "C": byte order), and the case itself (a rights holder may
    // contain ':').
    params.emplace_back(*case_key);
    absl::StrAppend(&sql, " AND case_key = $", params.size());
    params.emplace_back(first_key = absl::StrCat(ToAbsl(*case_key), ":"));
    absl::StrAppend(&sql, " AND event_key >= $", params.size());
    params.emplace_back(past_last_key = absl::StrCat(ToAbsl(*case_key), ";"));
    absl::StrAppend(&sql, " AND event_key < $", params.size());
  }
  sql += " ORDER BY id";
  if (limit > 0) absl::StrAppend(&sql, " LIMIT ", limit);
  BONAFIDE_ASSIGN_OR_RETURN(Result r, conn_->Query("list events", sql.c_str(), params));
  std::vector<StoredEvent> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadEvent(r, i));
  return out;
}

// --- Verdicts ----------------------------------------------------------------------------

absl::StatusOr<StoredCase> PostgresOutbox::RecordVerdict(const VerdictRequest& r) {
  BONAFIDE_RETURN_IF_ERROR(RequireWritable("verdict"));
  BONAFIDE_RETURN_IF_ERROR(ValidateVerdictRequest(r));
  StoredCase result;
  const std::string now = NowIso8601();
  const absl::Status status = conn_->InTransaction([&]() -> absl::Status {
    const std::string select =
        absl::StrCat("SELECT ", kCaseColumns,
                     ", (SELECT count(*) FROM verdicts v WHERE v.case_key = $1)"
                     " FROM cases WHERE case_key = $1 FOR UPDATE");
    BONAFIDE_ASSIGN_OR_RETURN(Result row, conn_->Query("read case", select.c_str(), {r.case_key}));
    // Another holder's case reads exactly like an unknown one.
    if (row.rows() == 0 || (r.rights_holder.has_value() && row.view(0, 1) != *r.rights_holder)) {
      return absl::NotFoundError("no such case");
    }
    result = ReadCase(row, 0);
    const int64_t earlier_verdicts = row.int64(0, 13);
    // A verdict in force (the case is confirmed or rejected) is replaced only on purpose;
    // a case that reopened after a rejection takes a fresh verdict.
    const bool verdict_in_force =
        result.status == CaseStatus::kConfirmed || result.status == CaseStatus::kRejected;
    if (earlier_verdicts > 0 && verdict_in_force && !r.replace) {
      return absl::AlreadyExistsError(absl::StrCat(
          "case \"", r.case_key, "\" already has a verdict (replace it to change it)"));
    }
    auto exec = [&](const char* sql, std::string_view what,
                    const std::vector<Param>& params) -> absl::Status {
      return conn_->Exec(absl::StrCat("case \"", r.case_key, "\": ", ToAbsl(what)), sql, params);
    };
    // A replaced verdict takes back what it taught.
    BONAFIDE_RETURN_IF_ERROR(exec("DELETE FROM authorized_sellers WHERE case_key = $1",
                                  "forget authorization", {r.case_key}));
    BONAFIDE_RETURN_IF_ERROR(exec("DELETE FROM counterfeit_photos WHERE case_key = $1",
                                  "forget counterfeit photos", {r.case_key}));
    BONAFIDE_RETURN_IF_ERROR(
        exec("INSERT INTO verdicts (case_key, rights_holder, verdict, comment, authorize_seller,"
             " seller_id, signals, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
             "record verdict",
             {r.case_key, result.rights_holder, VerdictKindName(r.verdict), r.comment,
              r.authorize_seller ? "1" : "0", result.seller_id, result.signals, r.actor, now}));
    if (r.verdict == VerdictKind::kCounterfeit) {
      // The evidence's hashed photos ("images" entries with status "hashed").
      BONAFIDE_RETURN_IF_ERROR(
          exec("INSERT INTO counterfeit_photos (rights_holder, pdq, quality, case_key,"
               " created_at) SELECT $1, p ->> 'pdq', (p ->> 'quality')::bigint, $2, $3"
               " FROM cases c, json_array_elements(CASE WHEN"
               "   json_typeof(c.evidence::json -> 'images') = 'array'"
               "   THEN c.evidence::json -> 'images' ELSE '[]'::json END) AS p"
               " WHERE c.case_key = $2 AND p ->> 'status' = 'hashed'"
               " ON CONFLICT DO NOTHING",
               "remember counterfeit photos", {result.rights_holder, r.case_key, now}));
    }
    if (r.authorize_seller) {
      BONAFIDE_RETURN_IF_ERROR(
          exec("INSERT INTO authorized_sellers (rights_holder, seller_id, case_key, created_at)"
               " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
               "authorize seller", {result.rights_holder, result.seller_id, r.case_key, now}));
    }
    // A case judged before the run that wrote it published it (a verdict given while the
    // scan still runs) is announced first, as that publication would have: a receiver never
    // hears a verdict on a case it was not told of.
    std::vector<NewEvent> events;
    if (result.revision == 0) {
      result.revision = 1;
      events.push_back({EventKey(result.case_key, 1), result.rights_holder, result.case_key,
                        "case.opened", StoredCaseEventPayload(result, 1)});
    }
    result.status =
        r.verdict == VerdictKind::kCounterfeit ? CaseStatus::kConfirmed : CaseStatus::kRejected;
    ++result.revision;
    const std::string revision = Int(result.revision);
    BONAFIDE_RETURN_IF_ERROR(exec("UPDATE cases SET status = $2 WHERE case_key = $1", "set status",
                                  {r.case_key, CaseStatusName(result.status)}));
    // A case judged before its first publication keeps its material key as announced.
    BONAFIDE_RETURN_IF_ERROR(
        exec("INSERT INTO announcements (case_id, status, material, revision)"
             " SELECT id, $2, material, $3 FROM cases WHERE case_key = $1"
             " ON CONFLICT (case_id) DO UPDATE SET status = excluded.status,"
             " revision = excluded.revision",
             "record announcement", {r.case_key, CaseStatusName(result.status), revision}));
    events.push_back({EventKey(result.case_key, result.revision), result.rights_holder,
                      result.case_key, "case.verdict", StoredVerdictEventPayload(result, r)});
    return InsertEvents(events, now);
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::vector<StoredVerdict>> PostgresOutbox::ListVerdicts(std::string_view case_key) {
  BONAFIDE_ASSIGN_OR_RETURN(
      Result r, conn_->Query("list verdicts",
                             "SELECT id, case_key, rights_holder, verdict, comment,"
                             " authorize_seller, signals, actor, created_at FROM verdicts"
                             " WHERE case_key = $1 ORDER BY id",
                             {case_key}));
  std::vector<StoredVerdict> out;
  for (int i = 0; i < r.rows(); ++i) {
    StoredVerdict& v = out.emplace_back();
    v.id = r.int64(i, 0);
    v.case_key = r.text(i, 1);
    v.rights_holder = r.text(i, 2);
    v.verdict = ParseVerdictKind(r.view(i, 3)).value_or(VerdictKind::kCounterfeit);
    v.comment = r.text(i, 4);
    v.authorize_seller = r.int64(i, 5) != 0;
    v.signals = r.text(i, 6);
    v.actor = r.text(i, 7);
    v.created_at = r.text(i, 8);
  }
  return out;
}

absl::StatusOr<OutboxFeedback> PostgresOutbox::LoadFeedback() {
  OutboxFeedback feedback;
  BONAFIDE_ASSIGN_OR_RETURN(
      Result sellers,
      conn_->Query("read authorized sellers",
                   "SELECT DISTINCT rights_holder, seller_id FROM authorized_sellers"
                   " ORDER BY 1, 2"));
  for (int i = 0; i < sellers.rows(); ++i) {
    feedback.authorized_sellers.push_back({sellers.text(i, 0), sellers.text(i, 1)});
  }
  BONAFIDE_ASSIGN_OR_RETURN(Result photos,
                            conn_->Query("read counterfeit photos",
                                         "SELECT rights_holder, pdq, max(quality), min(case_key)"
                                         " FROM counterfeit_photos GROUP BY rights_holder, pdq"
                                         " ORDER BY 1, 2"));
  for (int i = 0; i < photos.rows(); ++i) {
    feedback.counterfeit_photos.push_back({photos.text(i, 0), photos.text(i, 1),
                                           static_cast<int32_t>(photos.int64(i, 2)),
                                           photos.text(i, 3)});
  }
  BONAFIDE_ASSIGN_OR_RETURN(Result confirmed,
                            conn_->Query("read seller records",
                                         "SELECT rights_holder, seller_id, case_key FROM cases"
                                         " WHERE status = 'confirmed' ORDER BY 1, 2, 3"));
  auto& records = feedback.seller_records;
  for (int i = 0; i < confirmed.rows(); ++i) {
    std::string holder = confirmed.text(i, 0), seller = confirmed.text(i, 1);
    if (records.empty() || records.back().rights_holder != holder ||
        records.back().seller_id != seller) {
      records.push_back({std::move(holder), std::move(seller), 0, {}});
    }
    ++records.back().confirmed;
    records.back().case_keys.push_back(confirmed.text(i, 2));
  }
  return feedback;
}

absl::StatusOr<std::vector<PrecisionRow>> PostgresOutbox::PrecisionReport(
    std::optional<std::string_view> rights_holder) {
  // Per case, each signal of its reasons once; the case's latest verdict decides.
  constexpr const char* kSqlHead = R"sql(
WITH latest AS (
  SELECT DISTINCT ON (case_key) case_key, verdict FROM verdicts ORDER BY case_key, id DESC),
signals AS (
  SELECT DISTINCT c.case_key,
         (CASE r ->> 'signal' WHEN 'cue' THEN 'cue:' || (r ->> 'rule')
          ELSE r ->> 'signal' END) COLLATE "C" AS name,
         (r ->> 'shadow')::boolean AS shadow
  FROM cases c, json_array_elements(c.reasons::json) AS r
)sql";
  constexpr const char* kSqlTail = R"sql()
SELECT name, coalesce(bool_or(shadow), false), count(*),
       count(*) FILTER (WHERE l.verdict = 'counterfeit'),
       count(*) FILTER (WHERE l.verdict IN ('genuine', 'not_ours'))
FROM signals LEFT JOIN latest l USING (case_key)
GROUP BY name ORDER BY name
)sql";
  const std::string sql =
      absl::StrCat(kSqlHead, rights_holder ? "  WHERE c.rights_holder = $1" : "", kSqlTail);
  std::vector<Param> params;
  if (rights_holder) params.emplace_back(*rights_holder);
  BONAFIDE_ASSIGN_OR_RETURN(Result r, conn_->Query("precision report", sql.c_str(), params));
  std::vector<PrecisionRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    PrecisionRow& row = out.emplace_back();
    row.signal = r.text(i, 0);
    row.shadow = r.boolean(i, 1);
    row.cases = r.int64(i, 2);
    row.confirmed = r.int64(i, 3);
    row.rejected = r.int64(i, 4);
    if (row.confirmed + row.rejected > 0) {
      row.precision =
          static_cast<double>(row.confirmed) / static_cast<double>(row.confirmed + row.rejected);
    }
  }
  return out;
}

// --- Portal access tokens --------------------------------------------------------------

constexpr const char* kTokenColumns = "prefix, sha256, rights_holder, created_at, revoked_at";

StoredToken ReadToken(const Result& r, int row) {
  StoredToken t;
  t.prefix = r.text(row, 0);
  t.sha256 = r.text(row, 1);
  t.rights_holder = r.optional_text(row, 2);
  t.created_at = r.text(row, 3);
  t.revoked_at = r.optional_text(row, 4);
  return t;
}

absl::Status PostgresOutbox::CreateToken(const StoredToken& token) {
  BONAFIDE_RETURN_IF_ERROR(RequireWritable("create token"));
  BONAFIDE_RETURN_IF_ERROR(ValidateNewToken(token));
  const std::string now = NowIso8601();
  const Param holder = token.rights_holder ? Param(*token.rights_holder) : std::nullopt;
  BONAFIDE_ASSIGN_OR_RETURN(
      Result r, conn_->Query("create token",
                             "INSERT INTO access_tokens (prefix, sha256, rights_holder, admin,"
                             " created_at) VALUES ($1, $2, $3::text,"
                             " CASE WHEN $3::text IS NULL THEN 1 ELSE 0 END, $4)"
                             " ON CONFLICT (prefix) DO NOTHING RETURNING prefix",
                             {token.prefix, token.sha256, holder, now}));
  if (r.rows() == 0) {
    return absl::AlreadyExistsError(absl::StrCat("token prefix ", token.prefix, " is taken"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<StoredToken>> PostgresOutbox::FindToken(std::string_view prefix) {
  const std::string sql =
      absl::StrCat("SELECT ", kTokenColumns, " FROM access_tokens WHERE prefix = $1");
  BONAFIDE_ASSIGN_OR_RETURN(Result r, conn_->Query("read token", sql.c_str(), {prefix}));
  if (r.rows() == 0) return std::optional<StoredToken>();
  return std::optional<StoredToken>(ReadToken(r, 0));
}

absl::StatusOr<std::vector<StoredToken>> PostgresOutbox::ListTokens() {
  const std::string sql =
      absl::StrCat("SELECT ", kTokenColumns, " FROM access_tokens ORDER BY created_at, prefix");
  BONAFIDE_ASSIGN_OR_RETURN(Result r, conn_->Query("list tokens", sql.c_str()));
  std::vector<StoredToken> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadToken(r, i));
  return out;
}

absl::Status PostgresOutbox::RevokeToken(std::string_view prefix) {
  BONAFIDE_RETURN_IF_ERROR(RequireWritable("revoke token"));
  const std::string now = NowIso8601();
  BONAFIDE_ASSIGN_OR_RETURN(
      Result r, conn_->Query("revoke token",
                             "UPDATE access_tokens SET revoked_at = $2 WHERE prefix = $1"
                             " AND revoked_at IS NULL RETURNING prefix",
                             {prefix, now}));
  if (r.rows() == 0) {
    return absl::NotFoundError(
        absl::StrCat("no active token with prefix \"", ToAbsl(prefix), "\""));
  }
  return absl::OkStatus();
}

// --- Delivery ----------------------------------------------------------------------------

absl::StatusOr<std::optional<PendingDelivery>> PostgresOutbox::NextDelivery(
    std::string_view rights_holder) {
  BONAFIDE_ASSIGN_OR_RETURN(
      Result r,
      conn_->Query("next delivery",
                   "SELECT e.id, e.event_key, e.rights_holder, e.case_key, e.type, e.payload,"
                   " e.created_at, coalesce(d.attempts, 0), coalesce(d.next_attempt_ms, 0)"
                   " FROM events e LEFT JOIN deliveries d ON d.event_id = e.id"
                   " WHERE e.rights_holder = $1 AND e.id > coalesce("
                   "   (SELECT done_through FROM relay_cursors WHERE rights_holder = $1), 0)"
                   " ORDER BY e.id LIMIT 1",
                   {rights_holder}));
  if (r.rows() == 0) return std::optional<PendingDelivery>();
  PendingDelivery d;
  d.event = ReadEvent(r, 0);
  d.attempts = static_cast<int32_t>(r.int64(0, 7));
  d.next_attempt_ms = r.int64(0, 8);
  return std::optional<PendingDelivery>(std::move(d));
}

absl::Status PostgresOutbox::RecordDeliveryAttempt(const DeliveryAttempt& a) {
  BONAFIDE_RETURN_IF_ERROR(RequireWritable("record delivery"));
  const std::string now = NowIso8601();
  const std::string event_id = Int(a.event_id), next = Int(a.next_attempt_ms),
                    http = Int(a.http_status);
  return conn_->InTransaction([&]() -> absl::Status {
    BONAFIDE_ASSIGN_OR_RETURN(
        Result r,
        conn_->Query(
            "record delivery attempt",
            "INSERT INTO deliveries (event_id, rights_holder, state, attempts, next_attempt_ms,"
            " last_status, last_error, updated_at)"
            " SELECT id, rights_holder, $2, 1, $3, $4, $5, $6 FROM events WHERE id = $1"
            " ON CONFLICT (event_id) DO UPDATE SET state = $2,"
            " attempts = deliveries.attempts + 1, next_attempt_ms = $3, last_status = $4,"
            " last_error = $5, updated_at = $6 RETURNING event_id",
            {event_id, DeliveryStateName(a.outcome), next, http, a.error, now}));
    if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("no event ", a.event_id));
    if (a.outcome == DeliveryAttempt::Outcome::kRetry) return absl::OkStatus();
    return conn_->Exec("advance delivery cursor",
                       "INSERT INTO relay_cursors (rights_holder, done_through)"
                       " SELECT rights_holder, id FROM events WHERE id = $1"
                       " ON CONFLICT (rights_holder) DO UPDATE SET"
                       " done_through = greatest(relay_cursors.done_through,"
                       " excluded.done_through)",
                       {event_id});
  });
}

absl::Status PostgresOutbox::DisableEndpoint(std::string_view rights_holder,
                                             std::string_view endpoint_digest,
                                             std::string_view reason) {
  BONAFIDE_RETURN_IF_ERROR(RequireWritable("disable endpoint"));
  const std::string now = NowIso8601();
  return conn_->Exec("disable endpoint",
                     "INSERT INTO relay_endpoints (rights_holder, endpoint_digest, reason,"
                     " disabled_at) VALUES ($1, $2, $3, $4)"
                     " ON CONFLICT (rights_holder, endpoint_digest) DO UPDATE SET"
                     " reason = excluded.reason, disabled_at = excluded.disabled_at",
                     {rights_holder, endpoint_digest, reason, now});
}

absl::StatusOr<bool> PostgresOutbox::EndpointDisabled(std::string_view rights_holder,
                                                      std::string_view endpoint_digest) {
  BONAFIDE_ASSIGN_OR_RETURN(
      Result r, conn_->Query("read endpoint state",
                             "SELECT count(*) FROM relay_endpoints WHERE rights_holder = $1"
                             " AND endpoint_digest = $2",
                             {rights_holder, endpoint_digest}));
  return r.int64(0, 0) > 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Outbox>> OpenPostgresOutbox(std::string_view uri,
                                                           OutboxAccess access) {
  const bool read_only = access == OutboxAccess::kReadOnly;
  BONAFIDE_ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> conn,
                            pg::Connection::Open(uri, read_only));
  if (read_only) {
    BONAFIDE_RETURN_IF_ERROR(CheckPostgresOutboxVersion(*conn));
  } else {
    BONAFIDE_RETURN_IF_ERROR(CreatePostgresOutbox(*conn));
  }
  return std::unique_ptr<Outbox>(new PostgresOutbox(std::move(conn)));
}

}  // namespace bonafide::engine
