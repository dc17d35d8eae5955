// Fuzz target: loading a rules directory (rules/rule_pack.h).
//
// A scratch rules directory holds a valid policy.yaml, cues.yaml, context.yaml and
// rights_holders/acme.yaml (with a genuine photo file). The input replaces each of the four
// files in turn, and LoadRulePack runs on the result.
// Invariants: no crash, hang or sanitizer report; the result is OK or InvalidArgument /
// NotFound; an InvalidArgument starts with `file:line:column: ` naming one of the four
// files, usually the replaced one (no exception may leak out as an Internal error).
#include <stddef.h>
#include <stdint.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "absl/status/status.h"

#include "rules/rule_pack.h"
#include "tests/fuzz/fuzz_check.h"

namespace bonafide::fuzz {
namespace {

constexpr std::string_view kPolicy =
    "currency: EUR\nfx_date: 2026-11-27\nfx: {USD: 0.86, JPY: 0.0057}\nthreshold: 1.0\n"
    "weights: {cue: 1.0, price: 1.0, image: 1.0, obfuscated_brand: 0.5}\n"
    "image: {max_distance: 31, min_quality: 50}\n";
constexpr std::string_view kCues =
    "rules:\n  - id: cue.replica\n    version: 1\n    mode: enforce\n"
    "    phrases: [replica, 高仿]\n    examples: {match: [acme replica], no_match: [acme]}\n"
    "  - id: cue.one-to-one\n    regex: '\\b1\\s*[:：]\\s*1\\b'\n    weight: 1.0\n";
constexpr std::string_view kContext =
    "compatibility: [for, compatible with]\naccessories: [case, strap]\nbundle: [with]\n"
    "used: [used]\npackaging_only: [box only]\n";
constexpr std::string_view kHolder =
    "id: acme\nname: ACME Sports GmbH\nthreshold: 1.0\n"
    "brands:\n  - name: ACME\n    aliases: [ACME Originals]\n"
    "authorized_sellers: [s-100]\nproducts:\n  - id: acme-runner-22\n    name: Runner 22\n"
    "    keywords: [runner 22]\n    category: shoes\n"
    "    reference_price: {amount: 180, currency: EUR}\n    min_price_ratio: 0.4\n"
    "    images: [photos/front.jpg]\n";

// Writes `contents` to `file` of the rules directory; returns its path.
std::string WriteRulesFile(std::string_view file, std::string_view contents) {
  return ScratchDir().Write(std::string("rules/") + std::string(file), contents);
}

const std::string& RulesDir() {
  static const std::string* dir = [] {
    WriteRulesFile("rights_holders/photos/front.jpg", "not really a jpeg");
    return new std::string(ScratchDir().Join("rules"));
  }();
  return *dir;
}

}  // namespace
}  // namespace bonafide::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace bonafide::fuzz;  // NOLINT(google-build-using-namespace)
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const std::string& dir = RulesDir();
  const struct {
    const char* file;
    std::string_view valid;
  } files[] = {{"policy.yaml", kPolicy},
               {"cues.yaml", kCues},
               {"context.yaml", kContext},
               {"rights_holders/acme.yaml", kHolder}};
  for (const auto& f : files) WriteRulesFile(f.file, f.valid);
  static bool checked_valid = false;
  if (!checked_valid) {  // the baseline directory must load
    absl::StatusOr<bonafide::rules::RulePack> pack = bonafide::rules::LoadRulePack(dir);
    BONAFIDE_FUZZ_CHECK(pack.ok(), "baseline rules: %s", pack.status().ToString().c_str());
    checked_valid = true;
  }
  for (const auto& f : files) {
    WriteRulesFile(f.file, data);
    absl::StatusOr<bonafide::rules::RulePack> pack = bonafide::rules::LoadRulePack(dir);
    if (!pack.ok()) {
      const absl::Status& s = pack.status();
      BONAFIDE_FUZZ_CHECK(
          s.code() == absl::StatusCode::kInvalidArgument || s.code() == absl::StatusCode::kNotFound,
          "%s: unexpected status %s", f.file, s.ToString().c_str());
      if (s.code() == absl::StatusCode::kInvalidArgument) {
        // The error may be in another (valid) file: the fuzzed one can make it wrong, e.g. a
        // policy whose fx table drops the currency a rights holder's reference price uses
        // (corpus `cross_file_currency`). So any of the four files may be the prefix.
        const std::string message(s.message());
        size_t prefix = 0;
        for (const auto& g : files) {
          const std::string other = dir + "/" + g.file;
          if (message.rfind(other + ":", 0) == 0) prefix = other.size();
        }
        BONAFIDE_FUZZ_CHECK(prefix > 0, "%s: no file prefix: %s", f.file, message.c_str());
        int line = 0, column = 0;
        BONAFIDE_FUZZ_CHECK(
            std::sscanf(message.c_str() + prefix, ":%d:%d: ", &line, &column) == 2 && line >= 1 &&
                column >= 1,
            "%s: no line:column: %s", f.file, message.c_str());
      }
    }
    WriteRulesFile(f.file, f.valid);
  }
  return 0;
}
