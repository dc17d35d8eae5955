#include "bonafide/scanner.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "engine/decision.h"
#include "models/image_decode.h"
#include "models/pdq.h"
#include "models/photo_bank.h"
#include "rules/compiled_rules.h"
#include "rules/normalize.h"
#include "rules/rule_pack.h"
#include "rules/text_matcher.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide {

struct Scanner::Impl {
  std::shared_ptr<const rules::CompiledRules> rules;
  // The genuine photos; null when no product registers any (then nothing image-related
  // costs anything).
  std::shared_ptr<const models::PhotoBank> bank;
  std::vector<std::string> genuine_paths;  // relative to the rules directory
  std::string image_root;                  // as given ("" = photos not read)
  std::string image_root_real;             // realpath of image_root
  bool reads_images = false;               // bank && !image_root.empty()
  // The patterns compiled by ScannerOptions::text_backend; each scratch has a matcher.
  std::shared_ptr<const rules::MatcherDatabase> matchers;

  // Reads, hashes and matches the listing's photos into scratch.images and
  // scratch.image_matches.
  void ScanImages(const Listing& listing, Scanner::Scratch::Impl& scratch) const;
};

struct Scanner::Scratch::Impl {
  Impl(const rules::CompiledRules& rules, std::unique_ptr<rules::TextMatcher> text_matcher)
      : matcher(std::move(text_matcher)), decision(rules) {}

  // Finds the patterns of `scope` in `text`.
  void Match(std::string_view text, rules::MatchScope scope, std::vector<rules::TextHit>& hits) {
    const absl::Status status = matcher->Match(text, scope, hits);
    // A matcher fails only on misuse (a scratch shared between threads) or exhaustion.
    BONAFIDE_CHECK(status.ok());
  }

  std::unique_ptr<rules::TextMatcher> matcher;
  engine::MatchedField title;
  engine::MatchedField description;
  engine::DecisionScratch decision;

  // The image stage, used only when the scanner reads photos.
  models::ImageDecoder decoder;
  models::DecodedLuma luma;
  models::PdqHasher hasher;
  models::PhotoBank::Scratch bank_scratch;
  std::vector<models::BankMatch> bank_matches;
  std::vector<engine::ImageMatch> image_matches;  // best per holder
  std::vector<ImageResult> images;                // swapped into the verdict
  std::string path;
  char resolved[PATH_MAX];
};

namespace {

// Returns `path` without a leading `dir` + "/" (genuine photo paths are reported relative
// to the rules directory).
std::string RelativeTo(const std::string& path, const std::string& dir) {
  std::string prefix = dir;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  prefix.push_back('/');
  if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0) {
    return path.substr(prefix.size());
  }
  return path;
}

// True when `resolved` (a realpath) is `root` (a realpath) or inside it.
bool InsideRoot(std::string_view resolved, std::string_view root) {
  if (root == "/") return true;
  return resolved.size() > root.size() && resolved.compare(0, root.size(), root) == 0 &&
         resolved[root.size()] == '/';
}

// Sets `r` to a failure of `status`: kind by status code, detail without the path prefix.
void SetFailure(const absl::Status& status, const std::string& path, ImageResult& r) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      r.status = ImageStatus::kMissing;
      break;
    case absl::StatusCode::kResourceExhausted:
      r.status = ImageStatus::kTooLarge;
      break;
    default:
      r.status = ImageStatus::kUnreadable;
      break;
  }
  std::string_view message = ToStd(status.message());
  if (message.size() > path.size() + 2 && message.substr(0, path.size()) == path &&
      message.substr(path.size(), 2) == ": ") {
    message.remove_prefix(path.size() + 2);
  }
  r.detail.assign(message.data(), message.size());
}

}  // namespace

