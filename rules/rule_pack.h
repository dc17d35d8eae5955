// The rules directory (docs/rule-format.md), loaded and validated.
//
//   absl::StatusOr<RulePack> pack = LoadRulePack("examples/rules");
//   for (const RulesWarning& w : pack->warnings) Print(FormatWarning(w));
//
// Loading checks YAML syntax (explained in plain words, e.g. a tab in the indentation),
// structure, types, unknown fields (a typo such as `min_price_ration` is an error), ids,
// cross references (currencies of reference prices must be in the FX table) and regex
// syntax (through RE2). Every error message starts with `file:line:column: ` (1-based; the
// column of the offending YAML node). What is suspicious but legal (two rights holders
// claiming one brand, a stray file in rights_holders/) becomes a warning on the pack.
// Compiling the pack into matchers is rules/compiled_rules.h.
#ifndef BONAFIDE_RULES_RULE_PACK_H_
#define BONAFIDE_RULES_RULE_PACK_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace bonafide::rules {

// Where a rule or value was written, for error messages and reasons.
struct SourceLocation {
  std::string file;  // path as given to LoadRulePack joined with the relative file name
  int line = 0;      // 1-based
  int column = 0;    // 1-based, in characters (Unicode code points), not bytes

  bool operator==(const SourceLocation&) const = default;
};

// Returns `file:line:column`, the prefix of every message about a place in the rules.
std::string FormatLocation(const SourceLocation& location);

struct ImagePolicy {
  int max_distance = 31;  // Hamming distance (of 256 bits) for a photo match
  int min_quality = 50;   // hashes of lower quality are not matched

  bool operator==(const ImagePolicy&) const = default;
};

struct Weights {
  double cue = 1.0;
  double price = 1.0;
  double image = 1.0;
  double obfuscated_brand = 0.5;
  // Signals learnt from the rights holders' verdicts (ScannerOptions::feedback).
  double known_counterfeit_photo = 1.0;
  double seller_record = 0.5;

  bool operator==(const Weights&) const = default;
};

// policy.yaml
struct Policy {
  std::string currency = "EUR";  // base currency (3 upper-case letters)
  std::string fx_date;           // YYYY-MM-DD as written (may be empty)
  // 1 unit of the key currency = rate units of the base currency. Always contains the base
  // currency itself with rate 1 after loading.
  std::map<std::string, double> fx;
  double threshold = 1.0;
  Weights weights;
  ImagePolicy image;

  bool operator==(const Policy&) const = default;
};

enum class RuleMode { kEnforce, kShadow, kOff };

// One counterfeit cue rule from cues.yaml. Exactly one of `phrases` / `regex` is non-empty.
struct CueRule {
  std::string id;
  int version = 1;
  RuleMode mode = RuleMode::kEnforce;
  std::vector<std::string> phrases;            // matched as whole words after normalisation
  std::string regex;                           // matched against the normalised text
  double weight = 1.0;                         // default: policy weights.cue
  std::vector<std::string> examples_match;     // each must open this rule's hit
  std::vector<std::string> examples_no_match;  // each must not
  SourceLocation location;

  bool operator==(const CueRule&) const = default;
};

// context.yaml. Phrases are matched as whole words after normalisation.
struct Context {
  std::vector<std::string> compatibility;
  std::vector<std::string> accessories;
  std::vector<std::string> bundle;
  std::vector<std::string> used;
  std::vector<std::string> packaging_only;
  SourceLocation location;

  bool operator==(const Context&) const = default;
};

// Listing titles in which a brand's or a product's rights holder must (match) or must not
// (no_match) be named; `bonafide check` runs them.
struct MentionExamples {
  std::vector<std::string> match;
  std::vector<std::string> no_match;

  bool operator==(const MentionExamples&) const = default;
};

struct Brand {
  std::string name;
  std::vector<std::string> aliases;
  // Phrases that contain a name of the rights holder without meaning it ("apple pie",
  // "apple cider"): a mention inside one of them is not a mention.
  std::vector<std::string> exclude;
  MentionExamples examples;
  SourceLocation location;

  bool operator==(const Brand&) const = default;
};

struct Money {
  double amount = 0;
  std::string currency;

  bool operator==(const Money&) const = default;
};

struct Product {
  std::string id;
  std::string name;
  std::vector<std::string> keywords;
  std::string category;
  std::optional<Money> reference_price;
  double min_price_ratio = 0;  // 0 = no price rule for this product
  // Genuine photos. As written if absolute; otherwise joined to the rights holder file's
  // folder, so relative to the current directory when the rules directory was given as a
  // relative path. Each existed as a regular file at load time.
  std::vector<std::string> images;
  std::vector<std::string> exclude;  // as Brand::exclude
  MentionExamples examples;
  SourceLocation location;

  bool operator==(const Product&) const = default;
};

// rights_holders/<id>.yaml
struct RightsHolder {
  std::string id;  // [a-z0-9_-]+
  std::string name;
  std::optional<double> threshold;  // overrides policy.threshold
  std::vector<Brand> brands;
  std::vector<std::string> authorized_sellers;
  std::vector<Product> products;
  SourceLocation location;

  bool operator==(const RightsHolder&) const = default;
};

// Something in the rules that loads but deserves a look, e.g. two rights holders claiming
// the same brand. Plain value.
struct RulesWarning {
  SourceLocation location;  // line and column are 0 when the warning is about a whole file
  std::string message;      // lower-case, one line, without the location

  bool operator==(const RulesWarning&) const = default;
};

// Returns `file:line:column: warning: message` (`file: warning: message` for a whole file).
std::string FormatWarning(const RulesWarning& warning);

// A whole rules directory. Plain value; thread-compatible.
struct RulePack {
  std::string directory;
  Policy policy;
  std::vector<CueRule> cues;
  Context context;
  std::vector<RightsHolder> rights_holders;  // sorted by id
  // In file order (policy, cues, context, rights holders by file name). They do not change
  // what the rules decide.
  std::vector<RulesWarning> warnings;

  bool operator==(const RulePack&) const = default;
};

// Loads and validates `directory` (policy.yaml, cues.yaml, context.yaml,
// rights_holders/*.yaml and *.yml; cues.yaml and context.yaml may be absent, policy.yaml
// and at least one rights holder are required).
//
// Returns InvalidArgument with a `file:line:column: message` for the first error found, or
// NotFound when the directory or policy.yaml does not exist. Files are read in a fixed
// order (policy, cues, context, rights holders by file name), so the error is
// deterministic. The format and every check are in docs/rule-format.md.
absl::StatusOr<RulePack> LoadRulePack(std::string_view directory);

}  // namespace bonafide::rules

#endif  // BONAFIDE_RULES_RULE_PACK_H_
