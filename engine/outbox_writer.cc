// OutboxWriter: a bounded queue of judged listings and one thread committing them in groups.
#include "bonafide/outbox_writer.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"

#include "bonafide/outbox.h"
#include "util/strings.h"

namespace bonafide {

namespace {

using Clock = std::chrono::steady_clock;

// One Add or AddCheckpoints call.
struct Entry {
  std::optional<JudgedListing> listing;  // none: checkpoints alone
  std::vector<ScanCheckpoint> checkpoints;
  Clock::time_point added;
};

void AddStats(const OutboxWriteStats& from, OutboxWriteStats& to) {
  to.opened += from.opened;
  to.updated += from.updated;
  to.closed += from.closed;
  to.reopened += from.reopened;
  to.silent += from.silent;
}

}  // namespace

class OutboxWriter::Impl {
 public:
  Impl(std::unique_ptr<CaseSink> sink, const OutboxWriterOptions& options)
      : sink_(std::move(sink)), options_(options), thread_([this] { Run(); }) {}

  ~Impl() { (void)Close(); }

  absl::Status Enqueue(Entry entry, bool block) {
    std::unique_lock<std::mutex> lock(mu_);
    if (block) {
      space_.wait(lock,
                  [&] { return queue_.size() < options_.max_queued || !status_.ok() || closed_; });
    }
    if (absl::Status stopped = Stopped(); !stopped.ok()) return stopped;
    if (queue_.size() >= options_.max_queued) {
      return absl::ResourceExhaustedError(
          absl::StrCat("outbox writer: ", options_.max_queued, " entries queued already"));
    }
    entry.added = Clock::now();
    queue_.push_back(std::move(entry));
    ++added_;
    // The writer thread waits for a full group, its deadline or a flush; only the first
    // entry of a group and the one that fills it change what it waits for.
    if (queue_.size() == 1 || queue_.size() == options_.max_group_listings) work_.notify_one();
    return absl::OkStatus();
  }

  absl::Status Flush() {
    std::unique_lock<std::mutex> lock(mu_);
    if (absl::Status stopped = Stopped(); !stopped.ok()) return stopped;
    const uint64_t target = added_;
    flush_target_ = std::max(flush_target_, target);
    work_.notify_one();
    committed_cv_.wait(lock, [&] { return committed_ >= target || !status_.ok(); });
    return status_;
  }

