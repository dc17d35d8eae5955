// ReloadableScanner: rules swapped while threads judge listings.
#include "bonafide/reloadable_scanner.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/acme_pack.h"

namespace bonafide {
namespace {

// The ACME pack, and the same pack with a threshold no listing reaches.
struct TwoRuleSets {
  testing::TempDir dir;
  std::shared_ptr<const Scanner> opens, never_opens;

  TwoRuleSets() {
    ScannerOptions options;
    options.rules_dir = testing::WriteAcmePack(dir);
    auto first = Scanner::Create(options);
    EXPECT_TRUE(first.ok()) << first.status();
    opens = std::move(*first);
    dir.Write("rules/policy.yaml", R"(currency: EUR
fx_date: 2026-11-27
fx: {USD: 0.86, GBP: 1.14, JPY: 0.0057, CNY: 0.12}
threshold: 100.0
weights: {cue: 1.0, price: 1.0, image: 1.0, obfuscated_brand: 0.5}
image: {max_distance: 31, min_quality: 50}
)");
    auto second = Scanner::Create(options);
    EXPECT_TRUE(second.ok()) << second.status();
    never_opens = std::move(*second);
    EXPECT_NE(opens->rules_info().rules_version, never_opens->rules_info().rules_version);
  }
};

Listing ReplicaListing() {
  Listing listing;
  listing.id = "L1";
  listing.seller_id = "s-9";
  listing.title = "ACME Runner 22 replica";
  listing.price = 150;
  listing.currency = "EUR";
  return listing;
}

TEST(ReloadableScannerTest, WorkersJudgeWithTheRulesOfTheirScanner) {
  TwoRuleSets rules;
  ReloadableScanner reloadable(rules.opens);
  ReloadableScanner::Worker worker(reloadable);
  const Listing listing = ReplicaListing();
  Verdict verdict;
  ASSERT_TRUE(worker.Scan(listing, verdict).ok());
  EXPECT_TRUE(verdict.any_case());
  EXPECT_EQ(&worker.scanner(), rules.opens.get());

  std::weak_ptr<const Scanner> replaced = rules.opens;
  reloadable.Replace(rules.never_opens);
  rules.opens.reset();
  EXPECT_FALSE(replaced.expired());  // the worker still holds it
  EXPECT_EQ(reloadable.generation(), 1u);
  ASSERT_TRUE(worker.Scan(listing, verdict).ok());
  EXPECT_FALSE(verdict.any_case());
  EXPECT_EQ(&worker.scanner(), rules.never_opens.get());
  EXPECT_TRUE(replaced.expired());  // destroyed once the last worker moved on

  Listing refused = listing;
  refused.price = -5;
  EXPECT_EQ(worker.Scan(refused, verdict).code(), absl::StatusCode::kInvalidArgument);
}

// Judging threads never see a verdict of one rule set with the scanner of another, and
// every replaced scanner outlives the scans using it (ASan checks the latter in CI).
TEST(ReloadableScannerTest, ReplacingWhileThreadsJudgeIsSafe) {
  TwoRuleSets rules;
  ReloadableScanner reloadable(rules.opens);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> judged{0};
  constexpr int kThreads = 3;
  std::vector<int64_t> mismatches(kThreads, 0), seen_opens(kThreads, 0), seen_never(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ReloadableScanner::Worker worker(reloadable);
      const Listing listing = ReplicaListing();
      Verdict verdict;
      CaseRecord record;
      while (!stop.load(std::memory_order_relaxed)) {
        if (!worker.Scan(listing, verdict).ok()) ++mismatches[t];  // keeps counting: no hang
        const Scanner& scanner = worker.scanner();
        const bool should_open = &scanner == rules.opens.get();
        (should_open ? seen_opens : seen_never)[t]++;
        if (verdict.any_case() != should_open) ++mismatches[t];
        for (const HolderVerdict& h : verdict.holders) {
          if (!h.case_opened) continue;
          scanner.MakeCaseRecord(listing, verdict, h, record);
          if (record.evidence_json.find(scanner.rules_info().rules_version) == std::string::npos) {
            ++mismatches[t];
          }
        }
        judged.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // Replace only after the workers judged some listings with the current rules, so that
  // every worker crosses many reloads.
  for (int reload = 0; reload < 40; ++reload) {
    const int64_t at = judged.load();
    while (judged.load() < at + 2 * kThreads) std::this_thread::yield();
    reloadable.Replace(reload % 2 == 0 ? rules.never_opens : rules.opens);
  }
  stop = true;
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(mismatches[t], 0) << "thread " << t;
    EXPECT_GT(seen_opens[t], 0) << "thread " << t;
    EXPECT_GT(seen_never[t], 0) << "thread " << t;
  }
  EXPECT_EQ(reloadable.generation(), 40u);
}

}  // namespace
}  // namespace bonafide
