// End-to-end: generated dumps through Scanner::ScanFiles into real outboxes (SQLite; built a
// second time as postgres_scan_e2e_test, PostgreSQL).
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "tests/generated_dump.h"
#include "tests/outbox_test_util.h"
#include "tests/test_util.h"
#include "tools/gen/listing_generator.h"

namespace bonafide {
namespace {

const std::string kExampleRules = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";

// Writes a generated dump of `count` listings to `path`.
void Generate(const std::string& path, int64_t count, uint64_t seed) {
  gen::GeneratorOptions options;
  options.count = count;
  options.seed = seed;
  testing::WriteGeneratedDump(path, options);
}

// Keeps every case in memory.
class MemorySink : public CaseSink {
 public:
  absl::StatusOr<OutboxWriteStats> Write(const OutboxBatch& batch) override {
    records.insert(records.end(), batch.cases.begin(), batch.cases.end());
    return OutboxWriteStats{};
  }
  absl::StatusOr<OutboxWriteStats> Publish(std::string_view) override { return OutboxWriteStats{}; }
  std::vector<CaseRecord> records;
};

class ScanEndToEndTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ScannerOptions options;
    options.rules_dir = kExampleRules;
    auto scanner = Scanner::Create(options);
    ASSERT_TRUE(scanner.ok()) << scanner.status();
    scanner_ = scanner->release();
  }
  static void TearDownTestSuite() { delete scanner_; }

  ScanSummary ScanInto(const std::string& input, CaseSink& sink, int threads,
                       const std::string& rejects = "") {
    ScanOptions options;
    options.threads = threads;
    options.chunk_bytes = 64 << 10;  // many batches, so that threads interleave
    options.rejects_path = rejects;
    auto summary = scanner_->ScanFiles({input}, sink, options);
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary.ok() ? *summary : ScanSummary{};
  }

  static Scanner* scanner_;
  testing::TempDir dir_;
};

Scanner* ScanEndToEndTest::scanner_ = nullptr;

using CaseRow = std::tuple<std::string, double, std::string, std::string>;
std::vector<CaseRow> Rows(Outbox& outbox) {
  auto cases = testing::AllCases(outbox);
  EXPECT_TRUE(cases.ok());
  std::vector<CaseRow> rows;
  for (const auto& c : *cases) {
    rows.emplace_back(c.case_key, c.score, c.reasons_json, c.evidence_json);
  }
  return rows;
}

TEST_F(ScanEndToEndTest, OneAndTwoThreadsProduceTheSameOutbox) {
  const std::string input = dir_.Join("dump.jsonl");
  Generate(input, 6000, 7);
  auto one = testing::OpenTestOutbox(dir_, "one.db");
  auto two = testing::OpenTestOutbox(dir_, "two.db");
  ASSERT_TRUE(one.ok() && two.ok());
  const ScanSummary s1 = ScanInto(input, **one, 1, dir_.Join("one.rejects"));
  const ScanSummary s2 = ScanInto(input, **two, 2, dir_.Join("two.rejects"));
  EXPECT_EQ(s1.listings_read, 6000);
  EXPECT_EQ(s1.scanned, s2.scanned);
  EXPECT_GT(s1.outbox.opened, 100);
  EXPECT_EQ(s1.outbox.opened, s2.outbox.opened);
  EXPECT_EQ(Rows(**one), Rows(**two));
  auto e1 = testing::AllEvents(**one);
  auto e2 = testing::AllEvents(**two);
  ASSERT_TRUE(e1.ok() && e2.ok());
  ASSERT_EQ(e1->size(), e2->size());
  for (size_t i = 0; i < e1->size(); ++i) {
    EXPECT_EQ((*e1)[i].case_key, (*e2)[i].case_key);  // same order (case-key order per run)
    EXPECT_EQ((*e1)[i].payload_json, (*e2)[i].payload_json);
  }
  EXPECT_EQ(testing::ReadFileOrDie(dir_.Join("one.rejects")),
            testing::ReadFileOrDie(dir_.Join("two.rejects")));
}

