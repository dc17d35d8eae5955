// bonafide_bench: the end-to-end throughput driver (in the spirit of Hyperscan's hsbench).
//
//   bonafide_bench --rules examples/rules --input dump.jsonl [--threads 1,2] [--repeats 3]
//                  [--rows read,simdjson,parse,match,rg,scan] [--backends hyperscan,re2]
//                  [--json results.json] [--work-dir DIR] [--rg PATH] [--keep-rg-patterns]
//
// Runs, on the same file, side by side:
//   read           InputSource alone: decompress/read and cut into chunks (the I/O floor)
//   simdjson       InputSource + simdjson On-Demand line by line on one thread, touching
//                  every field (the parsing limit: simdjson alone on the same chunks)
//   parse          InputSource + ChunkParser on one thread (the parsing floor)
//   match          parse + normalise + match titles and descriptions on one thread, with
//                  each backend of rules/text_matcher.h (Hyperscan, RE2::Set): the text
//                  backends side by side on the whole dump
//   rg             ripgrep over the raw file with the rules' brand, alias, keyword and cue
//                  patterns (`rg -c -i -f`, then literals only with -F): a plain pattern
//                  search, the grep-class peer
//   scan/T         Scanner::ScanFiles with T threads into a fresh SQLite outbox (timed from
//                  opening the outbox to closing it), with each
//                  text backend of --backends (ScannerOptions::text_backend)
// and prints listings/s, MB/s, peak memory and each one's ratio to the scan with the most
// threads. Each figure is the median of --repeats rounds; a round runs every row once, so
// that a change of load on a shared machine falls on all rows alike.
//
// --keep-rg-patterns leaves rg's two pattern files in --work-dir
// (bonafide-bench-rg-regex.txt, bonafide-bench-rg-literal.txt), for a comparison of whole
// processes (bench/run.sh ripgrep).
//
// Every configuration runs in its own forked child (rg: its own process), so that its peak
// RSS (wait4's ru_maxrss) is its own; the parent compiles nothing and stays at a few MiB.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include <simdjson.h>

#include "bench/child_process.h"
#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "engine/listing_input.h"
#include "rules/compiled_rules.h"
#include "rules/normalize.h"
#include "rules/rule_pack.h"
#include "rules/text_matcher.h"
#include "util/strings.h"

namespace bonafide {
namespace {

using bench::Median;

const char* const kAllRows[] = {"read", "simdjson", "parse", "match", "rg", "scan"};

struct Options {
  std::string rules;
  std::string input;
  std::vector<int> threads = {1, 2};
  int repeats = 3;
  std::string json;
  std::string work_dir = std::filesystem::temp_directory_path().string();
  std::set<std::string> rows = {std::begin(kAllRows), std::end(kAllRows)};
  // Text backends of the scan rows: "hyperscan", "re2" (RE2::Set).
  std::vector<std::string> backends = {"hyperscan", "re2"};
  std::string rg = "rg";
  bool keep_rg_patterns = false;
};

// What a measuring child sends back: plain data, through a pipe.
struct Figures {
  int64_t listings = 0;
  uint64_t bytes = 0;
  double seconds = 0;  // median
  int64_t cases = 0;   // scan: cases opened per scan
  int64_t found = 0;   // match: hits; rg: matching lines
};

struct Measurement {
  std::string name;
  Figures f;
  double peak_mib = 0;  // peak RSS of the process that ran it
  double listings_per_second() const { return f.seconds > 0 ? f.listings / f.seconds : 0; }
  double mb_per_second() const { return f.seconds > 0 ? f.bytes / f.seconds / 1e6 : 0; }
};

double Seconds(const std::function<void()>& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Returns the value in MiB of `field` ("RssAnon") of /proc/self/status, or 0.
double SelfStatusMib(std::string_view field) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  double mib = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    std::string_view l(line);
    if (l.substr(0, field.size()) == field && l.size() > field.size() && l[field.size()] == ':') {
      mib = std::strtod(line + field.size() + 1, nullptr) / 1024.0;  // "  1234 kB"
    }
  }
  std::fclose(f);
  return mib;
}

double PeakMib(const struct rusage& usage) { return usage.ru_maxrss / 1024.0; }  // KiB

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bonafide_bench: %s\n", message.c_str());
  std::fflush(nullptr);
  std::_Exit(1);  // also from forked children: no exit handlers of the parent's state
}

