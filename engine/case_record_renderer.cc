#include "engine/case_record_renderer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <compare>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "models/photo_matcher.h"
#include "util/decimal.h"
#include "util/hash.h"
#include "util/strings.h"

namespace bonafide::engine {
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

void AppendSpan(const Listing& listing, const TextSpan& span, std::string& out) {
  absl::StrAppend(&out, "\"field\":\"", FieldName(span.field), "\",\"begin\":", span.begin,
                  ",\"end\":", span.end, ",\"text\":");
  AppendJsonString(SpanText(listing, span), out);
}

// printf's "%.6g" (to_chars with a precision is specified as printf), without the format
// parser: a case record writes a dozen numbers. For the measured quantities of a reason
// (prices, ratios, weights): six digits are what a reader needs, and the outbox bytes of
// existing cases depend on them. Scores and thresholds are FormatDecimal(). A value that
// is not finite (only a listing the scan refuses can give one) is null: the case JSON stays
// valid whatever a caller hands MakeCaseRecord.
std::string Number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, 6).ptr;
  return std::string(buf, end);
}

}  // namespace

std::string_view SpanText(const Listing& listing, const TextSpan& span) {
  const std::string& field = span.field == TextField::kTitle ? listing.title : listing.description;
  if (span.begin >= span.end || span.end > field.size()) return {};
  return std::string_view(field).substr(span.begin, span.end - span.begin);
}

void AppendPriceSentence(const Listing& listing, const PriceCheck& check,
                         const rules::CompiledProduct& product, std::string_view base, bool below,
                         std::string& out) {
  const bool listing_fx = listing.currency != base;
  out.append("unit price ");
  AppendMoney(listing_fx ? listing.price / static_cast<double>(check.units) : check.unit_price,
              listing.currency, out);
  if (listing_fx || check.units > 1) {
    out.append(" (");
    if (listing_fx) AppendMoney(check.unit_price, base, out);
    if (listing_fx && check.units > 1) out.append("; ");
    if (check.units > 1) {
      AppendMoney(listing.price, listing.currency, out);
      absl::StrAppend(&out, " for ", check.units, " units");
    }
    out.push_back(')');
  }
  const Decimal limit_percent = PercentOf(product.min_price_ratio);
  out.append(" is ");
  if (below) {
    AppendPercentBelow(check.ratio, limit_percent, out);
  } else {
    // At or above the limit: two decimals are enough (a ratio at the limit reads as it).
    std::string percent = absl::StrFormat("%.2f", check.ratio * 100);
    while (percent.back() == '0') percent.pop_back();
    if (percent.back() == '.') percent.pop_back();
    absl::StrAppend(&out, percent, "%");
  }
  out.append(" of the reference ");
  AppendMoney(product.reference_price.amount, product.reference_price.currency, out);
  if (product.reference_price.currency != base) {
    out.append(" (");
    AppendMoney(check.reference_price, base, out);
    out.push_back(')');
  }
  absl::StrAppend(&out, " of ", product.id, below ? " (below " : " (not below ");
  AppendPercent(limit_percent, out);
  out.push_back(')');
}