// `scan --shard I/N`: N shards into one outbox add up to one unsharded scan: the same
// cases and events, every record counted once, each reject reported once (by shard 0).
TEST_F(ScanEndToEndTest, ShardsAddUpToOneUnshardedScan) {
  const std::string input = dir_.Join("dump.jsonl");
  Generate(input, 8000, 11);
  // A repeated listing (its shard counts the duplicate) and records that are not listings.
  const std::string dump = testing::ReadFileOrDie(input);
  const std::string first_line = dump.substr(0, dump.find('\n') + 1);
  dir_.Write("dump.jsonl", dump + first_line + "not json\n{\"id\":\"x\"}\n");

  auto whole = OpenOutbox(dir_.Join("whole.db"));
  ASSERT_TRUE(whole.ok());
  const ScanSummary all = ScanInto(input, **whole, 2, dir_.Join("whole.rejects"));
  ASSERT_EQ(all.rejected, 2);
  ASSERT_EQ(all.duplicates, 1);

  constexpr uint32_t kShards = 4;
  auto sharded = OpenOutbox(dir_.Join("sharded.db"));
  ASSERT_TRUE(sharded.ok());
  int64_t scanned = 0, rejected = 0, duplicates = 0, opened = 0;
  std::vector<int64_t> holder_cases(all.holders.size(), 0);
  std::string rejects;
  for (uint32_t i = 0; i < kShards; ++i) {
    ScanOptions options;
    options.threads = 2;
    options.chunk_bytes = 64 << 10;
    options.shard = {.index = i, .count = kShards};
    options.rejects_path = dir_.Join("shard" + std::to_string(i) + ".rejects");
    auto s = scanner_->ScanFiles({input}, **sharded, options);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->listings_read, all.listings_read) << "shard " << i;
    EXPECT_EQ(s->listings_read, s->scanned + s->rejected + s->other_shards) << "shard " << i;
    EXPECT_GT(s->scanned, all.scanned / kShards / 2) << "shard " << i;  // roughly even
    EXPECT_EQ(s->rejected, i == 0 ? 2 : 0);
    scanned += s->scanned;
    rejected += s->rejected;
    duplicates += s->duplicates;
    opened += s->outbox.opened;
    for (size_t h = 0; h < s->holders.size(); ++h) holder_cases[h] += s->holders[h].cases;
    rejects += testing::ReadFileOrDie(options.rejects_path);
  }
  EXPECT_EQ(scanned, all.scanned);
  EXPECT_EQ(rejected, all.rejected);
  EXPECT_EQ(duplicates, all.duplicates);
  EXPECT_EQ(opened, all.outbox.opened);
  for (size_t h = 0; h < all.holders.size(); ++h) {
    EXPECT_EQ(holder_cases[h], all.holders[h].cases) << all.holders[h].id;
  }
  EXPECT_EQ(rejects, testing::ReadFileOrDie(dir_.Join("whole.rejects")));
  EXPECT_EQ(Rows(**sharded), Rows(**whole));
  // The same events, each shard's in its own run (so not in the same order).
  using EventRow = std::tuple<std::string, std::string, std::string>;
  auto events = [](Outbox& outbox) {
    auto all_events = testing::AllEvents(outbox);
    EXPECT_TRUE(all_events.ok());
    std::multiset<EventRow> rows;
    for (const auto& e : *all_events) rows.emplace(e.case_key, e.type, e.payload_json);
    return rows;
  };
  EXPECT_EQ(events(**sharded), events(**whole));
}

// The RE2::Set backend (the benchmarks' peer) opens the same cases with the same scores.
// Reasons may quote a different one of two names ending at the same offset: the order of
// such hits is not part of Hyperscan's API (rules/re2_set_matcher.h).
TEST_F(ScanEndToEndTest, Re2SetBackendOpensTheSameCases) {
  const std::string input = dir_.Join("dump.jsonl");
  Generate(input, 4000, 12);
  ScannerOptions options;
  options.rules_dir = kExampleRules;
  options.text_backend = TextBackend::kRe2Set;
  auto re2_scanner = Scanner::Create(options);
  ASSERT_TRUE(re2_scanner.ok()) << re2_scanner.status();
  auto hyperscan = testing::OpenTestOutbox(dir_, "hyperscan.db");
  auto re2 = testing::OpenTestOutbox(dir_, "re2.db");
  ASSERT_TRUE(hyperscan.ok() && re2.ok());
  const ScanSummary s1 = ScanInto(input, **hyperscan, 2);
  ScanOptions scan_options;
  scan_options.threads = 2;
  auto s2 = (*re2_scanner)->ScanFiles({input}, **re2, scan_options);
  ASSERT_TRUE(s2.ok()) << s2.status();
  EXPECT_GT(s1.outbox.opened, 50);
  EXPECT_EQ(s1.outbox.opened, s2->outbox.opened);
  auto keys_and_scores = [](Outbox& outbox) {
    std::vector<std::pair<std::string, double>> out;
    for (const CaseRow& row : Rows(outbox)) out.emplace_back(std::get<0>(row), std::get<1>(row));
    return out;
  };
  EXPECT_EQ(keys_and_scores(**hyperscan), keys_and_scores(**re2));
}