// Runs `body` in a forked child (bench/child_process.h); dies when the child failed.
Figures RunInChild(const std::string& what, const std::function<Figures()>& body,
                   double* peak_mib) {
  const std::optional<Figures> result = bench::RunInChild<Figures>(body, peak_mib);
  if (!result) Die(what + ": the measuring process failed");
  return *result;
}

// Parses every line of `chunk` with simdjson On-Demand alone, touching every string and
// number (what the scan's parser must at least do); returns the records seen.
int64_t SimdjsonChunk(simdjson::ondemand::parser& parser, const engine::InputChunk& chunk,
                      size_t& touched) {
  const char* data = chunk.data.data();
  const size_t size = chunk.data.size();
  int64_t records = 0;
  for (size_t pos = 0; pos < size;) {
    const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', size - pos));
    const size_t len = nl != nullptr ? static_cast<size_t>(nl - (data + pos)) : size - pos;
    simdjson::ondemand::document doc;
    simdjson::ondemand::object object;
    // The chunk's capacity holds kChunkPadding bytes past its end, as simdjson requires.
    if (len > 0 && !parser.iterate(data + pos, len, size - pos + engine::kChunkPadding).get(doc) &&
        !doc.get_object().get(object)) {
      for (auto field : object) {
        simdjson::ondemand::value v = field.value();
        std::string_view str;
        double number = 0;
        switch (v.type().value_unsafe()) {
          case simdjson::ondemand::json_type::string:
            if (!v.get_string().get(str)) touched += str.size();
            break;
          case simdjson::ondemand::json_type::number:
            if (!v.get_double().get(number)) touched += number > 0;
            break;
          default:
            break;
        }
      }
    }
    records += len > 0;
    pos += len + 1;
  }
  return records;
}

enum class ReadMode {
  kRead,      // InputSource alone
  kSimdjson,  // InputSource + simdjson On-Demand line by line: the parsing limit
  kParse,     // InputSource + ChunkParser (validated Listings)
};

// Reads the input through InputSource (the same chunks as the scan), parsing each chunk as
// `mode` says.
Figures ReadOrParse(const Options& o, ReadMode mode) {
  Figures f;
  std::vector<double> times;
  for (int r = 0; r < o.repeats; ++r) {
    int64_t listings = 0;
    uint64_t bytes = 0;
    size_t touched = 0;
    times.push_back(Seconds([&] {
      auto source = engine::InputSource::Open(o.input, {});
      if (!source.ok()) Die(std::string(source.status().message()));
      engine::InputChunk chunk;
      engine::ChunkParser parser;
      engine::ParsedBatch batch;
      simdjson::ondemand::parser simdjson_parser;
      while (true) {
        auto more = (*source)->Next(chunk);
        if (!more.ok() || !*more) break;
        bytes += chunk.data.size();
        switch (mode) {
          case ReadMode::kRead:
            listings += static_cast<int64_t>(CountByte(chunk.data, '\n'));
            break;
          case ReadMode::kSimdjson:
            listings += SimdjsonChunk(simdjson_parser, chunk, touched);
            break;
          case ReadMode::kParse:
            batch.Clear();
            parser.Parse(chunk, batch);
            listings += static_cast<int64_t>(batch.listings_size + batch.rejects.size());
            break;
        }
      }
    }));
    if (mode == ReadMode::kSimdjson && touched == 0) Die("simdjson read no field");
    f.listings = listings;
    f.bytes = bytes;
  }
  f.seconds = Median(times);
  return f;
}