  absl::Status Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closed_) {
        closed_ = true;
        work_.notify_one();
        space_.notify_all();
      }
    }
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    // The sink (and its connection) goes with the thread that used it.
    sink_.reset();
    return status_;
  }

  void Discard(std::string_view why) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!status_.ok()) return;
    status_ = absl::AbortedError(
        absl::StrCat("outbox writer: ", queue_.size(), " entries discarded: ", ToAbsl(why)));
    queue_.clear();
    work_.notify_one();
    space_.notify_all();
    committed_cv_.notify_all();
  }

  OutboxWriterStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  // Returns the writer's error, or FailedPrecondition after Close, or OK.
  absl::Status Stopped() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!status_.ok()) return status_;
    if (closed_) return absl::FailedPreconditionError("outbox writer: closed already");
    return absl::OkStatus();
  }

  // True when the writer thread should take a group now (with mu_ held).
  bool GroupDue(Clock::time_point now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (queue_.empty()) return false;
    return queue_.size() >= options_.max_group_listings || closed_ || flush_target_ > committed_ ||
           now >= queue_.front().added + std::chrono::milliseconds(options_.max_group_delay_ms);
  }

  void Run() {
    std::vector<Entry> group;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        while (!GroupDue(Clock::now())) {
          if ((closed_ && queue_.empty()) || !status_.ok()) return;  // done, or discarded
          if (queue_.empty()) {
            work_.wait(lock);
          } else {
            work_.wait_until(lock, queue_.front().added +
                                       std::chrono::milliseconds(options_.max_group_delay_ms));
          }
        }
        const size_t n = std::min(queue_.size(), options_.max_group_listings);
        for (size_t i = 0; i < n; ++i) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        space_.notify_all();
      }
      OutboxWriterStats written;
      absl::Status status = Commit(group, written);
      std::lock_guard<std::mutex> lock(mu_);
      if (status.ok()) {
        committed_ += group.size();
        stats_.listings += written.listings;
        stats_.cases += written.cases;
        stats_.groups += 1;
        AddStats(written.announced, stats_.announced);
      } else {
        // Stops: the queued entries will never commit; everyone waiting hears why.
        if (status_.ok()) status_ = std::move(status);
        queue_.clear();
        space_.notify_all();
      }
      committed_cv_.notify_all();
      group.clear();
      if (!status_.ok()) return;
    }
  }

  // Writes `group` in one transaction (called on the writer thread only).
  absl::Status Commit(std::vector<Entry>& group, OutboxWriterStats& written) {
    listings_.clear();
    cases_.clear();
    checkpoints_.clear();
    // The latest checkpoint of each (run, input), in the order first seen.
    std::map<std::pair<std::string_view, std::string_view>, size_t> checkpoint_index;
    for (Entry& e : group) {
      if (e.listing.has_value()) {
        ScannedListing& s = listings_.emplace_back();
        s.marketplace = e.listing->marketplace;
        s.listing_id = e.listing->listing_id;
        s.key_hash = ListingKeyHash(s.marketplace, s.listing_id);
        s.cases_begin = static_cast<uint32_t>(cases_.size());
        for (CaseRecord& c : e.listing->cases) cases_.push_back(std::move(c));
        s.cases_end = static_cast<uint32_t>(cases_.size());
      }
      for (ScanCheckpoint& c : e.checkpoints) {
        const auto [it, inserted] =
            checkpoint_index.try_emplace({c.run, c.input}, checkpoints_.size());
        if (inserted) {
          checkpoints_.push_back(std::move(c));
        } else {
          checkpoints_[it->second] = std::move(c);
        }
      }
    }
    OutboxBatch batch;  // run empty: published in this transaction
    batch.listings = listings_;
    batch.cases = cases_;
    batch.checkpoints = checkpoints_;
    absl::StatusOr<OutboxWriteStats> announced = sink_->Write(batch);
    if (!announced.ok()) {
      return absl::Status(announced.status().code(),
                          absl::StrCat("outbox writer: a group of ", listings_.size(),
                                       " listings did not commit: ", announced.status().message()));
    }
    written.listings = static_cast<int64_t>(listings_.size());
    written.cases = static_cast<int64_t>(cases_.size());
    written.announced = *announced;
    return absl::OkStatus();
  }

  std::unique_ptr<CaseSink> sink_;  // used by the writer thread only, then reset by Close
  const OutboxWriterOptions options_;
  // The current group, flattened for the sink (writer thread only; kept for capacity).
  std::vector<ScannedListing> listings_;
  std::vector<CaseRecord> cases_;
  std::vector<ScanCheckpoint> checkpoints_;

  mutable std::mutex mu_;
  std::condition_variable work_;          // the writer thread waits here for a group
  std::condition_variable space_;         // Add waits here for room in the queue
  std::condition_variable committed_cv_;  // Flush waits here for committed_
  std::deque<Entry> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t added_ ABSL_GUARDED_BY(mu_) = 0;         // entries ever queued
  uint64_t committed_ ABSL_GUARDED_BY(mu_) = 0;     // the first `committed_` of them committed
  uint64_t flush_target_ ABSL_GUARDED_BY(mu_) = 0;  // a Flush waits for this many
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);  // the first failed group's error
  OutboxWriterStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // last: starts once every member above exists
};

absl::StatusOr<std::unique_ptr<OutboxWriter>> OutboxWriter::Open(
    std::string_view location, const OutboxWriterOptions& options) {
  absl::StatusOr<std::unique_ptr<Outbox>> outbox = OpenOutbox(location);
  if (!outbox.ok()) return outbox.status();
  return Create(std::move(*outbox), options);
}

absl::StatusOr<std::unique_ptr<OutboxWriter>> OutboxWriter::Create(
    std::unique_ptr<CaseSink> sink, const OutboxWriterOptions& options) {
  if (sink == nullptr) return absl::InvalidArgumentError("outbox writer: no sink");
  if (options.max_group_listings < 1 || options.max_queued < 1 || options.max_group_delay_ms < 0) {
    return absl::InvalidArgumentError(
        "outbox writer: max_group_listings and max_queued must be >= 1, max_group_delay_ms >= 0");
  }
  return std::unique_ptr<OutboxWriter>(
      new OutboxWriter(std::make_unique<Impl>(std::move(sink), options)));
}

OutboxWriter::OutboxWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OutboxWriter::~OutboxWriter() = default;

absl::Status OutboxWriter::Add(JudgedListing listing, std::span<const ScanCheckpoint> checkpoints) {
  return impl_->Enqueue(Entry{std::move(listing), {checkpoints.begin(), checkpoints.end()}, {}},
                        /*block=*/true);
}

absl::Status OutboxWriter::TryAdd(JudgedListing listing,
                                  std::span<const ScanCheckpoint> checkpoints) {
  return impl_->Enqueue(Entry{std::move(listing), {checkpoints.begin(), checkpoints.end()}, {}},
                        /*block=*/false);
}

absl::Status OutboxWriter::AddCheckpoints(std::span<const ScanCheckpoint> checkpoints) {
  return impl_->Enqueue(Entry{std::nullopt, {checkpoints.begin(), checkpoints.end()}, {}},
                        /*block=*/true);
}

absl::Status OutboxWriter::Flush() { return impl_->Flush(); }
void OutboxWriter::Discard(std::string_view why) { impl_->Discard(why); }
absl::Status OutboxWriter::Close() { return impl_->Close(); }
OutboxWriterStats OutboxWriter::stats() const { return impl_->stats(); }

}  // namespace bonafide