TEST_F(ScanEndToEndTest, RescanningTheSameDumpAddsNoCaseAndNoEvent) {
  const std::string input = dir_.Join("dump.jsonl");
  Generate(input, 3000, 11);
  auto outbox = testing::OpenTestOutbox(dir_, "outbox.db");
  ASSERT_TRUE(outbox.ok());
  const ScanSummary first = ScanInto(input, **outbox, 2);
  const auto rows = Rows(**outbox);
  const size_t events = testing::AllEvents(**outbox)->size();
  EXPECT_GT(first.outbox.opened, 0);
  EXPECT_EQ(static_cast<size_t>(first.outbox.opened), events);

  const ScanSummary second = ScanInto(input, **outbox, 2);
  EXPECT_EQ(second.outbox.opened, 0);
  EXPECT_EQ(second.outbox.updated, 0);
  EXPECT_EQ(second.outbox.closed + second.outbox.reopened + second.outbox.silent, 0);
  EXPECT_EQ(Rows(**outbox), rows);
  EXPECT_EQ(testing::AllEvents(**outbox)->size(), events);
}

TEST_F(ScanEndToEndTest, ChangedListingUpdatesItsCase) {
  const std::string input = dir_.Join("a.jsonl");
  dir_.Write(
      "a.jsonl",
      R"({"id":"x1","title":"Nike Air Max 90 replica","price":120,"currency":"EUR","seller_id":"s-1"})"
      "\n");
  auto outbox = testing::OpenTestOutbox(dir_, "outbox.db");
  ASSERT_TRUE(outbox.ok());
  EXPECT_EQ(ScanInto(input, **outbox, 1).outbox.opened, 1);
  dir_.Write(
      "a.jsonl",
      R"({"id":"x1","title":"Nike Air Max 90 replica","price":20,"currency":"EUR","seller_id":"s-1"})"
      "\n");
  EXPECT_EQ(ScanInto(input, **outbox, 1).outbox.updated, 1);
  auto events = testing::AllEvents(**outbox);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].type, "case.opened");
  EXPECT_EQ((*events)[1].type, "case.updated");
}