std::shared_ptr<const rules::CompiledRules> CompileRules(const Options& o) {
  auto pack = rules::LoadRulePack(o.rules);
  if (!pack.ok()) Die(std::string(pack.status().message()));
  auto compiled = rules::CompiledRules::Compile(std::move(*pack));
  if (!compiled.ok()) Die(std::string(compiled.status().message()));
  return *compiled;
}

// Parse + normalise + match every title and description with `backend` on one thread: the
// text stage of the scan without the decision and the outbox. Counts the hits, which both
// backends must agree on.
Figures MatchOnly(const Options& o, rules::MatcherBackend backend) {
  auto database = rules::CompileMatcherDatabase(backend, CompileRules(o), {});
  if (!database.ok()) Die(std::string(database.status().message()));
  auto matcher = (*database)->NewMatcher();
  if (!matcher.ok()) Die(std::string(matcher.status().message()));
  Figures f;
  std::vector<double> times;
  rules::NormalizedText text;
  std::vector<rules::TextHit> hits;
  for (int r = 0; r < o.repeats; ++r) {
    int64_t listings = 0;
    int64_t found = 0;
    uint64_t bytes = 0;
    times.push_back(Seconds([&] {
      auto source = engine::InputSource::Open(o.input, {});
      if (!source.ok()) Die(std::string(source.status().message()));
      engine::InputChunk chunk;
      engine::ChunkParser parser;
      engine::ParsedBatch batch;
      auto match = [&](const std::string& field, rules::MatchScope scope) {
        text.Clear();
        rules::NormalizeAppend(field, text);
        if (!(*matcher)->Match(text.text, scope, hits).ok()) Die("match failed");
        found += static_cast<int64_t>(hits.size());
      };
      while (true) {
        auto more = (*source)->Next(chunk);
        if (!more.ok() || !*more) break;
        bytes += chunk.data.size();
        batch.Clear();
        parser.Parse(chunk, batch);
        for (size_t i = 0; i < batch.listings_size; ++i) {
          match(batch.listings[i].title, rules::MatchScope::kTitle);
          match(batch.listings[i].description, rules::MatchScope::kDescription);
        }
        listings += static_cast<int64_t>(batch.listings_size + batch.rejects.size());
      }
    }));
    f.listings = listings;
    f.bytes = bytes;
    f.found = found;
  }
  f.seconds = Median(times);
  return f;
}

// The Scanner options of a scan row with text backend `backend`.
ScannerOptions ScannerOptionsFor(const Options& o, const std::string& backend) {
  ScannerOptions options;
  options.rules_dir = o.rules;
  options.text_backend = backend == "re2" ? TextBackend::kRe2Set : TextBackend::kHyperscan;
  return options;
}

