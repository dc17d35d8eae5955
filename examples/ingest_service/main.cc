// ingest_service: the smallest useful ingestion service on the installed bonafide library.
//
//   ingest_service RULES_DIR OUTBOX [THREADS]  < listings.jsonl
//
// Reads listings as JSON objects, one per line, on standard input (where a real service
// takes request bodies or queue messages), judges each on THREADS threads (default 2),
// commits the cases through the batching writer, and reloads the rules on SIGHUP without
// stopping. Refused listings are reported on standard error with their line. At the end
// of input it prints what it did and exits 0 (1 when the outbox could not be written).
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bonafide/listing.h"
#include "bonafide/outbox_writer.h"
#include "bonafide/reloadable_scanner.h"
#include "bonafide/scanner.h"
#include "bonafide/version.h"

namespace {

std::atomic<bool> reload_requested{false};
extern "C" void OnSighup(int) { reload_requested.store(true, std::memory_order_relaxed); }

// Lines handed from the reading thread to the judging threads; bounded, so that a slow
// outbox slows the reading down instead of filling memory.
class LineQueue {
 public:
  explicit LineQueue(size_t capacity) : capacity_(capacity) {}
  void Push(uint64_t number, std::string line) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return lines_.size() < capacity_; });
    lines_.emplace_back(number, std::move(line));
    not_empty_.notify_one();
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  // False once the queue is closed and empty.
  bool Pop(std::pair<uint64_t, std::string>& out) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !lines_.empty() || closed_; });
    if (lines_.empty()) return false;
    out = std::move(lines_.front());
    lines_.pop_front();
    not_full_.notify_one();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<std::pair<uint64_t, std::string>> lines_;
  const size_t capacity_;
  bool closed_ = false;
};

std::shared_ptr<const bonafide::Scanner> LoadRules(const std::string& dir) {
  bonafide::ScannerOptions options;
  options.rules_dir = dir;
  auto scanner = bonafide::Scanner::Create(options);
  if (!scanner.ok()) {
    std::cerr << "ingest_service: " << scanner.status().message() << "\n";
    return nullptr;
  }
  return std::move(*scanner);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::cerr << "usage: ingest_service RULES_DIR OUTBOX [THREADS] < listings.jsonl\n"
              << "(bonafide " << BONAFIDE_VERSION_STRING << ")\n";
    return 2;
  }
  const std::string rules_dir = argv[1];
  const int threads = argc == 4 ? std::atoi(argv[3]) : 2;
  if (threads < 1) {
    std::cerr << "ingest_service: THREADS must be >= 1\n";
    return 2;
  }
  std::shared_ptr<const bonafide::Scanner> first = LoadRules(rules_dir);
  if (first == nullptr) return 1;
  bonafide::ReloadableScanner rules(std::move(first));
  auto writer = bonafide::OutboxWriter::Open(argv[2], {});
  if (!writer.ok()) {
    std::cerr << "ingest_service: " << writer.status().message() << "\n";
    return 1;
  }
  ::signal(SIGHUP, OnSighup);

  LineQueue queue(4096);
  std::atomic<int64_t> judged{0}, refused{0}, cases{0};
  std::mutex stderr_mu;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      bonafide::ReloadableScanner::Worker worker(rules);
      bonafide::ListingJsonParser parser;
      bonafide::Listing listing;
      bonafide::Verdict verdict;
      std::pair<uint64_t, std::string> line;
      while (queue.Pop(line)) {
        absl::Status status = parser.Parse(line.second, listing);
        if (status.ok()) status = worker.Scan(listing, verdict);
        if (!status.ok()) {
          refused.fetch_add(1);
          std::lock_guard<std::mutex> lock(stderr_mu);
          std::cerr << "stdin:" << line.first << ": refused: " << status.message() << "\n";
          continue;
        }
        bonafide::JudgedListing out{listing.marketplace, listing.id, {}};
        for (const bonafide::HolderVerdict& holder : verdict.holders) {
          if (!holder.case_opened) continue;
          worker.scanner().MakeCaseRecord(listing, verdict, holder, out.cases.emplace_back());
        }
        cases.fetch_add(static_cast<int64_t>(out.cases.size()));
        judged.fetch_add(1);
        // Blocks while the writer's queue is full; fails only once the outbox failed.
        if (!(*writer)->Add(std::move(out)).ok()) return;
      }
    });
  }

  std::string text;
  for (uint64_t number = 1; std::getline(std::cin, text); ++number) {
    if (reload_requested.exchange(false)) {
      // The new rules load beside the running ones; a broken rules directory keeps the old.
      if (std::shared_ptr<const bonafide::Scanner> next = LoadRules(rules_dir)) {
        rules.Replace(std::move(next));
        std::lock_guard<std::mutex> lock(stderr_mu);
        std::cerr << "ingest_service: rules reloaded ("
                  << rules.current()->rules_info().rules_version << ")\n";
      }
    }
    queue.Push(number, std::move(text));
  }
  queue.Close();
  for (std::thread& worker : workers) worker.join();
  const absl::Status closed = (*writer)->Close();
  const bonafide::OutboxWriterStats stats = (*writer)->stats();
  std::cout << "judged " << judged.load() << ", refused " << refused.load() << ", cases "
            << cases.load() << ", committed " << stats.listings << " listings in " << stats.groups
            << " transactions, opened " << stats.announced.opened << "\n";
  if (!closed.ok()) {
    std::cerr << "ingest_service: " << closed.message() << "\n";
    return 1;
  }
  return 0;
}