TEST_F(ScanEndToEndTest, EveryRecordIsScannedOrRejectedWithAReason) {
  const std::string input = dir_.Write(
      "mixed.jsonl",
      R"({"id":"1","title":"Nike Air Max 90 replica","price":20,"currency":"EUR","seller_id":"s"})"
      "\n"
      "not json\n"
      "\n"
      R"({"id":"3","title":"t","price":-1,"currency":"EUR","seller_id":"s"})"
      "\n"
      R"({"id":"4","title":"t","price":1,"currency":"XYZ","seller_id":"s"})"
      "\n"
      R"({"id":"5","title":"t","currency":"EUR","seller_id":"s"})"
      "\n"
      R"({"id":"6","title":"plain socks","price":3,"currency":"USD","seller_id":"s"})"
      "\n"
      R"({"id":"7","title":"Nike Air)");
  MemorySink sink;
  const std::string rejects = dir_.Join("rejects.jsonl");
  const ScanSummary s = ScanInto(input, sink, 2, rejects);
  EXPECT_EQ(s.listings_read, 8);
  EXPECT_EQ(s.scanned, 2);
  EXPECT_EQ(s.rejected, 6);
  EXPECT_EQ(s.listings_read, s.scanned + s.rejected);
  EXPECT_EQ(sink.records.size(), 1u);
  const std::string text = testing::ReadFileOrDie(rejects);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 6);
  for (const char* expected : {R"("line":2,"offset":89,"reason":"not a JSON object")",
                               R"("line":3,)", R"("line":4,)", R"("line":5,)", "unknown currency",
                               R"("line":6,)", R"("line":8,)", "truncated last line"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
}

// The generator labels every listing with the cases it must open; the engine must agree.
TEST_F(ScanEndToEndTest, GeneratedDumpMeetsPrecisionAndRecallTargets) {
  const std::string input = dir_.Join("labelled.jsonl");
  Generate(input, 20000, 2026);
  std::set<std::pair<std::string, std::string>> expected;  // (holder, listing id)
  // The evasive form of each listing's brand ("brand:edge_leet") and product keyword
  // ("keyword:spaced_model"), from the generator's labels: recall is checked per form.
  std::map<std::string, std::set<std::string>> listings_by_form;
  simdjson::ondemand::parser parser;
  auto json = simdjson::padded_string::load(input);
  ASSERT_EQ(json.error(), simdjson::SUCCESS);
  simdjson::ondemand::document_stream docs;
  ASSERT_EQ(parser.iterate_many(json.value()).get(docs), simdjson::SUCCESS);
  int64_t listings = 0;
  for (auto doc : docs) {
    ++listings;
    std::string_view id;
    ASSERT_EQ(doc["id"].get_string().get(id), simdjson::SUCCESS);
    const std::string listing_id(id);
    simdjson::ondemand::array labels;
    ASSERT_EQ(doc["label_cases"].get_array().get(labels), simdjson::SUCCESS);
    for (auto label : labels) {
      std::string_view holder;
      ASSERT_EQ(label.get_string().get(holder), simdjson::SUCCESS);
      expected.emplace(std::string(holder), listing_id);
    }
    for (const char* key : {"label_form", "label_keyword_form"}) {
      std::string_view form;
      if (doc[key].get_string().get(form) == simdjson::SUCCESS) {
        listings_by_form[std::string(key == std::string_view("label_form") ? "brand:" : "keyword:")
                             .append(form)]
            .insert(listing_id);
      }
    }
  }
  ASSERT_EQ(listings, 20000);
  MemorySink sink;
  const ScanSummary s = ScanInto(input, sink, 2);
  EXPECT_EQ(s.scanned, 20000);
  std::set<std::pair<std::string, std::string>> found;
  for (const auto& r : sink.records) found.emplace(r.rights_holder, r.listing_id);
  EXPECT_EQ(found.size(), sink.records.size()) << "a case was written twice";

  int64_t true_positives = 0;
  std::vector<std::string> false_positives, false_negatives;
  for (const auto& f : found) {
    if (expected.count(f)) {
      ++true_positives;
    } else {
      false_positives.push_back(f.first + " " + f.second);
    }
  }
  for (const auto& e : expected) {
    if (!found.count(e)) false_negatives.push_back(e.first + " " + e.second);
  }
  const double precision = static_cast<double>(true_positives) / found.size();
  const double recall = static_cast<double>(true_positives) / expected.size();
  std::printf("cases expected %zu, found %zu: precision %.4f, recall %.4f\n", expected.size(),
              found.size(), precision, recall);
  for (size_t i = 0; i < std::min<size_t>(false_positives.size(), 10); ++i) {
    std::printf("  false positive: %s\n", false_positives[i].c_str());
  }
  for (size_t i = 0; i < std::min<size_t>(false_negatives.size(), 10); ++i) {
    std::printf("  false negative: %s\n", false_negatives[i].c_str());
  }
  EXPECT_GT(expected.size(), 1000u);
  EXPECT_GE(precision, 0.99);
  EXPECT_GE(recall, 0.98);

  // Recall per evasive form: of the cases expected on listings written in that form.
  for (const char* form :
       {"brand:leet", "brand:homoglyph", "brand:full_width", "brand:spaced", "brand:dotted",
        "brand:edge_leet", "keyword:homoglyph", "keyword:edge_leet", "keyword:spaced_model"}) {
    const std::set<std::string>& ids = listings_by_form[form];
    int64_t want = 0, got = 0;
    for (const auto& e : expected) {
      if (!ids.count(e.second)) continue;
      ++want;
      got += found.count(e);
    }
    std::printf("  %-22s listings %5zu, cases %5lld, recall %.4f\n", form, ids.size(),
                static_cast<long long>(want), want ? static_cast<double>(got) / want : 0.0);
    EXPECT_GE(want, 20) << form << ": too few cases to measure";
    EXPECT_GE(got, want * 99 / 100) << form;
  }
  // Negatives built to look like them: product codes that are short brand names written
  // mostly in digits ("model U99") name nobody.
  const std::set<std::string>& lookalikes = listings_by_form["brand:lookalike_number"];
  int64_t false_cases = 0;
  for (const auto& f : found) false_cases += lookalikes.count(f.second);
  std::printf("  %-22s listings %5zu, false cases %lld\n", "negatives:lookalike", lookalikes.size(),
              static_cast<long long>(false_cases));
  EXPECT_GE(lookalikes.size(), 100u);
  EXPECT_EQ(false_cases, 0);
}

}  // namespace
}  // namespace bonafide
