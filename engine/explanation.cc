#include "engine/explanation.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "engine/case_record_renderer.h"
#include "models/pdq.h"
#include "models/photo_matcher.h"
#include "util/strings.h"

namespace bonafide::engine {
namespace {

// `"N1ke" (title 0-4)`: the listing's own text at `span`, and where it is.
std::string Quote(const Listing& listing, const TextSpan& span) {
  const std::string_view text = SpanText(listing, span);
  if (text.empty()) return "(no text)";
  return absl::StrCat("\"", ToAbsl(text), "\" (",
                      span.field == TextField::kTitle ? "title" : "description", " ", span.begin,
                      "-", span.end, ")");
}

// The signals of `hv` of `kind`, or null.
const Signal* Find(const Verdict& verdict, const HolderVerdict& hv, SignalKind kind) {
  for (uint32_t i = hv.signals_begin; i < hv.signals_end; ++i) {
    if (verdict.signals[i].kind == kind) return &verdict.signals[i];
  }
  return nullptr;
}

struct Nearest {
  int32_t image = -1;
  uint32_t photo = 0;
  int variant = 0;
  int distance = 257;
};

// The genuine photo of `holder` nearest to any hashed listing photo, in any rotation or
// flip, however far (a linear pass: explain runs one listing at a time).
std::optional<Nearest> NearestGenuinePhoto(const models::PhotoBank& bank, int32_t holder,
                                           const Verdict& verdict, int min_quality) {
  std::optional<Nearest> best;
  for (const ImageResult& image : verdict.images) {
    if (image.status != ImageStatus::kHashed || image.quality < min_quality) continue;
    models::Hash256 hash;
    std::copy(std::begin(image.hash), std::end(image.hash), hash.words);
    for (uint32_t p = 0; p < bank.photo_count(); ++p) {
      const models::PhotoBank::Photo& photo = bank.photo(p);
      if (photo.holder != holder || !photo.indexed) continue;
      for (int v = 0; v < models::kNumDihedral; ++v) {
        const int d = models::HammingDistance(hash, photo.hashes[v]);
        if (!best.has_value() || d < best->distance) best = Nearest{image.image, p, v, d};
      }
    }
  }
  return best;
}

std::string CoverageWhy(const Listing& listing, const HolderVerdict& hv) {
  const bool has_span = hv.coverage_span.end > hv.coverage_span.begin;
  switch (hv.coverage) {
    case Coverage::kCompatibility:
      return absl::StrCat("off: the title sells something for it, compatibility phrase ",
                          Quote(listing, hv.coverage_span));
    case Coverage::kAccessory:
      return absl::StrCat("off: the title sells an accessory of it, ",
                          Quote(listing, hv.coverage_span));
    case Coverage::kUsed:
      return has_span ? absl::StrCat("off: used goods, ", Quote(listing, hv.coverage_span))
                      : absl::StrCat("off: used goods (condition \"", listing.condition, "\")");
    case Coverage::kPackagingOnly:
      return absl::StrCat("off: packaging only, ", Quote(listing, hv.coverage_span));
    case Coverage::kNone:
      break;
  }
  return "";
}

}  // namespace

ListingExplanation Explain(const rules::CompiledRules& rules, const RulesInfo& info,
                           const models::PhotoBank* bank, const FeedbackIndex& feedback,
                           const Listing& listing, const Verdict& verdict,
                           const std::vector<std::string>& also_holders) {
  ListingExplanation out;
  out.marketplace = listing.marketplace;
  out.listing_id = listing.id;
  out.line_number = listing.line_number;
  if (!verdict.reject_reason.empty()) {
    out.reject_reason = verdict.reject_reason;
    return out;
  }
  const auto& policy = rules.pack().policy;
  const std::string& base = policy.currency;
  const int max_distance = policy.image.max_distance;

  for (const ImageResult& image : verdict.images) {
    std::string line = absl::StrCat("#", image.image, " ", listing.images[image.image], ": ",
                                    ImageStatusName(image.status));
    if (image.status == ImageStatus::kHashed || image.status == ImageStatus::kTooPlain) {
      if (image.source == HashSource::kCache) line += " (from the photo cache)";
      if (image.source == HashSource::kListing) line += " (hash carried by the listing)";
      absl::StrAppend(&line, ", quality ", image.quality);
      if (image.status == ImageStatus::kTooPlain) {
        absl::StrAppend(&line, " (below ", policy.image.min_quality, ": too plain to match)");
      }
      if (image.matched) line += ", matches a genuine photo";
      if (!image.detail.empty()) absl::StrAppend(&line, " (", image.detail, ")");
    } else if (!image.detail.empty()) {
      absl::StrAppend(&line, " (", image.detail, ")");
    }
    out.photos.push_back(std::move(line));
  }

  auto add = [](HolderExplanation& h, std::string signal, const Signal* held, double weight,
                std::string why, bool shadow = false) {
    SignalExplanation s;
    s.signal = std::move(signal);
    s.held = held != nullptr;
    s.shadow = shadow;
    s.weight = shadow ? 0 : weight;
    s.why = std::move(why);
    h.signals.push_back(std::move(s));
  };

  std::vector<bool> explained(info.holders.size(), false);
  for (const HolderVerdict& hv : verdict.holders) {
    explained[hv.holder] = true;
    const RulesInfo::Holder& holder = info.holders[hv.holder];
    HolderExplanation h;
    h.rights_holder = holder.id;
    h.referenced = true;
    h.reference = hv.named ? absl::StrCat("named ", Quote(listing, hv.first_mention))
                           : "not named: shown by a photo";

    // Cue rules: every one that matched is a signal of every referenced rights holder.
    for (uint32_t i = hv.signals_begin; i < hv.signals_end; ++i) {
      const Signal& sig = verdict.signals[i];
      if (sig.kind != SignalKind::kCue) continue;
      add(h, absl::StrCat("cue:", info.cue_rules[sig.index].id), &sig,
          rules.pack().cues[sig.index].weight, absl::StrCat("matched ", Quote(listing, sig.span)),
          sig.shadow);
    }
    if (verdict.cue_hits.empty()) {
      add(h, "cue", nullptr, policy.weights.cue, "no cue rule matched the title or description");
    }

    // Price.
    const Signal* price = Find(verdict, hv, SignalKind::kPrice);
    const PriceCheck& pc = hv.price;
    std::string price_why;
    if (hv.coverage != Coverage::kNone) {
      price_why = CoverageWhy(listing, hv);
    } else if (pc.product < 0) {
      price_why =
          "no product of this rights holder with a reference price is named in the title or "
          "shown by a photo";
    } else {
      AppendPriceSentence(listing, pc, rules.holders()[hv.holder].products[pc.product], base,
                          price != nullptr, price_why);
      price_why += pc.span.end > pc.span.begin ? absl::StrCat(", named ", Quote(listing, pc.span))
                                               : std::string(", shown by its photo");
    }
    add(h, "price", price, policy.weights.price, std::move(price_why));

    // Image.
    const Signal* image = Find(verdict, hv, SignalKind::kImage);
    std::string image_why;
    if (image != nullptr && image->stage == static_cast<uint8_t>(models::MatchStage::kFeatures)) {
      image_why = absl::StrFormat(
          "photo #%d shows genuine photo %s (local features: %d matching points, at least %d)",
          image->image, info.genuine_photos[image->genuine_photo].path, image->inliers,
          info.photo_features_min_inliers);
    } else if (image != nullptr) {
      image_why =
          absl::StrFormat("photo #%d matches genuine photo %s%s at distance %d (%s), limit %d",
                          image->image, info.genuine_photos[image->genuine_photo].path,
                          image->stage == static_cast<uint8_t>(models::MatchStage::kPdq)
                              ? ""
                              : " inside uniform borders",
                          image->distance, Scanner::ImageVariantName(image->variant), max_distance);
    } else if (info.image_root.empty()) {
      image_why = "photos not read (no image root: --images)";
    } else if (listing.images.empty()) {
      image_why = "the listing has no photos";
    } else if (std::optional<Nearest> nearest =
                   bank == nullptr
                       ? std::nullopt
                       : NearestGenuinePhoto(*bank, hv.holder, verdict, policy.image.min_quality);
               nearest.has_value()) {
      image_why = absl::StrFormat(
          "nearest: photo #%d and genuine photo %s at distance %d (%s), over the limit %d",
          nearest->image, info.genuine_photos[nearest->photo].path, nearest->distance,
          Scanner::ImageVariantName(nearest->variant), max_distance);
    } else {
      bool registers = false;
      for (uint32_t p = 0; bank != nullptr && p < bank->photo_count(); ++p) {
        registers = registers || (bank->photo(p).holder == hv.holder && bank->photo(p).indexed);
      }
      image_why = registers ? "no listing photo could be read and is detailed enough"
                            : "this rights holder registers no usable genuine photo";
    }
    add(h, "image", image, policy.weights.image, std::move(image_why));

    // Obfuscated brand.
    const Signal* obfuscated = Find(verdict, hv, SignalKind::kObfuscatedBrand);
    add(h, "obfuscated_brand", obfuscated, policy.weights.obfuscated_brand,
        obfuscated != nullptr ? absl::StrCat("a brand name or alias in an evasive spelling: ",
                                             Quote(listing, obfuscated->span))
        : hv.named ? "every brand name or alias is written plainly (or only products are named)"
                   : "not named");

    // Learnt from verdicts.
    const Signal* known = Find(verdict, hv, SignalKind::kKnownCounterfeitPhoto);
    std::string known_why;
    if (known != nullptr) {
      known_why = absl::StrFormat(
          "photo #%d matches a photo of confirmed counterfeit case %s at distance %d (%s)",
          known->image, feedback.feedback().counterfeit_photos[known->index].case_key,
          known->distance, Scanner::ImageVariantName(known->variant));
    } else if (!feedback.has_photos()) {
      known_why = "no photos of confirmed counterfeit cases are known (no verdicts loaded)";
    } else if (info.image_root.empty()) {
      known_why = "photos not read (no image root: --images)";
    } else {
      known_why = "no listing photo matches a photo of a confirmed counterfeit case";
    }
    add(h, "known_counterfeit_photo", known, policy.weights.known_counterfeit_photo,
        std::move(known_why));
    const Signal* record = Find(verdict, hv, SignalKind::kSellerRecord);
    add(h, "seller_record", record, policy.weights.seller_record,
        record != nullptr
            ? absl::StrCat("seller \"", listing.seller_id, "\" has ", record->units,
                           " other confirmed counterfeit case(s) for this rights holder")
            : absl::StrCat("seller \"", listing.seller_id,
                           "\" has no other confirmed counterfeit case for this rights holder"));

    h.score = hv.score;
    h.threshold = hv.threshold;
    h.authorized_seller = hv.authorized_seller;
    h.case_opened = hv.case_opened;
    if (hv.authorized_seller) {
      h.outcome = absl::StrCat("no case: seller \"", listing.seller_id,
                               "\" is authorized (the rules' list or a verdict)");
    } else {
      h.outcome =
          absl::StrCat(hv.case_opened ? "case" : "no case", ": score ", FormatDecimal(hv.score),
                       hv.case_opened ? " >= " : " < ", "threshold ", FormatDecimal(hv.threshold));
    }
    out.holders.push_back(std::move(h));
  }

  for (const std::string& id : also_holders) {
    const auto it = std::find_if(info.holders.begin(), info.holders.end(),
                                 [&](const RulesInfo::Holder& h) { return h.id == id; });
    if (it != info.holders.end() && explained[it - info.holders.begin()]) continue;
    HolderExplanation h;
    h.rights_holder = id;
    if (it == info.holders.end()) {
      h.reference = "no such rights holder in the rules";
      h.outcome = "no case: unknown rights holder";
    } else {
      explained[it - info.holders.begin()] = true;
      h.reference =
          "not referenced: not named in the title or description, no genuine photo "
          "of it shown";
      h.threshold = rules.holders()[it - info.holders.begin()].threshold;
      h.outcome = "no case: signals count only for a rights holder the listing references";
    }
    out.holders.push_back(std::move(h));
  }
  return out;
}

}  // namespace bonafide::engine

