// bonafide_embed_bench: the embedded path (an ingestion service judging listings one at a
// time) against `bonafide scan` of the same listings.
//
//   bonafide_embed_bench --rules examples/rules --input dump.jsonl [--threads 2]
//                        [--photo genuine.jpg --listing-photo other.jpg] [--repeats 3]
//                        [--group N] [--work-dir DIR] [--json results.json]
//
// Rows, each on the same listings, taking turns round by round:
//   scan       Scanner::ScanFiles of the file into a fresh SQLite outbox (what `bonafide
//              scan --threads T` does after start-up): the baseline.
//   embedded   T threads, each taking the file's lines one by one as a service takes
//              messages: ListingJsonParser::Parse, ReloadableScanner::Worker::Scan (its
//              validation included), MakeCaseRecord for each case, OutboxWriter::Add into a
//              fresh SQLite outbox (groups of --group listings, the writer's default
//              256); timed until the writer's Close returned. Per listing,
//              the latency from the start of Parse to the return of Add.
// With --photo, a copy of the rules registers that photo as a genuine photo of the last
// product of the last rights holder file, and every listing carries the bytes of
// --listing-photo in Listing::image_bytes (decoded and hashed per listing, as a service
// would an upload; a different photo: no match).
//
// Prints per row: listings/s, and for `embedded` the latency p50 / p99 / p99.9 and its time
// over the scan's. Each figure is the median of --repeats rounds.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "bench/child_process.h"
#include "bonafide/listing.h"
#include "bonafide/outbox.h"
#include "bonafide/outbox_writer.h"
#include "bonafide/reloadable_scanner.h"
#include "bonafide/scanner.h"

namespace bonafide {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string rules;
  std::string input;
  int threads = 2;
  int repeats = 3;
  std::string photo;          // registered as a genuine photo (a copy of the rules)
  std::string listing_photo;  // every listing's photo, in memory
  std::string work_dir = fs::temp_directory_path().string();
  std::string json;
  size_t group_listings = OutboxWriterOptions{}.max_group_listings;  // --group
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bonafide_embed_bench: %s\n", message.c_str());
  std::exit(1);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--rules") {
      o.rules = value();
    } else if (arg == "--input") {
      o.input = value();
    } else if (arg == "--threads") {
      if (!absl::SimpleAtoi(value(), &o.threads) || o.threads < 1) Die("bad --threads");
    } else if (arg == "--repeats") {
      if (!absl::SimpleAtoi(value(), &o.repeats) || o.repeats < 1) Die("bad --repeats");
    } else if (arg == "--photo") {
      o.photo = value();
    } else if (arg == "--listing-photo") {
      o.listing_photo = value();
    } else if (arg == "--work-dir") {
      o.work_dir = value();
    } else if (arg == "--group") {
      if (!absl::SimpleAtoi(value(), &o.group_listings) || o.group_listings < 1) Die("bad --group");
    } else if (arg == "--json") {
      o.json = value();
    } else {
      Die("unknown argument " + arg + " (see the comment at the top of bench/embed_bench.cc)");
    }
  }
  if (o.rules.empty() || o.input.empty()) Die("--rules and --input are required");
  if (o.photo.empty() != o.listing_photo.empty()) {
    Die("--photo and --listing-photo go together");
  }
  return o;
}

// A copy of the rules whose last product (of the last rights holder file, by name)
// registers `photo` as a genuine photo. The rules' YAML ends inside that product's mapping,
// indented by four spaces, as examples/rules does.
std::string RulesWithPhoto(const Options& o) {
  const fs::path dir = fs::path(o.work_dir) / "embed-bench-rules";
  fs::remove_all(dir);
  fs::copy(o.rules, dir, fs::copy_options::recursive);
  std::vector<fs::path> holders;
  for (const auto& entry : fs::directory_iterator(dir / "rights_holders")) {
    if (entry.path().extension() == ".yaml") holders.push_back(entry.path());
  }
  if (holders.empty()) Die("no rights holder files in " + o.rules);
  std::sort(holders.begin(), holders.end());
  fs::create_directories(dir / "rights_holders/photos");
  fs::copy_file(o.photo, dir / "rights_holders/photos/genuine.jpg");
  std::ofstream(holders.back(), std::ios::app) << "    images: [photos/genuine.jpg]\n";
  return dir.string();
}