Figures Scan(const Options& o, const std::string& backend, int threads) {
  auto scanner = Scanner::Create(ScannerOptionsFor(o, backend));
  if (!scanner.ok()) Die(std::string(scanner.status().message()));
  Figures f;
  std::vector<double> times;
  for (int r = 0; r < o.repeats; ++r) {
    const std::string db = absl::StrCat(o.work_dir, "/bonafide-bench-", getpid(), ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
    // Timed from opening the outbox to closing it: the close writes what is still in the
    // WAL into the database file.
    times.push_back(Seconds([&] {
      auto outbox = OpenOutbox(db);
      if (!outbox.ok()) Die(std::string(outbox.status().message()));
      ScanOptions options;
      options.threads = threads;
      auto summary = (*scanner)->ScanFiles({o.input}, **outbox, options);
      if (!summary.ok()) Die(std::string(summary.status().message()));
      f.listings = summary->listings_read;
      f.bytes = summary->bytes_read;
      f.cases = summary->outbox.opened;
    }));
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
  }
  f.seconds = Median(times);
  return f;
}

// ---- ripgrep: the grep-class peer -------------------------------------------------------

// Rust's regex crate (ripgrep 13) accepts a backslash only before its meta characters;
// Hyperscan's expressions also escape other punctuation (\' \: \!), which means the same
// unescaped. `\b` becomes ASCII `(?-u:\b)`, as in Hyperscan (Unicode `\b` would also make
// rg leave its DFA on every non-ASCII byte).
std::string ToRustRegex(std::string_view expression) {
  static constexpr std::string_view kMeta = "\\.+*?()|[]{}^$#&-~";
  std::string out;
  for (size_t i = 0; i < expression.size(); ++i) {
    const char c = expression[i];
    if (c == '\\' && i + 1 < expression.size()) {
      const char next = expression[i + 1];
      const bool punctuation = std::ispunct(static_cast<unsigned char>(next)) != 0;
      if (next == 'b') {
        out.append("(?-u:\\b)");
      } else {
        if (!punctuation || kMeta.find(next) != std::string_view::npos) out.push_back('\\');
        out.push_back(next);
      }
      ++i;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Writes the rules' brand, alias, keyword and cue patterns (no context phrases: "for",
// "and" would match every line) for rg: `regex_path` as regexes (the expressions bonafide
// compiles, separators optional, whole words), `literal_path` as the plain normalised
// strings (cue regexes left out). Returns the number of regexes.
Figures WriteRgPatterns(const Options& o, const std::string& regex_path,
                        const std::string& literal_path) {
  const auto rules = CompileRules(o);
  std::string regexes, literals;
  Figures f;
  for (const rules::PatternInfo& p : rules->patterns()) {
    if (p.kind != rules::PatternKind::kBrand && p.kind != rules::PatternKind::kKeyword &&
        p.kind != rules::PatternKind::kCue) {
      continue;
    }
    absl::StrAppend(&regexes, ToRustRegex(p.expression), "\n");
    if (!p.is_regex) absl::StrAppend(&literals, ToAbsl(p.normalized), "\n");
    ++f.found;
  }
  const std::pair<const std::string&, const std::string&> files[] = {{regex_path, regexes},
                                                                     {literal_path, literals}};
  for (const auto& [path, text] : files) {
    std::FILE* out = std::fopen(path.c_str(), "w");
    if (out == nullptr || std::fwrite(text.data(), 1, text.size(), out) != text.size() ||
        std::fclose(out) != 0) {
      Die("cannot write " + path);
    }
  }
  return f;
}

// Starts `argv` in a forked child with its stdout into `out_fd`. Returns the pid, or -1
// with `*error` set when exec failed. Not posix_spawn: its vfork-style child would inherit
// the driver's peak RSS into ru_maxrss (Linux keeps the peak of the memory image an exec
// replaces); a forked child starts from the driver's anonymous pages only (a few MiB).
pid_t Spawn(std::vector<char*>& argv, int out_fd, int* error) {
  int exec_error[2];
  if (::pipe2(exec_error, O_CLOEXEC) != 0) Die("pipe failed");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) Die("fork failed");
  if (pid == 0) {
    ::dup2(out_fd, STDOUT_FILENO);
    ::execvp(argv[0], argv.data());
    const int e = errno;
    (void)!::write(exec_error[1], &e, sizeof(e));
    std::_Exit(127);
  }
  ::close(exec_error[1]);
  const bool failed = ::read(exec_error[0], error, sizeof(*error)) == sizeof(*error);
  ::close(exec_error[0]);
  if (failed) {
    ::waitpid(pid, nullptr, 0);
    return -1;
  }
  return pid;
}

// Runs `rg args...` --repeats times with its output in a pipe. Returns false when rg cannot
// be started (not installed); dies when it fails. The time of a run is from fork to exit.
bool RunRg(const Options& o, const std::vector<std::string>& args, Measurement& m) {
  std::vector<double> times;
  for (int r = 0; r < o.repeats; ++r) {
    std::vector<std::string> words = {o.rg};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) Die("pipe failed");
    const auto start = std::chrono::steady_clock::now();
    int error = 0;
    const pid_t pid = Spawn(argv, fds[1], &error);
    ::close(fds[1]);
    if (pid < 0) {
      ::close(fds[0]);
      if (error == ENOENT) return false;
      Die(absl::StrCat("cannot start ", o.rg, ": ", std::strerror(error)));
    }
    std::string output;
    char buffer[4096];
    for (ssize_t n; (n = ::read(fds[0], buffer, sizeof(buffer))) > 0;) output.append(buffer, n);
    ::close(fds[0]);
    int status = 0;
    struct rusage usage {};
    if (::wait4(pid, &status, 0, &usage) != pid) Die("wait4 failed");
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    // 0: lines matched, 1: none matched, 2: an error (rg has said which on stderr).
    if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) Die(o.rg + " failed");
    int64_t lines = 0;
    if (WEXITSTATUS(status) == 0 && !absl::SimpleAtoi(absl::StripAsciiWhitespace(output), &lines)) {
      Die("unexpected rg output: " + output);
    }
    m.f.found = lines;
    m.peak_mib = std::max(m.peak_mib, PeakMib(usage));
  }
  m.f.seconds = Median(times);
  return true;
}

// ---- flags, table, JSON -------------------------------------------------------------------

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
    } else if (name == "--rows") {
      o.rows.clear();
      for (absl::string_view r : absl::StrSplit(value(), ',')) {
        if (std::find(std::begin(kAllRows), std::end(kAllRows), r) == std::end(kAllRows)) {
          Die("--rows takes a list of read,simdjson,parse,match,rg,scan");
        }
        o.rows.insert(std::string(r));
      }
    } else if (name == "--backends") {
      o.backends = std::vector<std::string>(absl::StrSplit(value(), ','));
      for (const std::string& b : o.backends) {
        if (b != "hyperscan" && b != "re2") Die("--backends takes hyperscan and/or re2");
      }
    } else if (name == "--rg") {
      o.rg = value();
    } else if (arg == "--keep-rg-patterns") {
      o.keep_rg_patterns = true;
    } else {
      Die("usage: bonafide_bench --rules DIR --input FILE [--threads 1,2] [--repeats 3] "
          "[--rows read,simdjson,parse,match,rg,scan] [--backends hyperscan,re2] "
          "[--json FILE] [--work-dir DIR] [--rg PATH] [--keep-rg-patterns]");
    }
  }
  if (o.rules.empty() || o.input.empty()) Die("--rules and --input are required");
  return o;
}