void CaseRecordRenderer::Render(const Listing& listing, const Verdict& verdict,
                                const HolderVerdict& hv, CaseRecord& record) const {
  const rules::CompiledRules& rules = rules_;
  const auto& policy = rules.pack().policy;
  const auto& holder = rules.holders()[hv.holder];
  record.rights_holder = holder.id;
  record.marketplace = listing.marketplace;
  record.listing_id = listing.id;
  record.seller_id = listing.seller_id;
  record.score = hv.score;

  std::string& r = record.reasons_json;
  std::string explanation = absl::StrFormat("score %s >= threshold %s:", FormatDecimal(hv.score),
                                            FormatDecimal(hv.threshold));
  r.clear();  // not assign("["): g++ 12 reports a false -Wrestrict on it (GCC PR 105329)
  r.push_back('[');
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
        absl::StrAppend(&r, ",\"reference_amount\":", Number(product.reference_price.amount),
                        ",\"reference_currency\":");
        AppendJsonString(product.reference_price.currency, r);
        PriceCheck check;  // the signal's own numbers
        check.product = sig.index;
        check.unit_price = sig.unit_price;
        check.reference_price = sig.reference_price;
        check.ratio = sig.ratio;
        check.units = sig.units;
        explanation.push_back(' ');
        AppendPriceSentence(listing, check, product, policy.currency, true, explanation);
        explanation.push_back(';');
        break;
      }
      case SignalKind::kImage: {
        has_span = false;
        const std::string& photo = listing.images[sig.image];
        const RulesInfo::GenuinePhoto& genuine = info_.genuine_photos[sig.genuine_photo];
        const auto& product = holder.products[sig.index];
        absl::StrAppend(&r, "\"image\",\"photo\":");
        AppendJsonString(photo, r);
        r.append(",\"genuine_photo\":");
        AppendJsonString(genuine.path, r);
        r.append(",\"product\":");
        AppendJsonString(product.id, r);
        // A whole-photo PDQ match has no "stage" (its evidence predates the later stages).
        if (sig.stage == static_cast<uint8_t>(models::MatchStage::kFeatures)) {
          absl::StrAppend(&r, ",\"stage\":\"", Scanner::ImageStageName(sig.stage),
                          "\",\"inliers\":", sig.inliers,
                          ",\"min_inliers\":", info_.photo_features_min_inliers);
          absl::StrAppendFormat(&explanation,
                                " photo %s shows genuine photo %s of %s (local features: %d "
                                "matching points of at least %d);",
                                photo, genuine.path, product.id, sig.inliers,
                                info_.photo_features_min_inliers);
        } else {
          if (sig.stage != static_cast<uint8_t>(models::MatchStage::kPdq)) {
            absl::StrAppend(&r, ",\"stage\":\"", Scanner::ImageStageName(sig.stage), "\"");
          }
          absl::StrAppend(&r, ",\"variant\":\"", Scanner::ImageVariantName(sig.variant),
                          "\",\"distance\":", sig.distance,
                          ",\"max_distance\":", policy.image.max_distance);
          absl::StrAppendFormat(&explanation,
                                " photo %s is genuine photo %s of %s (%s%s, distance %d of at "
                                "most %d);",
                                photo, genuine.path, product.id,
                                sig.stage == static_cast<uint8_t>(models::MatchStage::kPdq)
                                    ? ""
                                    : "inside uniform borders, ",
                                Scanner::ImageVariantName(sig.variant), sig.distance,
                                policy.image.max_distance);
        }
        absl::StrAppend(&r, ",\"quality\":", sig.quality, ",\"genuine_quality\":", genuine.quality);
        break;
      }
      case SignalKind::kObfuscatedBrand:
        absl::StrAppend(&r, "\"obfuscated_brand\"");
        absl::StrAppendFormat(&explanation, " brand written evasively as \"%s\";",
                              ToAbsl(SpanText(listing, sig.span)));
        break;
      case SignalKind::kKnownCounterfeitPhoto: {
        has_span = false;
        const std::string& photo = listing.images[sig.image];
        const OutboxFeedback::CounterfeitPhoto& known = feedback_.counterfeit_photos[sig.index];
        absl::StrAppend(&r, "\"known_counterfeit_photo\",\"photo\":");
        AppendJsonString(photo, r);
        r.append(",\"case_key\":");
        AppendJsonString(known.case_key, r);
        r.append(",\"counterfeit_pdq\":");
        AppendJsonString(known.pdq_hex, r);
        absl::StrAppend(&r, ",\"variant\":\"", Scanner::ImageVariantName(sig.variant),
                        "\",\"distance\":", sig.distance,
                        ",\"max_distance\":", policy.image.max_distance,
                        ",\"quality\":", sig.quality);
        absl::StrAppendFormat(&explanation,
                              " photo %s shows a photo of confirmed counterfeit case %s (%s, "
                              "distance %d of at most %d);",
                              photo, known.case_key, Scanner::ImageVariantName(sig.variant),
                              sig.distance, policy.image.max_distance);
        break;
      }
      case SignalKind::kSellerRecord: {
        has_span = false;
        const int64_t confirmed = sig.units;
        absl::StrAppend(&r, "\"seller_record\",\"seller_id\":");
        AppendJsonString(listing.seller_id, r);
        absl::StrAppend(&r, ",\"confirmed\":", confirmed);
        absl::StrAppendFormat(&explanation, " seller %s has %d confirmed counterfeit case%s of %s;",
                              listing.seller_id, confirmed, confirmed == 1 ? "" : "s", holder.id);
        break;
      }
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
        photo.String("pdq", Scanner::ImageHashHex(im))
            .Int("quality", im.quality)
            .Raw("matched", im.matched ? "true" : "false");
        if (!im.detail.empty()) photo.String("detail", im.detail);  // a later stage failed
      } else {
        photo.String("detail", im.detail);
      }
      photo.Close();
    }
    photos.push_back(']');
    evidence.Raw("images", photos);
  }
  evidence.String("coverage", CoverageName(hv.coverage))
      .Raw("threshold", FormatDecimal(hv.threshold))
      .String("rules_version", info_.rules_version)
      .String("explanation", explanation)
      .Close();
  RenderMaterial(listing, verdict, hv, record);
}