std::unique_ptr<Scanner> NewScanner(const std::string& rules, const std::string& cache_dir) {
  ScannerOptions options;
  options.rules_dir = rules;
  options.cache_dir = cache_dir;
  auto scanner = Scanner::Create(options);
  if (!scanner.ok()) Die(std::string(scanner.status().message()));
  return std::move(*scanner);
}

std::string FreshOutbox(const Options& o, const char* name) {
  const std::string path = (fs::path(o.work_dir) / name).string();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  return path;
}

struct Row {
  double seconds = 0;
  int64_t listings = 0;
  int64_t cases = 0;
  // From the start of Parse to the return of Add, and the judging part alone (Parse, Scan,
  // MakeCaseRecord: what the service's thread spends before handing over).
  double p50_us = 0, p99_us = 0, p999_us = 0;
  double judge_p50_us = 0, judge_p99_us = 0, judge_p999_us = 0;
};

Row RunScan(const Options& o, const Scanner& scanner) {
  auto outbox = OpenOutbox(FreshOutbox(o, "embed-bench-scan.db"));
  if (!outbox.ok()) Die(std::string(outbox.status().message()));
  ScanOptions options;
  options.threads = o.threads;
  options.resume = false;
  const Clock::time_point start = Clock::now();
  auto summary = scanner.ScanFiles({o.input}, **outbox, options);
  if (!summary.ok()) Die(std::string(summary.status().message()));
  outbox->reset();
  Row row;
  row.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  row.listings = summary->listings_read;
  for (const auto& h : summary->holders) row.cases += h.cases;
  return row;
}

double Percentile(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t at = std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()));
  return sorted[at] / 1000.0;
}