void Scanner::Impl::ScanImages(const Listing& listing, Scanner::Scratch::Impl& s) const {
  s.images.clear();
  s.image_matches.clear();
  if (!reads_images || listing.images.empty()) return;
  const auto& policy = rules->pack().policy;
  for (size_t i = 0; i < listing.images.size(); ++i) {
    s.images.emplace_back();
    ImageResult& r = s.images.back();
    r.image = static_cast<int32_t>(i);
    if (listing.images[i].find('\0') != std::string::npos) {  // "\u0000" in JSON
      r.status = ImageStatus::kUnreadable;
      r.detail = "path contains a NUL character";
      continue;
    }
    // The parser refuses absolute paths and `..`; a symbolic link may still lead out.
    s.path.assign(image_root);
    s.path.push_back('/');
    s.path.append(listing.images[i]);
    if (::realpath(s.path.c_str(), s.resolved) == nullptr) {
      const int err = errno;
      r.status = err == ENOENT || err == ENOTDIR ? ImageStatus::kMissing : ImageStatus::kUnreadable;
      r.detail = err == ENOENT || err == ENOTDIR ? "no such file" : std::strerror(err);
      continue;
    }
    if (!InsideRoot(s.resolved, image_root_real)) {
      r.status = ImageStatus::kOutsideRoot;
      r.detail = "resolves outside the image root";
      continue;
    }
    s.path.assign(s.resolved);  // decode what was checked
    if (absl::Status st = s.decoder.DecodeFile(s.path, models::DecodeMode::kReduced, s.luma);
        !st.ok()) {
      SetFailure(st, s.path, r);
      continue;
    }
    const models::PdqResult pdq = s.hasher.Hash(s.luma.luma.data(), s.luma.width, s.luma.height);
    r.quality = pdq.quality;
    std::memcpy(r.hash, pdq.hash.words, sizeof(r.hash));
    if (pdq.quality < policy.image.min_quality) {
      r.status = ImageStatus::kTooPlain;
      continue;
    }
    bank->Query(pdq.hash, policy.image.max_distance, s.bank_scratch, s.bank_matches);
    r.matched = !s.bank_matches.empty();
    for (const models::BankMatch& m : s.bank_matches) {
      const models::PhotoBank::Photo& photo = bank->photo(m.photo);
      engine::ImageMatch candidate;
      candidate.holder = photo.holder;
      candidate.product = photo.product;
      candidate.image = static_cast<int32_t>(i);
      candidate.genuine_photo = static_cast<int32_t>(m.photo);
      candidate.variant = static_cast<uint8_t>(m.variant);
      candidate.distance = static_cast<int16_t>(m.distance);
      candidate.quality = static_cast<int16_t>(pdq.quality);
      auto it = std::find_if(s.image_matches.begin(), s.image_matches.end(),
                             [&](const engine::ImageMatch& x) { return x.holder == photo.holder; });
      if (it == s.image_matches.end()) {
        s.image_matches.push_back(candidate);
      } else if (candidate.distance < it->distance) {  // ties: the earlier photo stays
        *it = candidate;
      }
    }
  }
  std::sort(
      s.image_matches.begin(), s.image_matches.end(),
      [](const engine::ImageMatch& a, const engine::ImageMatch& b) { return a.holder < b.holder; });
}

Scanner::Scratch::Scratch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scanner::Scratch::~Scratch() = default;

Scanner::Scanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scanner::~Scanner() = default;