std::string Json(const Options& o, const Measurement& reference, double driver_mib,
                 const std::vector<Measurement>& results) {
  std::string json;
  JsonObject top(json);
  top.String("input", o.input)
      .Int("listings", reference.f.listings)
      .Int("bytes", static_cast<int64_t>(reference.f.bytes))
      .Int("cases", reference.f.cases)
      .Int("repeats", o.repeats)
      .Raw("driver_anon_rss_mib", absl::StrFormat("%.1f", driver_mib));
  std::string runs = "[";
  for (const Measurement& m : results) {
    if (runs.size() > 1) runs.push_back(',');
    JsonObject run(runs);
    run.String("name", m.name)
        .Raw("seconds", absl::StrFormat("%.6f", m.f.seconds))
        .Raw("listings_per_second", absl::StrFormat("%.1f", m.listings_per_second()))
        .Raw("mb_per_second", absl::StrFormat("%.3f", m.mb_per_second()))
        .Raw("ratio_to_scan", absl::StrFormat("%.4f", reference.f.seconds / m.f.seconds))
        .Raw("peak_rss_mib", absl::StrFormat("%.1f", m.peak_mib));
    if (m.f.found > 0) run.Int("found", m.f.found);
    if (m.f.cases > 0) run.Int("cases", m.f.cases);
    run.Close();
  }
  runs.push_back(']');
  top.Raw("runs", runs).Close();
  json.push_back('\n');
  return json;
}

