// Synthetic, labelled listing dumps for end-to-end precision/recall tests and benchmarks.
//
//   absl::StatusOr<rules::RulePack> pack = rules::LoadRulePack("examples/rules");
//   absl::StatusOr<std::unique_ptr<ListingGenerator>> gen =
//       ListingGenerator::Create(*pack, options);
//   GenerationSummary summary;
//   absl::Status s = (*gen)->Generate(
//       [&](std::string_view chunk) { return fwrite(...) == chunk.size(); }, &summary);
//
// Every listing follows docs/listings.md and carries two extra fields that the scanner
// ignores: `label_cases` (sorted rights holder ids for which a case must open) and
// `label_scenario` (what the generator meant to produce). The label is not the scenario's
// intent: LabelOracle computes it from the generated text and the pack's numbers, following
// the decision policy of docs/matching.md (see tools/gen/README.md).
//
// The generator keeps, next to each text field, a "plain shadow" in which every evasive
// mention (leet, homoglyphs, full-width, spaced, dotted) is written plainly and its byte
// range remembered. The oracle works on the shadow, so it needs no Unicode folding.
#ifndef BONAFIDE_TOOLS_GEN_LISTING_GENERATOR_H_
#define BONAFIDE_TOOLS_GEN_LISTING_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "rules/rule_pack.h"

namespace bonafide::gen {

enum class OutputFormat { kJsonl, kCsv };

// How listings are spread over the scenarios.
enum class ScenarioMix {
  kTest,     // every scenario often: about a third of the listings open a case (tests)
  kNightly,  // like a marketplace's nightly dump: mostly unrelated and genuine listings,
             // about 3% open a case (benchmarks)
};

struct GeneratorOptions {
  uint64_t seed = 1;                           // PRNG seed (1)
  int64_t count = 1000;                        // listings to write (1000)
  int record_bytes = 500;                      // average bytes per output record (500)
  OutputFormat format = OutputFormat::kJsonl;  // (kJsonl)
  ScenarioMix mix = ScenarioMix::kTest;        // (kTest)
};

// The facts of one listing that decide its label. All views must outlive the call.
struct LabelInput {
  // Plain shadow of the title / the description's non-filler part: evasive mentions are
  // written in their plain form; their byte ranges [begin, end) are listed below.
  std::string_view title;
  std::string_view description;
  std::vector<std::pair<size_t, size_t>> title_evasive;
  std::vector<std::pair<size_t, size_t>> description_evasive;
  double price = 0;  // as written in the record
  std::string_view currency;
  std::string_view seller_id;
  std::string_view condition;  // "" when absent
  int64_t quantity = 0;        // 0 when the field is absent
};

// What the oracle concluded for one referenced rights holder.
struct HolderVerdict {
  int holder = -1;  // index into RulePack::rights_holders
  double score = 0;
  double cue_points = 0;
  bool price_signal = false;
  bool obfuscated = false;  // a brand name or alias of the holder is written evasively
  bool covered = false;     // compatibility / accessory / used / packaging context
  bool authorized = false;  // seller is in the holder's authorized_sellers
  bool is_case = false;
};

// Implements the decision policy (docs/matching.md) on plain-shadow text. Immutable after
// Create(); thread-safe. Not copyable (holds compiled regexes).
class LabelOracle {
 public:
  // Returns InvalidArgument when a cue regex does not compile.
  static absl::StatusOr<std::unique_ptr<LabelOracle>> Create(const rules::RulePack& pack);
  ~LabelOracle();
  LabelOracle(const LabelOracle&) = delete;
  LabelOracle& operator=(const LabelOracle&) = delete;

  // Appends one verdict per referenced rights holder to `out` (cleared first), in the
  // order of pack.rights_holders.
  void Evaluate(const LabelInput& input, std::vector<HolderVerdict>& out) const;

  // Returns true when `text` (plain) contains any brand, alias, product keyword, cue
  // (phrase or regex) or context phrase of the pack.
  bool HasAnyTerm(std::string_view text) const;

  struct Impl;

 private:
  explicit LabelOracle(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class ListingGenerator;
};

struct GenerationSummary {
  int64_t listings = 0;
  int64_t listings_with_cases = 0;
  int64_t cases = 0;  // (listing, rights holder) pairs
  uint64_t bytes = 0;
  std::map<std::string, int64_t> per_scenario;             // listings
  std::map<std::string, int64_t> per_scenario_with_cases;  // listings with >= 1 case
  std::map<std::string, int64_t> cases_per_holder;
};

// Writes the summary as human-readable text.
std::string FormatSummary(const GenerationSummary& summary);

// Generates listings. One-per-thread (owns its PRNG); not copyable.
class ListingGenerator {
 public:
  // Returns InvalidArgument when the pack has no rights holder with a brand, or options
  // are out of range (count < 0, record_bytes < 0).
  static absl::StatusOr<std::unique_ptr<ListingGenerator>> Create(const rules::RulePack& pack,
                                                                  const GeneratorOptions& options);
  ~ListingGenerator();
  ListingGenerator(const ListingGenerator&) = delete;
  ListingGenerator& operator=(const ListingGenerator&) = delete;

  // Writes the header (CSV) and options.count records through `write`, in chunks of
  // about 4 MiB. `write` returns false to stop (e.g. broken pipe); Generate then returns
  // Unavailable. `summary` may be null.
  absl::Status Generate(const std::function<bool(std::string_view)>& write,
                        GenerationSummary* summary);

  // Names of every scenario the generator knows, in a fixed order.
  static const std::vector<std::string>& ScenarioNames();

  const LabelOracle& oracle() const;

  struct State;

 private:
  explicit ListingGenerator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace bonafide::gen

#endif  // BONAFIDE_TOOLS_GEN_LISTING_GENERATOR_H_