Row RunEmbedded(const Options& o, ReloadableScanner& rules, const std::vector<std::string>& lines,
                const std::string& listing_photo) {
  OutboxWriterOptions writer_options;
  writer_options.max_group_listings = o.group_listings;
  auto writer = OutboxWriter::Open(FreshOutbox(o, "embed-bench-writer.db"), writer_options);
  if (!writer.ok()) Die(std::string(writer.status().message()));
  std::atomic<size_t> next{0};
  std::atomic<int64_t> cases{0};
  std::vector<std::vector<uint32_t>> latencies(o.threads), judging(o.threads);
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      ReloadableScanner::Worker worker(rules);
      ListingJsonParser parser;
      Listing listing;
      Verdict verdict;
      std::vector<uint32_t>& mine = latencies[t];
      std::vector<uint32_t>& judged_ns = judging[t];
      mine.reserve(lines.size() / o.threads + 1);
      judged_ns.reserve(lines.size() / o.threads + 1);
      for (size_t i = next.fetch_add(1); i < lines.size(); i = next.fetch_add(1)) {
        const Clock::time_point begin = Clock::now();
        if (!parser.Parse(lines[i], listing).ok()) continue;  // counted by the scan as rejects
        if (!listing_photo.empty()) {  // the upload, in place of any paths of the file
          listing.images.assign(1, "upload.jpg");
          listing.image_bytes.assign(1, listing_photo);
        }
        if (!worker.Scan(listing, verdict).ok()) continue;
        JudgedListing judged{listing.marketplace, listing.id, {}};
        for (const HolderVerdict& h : verdict.holders) {
          if (h.case_opened) {
            worker.scanner().MakeCaseRecord(listing, verdict, h, judged.cases.emplace_back());
          }
        }
        cases.fetch_add(static_cast<int64_t>(judged.cases.size()), std::memory_order_relaxed);
        judged_ns.push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - begin).count()));
        if (absl::Status added = (*writer)->Add(std::move(judged)); !added.ok()) {
          Die(std::string(added.message()));
        }
        mine.push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - begin).count()));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  if (absl::Status flushed = (*writer)->Close(); !flushed.ok()) Die(std::string(flushed.message()));
  Row row;
  row.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<uint32_t> all, judge;
  for (const auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  for (const auto& v : judging) judge.insert(judge.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  std::sort(judge.begin(), judge.end());
  row.judge_p50_us = Percentile(judge, 0.50);
  row.judge_p99_us = Percentile(judge, 0.99);
  row.judge_p999_us = Percentile(judge, 0.999);
  row.listings = static_cast<int64_t>(lines.size());  // records, as the scan counts them
  row.cases = cases.load();
  row.p50_us = Percentile(all, 0.50);
  row.p99_us = Percentile(all, 0.99);
  row.p999_us = Percentile(all, 0.999);
  return row;
}

int Main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  fs::create_directories(o.work_dir);
  const std::string rules_dir = o.photo.empty() ? o.rules : RulesWithPhoto(o);
  const std::string cache_dir = (fs::path(o.work_dir) / "embed-bench-cache").string();
  const std::unique_ptr<Scanner> scanner = NewScanner(rules_dir, cache_dir);
  if (!o.photo.empty() && scanner->rules_info().genuine_photos.empty()) {
    Die("the copy of the rules registers no genuine photo");
  }
  ReloadableScanner reloadable(NewScanner(rules_dir, cache_dir));
  std::vector<std::string> lines;
  {
    std::istringstream in(ReadAll(o.input));
    for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  }
  const std::string listing_photo = o.listing_photo.empty() ? "" : ReadAll(o.listing_photo);
  // The scan row reads the file's photos the same way: a copy of the input whose listings
  // carry no paths would not read any, so with a photo only the embedded row runs.
  const bool with_scan = listing_photo.empty();

  std::vector<Row> scans, embeds;
  for (int round = 0; round < o.repeats; ++round) {
    if (with_scan) scans.push_back(RunScan(o, *scanner));
    embeds.push_back(RunEmbedded(o, reloadable, lines, listing_photo));
  }
  auto median = [](std::vector<Row> rows, auto field) {
    std::vector<double> v;
    for (const Row& r : rows) v.push_back(r.*field);
    return bench::Median(v);
  };
  const Row& e = embeds.front();
  const double embed_s = median(embeds, &Row::seconds);
  std::printf("embedded path, %d threads, %s%s; median of %d rounds\n", o.threads, o.input.c_str(),
              listing_photo.empty() ? "" : ", one photo per listing in memory", o.repeats);
  std::string json = absl::StrFormat(
      R"({"threads":%d,"photo":%s,"listings":%d,"cases":%d,"embedded_seconds":%.4f,)"
      R"("p50_us":%.2f,"p99_us":%.2f,"p999_us":%.2f,"judge_p50_us":%.2f,"judge_p99_us":%.2f,)"
      R"("judge_p999_us":%.2f)",
      o.threads, listing_photo.empty() ? "false" : "true", e.listings, e.cases, embed_s,
      median(embeds, &Row::p50_us), median(embeds, &Row::p99_us), median(embeds, &Row::p999_us),
      median(embeds, &Row::judge_p50_us), median(embeds, &Row::judge_p99_us),
      median(embeds, &Row::judge_p999_us));
  if (with_scan) {
    const double scan_s = median(scans, &Row::seconds);
    std::printf("  scan      %8.3f s  %10.0f listings/s  %lld cases\n", scan_s,
                scans.front().listings / scan_s, static_cast<long long>(scans.front().cases));
    absl::StrAppendFormat(&json, R"(,"scan_seconds":%.4f,"embedded_over_scan":%.3f)", scan_s,
                          embed_s / scan_s);
    std::printf("  embedded  %8.3f s  %10.0f listings/s  %lld cases  (%.2fx the scan's time)\n",
                embed_s, e.listings / embed_s, static_cast<long long>(e.cases), embed_s / scan_s);
  } else {
    std::printf("  embedded  %8.3f s  %10.0f listings/s  %lld cases\n", embed_s,
                e.listings / embed_s, static_cast<long long>(e.cases));
  }
  std::printf(
      "  latency per listing (parse + validate + scan + records + Add): p50 %.2f us, "
      "p99 %.2f us, p99.9 %.2f us\n",
      median(embeds, &Row::p50_us), median(embeds, &Row::p99_us), median(embeds, &Row::p999_us));
  std::printf(
      "  of which judging (parse + validate + scan + records): p50 %.2f us, p99 %.2f us, "
      "p99.9 %.2f us\n",
      median(embeds, &Row::judge_p50_us), median(embeds, &Row::judge_p99_us),
      median(embeds, &Row::judge_p999_us));
  json += "}\n";
  if (!o.json.empty()) std::ofstream(o.json) << json;
  return 0;
}

}  // namespace
}  // namespace bonafide

int main(int argc, char** argv) { return bonafide::Main(argc, argv); }