void CaseRecordRenderer::RenderMaterial(const Listing& listing, const Verdict& verdict,
                                        const HolderVerdict& hv, CaseRecord& record) const {
  // Shadow signals are left out: a rule being tried must not notify anybody. Names are
  // sorted, so reordering the rules changes nothing.
  std::vector<std::pair<std::string_view, std::string_view>> names;  // ("cue:", id), ("price", "")
  names.reserve(hv.signals_end - hv.signals_begin);
  for (uint32_t i = hv.signals_begin; i < hv.signals_end; ++i) {
    const Signal& sig = verdict.signals[i];
    if (sig.shadow) continue;
    switch (sig.kind) {
      case SignalKind::kCue:
        names.emplace_back("cue:", rules_.pack().cues[sig.index].id);
        break;
      case SignalKind::kPrice:
        names.emplace_back("price", "");
        break;
      case SignalKind::kImage:
        names.emplace_back("image", "");
        break;
      case SignalKind::kObfuscatedBrand:
        names.emplace_back("obfuscated_brand", "");
        break;
      case SignalKind::kKnownCounterfeitPhoto:
        names.emplace_back("known_counterfeit_photo", "");
        break;
      case SignalKind::kSellerRecord:
        names.emplace_back("seller_record", "");
        break;
    }
  }
  std::sort(names.begin(), names.end());
  record.signals.clear();
  for (const auto& [prefix, id] : names) {
    if (!record.signals.empty()) record.signals.push_back(' ');
    record.signals.append(prefix).append(id);
  }
  Hasher128 material;
  for (std::string_view field :
       {std::string_view(listing.title), std::string_view(listing.description),
        std::string_view(listing.currency), std::string_view(listing.seller_id)}) {
    material.Add(field);
  }
  material.Add(Number(listing.price));
  for (const std::string& photo : listing.images) material.Add(photo);
  material.Add(record.signals);
  // A cue's matched text, in signal order (the order cue rules are listed in).
  for (uint32_t i = hv.signals_begin; i < hv.signals_end; ++i) {
    const Signal& sig = verdict.signals[i];
    if (!sig.shadow && sig.kind == SignalKind::kCue) material.Add(SpanText(listing, sig.span));
  }
  record.material_key = material.Hex();
}

}  // namespace bonafide::engine