absl::StatusOr<std::unique_ptr<Scanner>> Scanner::Create(const ScannerOptions& options) {
  BONAFIDE_ASSIGN_OR_RETURN(rules::RulePack pack, rules::LoadRulePack(options.rules_dir));
  auto impl = std::make_unique<Impl>();
  BONAFIDE_ASSIGN_OR_RETURN(impl->rules, rules::CompiledRules::Compile(std::move(pack)));
  const rules::RulePack& compiled = impl->rules->pack();
  rules::MatcherBackend backend = rules::DefaultMatcherBackend();
  if (options.text_backend == TextBackend::kHyperscan) backend = rules::MatcherBackend::kHyperscan;
  if (options.text_backend == TextBackend::kRe2Set) backend = rules::MatcherBackend::kRe2Set;
  rules::MatcherOptions matcher_options;
  matcher_options.cache_dir = options.cache_dir;
  BONAFIDE_ASSIGN_OR_RETURN(impl->matchers,
                            rules::CompileMatcherDatabase(backend, impl->rules, matcher_options));

  // The photo bank, only when some product registers genuine photos. The CompiledRules
  // holders are in RulePack order (sorted by id), products too.
  std::vector<models::GenuinePhoto> photos;
  std::vector<const rules::Product*> photo_products;
  for (size_t h = 0; h < compiled.rights_holders.size(); ++h) {
    const auto& products = compiled.rights_holders[h].products;
    for (size_t p = 0; p < products.size(); ++p) {
      for (const std::string& path : products[p].images) {
        photos.push_back({static_cast<int32_t>(h), static_cast<int32_t>(p), path});
        photo_products.push_back(&products[p]);
        impl->genuine_paths.push_back(RelativeTo(path, compiled.directory));
      }
    }
  }
  if (!photos.empty()) {
    models::PhotoBankOptions bank_options;
    bank_options.min_quality = compiled.policy.image.min_quality;
    bank_options.cache_dir = options.cache_dir;
    auto bank = models::PhotoBank::Build(photos, bank_options);
    if (!bank.ok()) {
      // Name the product whose photo failed: `file:line:column: product "id": path: ...`.
      for (size_t i = 0; i < photos.size(); ++i) {
        const std::string_view message = ToStd(bank.status().message());
        if (message.substr(0, photos[i].path.size()) != photos[i].path) continue;
        const rules::Product& product = *photo_products[i];
        return absl::Status(
            bank.status().code(),
            absl::StrFormat("%s:%d:%d: product \"%s\": genuine photo %s", product.location.file,
                            product.location.line, product.location.column, product.id,
                            bank.status().message()));
      }
      return bank.status();
    }
    impl->bank = std::move(*bank);
  }
  if (!options.image_root.empty()) {
    char resolved[PATH_MAX];
    struct stat st;
    if (::realpath(options.image_root.c_str(), resolved) == nullptr || ::stat(resolved, &st) != 0 ||
        !S_ISDIR(st.st_mode)) {
      return absl::NotFoundError(
          absl::StrCat("image root \"", options.image_root, "\": no such directory"));
    }
    impl->image_root = options.image_root;
    impl->image_root_real = resolved;
  }
  impl->reads_images = impl->bank != nullptr && !impl->image_root.empty();
  return std::unique_ptr<Scanner>(new Scanner(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Scanner::Scratch>> Scanner::NewScratch() const {
  BONAFIDE_ASSIGN_OR_RETURN(std::unique_ptr<rules::TextMatcher> matcher,
                            impl_->matchers->NewMatcher());
  auto scratch = std::make_unique<Scratch::Impl>(*impl_->rules, std::move(matcher));
  return std::unique_ptr<Scratch>(new Scratch(std::move(scratch)));
}

void Scanner::Scan(const Listing& listing, Scratch& s, Verdict& verdict) const {
  Scratch::Impl& scratch = *s.impl_;
  auto prepare = [&](std::string_view text, rules::MatchScope scope, engine::MatchedField& field) {
    field.original = text;
    field.normalized.Clear();
    rules::NormalizeAppend(text, field.normalized);
    scratch.Match(field.normalized.text, scope, field.hits);
  };
  prepare(listing.title, rules::MatchScope::kTitle, scratch.title);
  prepare(listing.description, rules::MatchScope::kDescription, scratch.description);
  // Photos are read only for a listing that will be judged (not for a currency reject).
  if (impl_->rules->FxToBase(listing.currency) > 0) {
    impl_->ScanImages(listing, scratch);
  } else {
    scratch.images.clear();
    scratch.image_matches.clear();
  }
  engine::Decide(*impl_->rules, listing, scratch.title, scratch.description, scratch.image_matches,
                 scratch.decision, verdict);
  verdict.images.swap(scratch.images);  // both vectors keep their capacity
}

namespace {

const char* FieldName(TextField f) { return f == TextField::kTitle ? "title" : "description"; }

const char* CoverageName(Coverage c) {
  switch (c) {
    case Coverage::kNone:
      return "none";
    case Coverage::kCompatibility:
      return "compatibility";
    case Coverage::kAccessory:
      return "accessory";
    case Coverage::kUsed:
      return "used";
    case Coverage::kPackagingOnly:
      return "packaging_only";
  }
  return "none";
}

std::string_view SpanText(const Listing& listing, const TextSpan& span) {
  const std::string& field = span.field == TextField::kTitle ? listing.title : listing.description;
  if (span.begin >= span.end || span.end > field.size()) return {};
  return std::string_view(field).substr(span.begin, span.end - span.begin);
}

void AppendSpan(const Listing& listing, const TextSpan& span, std::string& out) {
  absl::StrAppend(&out, "\"field\":\"", FieldName(span.field), "\",\"begin\":", span.begin,
                  ",\"end\":", span.end, ",\"text\":");
  AppendJsonString(SpanText(listing, span), out);
}

// printf's "%.6g" (to_chars with a precision is specified as printf), without the format
// parser: a case record writes a dozen numbers.
std::string Number(double v) {
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, 6).ptr;
  return std::string(buf, end);
}

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
  std::string explanation =
      absl::StrFormat("score %s >= threshold %s:", Number(hv.score), Number(hv.threshold));
  r.assign("[");
  for (uint32_t i = hv.signals_begin; i < hv.signals_end; ++i) {
    const Signal& sig = verdict.signals[i];
    if (i > hv.signals_begin) r.push_back(',');
    r.append("{\"signal\":");
    bool has_span = true;
    switch (sig.kind) {
      case SignalKind::kCue: {
        const auto& rule = rules.pack().cues[sig.index];
        absl::StrAppend(&r, "\"cue\",\"rule\":");
        AppendJsonString(rule.id, r);
        absl::StrAppend(&r, ",\"version\":", rule.version);
        absl::StrAppendFormat(&explanation, " cue rule %s%s matched \"%s\" in the %s;", rule.id,
                              sig.shadow ? " (shadow, not scored)" : "",
                              ToAbsl(SpanText(listing, sig.span)), FieldName(sig.span.field));
        break;
      }
      case SignalKind::kPrice: {
        const auto& product = holder.products[sig.index];
        absl::StrAppend(&r, "\"price\",\"product\":");
        AppendJsonString(product.id, r);
        absl::StrAppend(&r, ",\"price\":", Number(listing.price), ",\"currency\":");
        AppendJsonString(listing.currency, r);
        absl::StrAppend(&r, ",\"units\":", sig.units, ",\"unit_price\":", Number(sig.unit_price),
                        ",\"reference_price\":", Number(sig.reference_price),
                        ",\"base_currency\":");
        AppendJsonString(policy.currency, r);
        absl::StrAppend(&r, ",\"ratio\":", Number(sig.ratio),
                        ",\"min_price_ratio\":", Number(product.min_price_ratio), ",\"fx_date\":");
        AppendJsonString(policy.fx_date, r);
        absl::StrAppendFormat(&explanation,
                              " unit price %s %s is %.0f%% of the reference %s %s of %s "
                              "(below %.0f%%);",
                              Number(sig.unit_price), policy.currency, sig.ratio * 100,
                              Number(sig.reference_price), policy.currency, product.id,
                              product.min_price_ratio * 100);
        break;
      }
      case SignalKind::kImage: {
        has_span = false;
        const std::string& photo = listing.images[sig.image];
        const std::string& genuine = impl_->genuine_paths[sig.genuine_photo];
        const auto& product = holder.products[sig.index];
        absl::StrAppend(&r, "\"image\",\"photo\":");
        AppendJsonString(photo, r);
        r.append(",\"genuine_photo\":");
        AppendJsonString(genuine, r);
        r.append(",\"product\":");
        AppendJsonString(product.id, r);
        absl::StrAppend(
            &r, ",\"variant\":\"", ImageVariantName(sig.variant), "\",\"distance\":", sig.distance,
            ",\"max_distance\":", policy.image.max_distance, ",\"quality\":", sig.quality,
            ",\"genuine_quality\":", impl_->bank->photo(sig.genuine_photo).quality);
        absl::StrAppendFormat(&explanation,
                              " photo %s is genuine photo %s of %s (%s, distance %d of at "
                              "most %d);",
                              photo, genuine, product.id, ImageVariantName(sig.variant),
                              sig.distance, policy.image.max_distance);
        break;
      }
      case SignalKind::kObfuscatedBrand:
        absl::StrAppend(&r, "\"obfuscated_brand\"");
        absl::StrAppendFormat(&explanation, " brand written evasively as \"%s\";",
                              ToAbsl(SpanText(listing, sig.span)));
        break;
    }
    absl::StrAppend(&r, ",\"weight\":", Number(sig.weight),
                    ",\"shadow\":", sig.shadow ? "true" : "false");
    if (has_span) {
      r.push_back(',');
      AppendSpan(listing, sig.span, r);
    }
    r.push_back('}');
  }
  r.push_back(']');
  if (!explanation.empty() && explanation.back() == ';') explanation.pop_back();

  std::string images;  // the listing's photo paths, a JSON array
  images.push_back('[');
  for (size_t i = 0; i < listing.images.size(); ++i) {
    if (i > 0) images.push_back(',');
    AppendJsonString(listing.images[i], images);
  }
  images.push_back(']');
  std::string& e = record.evidence_json;
  e.clear();
  JsonObject evidence(e);
  evidence.Object("listing")
      .String("id", listing.id)
      .String("marketplace", listing.marketplace)
      .String("title", listing.title)
      .String("description", listing.description)
      .Raw("price", Number(listing.price))
      .String("currency", listing.currency)
      .String("seller_id", listing.seller_id)
      .String("category", listing.category)
      .String("condition", listing.condition)
      .Int("quantity", listing.quantity)
      .Raw("images", images)
      .Close();
  if (hv.named) {
    JsonObject mention = evidence.Object("first_mention");
    AppendSpan(listing, hv.first_mention, e);
    mention.Close();
  } else {
    evidence.Raw("first_mention", "null");  // referenced only by a genuine photo
  }
  if (!verdict.images.empty()) {
    // Every listing photo: its hash and quality, or why it could not be read.
    std::string photos = "[";
    for (size_t i = 0; i < verdict.images.size(); ++i) {
      const ImageResult& im = verdict.images[i];
      if (i > 0) photos.push_back(',');
      JsonObject photo(photos);
      photo.String("photo", listing.images[im.image]).String("status", ImageStatusName(im.status));
      if (im.status == ImageStatus::kHashed || im.status == ImageStatus::kTooPlain) {
        photo.String("pdq", ImageHashHex(im))
            .Int("quality", im.quality)
            .Raw("matched", im.matched ? "true" : "false");
      } else {
        photo.String("detail", im.detail);
      }
      photo.Close();
    }
    photos.push_back(']');
    evidence.Raw("images", photos);
  }
  evidence.String("coverage", CoverageName(hv.coverage))
      .Raw("threshold", Number(hv.threshold))
      .String("rules_version", rules.rules_version())
      .String("explanation", explanation)
      .Close();
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

std::vector<std::string> Scanner::RulesWarnings() const {
  std::vector<std::string> warnings;
  for (const rules::RulesWarning& w : impl_->rules->pack().warnings) {
    warnings.push_back(rules::FormatWarning(w));
  }
  return warnings;
}

int Scanner::holder_count() const { return static_cast<int>(impl_->rules->holders().size()); }
const std::string& Scanner::holder_id(int holder) const {
  return impl_->rules->holders()[holder].id;
}
const std::string& Scanner::product_id(int holder, int product) const {
  return impl_->rules->holders()[holder].products[product].id;
}
int Scanner::cue_rule_count() const { return static_cast<int>(impl_->rules->pack().cues.size()); }
const std::string& Scanner::cue_rule_id(int rule) const {
  return impl_->rules->pack().cues[rule].id;
}
int Scanner::cue_rule_version(int rule) const { return impl_->rules->pack().cues[rule].version; }
bool Scanner::cue_rule_shadow(int rule) const {
  return impl_->rules->pack().cues[rule].mode == rules::RuleMode::kShadow;
}
const std::string& Scanner::rules_version() const { return impl_->rules->rules_version(); }
bool Scanner::loaded_from_cache() const { return impl_->matchers->loaded_from_cache(); }
int Scanner::pattern_count() const { return static_cast<int>(impl_->rules->patterns().size()); }
int Scanner::genuine_photo_count() const { return static_cast<int>(impl_->genuine_paths.size()); }
const std::string& Scanner::genuine_photo_path(int photo) const {
  return impl_->genuine_paths[photo];
}
int Scanner::genuine_photo_quality(int photo) const { return impl_->bank->photo(photo).quality; }
bool Scanner::genuine_photo_too_plain(int photo) const {
  return !impl_->bank->photo(photo).indexed;
}
int Scanner::genuine_photos_hashed() const {
  return impl_->bank == nullptr ? 0 : impl_->bank->hashed_count();
}
bool Scanner::reads_images() const { return impl_->reads_images; }
const std::string& Scanner::image_root() const { return impl_->image_root; }
const char* Scanner::ImageVariantName(int variant) {
  if (variant < 0 || variant >= models::kNumDihedral) return "original";
  return models::DihedralName(static_cast<models::Dihedral>(variant));
}
std::string Scanner::ImageHashHex(const ImageResult& image) {
  models::Hash256 h;
  std::memcpy(h.words, image.hash, sizeof(h.words));
  return models::ToHex(h);
}

}  // namespace bonafide
