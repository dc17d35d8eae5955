#include "bonafide/scanner.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/decision.h"
#include "rules/compiled_rules.h"
#include "rules/normalize.h"
#include "rules/rule_pack.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide {

struct Scanner::Impl {
  std::shared_ptr<const rules::CompiledRules> rules;
};

struct Scanner::Scratch::Impl {
  Impl(std::unique_ptr<rules::TextMatcher> text_matcher, const rules::CompiledRules& rules)
      : matcher(std::move(text_matcher)), decision(rules) {}

  std::unique_ptr<rules::TextMatcher> matcher;
  engine::MatchedField title;
  engine::MatchedField description;
  engine::DecisionScratch decision;
};

Scanner::Scratch::Scratch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scanner::Scratch::~Scratch() = default;

Scanner::Scanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scanner::~Scanner() = default;

absl::StatusOr<std::unique_ptr<Scanner>> Scanner::Create(const ScannerOptions& options) {
  BONAFIDE_ASSIGN_OR_RETURN(rules::RulePack pack, rules::LoadRulePack(options.rules_dir));
  rules::CompileOptions compile_options;
  compile_options.cache_dir = options.cache_dir;
  auto impl = std::make_unique<Impl>();
  BONAFIDE_ASSIGN_OR_RETURN(impl->rules,
                            rules::CompiledRules::Compile(std::move(pack), compile_options));
  return std::unique_ptr<Scanner>(new Scanner(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Scanner::Scratch>> Scanner::NewScratch() const {
  BONAFIDE_ASSIGN_OR_RETURN(auto matcher, rules::TextMatcher::Create(*impl_->rules));
  return std::unique_ptr<Scratch>(
      new Scratch(std::make_unique<Scratch::Impl>(std::move(matcher), *impl_->rules)));
}

void Scanner::Scan(const Listing& listing, Scratch& s, Verdict& verdict) const {
  Scratch::Impl& scratch = *s.impl_;
  auto prepare = [&](std::string_view text, rules::MatchScope scope,
                     engine::MatchedField& field) {
    field.original = text;
    field.normalized.Clear();
    rules::NormalizeAppend(text, field.normalized);
    const absl::Status status =
        scratch.matcher->Match(field.normalized.text, scope, field.hits);
    // Hyperscan fails only on misuse (a scratch shared between threads) or exhaustion.
    BONAFIDE_CHECK(status.ok());
  };
  prepare(listing.title, rules::MatchScope::kTitle, scratch.title);
  prepare(listing.description, rules::MatchScope::kDescription, scratch.description);
  engine::Decide(*impl_->rules, listing, scratch.title, scratch.description, scratch.decision,
                 verdict);
}

namespace {

const char* FieldName(TextField f) {
  return f == TextField::kTitle ? "title" : "description";
}

const char* CoverageName(Coverage c) {
  switch (c) {
    case Coverage::kNone: return "none";
    case Coverage::kCompatibility: return "compatibility";
    case Coverage::kAccessory: return "accessory";
    case Coverage::kUsed: return "used";
    case Coverage::kPackagingOnly: return "packaging_only";
  }
  return "none";
}

std::string_view SpanText(const Listing& listing, const TextSpan& span) {
  const std::string& field =
      span.field == TextField::kTitle ? listing.title : listing.description;
  if (span.begin >= span.end || span.end > field.size()) return {};
  return std::string_view(field).substr(span.begin, span.end - span.begin);
}

void AppendSpan(const Listing& listing, const TextSpan& span, std::string& out) {
  absl::StrAppend(&out, "\"field\":\"", FieldName(span.field), "\",\"begin\":", span.begin,
                  ",\"end\":", span.end, ",\"text\":");
  AppendJsonString(SpanText(listing, span), out);
}

std::string Number(double v) { return absl::StrFormat("%.6g", v); }

}  // namespace

void Scanner::MakeCaseRecord(const Listing& listing, const Verdict& verdict,
                             const HolderVerdict& hv, CaseRecord& record) const {
  const rules::CompiledRules& rules = *impl_->rules;
  const auto& policy = rules.pack().policy;
  const auto& holder = rules.holders()[hv.holder];
  record.rights_holder = holder.id;
  record.marketplace = listing.marketplace;
  record.listing_id = listing.id;
  record.seller_id = listing.seller_id;
  record.score = hv.score;

  std::string& r = record.reasons_json;
  std::string explanation = absl::StrFormat("score %s >= threshold %s:", Number(hv.score),
                                            Number(hv.threshold));
  r.assign("[");
  for (uint32_t i = hv.signals_begin; i < hv.signals_end; ++i) {
    const Signal& sig = verdict.signals[i];
    if (i > hv.signals_begin) r.push_back(',');
    r.append("{\"signal\":");
    switch (sig.kind) {
      case SignalKind::kCue: {
        const auto& rule = rules.pack().cues[sig.index];
        absl::StrAppend(&r, "\"cue\",\"rule\":");
        AppendJsonString(rule.id, r);
        absl::StrAppend(&r, ",\"version\":", rule.version);
        absl::StrAppendFormat(&explanation, " cue rule %s%s matched \"%s\" in the %s;",
                              rule.id, sig.shadow ? " (shadow, not scored)" : "",
                              ToAbsl(SpanText(listing, sig.span)), FieldName(sig.span.field));
        break;
      }
      case SignalKind::kPrice: {
        const auto& product = holder.products[sig.index];
        absl::StrAppend(&r, "\"price\",\"product\":");
        AppendJsonString(product.id, r);
        absl::StrAppend(&r, ",\"price\":", Number(listing.price), ",\"currency\":");
        AppendJsonString(listing.currency, r);
        absl::StrAppend(&r, ",\"units\":", sig.units, ",\"unit_price\":",
                        Number(sig.unit_price), ",\"reference_price\":",
                        Number(sig.reference_price), ",\"base_currency\":");
        AppendJsonString(policy.currency, r);
        absl::StrAppend(&r, ",\"ratio\":", Number(sig.ratio), ",\"min_price_ratio\":",
                        Number(product.min_price_ratio), ",\"fx_date\":");
        AppendJsonString(policy.fx_date, r);
        absl::StrAppendFormat(&explanation,
                              " unit price %s %s is %.0f%% of the reference %s %s of %s "
                              "(below %.0f%%);",
                              Number(sig.unit_price), policy.currency, sig.ratio * 100,
                              Number(sig.reference_price), policy.currency, product.id,
                              product.min_price_ratio * 100);
        break;
      }
      case SignalKind::kImage:
        absl::StrAppend(&r, "\"image\"");
        break;
      case SignalKind::kObfuscatedBrand:
        absl::StrAppend(&r, "\"obfuscated_brand\"");
        absl::StrAppendFormat(&explanation, " brand written evasively as \"%s\";",
                              ToAbsl(SpanText(listing, sig.span)));
        break;
    }
    absl::StrAppend(&r, ",\"weight\":", Number(sig.weight),
                    ",\"shadow\":", sig.shadow ? "true" : "false", ",");
    AppendSpan(listing, sig.span, r);
    r.push_back('}');
  }
  r.push_back(']');
  if (!explanation.empty() && explanation.back() == ';') explanation.pop_back();

  std::string& e = record.evidence_json;
  e.assign("{\"listing\":{\"id\":");
  AppendJsonString(listing.id, e);
  e.append(",\"marketplace\":");
  AppendJsonString(listing.marketplace, e);
  e.append(",\"title\":");
  AppendJsonString(listing.title, e);
  e.append(",\"description\":");
  AppendJsonString(listing.description, e);
  absl::StrAppend(&e, ",\"price\":", Number(listing.price), ",\"currency\":");
  AppendJsonString(listing.currency, e);
  e.append(",\"seller_id\":");
  AppendJsonString(listing.seller_id, e);
  e.append(",\"category\":");
  AppendJsonString(listing.category, e);
  e.append(",\"condition\":");
  AppendJsonString(listing.condition, e);
  absl::StrAppend(&e, ",\"quantity\":", listing.quantity, ",\"images\":[");
  for (size_t i = 0; i < listing.images.size(); ++i) {
    if (i > 0) e.push_back(',');
    AppendJsonString(listing.images[i], e);
  }
  e.append("]},\"first_mention\":{");
  AppendSpan(listing, hv.first_mention, e);
  absl::StrAppend(&e, "},\"coverage\":\"", CoverageName(hv.coverage), "\",\"threshold\":",
                  Number(hv.threshold), ",\"rules_version\":\"", rules.rules_version(),
                  "\",\"explanation\":");
  AppendJsonString(explanation, e);
  e.push_back('}');
}

std::vector<std::string> Scanner::CheckExamples() const {
  std::vector<std::string> failures;
  auto scratch = NewScratch();
  if (!scratch.ok()) return {std::string(scratch.status().message())};
  const auto& pack = impl_->rules->pack();
  Listing listing;
  listing.id = "example";
  listing.seller_id = "example";
  listing.currency = pack.policy.currency;
  Verdict verdict;
  for (size_t c = 0; c < pack.cues.size(); ++c) {
    const auto& rule = pack.cues[c];
    if (rule.mode == rules::RuleMode::kOff) continue;
    auto check = [&](const std::string& example, bool want) {
      listing.title = example;
      Scan(listing, **scratch, verdict);
      bool hit = false;
      for (int32_t h : verdict.cue_hits) hit |= h == static_cast<int32_t>(c);
      if (hit != want) {
        failures.push_back(absl::StrFormat("%s:%d:%d: rule \"%s\": example \"%s\" should %s",
                                           rule.location.file, rule.location.line,
                                           rule.location.column, rule.id, example,
                                           want ? "match" : "not match"));
      }
    };
    for (const auto& ex : rule.examples_match) check(ex, true);
    for (const auto& ex : rule.examples_no_match) check(ex, false);
  }
  return failures;
}

int Scanner::holder_count() const {
  return static_cast<int>(impl_->rules->holders().size());
}
const std::string& Scanner::holder_id(int holder) const {
  return impl_->rules->holders()[holder].id;
}
const std::string& Scanner::product_id(int holder, int product) const {
  return impl_->rules->holders()[holder].products[product].id;
}
int Scanner::cue_rule_count() const {
  return static_cast<int>(impl_->rules->pack().cues.size());
}
const std::string& Scanner::cue_rule_id(int rule) const {
  return impl_->rules->pack().cues[rule].id;
}
int Scanner::cue_rule_version(int rule) const {
  return impl_->rules->pack().cues[rule].version;
}
bool Scanner::cue_rule_shadow(int rule) const {
  return impl_->rules->pack().cues[rule].mode == rules::RuleMode::kShadow;
}
const std::string& Scanner::rules_version() const { return impl_->rules->rules_version(); }
bool Scanner::loaded_from_cache() const { return impl_->rules->loaded_from_cache(); }
int Scanner::pattern_count() const {
  return static_cast<int>(impl_->rules->patterns().size());
}

}  // namespace bonafide
