// generate_listings: writes a labelled synthetic listing dump (see tools/gen/README.md).
//
//   generate_listings --rules examples/rules --count 1000000 --seed 7 --out listings.jsonl
//
// Exit status: 0 on success, 2 for usage or rules errors, 1 when writing failed.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"

#include "rules/rule_pack.h"
#include "tools/gen/listing_generator.h"

ABSL_FLAG(std::string, rules, "", "rules directory (docs/rule-format.md); required");
ABSL_FLAG(int64_t, count, 1000, "number of listings");
ABSL_FLAG(uint64_t, seed, 1, "PRNG seed; same seed and rules give the same bytes");
ABSL_FLAG(std::string, out, "", "output file, or - for stdout; required");
ABSL_FLAG(std::string, format, "jsonl", "jsonl or csv");
ABSL_FLAG(std::string, mix, "test",
          "test (about a third of the listings open a case) or nightly (about 3%)");
ABSL_FLAG(int32_t, record_bytes, 500, "average bytes per record (descriptions are padded)");
ABSL_FLAG(bool, summary, true, "print counts per scenario and expected cases to stderr");

namespace {

struct Options {
  std::string rules;
  std::string out;
  bonafide::gen::GeneratorOptions gen;
  bool summary = true;
};

// Validates the raw flags; returns an error message or "".
std::string ReadOptions(Options& o) {
  o.rules = absl::GetFlag(FLAGS_rules);
  o.out = absl::GetFlag(FLAGS_out);
  o.gen.count = absl::GetFlag(FLAGS_count);
  o.gen.seed = absl::GetFlag(FLAGS_seed);
  o.gen.record_bytes = absl::GetFlag(FLAGS_record_bytes);
  o.summary = absl::GetFlag(FLAGS_summary);
  const std::string format = absl::GetFlag(FLAGS_format);
  if (o.rules.empty()) return "--rules is required";
  if (o.out.empty()) return "--out is required (use - for stdout)";
  if (o.gen.count < 0) return "--count must be >= 0";
  if (o.gen.record_bytes < 0) return "--record_bytes must be >= 0";
  const std::string mix = absl::GetFlag(FLAGS_mix);
  if (mix == "test") {
    o.gen.mix = bonafide::gen::ScenarioMix::kTest;
  } else if (mix == "nightly") {
    o.gen.mix = bonafide::gen::ScenarioMix::kNightly;
  } else {
    return "--mix must be test or nightly";
  }
  if (format == "jsonl") {
    o.gen.format = bonafide::gen::OutputFormat::kJsonl;
  } else if (format == "csv") {
    o.gen.format = bonafide::gen::OutputFormat::kCsv;
  } else {
    return "--format must be jsonl or csv";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "writes a labelled synthetic listing dump\n"
      "usage: generate_listings --rules DIR --count N --seed S --out FILE|- "
      "[--format jsonl|csv] [--mix test|nightly] [--record_bytes 500] [--nosummary]\n"
      "exit status: 0 ok, 2 usage or rules error, 1 write error");
  // Accept --record-bytes as well as --record_bytes (Abseil flag names use '_').
  std::vector<std::string> args(argv, argv + argc);
  for (std::string& a : args) {
    if (!absl::StartsWith(a, "--")) continue;
    for (size_t i = 2; i < a.size() && a[i] != '='; ++i) {
      if (a[i] == '-') a[i] = '_';
    }
  }
  std::vector<char*> argp;
  argp.reserve(args.size());
  for (std::string& a : args) argp.push_back(a.data());
  const std::vector<char*> rest =
      absl::ParseCommandLine(static_cast<int>(argp.size()), argp.data());
  if (rest.size() > 1) {
    std::fprintf(stderr, "generate_listings: unexpected argument \"%s\"\n", rest[1]);
    return 2;
  }
  Options o;
  if (const std::string err = ReadOptions(o); !err.empty()) {
    std::fprintf(stderr, "generate_listings: %s\n", err.c_str());
    return 2;
  }
  auto pack = bonafide::rules::LoadRulePack(o.rules);
  if (!pack.ok()) {
    std::fprintf(stderr, "generate_listings: %s\n", std::string(pack.status().message()).c_str());
    return 2;
  }
  auto gen = bonafide::gen::ListingGenerator::Create(*pack, o.gen);
  if (!gen.ok()) {
    std::fprintf(stderr, "generate_listings: %s\n", std::string(gen.status().message()).c_str());
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  const bool to_stdout = o.out == "-";
  std::FILE* f = to_stdout ? stdout : std::fopen(o.out.c_str(), "wb");
  if (f == nullptr) {
    std::perror(("generate_listings: " + o.out).c_str());
    return 1;
  }
  bool broken_pipe = false;
  auto write = [&](std::string_view chunk) {
    if (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size()) return true;
    broken_pipe = errno == EPIPE;
    return false;
  };
  bonafide::gen::GenerationSummary summary;
  const absl::Status status = (*gen)->Generate(write, &summary);
  const bool closed = to_stdout ? std::fflush(f) == 0 : std::fclose(f) == 0;
  if (broken_pipe || (!closed && errno == EPIPE)) return 0;  // reader went away: quiet
  if (!status.ok() || !closed) {
    std::perror(("generate_listings: writing " + o.out).c_str());
    return 1;
  }
  if (o.summary) std::fputs(bonafide::gen::FormatSummary(summary).c_str(), stderr);
  return 0;
}
