// Rules that change while listings are judged (a hot reload without a restart).
//
// A service keeps one ReloadableScanner; each thread that judges listings keeps a Worker
// made from it. A reload builds the new Scanner beside the running one (Create is slow)
// and swaps it in; workers pick it up between two listings.
//
//   bonafide::ReloadableScanner rules(std::move(*scanner));   // from Scanner::Create
//
//   // on each judging thread:
//   bonafide::ReloadableScanner::Worker worker(rules);
//   bonafide::Verdict verdict;
//   if (absl::Status s = worker.Scan(listing, verdict); !s.ok()) { ...refused... }
//   for (const auto& h : verdict.holders)
//     if (h.case_opened) worker.scanner().MakeCaseRecord(listing, verdict, h, record);
//
//   // on a reload, from any thread:
//   auto next = bonafide::Scanner::Create(options);
//   if (next.ok()) rules.Replace(std::move(*next));         // else keep the old rules
#ifndef BONAFIDE_RELOADABLE_SCANNER_H_
#define BONAFIDE_RELOADABLE_SCANNER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/status/status.h"

#include "bonafide/export.h"
#include "bonafide/listing.h"
#include "bonafide/scanner.h"
#include "bonafide/verdict.h"

namespace bonafide {

// Thread-safe. Not copyable.
class BONAFIDE_EXPORT ReloadableScanner {
 public:
  // REQUIRES: `scanner` is not null.
  explicit ReloadableScanner(std::shared_ptr<const Scanner> scanner);
  ReloadableScanner(const ReloadableScanner&) = delete;
  ReloadableScanner& operator=(const ReloadableScanner&) = delete;

  // Makes `scanner` the one every Worker judges with from its next Scan on. A listing
  // being judged finishes with the rules it started with; the replaced Scanner is destroyed
  // when the last Worker using it has moved on or been destroyed. REQUIRES: not null.
  void Replace(std::shared_ptr<const Scanner> scanner);

  // The Scanner later Scans use.
  std::shared_ptr<const Scanner> current() const;

  // How many times Replace() was called.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // One judging thread's state: the Scanner it judges with and that Scanner's scratch.
  // Not thread-safe (one per thread); keeps a reference to the ReloadableScanner, which
  // must outlive it. Not copyable.
  class BONAFIDE_EXPORT Worker {
   public:
    explicit Worker(const ReloadableScanner& rules);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Judges `listing` with the current rules, as Scanner::Scan does (same errors). Checks
    // for a Replace() with one atomic load; after one, makes a scratch for the new Scanner
    // (allocations) and, should that fail (out of memory), returns its error without
    // judging the listing; the next Scan tries again.
    absl::Status Scan(const Listing& listing, Verdict& verdict);

    // The Scanner the last Scan judged with (the current one before any Scan): make the
    // verdict's case records with it, since a verdict's indexes are its rules'.
    const Scanner& scanner() const { return *scanner_; }

   private:
    // Moves to the current Scanner when a Replace() happened since the last move.
    absl::Status Refresh();

    const ReloadableScanner& rules_;
    uint64_t generation_ = 0;
    std::shared_ptr<const Scanner> scanner_;
    std::unique_ptr<Scanner::Scratch> scratch_;
  };

 private:
  mutable std::mutex mu_;  // guards scanner_
  std::shared_ptr<const Scanner> scanner_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace bonafide

#endif  // BONAFIDE_RELOADABLE_SCANNER_H_
