#include "rules/rule_pack_digest.h"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "util/hash.h"

namespace bonafide::rules {
namespace {

// A field added to rules/rule_pack.h changes its struct's size: digest the new field in
// Digest() below, then update the size here. (Sizes are those of x86-64 libstdc++, the
// build floor; elsewhere the tests still change every field.)
#if defined(__x86_64__) && defined(__GLIBCXX__)
static_assert(sizeof(ImagePolicy) == 8, "digest the new ImagePolicy field");
static_assert(sizeof(Weights) == 48, "digest the new Weights field");
static_assert(sizeof(Policy) == 176, "digest the new Policy field");
static_assert(sizeof(CueRule) == 192, "digest the new CueRule field");
static_assert(sizeof(Context) == 160, "digest the new Context field");
static_assert(sizeof(Brand) == 168, "digest the new Brand field");
static_assert(sizeof(Money) == 40, "digest the new Money field");
static_assert(sizeof(Product) == 312, "digest the new Product field");
static_assert(sizeof(RightsHolder) == 192, "digest the new RightsHolder field");
static_assert(sizeof(RulePack) == 440, "digest the new RulePack field");
#endif

// Writes fields into a Hasher128, each tagged with its name, so that a value cannot shift
// into its neighbour and lists of different lengths differ.
class CanonicalWriter {
 public:
  void Put(std::string_view name, std::string_view value) {
    hasher_.Add(name);
    hasher_.Add(value);
  }
  void Put(std::string_view name, const std::string& value) { Put(name, std::string_view(value)); }
  void Put(std::string_view name, const char* value) { Put(name, std::string_view(value)); }
  // Exactly: "%.17g" reads back as the same double.
  void Put(std::string_view name, double value) { Put(name, absl::StrFormat("%.17g", value)); }
  void Put(std::string_view name, int value) { Put(name, absl::StrCat(value)); }
  void Put(std::string_view name, bool value) { Put(name, value ? "true" : "false"); }
  void Put(std::string_view name, const std::vector<std::string>& values) {
    Put(name, absl::StrCat(values.size()));
    for (const std::string& v : values) hasher_.Add(v);
  }
  std::string Hex() const { return hasher_.Hex(); }

 private:
  Hasher128 hasher_;
};

const char* ModeName(RuleMode mode) {
  switch (mode) {
    case RuleMode::kEnforce:
      return "enforce";
    case RuleMode::kShadow:
      return "shadow";
    case RuleMode::kOff:
      return "off";
  }
  return "enforce";
}

void Digest(const Policy& p, CanonicalWriter& w) {
  w.Put("policy.currency", p.currency);
  w.Put("policy.fx_date", p.fx_date);
  w.Put("policy.fx", static_cast<int>(p.fx.size()));
  for (const auto& [currency, rate] : p.fx) w.Put(currency, rate);  // std::map: sorted
  w.Put("policy.threshold", p.threshold);
  w.Put("policy.weights.cue", p.weights.cue);
  w.Put("policy.weights.price", p.weights.price);
  w.Put("policy.weights.image", p.weights.image);
  w.Put("policy.weights.obfuscated_brand", p.weights.obfuscated_brand);
  w.Put("policy.weights.known_counterfeit_photo", p.weights.known_counterfeit_photo);
  w.Put("policy.weights.seller_record", p.weights.seller_record);
  w.Put("policy.image.max_distance", p.image.max_distance);
  w.Put("policy.image.min_quality", p.image.min_quality);
}

void Digest(const CueRule& c, CanonicalWriter& w) {
  w.Put("cue.id", c.id);
  w.Put("cue.version", c.version);
  w.Put("cue.mode", ModeName(c.mode));
  w.Put("cue.phrases", c.phrases);
  w.Put("cue.regex", c.regex);
  w.Put("cue.weight", c.weight);
  w.Put("cue.examples_match", c.examples_match);
  w.Put("cue.examples_no_match", c.examples_no_match);
}

void Digest(const Context& c, CanonicalWriter& w) {
  w.Put("context.compatibility", c.compatibility);
  w.Put("context.accessories", c.accessories);
  w.Put("context.bundle", c.bundle);
  w.Put("context.used", c.used);
  w.Put("context.packaging_only", c.packaging_only);
}

// Exclude phrases and mention examples, only when there are any: a pack without them keeps
// the version it had before they existed, so that upgrading does not rewrite the evidence
// of every stored case.
void DigestMentionFields(const std::string& prefix, const std::vector<std::string>& exclude,
                         const MentionExamples& examples, CanonicalWriter& w) {
  if (!exclude.empty()) w.Put(absl::StrCat(prefix, ".exclude"), exclude);
  if (!examples.match.empty()) w.Put(absl::StrCat(prefix, ".examples.match"), examples.match);
  if (!examples.no_match.empty()) {
    w.Put(absl::StrCat(prefix, ".examples.no_match"), examples.no_match);
  }
}

void Digest(const RulePack& pack, const Product& p, CanonicalWriter& w) {
  w.Put("product.id", p.id);
  w.Put("product.name", p.name);
  w.Put("product.keywords", p.keywords);
  w.Put("product.category", p.category);
  w.Put("product.reference_price", p.reference_price.has_value());
  if (p.reference_price.has_value()) {
    w.Put("money.amount", p.reference_price->amount);
    w.Put("money.currency", p.reference_price->currency);
  }
  w.Put("product.min_price_ratio", p.min_price_ratio);
  std::vector<std::string> images;
  for (const std::string& path : p.images) images.push_back(PathInRules(pack, path));
  w.Put("product.images", images);
  DigestMentionFields("product", p.exclude, p.examples, w);
}

void Digest(const RulePack& pack, const RightsHolder& h, CanonicalWriter& w) {
  w.Put("holder.id", h.id);
  w.Put("holder.name", h.name);
  w.Put("holder.threshold", h.threshold.has_value());
  if (h.threshold.has_value()) w.Put("holder.threshold.value", *h.threshold);
  w.Put("holder.brands", static_cast<int>(h.brands.size()));
  for (const Brand& b : h.brands) {
    w.Put("brand.name", b.name);
    w.Put("brand.aliases", b.aliases);
    DigestMentionFields("brand", b.exclude, b.examples, w);
  }
  w.Put("holder.authorized_sellers", h.authorized_sellers);
  w.Put("holder.products", static_cast<int>(h.products.size()));
  for (const Product& p : h.products) Digest(pack, p, w);
}

}  // namespace

std::string RulePackDigest(const RulePack& pack) {
  CanonicalWriter w;
  w.Put("format", "rule-pack-digest-1");
  Digest(pack.policy, w);
  w.Put("cues", static_cast<int>(pack.cues.size()));
  for (const CueRule& c : pack.cues) Digest(c, w);
  Digest(pack.context, w);
  w.Put("rights_holders", static_cast<int>(pack.rights_holders.size()));
  for (const RightsHolder& h : pack.rights_holders) Digest(pack, h, w);
  return w.Hex();
}

std::string PathInRules(const RulePack& pack, const std::string& path) {
  std::string prefix = pack.directory;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  prefix.push_back('/');
  if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0) {
    return path.substr(prefix.size());
  }
  return path;
}

}  // namespace bonafide::rules