namespace bonafide {

std::string ExplanationText(const ListingExplanation& e) {
  std::string out = e.marketplace.empty()
                        ? std::string("record")
                        : absl::StrCat("listing ", e.marketplace, ":", e.listing_id);
  if (e.line_number > 0) absl::StrAppend(&out, " (line ", e.line_number, ")");
  out += "\n";
  if (!e.reject_reason.empty()) {
    absl::StrAppend(&out, "  rejected: ", e.reject_reason, "\n");
    return out;
  }
  if (!e.photos.empty()) {
    out += "  photos\n";
    for (const std::string& p : e.photos) absl::StrAppend(&out, "    ", p, "\n");
  }
  if (e.holders.empty()) out += "  references no rights holder: no case\n";
  for (const HolderExplanation& h : e.holders) {
    absl::StrAppend(&out, "  ", h.rights_holder, ": ", h.reference, "\n");
    for (const SignalExplanation& s : h.signals) {
      absl::StrAppend(&out, "    ", s.held ? "+ " : "- ", s.signal,
                      s.shadow ? " (shadow)" : absl::StrCat(" (", FormatDecimal(s.weight), ")"),
                      ": ", s.why, "\n");
    }
    absl::StrAppend(&out, "    => ", h.outcome, "\n");
  }
  return out;
}

std::string ExplanationJson(const ListingExplanation& e) {
  std::string out;
  JsonObject json(out);
  json.String("marketplace", e.marketplace).String("listing_id", e.listing_id);
  if (e.line_number > 0) json.Int("line", static_cast<int64_t>(e.line_number));
  if (!e.reject_reason.empty()) json.String("rejected", e.reject_reason);
  std::string photos = "[";
  for (const std::string& p : e.photos) {
    if (photos.size() > 1) photos += ",";
    AppendJsonString(p, photos);
  }
  photos += "]";
  json.Raw("photos", photos);
  std::string holders = "[";
  for (const HolderExplanation& h : e.holders) {
    if (holders.size() > 1) holders += ",";
    JsonObject holder(holders);
    holder.String("rights_holder", h.rights_holder)
        .Raw("referenced", h.referenced ? "true" : "false")
        .String("reference", h.reference);
    std::string signals = "[";
    for (const SignalExplanation& s : h.signals) {
      if (signals.size() > 1) signals += ",";
      JsonObject(signals)
          .String("signal", s.signal)
          .Raw("held", s.held ? "true" : "false")
          .Raw("shadow", s.shadow ? "true" : "false")
          .Raw("weight", FormatDecimal(s.weight))
          .String("why", s.why)
          .Close();
    }
    signals += "]";
    holder.Raw("signals", signals)
        .Raw("score", FormatDecimal(h.score))
        .Raw("threshold", FormatDecimal(h.threshold))
        .Raw("authorized_seller", h.authorized_seller ? "true" : "false")
        .Raw("case_opened", h.case_opened ? "true" : "false")
        .String("outcome", h.outcome)
        .Close();
  }
  holders += "]";
  json.Raw("holders", holders);
  json.Close();
  out += "\n";
  return out;
}

}  // namespace bonafide