int Main(int argc, char** argv) {
  const Options o = ParseFlags(argc, argv);
  // A forked child starts with the driver's anonymous pages; libraries' pages count only
  // once touched.
  const double driver_mib = SelfStatusMib("RssAnon");

  // The rows, each measured once per round; the rounds interleave the rows, so that a
  // change of load on a shared machine falls on every row alike.
  struct Row {
    std::string name;
    // Measures one run into `m` (seconds, figures, peak); false when the row cannot run.
    std::function<bool(Measurement& m)> once;
  };
  Options one = o;
  one.repeats = 1;
  std::vector<Row> rows;
  auto forked = [&](std::string name, std::function<Figures()> body) {
    rows.push_back(Row{name, [name, body](Measurement& m) {
                         m.f = RunInChild(name, body, &m.peak_mib);
                         return true;
                       }});
  };
  if (o.rows.count("read")) forked("read", [&] { return ReadOrParse(one, ReadMode::kRead); });
  if (o.rows.count("simdjson")) {
    forked("simdjson On-Demand (1 thread)", [&] { return ReadOrParse(one, ReadMode::kSimdjson); });
  }
  if (o.rows.count("parse")) {
    forked("parse (1 thread)", [&] { return ReadOrParse(one, ReadMode::kParse); });
  }
  if (o.rows.count("match")) {
    for (rules::MatcherBackend backend : rules::AvailableMatcherBackends()) {
      forked(absl::StrCat("parse+normalise+match, ",
                          backend == rules::MatcherBackend::kHyperscan ? "Hyperscan" : "RE2::Set",
                          " (1 thread)"),
             [&one, backend] { return MatchOnly(one, backend); });
    }
  }
  const std::string regexes = absl::StrCat(o.work_dir, "/bonafide-bench-rg-regex.txt");
  const std::string literals = absl::StrCat(o.work_dir, "/bonafide-bench-rg-literal.txt");
  Figures size;
  if (o.rows.count("rg")) {
    double ignored = 0;
    RunInChild(
        "rg patterns", [&] { return WriteRgPatterns(o, regexes, literals); }, &ignored);
    // rg reports lines; the dump has one listing per line and the same bytes as the scan.
    size = RunInChild(
        "size", [&] { return ReadOrParse(one, ReadMode::kRead); }, &ignored);
    const std::pair<std::string, std::vector<std::string>> commands[] = {
        {"rg -c -i -f (regexes, 1 thread)", {"--no-config", "-c", "-i", "-f", regexes, o.input}},
        {"rg -c -F -i -f (literals, 1 thread)",
         {"--no-config", "-c", "-F", "-i", "-f", literals, o.input}}};
    for (const auto& [name, args] : commands) {
      rows.push_back(Row{name, [&, args = args](Measurement& m) {
                           if (!RunRg(one, args, m)) return false;
                           m.f.listings = size.listings;
                           m.f.bytes = size.bytes;
                           return true;
                         }});
    }
  }
  if (o.rows.count("scan")) {
    for (const std::string& backend : o.backends) {
      for (int t : o.threads) {
        forked(absl::StrFormat("bonafide scan (%d thread%s%s)", t, t > 1 ? "s" : "",
                               backend == "re2" ? ", RE2::Set" : ""),
               [&, backend, t] { return Scan(one, backend, t); });
      }
    }
  }

  std::vector<Measurement> results(rows.size());
  std::vector<std::vector<double>> times(rows.size());
  std::vector<bool> skipped(rows.size(), false);
  for (int round = 0; round < o.repeats; ++round) {
    for (size_t i = 0; i < rows.size(); ++i) {
      Measurement m;
      if (skipped[i] || !rows[i].once(m)) {
        if (!skipped[i])
          std::printf("(%s: %s not found, row skipped)\n", rows[i].name.c_str(), o.rg.c_str());
        skipped[i] = true;
        continue;
      }
      times[i].push_back(m.f.seconds);
      results[i].name = rows[i].name;
      results[i].f = m.f;
      results[i].peak_mib = std::max(results[i].peak_mib, m.peak_mib);
    }
  }
  for (size_t i = rows.size(); i-- > 0;) {
    if (skipped[i]) {
      results.erase(results.begin() + static_cast<ptrdiff_t>(i));
    } else {
      results[i].f.seconds = Median(times[i]);
    }
  }
  const bool rg_ran = std::any_of(results.begin(), results.end(),
                                  [](const Measurement& m) { return m.name.rfind("rg ", 0) == 0; });
  if (o.rows.count("rg") && !o.keep_rg_patterns) {
    std::remove(regexes.c_str());
    std::remove(literals.c_str());
  }
  if (results.empty()) Die("no rows to run");
  // The reference: the Hyperscan scan with the most threads (the last row when none ran).
  const Measurement* reference = &results.back();
  const int most_threads = *std::max_element(o.threads.begin(), o.threads.end());
  for (const Measurement& m : results) {
    if (m.name ==
        absl::StrFormat("bonafide scan (%d thread%s)", most_threads, most_threads > 1 ? "s" : "")) {
      reference = &m;
    }
  }

  std::printf(
      "input %s: %lld listings, %.1f MB; %lld cases opened per scan; median of %d "
      "interleaved rounds; driver %.1f MiB anonymous before forking\n",
      o.input.c_str(), static_cast<long long>(reference->f.listings), reference->f.bytes / 1e6,
      static_cast<long long>(reference->f.cases), o.repeats, driver_mib);
  std::printf("%-46s %12s %9s %9s %9s %9s\n", "run", "listings/s", "MB/s", "seconds", "peak MiB",
              "vs scan");
  for (const Measurement& m : results) {
    std::printf("%-46s %12.0f %9.1f %9.3f %9.1f %8.2fx\n", m.name.c_str(), m.listings_per_second(),
                m.mb_per_second(), m.f.seconds, m.peak_mib,
                reference->f.seconds > 0 ? reference->f.seconds / m.f.seconds : 0);
  }
  std::vector<int64_t> match_hits;
  for (const Measurement& m : results) {
    if (m.name.rfind("parse+normalise+match", 0) == 0) {
      std::printf("%s: %lld hits\n", m.name.c_str(), static_cast<long long>(m.f.found));
      match_hits.push_back(m.f.found);
    }
  }
  if (match_hits.size() == 2 && match_hits[0] != match_hits[1]) {
    std::printf("WARNING: the text backends disagree (tests/rules/text_matcher_test.cc)\n");
  }
  // Every scan, whatever its backend and threads, must open the same cases.
  for (const Measurement& m : results) {
    if (m.name.rfind("bonafide scan", 0) == 0 && m.f.cases != reference->f.cases) {
      std::printf("WARNING: %s opened %lld cases\n", m.name.c_str(),
                  static_cast<long long>(m.f.cases));
    }
  }
  if (rg_ran) {
    for (const Measurement& m : results) {
      if (m.name.rfind("rg ", 0) == 0) {
        std::printf("%s: %lld matching lines\n", m.name.c_str(), static_cast<long long>(m.f.found));
      }
    }
    std::printf(
        "rg: the rules' brand, alias, keyword and cue patterns (no context phrases), "
        "case-insensitive, over the raw JSON lines (ids and field names included); no "
        "normalisation, so evasive spellings (N1ke, Ｎｉｋｅ, N i k e) are missed; one thread "
        "per file; its peak includes the pages of the file it memory-maps.\n");
  }
  if (!o.json.empty()) {
    const std::string json = Json(o, *reference, driver_mib, results);
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
