#include "bonafide/reloadable_scanner.h"

#include <utility>

#include "util/status_macros.h"

namespace bonafide {

ReloadableScanner::ReloadableScanner(std::shared_ptr<const Scanner> scanner)
    : scanner_(std::move(scanner)) {
  BONAFIDE_CHECK(scanner_ != nullptr && "a ReloadableScanner needs a Scanner");
}

void ReloadableScanner::Replace(std::shared_ptr<const Scanner> scanner) {
  BONAFIDE_CHECK(scanner != nullptr && "Replace needs a Scanner");
  std::shared_ptr<const Scanner> replaced;
  {
    std::lock_guard<std::mutex> lock(mu_);
    replaced = std::exchange(scanner_, std::move(scanner));
    // Inside the lock: a worker that sees the new generation finds the new scanner.
    generation_.fetch_add(1, std::memory_order_release);
  }
  // `replaced` (if no worker holds it) is destroyed here, outside the lock: destroying a
  // Scanner frees its compiled databases, which takes a while.
}

std::shared_ptr<const Scanner> ReloadableScanner::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scanner_;
}

ReloadableScanner::Worker::Worker(const ReloadableScanner& rules) : rules_(rules) {
  std::lock_guard<std::mutex> lock(rules_.mu_);
  scanner_ = rules_.scanner_;
  generation_ = rules_.generation_.load(std::memory_order_relaxed);
}

ReloadableScanner::Worker::~Worker() = default;

absl::Status ReloadableScanner::Worker::Refresh() {
  std::shared_ptr<const Scanner> next;
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(rules_.mu_);
    next = rules_.scanner_;
    generation = rules_.generation_.load(std::memory_order_relaxed);
  }
  absl::StatusOr<std::unique_ptr<Scanner::Scratch>> scratch = next->NewScratch();
  if (!scratch.ok()) return scratch.status();
  scratch_ = std::move(*scratch);  // the old scratch goes before the scanner it belongs to
  scanner_ = std::move(next);
  generation_ = generation;
  return absl::OkStatus();
}

absl::Status ReloadableScanner::Worker::Scan(const Listing& listing, Verdict& verdict) {
  if (scratch_ == nullptr || rules_.generation() != generation_) {
    if (absl::Status moved = Refresh(); !moved.ok()) return moved;
  }
  return scanner_->Scan(listing, *scratch_, verdict);
}

}  // namespace bonafide
