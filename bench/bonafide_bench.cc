// bonafide_bench: the end-to-end throughput driver (in the spirit of Hyperscan's hsbench).
//
//   bonafide_bench --rules examples/rules --input dump.jsonl [--threads 1,2] [--repeats 3]
//                  [--json results.json]
//
// Runs, on the same file and in the same process, side by side:
//   read           InputSource alone: decompress/read and cut into chunks (the I/O floor)
//   parse          InputSource + ChunkParser on one thread (the parsing floor)
//   simdjson       simdjson iterate_many over the whole file, touching the fields (the limit)
//   scan/T         Scanner::ScanFiles with T threads into a fresh SQLite outbox
// and prints listings/s, MB/s and each one's ratio to scan with the most threads. Each
// figure is the median of --repeats runs.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <simdjson.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bonafide/scanner.h"
#include "bonafide/sink.h"
#include "engine/listing_input.h"
#include "util/strings.h"

namespace bonafide {
namespace {

struct Options {
  std::string rules;
  std::string input;
  std::vector<int> threads = {1, 2};
  int repeats = 3;
  std::string json;
  std::string work_dir = std::filesystem::temp_directory_path().string();
};

struct Measurement {
  std::string name;
  int64_t listings = 0;
  uint64_t bytes = 0;
  double seconds = 0;  // median
  double listings_per_second() const { return seconds > 0 ? listings / seconds : 0; }
  double mb_per_second() const { return seconds > 0 ? bytes / seconds / 1e6 : 0; }
};

double Seconds(const std::function<void()>& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bonafide_bench: %s\n", message.c_str());
  std::exit(1);
}

// Reads the input through InputSource; with `parse`, also parses every chunk.
Measurement ReadOrParse(const Options& o, bool parse) {
  Measurement m;
  m.name = parse ? "parse (1 thread)" : "read";
  std::vector<double> times;
  for (int r = 0; r < o.repeats; ++r) {
    int64_t listings = 0;
    uint64_t bytes = 0;
    times.push_back(Seconds([&] {
      auto source = engine::InputSource::Open(o.input, {});
      if (!source.ok()) Die(std::string(source.status().message()));
      engine::InputChunk chunk;
      engine::ChunkParser parser;
      engine::ParsedBatch batch;
      while (true) {
        auto more = (*source)->Next(chunk);
        if (!more.ok() || !*more) break;
        bytes += chunk.data.size();
        if (parse) {
          batch.Clear();
          parser.Parse(chunk, batch);
          listings += static_cast<int64_t>(batch.listings_size + batch.rejects.size());
        } else {
          listings += static_cast<int64_t>(CountByte(chunk.data, '\n'));
        }
      }
    }));
    m.listings = listings;
    m.bytes = bytes;
  }
  m.seconds = Median(times);
  return m;
}

// simdjson alone: load the file, iterate every document and touch the scanned fields.
Measurement SimdjsonOnly(const Options& o) {
  Measurement m;
  m.name = "simdjson iterate_many";
  std::vector<double> times;
  for (int r = 0; r < o.repeats; ++r) {
    times.push_back(Seconds([&] {
      auto json = simdjson::padded_string::load(o.input);
      if (json.error()) Die("cannot load " + o.input);
      simdjson::ondemand::parser parser;
      simdjson::ondemand::document_stream docs;
      if (parser.iterate_many(json.value()).get(docs)) Die("iterate_many failed");
      int64_t listings = 0;
      size_t touched = 0;
      for (auto doc : docs) {
        std::string_view s;
        double price = 0;
        if (!doc["id"].get_string().get(s)) touched += s.size();
        if (!doc["title"].get_string().get(s)) touched += s.size();
        if (!doc["description"].get_string().get(s)) touched += s.size();
        if (!doc["price"].get_double().get(price)) touched += price > 0;
        ++listings;
      }
      m.listings = listings;
      m.bytes = json.value().size();
      if (touched == 0) Die("no fields read");
    }));
  }
  m.seconds = Median(times);
  return m;
}

Measurement Scan(const Options& o, const Scanner& scanner, int threads, int64_t* cases) {
  Measurement m;
  m.name = absl::StrFormat("bonafide scan (%d thread%s)", threads, threads > 1 ? "s" : "");
  std::vector<double> times;
  for (int r = 0; r < o.repeats; ++r) {
    const std::string db = absl::StrCat(o.work_dir, "/bonafide-bench-", getpid(), ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
    auto outbox = SqliteOutbox::Open(db);
    if (!outbox.ok()) Die(std::string(outbox.status().message()));
    ScanOptions options;
    options.threads = threads;
    auto summary = scanner.ScanFiles({o.input}, **outbox, options);
    if (!summary.ok()) Die(std::string(summary.status().message()));
    times.push_back(summary->elapsed_seconds);
    m.listings = summary->listings_read;
    m.bytes = summary->bytes_read;
    *cases = summary->outbox.opened;
    outbox->reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
  }
  m.seconds = Median(times);
  return m;
}

Options ParseFlags(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      const size_t eq = arg.find('=');
      if (eq != std::string::npos) return arg.substr(eq + 1);
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    const std::string name = arg.substr(0, arg.find('='));
    if (name == "--rules") {
      o.rules = value();
    } else if (name == "--input") {
      o.input = value();
    } else if (name == "--threads") {
      o.threads.clear();
      for (absl::string_view t : absl::StrSplit(value(), ',')) {
        int n = 0;
        if (!absl::SimpleAtoi(t, &n) || n < 1) Die("--threads takes a list like 1,2");
        o.threads.push_back(n);
      }
    } else if (name == "--repeats") {
      if (!absl::SimpleAtoi(value(), &o.repeats) || o.repeats < 1) Die("bad --repeats");
    } else if (name == "--json") {
      o.json = value();
    } else if (name == "--work-dir") {
      o.work_dir = value();
    } else {
      Die("usage: bonafide_bench --rules DIR --input FILE [--threads 1,2] [--repeats 3] "
          "[--json FILE] [--work-dir DIR]");
    }
  }
  if (o.rules.empty() || o.input.empty()) Die("--rules and --input are required");
  return o;
}

int Main(int argc, char** argv) {
  const Options o = ParseFlags(argc, argv);
  ScannerOptions scanner_options;
  scanner_options.rules_dir = o.rules;
  auto scanner = Scanner::Create(scanner_options);
  if (!scanner.ok()) Die(std::string(scanner.status().message()));

  std::vector<Measurement> results;
  results.push_back(ReadOrParse(o, false));
  results.push_back(SimdjsonOnly(o));
  results.push_back(ReadOrParse(o, true));
  int64_t cases = 0;
  for (int t : o.threads) results.push_back(Scan(o, **scanner, t, &cases));
  const Measurement& reference = results.back();

  std::printf("input %s: %lld listings, %.1f MB; %lld cases opened per scan; median of %d\n",
              o.input.c_str(), static_cast<long long>(reference.listings),
              reference.bytes / 1e6, static_cast<long long>(cases), o.repeats);
  std::printf("%-28s %14s %10s %10s %12s\n", "run", "listings/s", "MB/s", "seconds",
              "vs scan");
  for (const Measurement& m : results) {
    std::printf("%-28s %14.0f %10.1f %10.3f %11.2fx\n", m.name.c_str(),
                m.listings_per_second(), m.mb_per_second(), m.seconds,
                reference.seconds > 0 ? reference.seconds / m.seconds : 0);
  }
  if (!o.json.empty()) {
    std::string json = absl::StrFormat(
        "{\"input\":\"%s\",\"listings\":%d,\"bytes\":%d,\"cases\":%d,\"repeats\":%d,"
        "\"runs\":[",
        o.input, reference.listings, reference.bytes, cases, o.repeats);
    for (size_t i = 0; i < results.size(); ++i) {
      const Measurement& m = results[i];
      absl::StrAppendFormat(&json,
                            "%s{\"name\":\"%s\",\"seconds\":%.6f,\"listings_per_second\":%.1f,"
                            "\"mb_per_second\":%.3f,\"ratio_to_scan\":%.4f}",
                            i > 0 ? "," : "", m.name, m.seconds, m.listings_per_second(),
                            m.mb_per_second(), reference.seconds / m.seconds);
    }
    json.append("]}\n");
    std::FILE* f = std::fopen(o.json.c_str(), "w");
    if (f == nullptr) Die("cannot write " + o.json);
    std::fputs(json.c_str(), f);
    std::fclose(f);
  }
  return 0;
}

}  // namespace
}  // namespace bonafide

int main(int argc, char** argv) { return bonafide::Main(argc, argv); }
