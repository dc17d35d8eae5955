#include "engine/decision.h"

#include <algorithm>
#include <cmath>
#include <compare>
#include <iterator>
#include <string_view>

#include "absl/strings/str_cat.h"

#include "rules/price.h"
#include "util/decimal.h"

namespace bonafide::engine {
namespace {

using rules::IsNameSeparator;
using rules::PatternInfo;
using rules::PatternKind;
using rules::TextHit;

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

TextSpan ToOriginal(const MatchedField& f, TextField field, uint32_t from, uint32_t to) {
  TextSpan span;
  span.field = field;
  if (from >= to || to > f.normalized.size()) return span;
  span.begin = f.normalized.OriginAt(from);
  span.end = rules::OriginEnd(f.original, f.normalized, to - 1);
  return span;
}

// Words that negate the used or packaging-only phrase right after them: "never used", "not
// worn", "no box only" describe a new, complete product and must not switch the price rule
// off ("unused" is another word and never matches "used"). Normalised text is lower case.
constexpr std::string_view kNegations[] = {"not",   "never", "no",     "nicht", "nie", "kein",
                                           "keine", "non",   "jamais", "nunca", "mai"};

// True when the word before text[from] is one of kNegations.
bool NegatedAt(std::string_view text, uint32_t from) {
  size_t end = std::min<size_t>(from, text.size());
  while (end > 0 && !IsWordByte(static_cast<unsigned char>(text[end - 1]))) --end;
  size_t begin = end;
  while (begin > 0 && IsWordByte(static_cast<unsigned char>(text[begin - 1]))) --begin;
  const std::string_view word = text.substr(begin, end - begin);
  return std::find(std::begin(kNegations), std::end(kNegations), word) != std::end(kNegations);
}

// Fills `word_index` with the word number of every byte of `text` (words are runs of
// letters, digits and non-ASCII bytes; a byte between words gets the next word's number).
void IndexWords(std::string_view text, std::vector<uint32_t>& word_index) {
  word_index.resize(text.size());
  uint32_t word = 0;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool w = IsWordByte(static_cast<unsigned char>(text[i]));
    if (w && !in_word && i > 0) ++word;
    in_word = w;
    word_index[i] = word;
  }
}

// How close (relative) to the price limit a ratio computed in double is too close to
// decide by: each of the five inputs is within half an ulp (1.1e-16) of the decimal written,
// and each of the four operations adds as much, so the computed ratio is within 1e-15 of
// the ratio of the decimals. Real prices come this close only when they sit on the limit.
constexpr double kPriceLimitMargin = 1e-9;

// Returns whether the unit price, `price` x `listing_fx` / `units`, is below
// min_price_ratio x reference price of `product`, both in the base currency; `ratio` is
// their quotient as computed in double. A price exactly at the limit is not below it, for
// the decimals people wrote (111.6 EUR against 0.4 x 279 EUR), which binary floating point
// cannot tell: within kPriceLimitMargin of the limit the written decimals are compared in
// integers. Allocates nothing.
bool BelowPriceLimit(double ratio, double price, double listing_fx, int64_t units,
                     const rules::CompiledProduct& product) {
  const double limit = product.min_price_ratio;
  if (ratio < limit * (1 - kPriceLimitMargin)) return true;
  if (ratio > limit * (1 + kPriceLimitMargin)) return false;
  // price x listing_fx < min_price_ratio x reference x reference_fx x units
  const Decimal unit_price_side[] = {ShortestDecimal(price), ShortestDecimal(listing_fx)};
  const Decimal limit_side[] = {
      ShortestDecimal(limit), ShortestDecimal(product.reference_price.amount),
      ShortestDecimal(product.reference_fx), Decimal{static_cast<uint64_t>(units), 0}};
  return std::is_lt(CompareProducts(unit_price_side, limit_side));
}

// A name's pattern lets the letters at a word's ends be written as digits or symbols
// (rules/compiled_rules.cc, NameExpression). A few such stand-ins are a disguise ("bage1",
// "ug9"); more are a number that happens to fit the pattern ("105" for "ios", "d10r"). At
// most one per three letters of the name, and at least one, may be a stand-in.
bool IsPlausibleSpelling(std::string_view text, std::string_view canonical) {
  if (text.size() != canonical.size()) return true;  // not a class match: nothing to count
  size_t letters = 0, stand_ins = 0;
  for (size_t k = 0; k < canonical.size(); ++k) {
    const bool letter = canonical[k] >= 'a' && canonical[k] <= 'z';
    letters += letter;
    stand_ins += letter && !(text[k] >= 'a' && text[k] <= 'z');
  }
  return stand_ins <= std::max<size_t>(1, letters / 3);
}

}  // namespace

DecisionScratch::DecisionScratch(const rules::CompiledRules& rules)
    : holders_(rules.holders().size()), cues_(rules.pack().cues.size()) {}

void Decide(const rules::CompiledRules& rules, const FeedbackIndex& feedback,
            const Listing& listing, const MatchedField& title, const MatchedField& description,
            std::span<const ImageMatch> image_matches,
            std::span<const KnownPhotoMatch> known_photos, DecisionScratch& s, Verdict& verdict) {
  verdict.Clear();
  const double fx = rules.FxToBase(listing.currency);
  if (fx <= 0) {
    absl::StrAppend(&verdict.reject_reason, "unknown currency: \"", listing.currency,
                    "\" has no rate in policy.yaml fx");  // reuses the verdict's capacity
    verdict.reject_class.assign("unknown currency");
    return;
  }
  const std::vector<PatternInfo>& patterns = rules.patterns();
  const auto& policy = rules.pack().policy;

  // Reset only what the previous listing touched.
  for (int32_t h : s.touched_) s.holders_[h] = DecisionScratch::HolderState{};
  s.touched_.clear();
  for (int32_t c : s.cues_hit_) s.cues_[c] = DecisionScratch::CueState{};
  s.cues_hit_.clear();
  s.title_mentions_.clear();
  s.compat_.clear();
  s.accessory_.clear();
  s.bundle_.clear();
  Coverage global_coverage = Coverage::kNone;
  TextSpan global_coverage_span;
  if (listing.condition == "used" || listing.condition == "parts") {
    global_coverage = Coverage::kUsed;
  }

  // The title is read for a unit count only when a product with a reference price shows up
  // (a few listings in a hundred).
  double unit_divisor = 0;  // 0 = not read yet
  auto unit_price = [&] {
    if (unit_divisor == 0) {
      unit_divisor = listing.quantity > 1
                         ? static_cast<double>(listing.quantity)
                         : static_cast<double>(rules::UnitsInTitle(title.normalized.text));
    }
    return listing.price * fx / unit_divisor;
  };

  // True when the mention `hit` of `holder` lies inside one of the holder's exclude phrases
  // ("apple pie"): then it is not a mention.
  auto excluded = [&](const TextHit& hit, int32_t holder) {
    for (const TextHit& e : s.exclude_) {
      if (patterns[e.pattern].holder == holder && e.from <= hit.from && hit.to <= e.to) {
        return true;
      }
    }
    return false;
  };
  auto visit = [&](const MatchedField& f, TextField field) {
    const std::string_view text = f.normalized.text;
    s.exclude_.clear();
    for (const TextHit& hit : f.hits) {
      if (patterns[hit.pattern].kind == PatternKind::kExclude) s.exclude_.push_back(hit);
    }
    for (const TextHit& hit : f.hits) {
      const PatternInfo& p = patterns[hit.pattern];
      switch (p.kind) {
        case PatternKind::kExclude:
          break;
        case PatternKind::kBrand:
        case PatternKind::kKeyword: {
          if (!s.exclude_.empty() && excluded(hit, p.holder)) break;
          s.stripped_.clear();
          for (uint32_t i = hit.from; i < hit.to; ++i) {
            if (!IsNameSeparator(text[i])) s.stripped_.push_back(text[i]);
          }
          if (!IsPlausibleSpelling(s.stripped_, p.canonical)) break;
          // Evasive: a character the normaliser read as a letter, or an ASCII look-alike
          // left as written ("nlke" for "nike", "bage1" for "bagel").
          bool evasive = s.stripped_ != p.canonical;
          for (uint32_t i = hit.from; i < hit.to && !evasive; ++i) {
            evasive = f.normalized.IsEvasive(i);
          }
          auto& st = s.holders_[p.holder];
          const TextSpan span = ToOriginal(f, field, hit.from, hit.to);
          if (!st.touched) {
            st.touched = true;
            s.touched_.push_back(p.holder);
          }
          if (!st.named) {
            st.named = true;
            st.first_mention = span;
          }
          // Only brand names and aliases: "N1ke Air Max 90" is evasive even though the
          // product keyword beside it is plain.
          if (evasive && p.kind == PatternKind::kBrand && !st.evasive_brand) {
            st.evasive_brand = true;
            st.first_evasive_brand = span;
          }
          // Only a product named in the title sets the reference price: descriptions name
          // products as features ("works with ACME Sync") of something else.
          if (p.kind == PatternKind::kKeyword && field == TextField::kTitle) {
            const auto& product = rules.holders()[p.holder].products[p.product];
            if (product.reference_price_base > 0) {
              const double ratio = unit_price() / product.reference_price_base;
              if (st.best_product < 0 || ratio < st.best_ratio) {
                st.best_product = p.product;
                st.best_ratio = ratio;
                st.best_product_span = span;
              }
            }
          }
          if (field == TextField::kTitle) {
            s.title_mentions_.push_back({p.holder, field, hit.from, hit.to, evasive});
          }
          break;
        }
        case PatternKind::kCue: {
          auto& cue = s.cues_[p.cue];
          if (!cue.hit) {
            cue.hit = true;
            cue.span = ToOriginal(f, field, hit.from, hit.to);
            s.cues_hit_.push_back(p.cue);
          }
          break;
        }
        case PatternKind::kCompatibility:
          if (field == TextField::kTitle) s.compat_.push_back(hit);
          break;
        case PatternKind::kAccessory:
          if (field == TextField::kTitle) s.accessory_.push_back(hit);
          break;
        case PatternKind::kBundle:
          if (field == TextField::kTitle) s.bundle_.push_back(hit);
          break;
        case PatternKind::kUsed:
          if (field == TextField::kTitle && global_coverage == Coverage::kNone &&
              !NegatedAt(text, hit.from)) {
            global_coverage = Coverage::kUsed;
            global_coverage_span = ToOriginal(f, field, hit.from, hit.to);
          }
          break;
        case PatternKind::kPackagingOnly:
          if (field == TextField::kTitle && global_coverage == Coverage::kNone &&
              !NegatedAt(text, hit.from)) {
            global_coverage = Coverage::kPackagingOnly;
            global_coverage_span = ToOriginal(f, field, hit.from, hit.to);
          }
          break;
      }
    }
  };
  visit(title, TextField::kTitle);
  visit(description, TextField::kDescription);
  // A genuine photo shown references its rights holder, and its product is a matched
  // product for the price rule (with no text span).
  for (size_t i = 0; i < image_matches.size(); ++i) {
    const ImageMatch& m = image_matches[i];
    auto& st = s.holders_[m.holder];
    if (!st.touched) {
      st.touched = true;
      s.touched_.push_back(m.holder);
    }
    st.image_match = static_cast<int32_t>(i);
    const auto& product = rules.holders()[m.holder].products[m.product];
    if (product.reference_price_base > 0) {
      const double ratio = unit_price() / product.reference_price_base;
      if (st.best_product < 0 || ratio < st.best_ratio) {
        st.best_product = m.product;
        st.best_ratio = ratio;
        st.best_product_span = TextSpan{};
      }
    }
  }
  // A photo of a confirmed counterfeit references its rights holder as a genuine one does
  // (but names no product).
  for (size_t i = 0; i < known_photos.size(); ++i) {
    auto& st = s.holders_[known_photos[i].holder];
    if (!st.touched) {
      st.touched = true;
      s.touched_.push_back(known_photos[i].holder);
    }
    st.known_photo = static_cast<int32_t>(i);
  }
  if (s.touched_.empty()) {
    for (int32_t c : s.cues_hit_) verdict.cue_hits.push_back(c);
    return;
  }
  std::sort(s.touched_.begin(), s.touched_.end());
  std::sort(s.cues_hit_.begin(), s.cues_hit_.end());
  verdict.cue_hits.assign(s.cues_hit_.begin(), s.cues_hit_.end());
  if (!s.compat_.empty()) IndexWords(title.normalized.text, s.word_index_);

  // Coverage of holder h by a compatibility phrase or an accessory word in the title, and
  // the phrase (into `span`).
  auto coverage_of = [&](int32_t h, TextSpan& span) -> Coverage {
    span = TextSpan{};
    if (global_coverage != Coverage::kNone) {
      span = global_coverage_span;
      return global_coverage;
    }
    for (const auto& m : s.title_mentions_) {
      if (m.holder != h) continue;
      // "Mount for ACME Phone 12", "Case for 2nd Generation ACME Phone": the mention starts
      // within four words after the phrase.
      for (const TextHit& c : s.compat_) {
        if (c.to > m.from) continue;
        const uint32_t gap = s.word_index_[m.from] - s.word_index_[c.to - 1];
        if (gap >= 1 && gap <= 4) {
          span = ToOriginal(title, TextField::kTitle, c.from, c.to);
          return Coverage::kCompatibility;
        }
      }
      // "ACME Phone 12 USB cable": an accessory word after the mention, no bundle word
      // between them, and not itself part of a mention of h ("MagSafe Charger").
      for (const TextHit& a : s.accessory_) {
        if (a.from < m.to) continue;
        bool inside_mention = false;
        for (const auto& other : s.title_mentions_) {
          if (other.holder == h && other.from <= a.from && a.to <= other.to) {
            inside_mention = true;
            break;
          }
        }
        if (inside_mention) continue;
        bool bundled = false;
        for (const TextHit& b : s.bundle_) {
          if (b.from >= m.to && b.to <= a.from) {
            bundled = true;
            break;
          }
        }
        if (!bundled) {
          span = ToOriginal(title, TextField::kTitle, a.from, a.to);
          return Coverage::kAccessory;
        }
      }
    }
    return Coverage::kNone;
  };

  for (int32_t h : s.touched_) {
    const auto& st = s.holders_[h];
    const auto& holder = rules.holders()[h];
    HolderVerdict hv;
    hv.holder = h;
    hv.threshold = holder.threshold;
    hv.named = st.named;
    hv.first_mention = st.first_mention;
    hv.coverage = coverage_of(h, hv.coverage_span);
    if (st.best_product >= 0) {
      const rules::CompiledProduct& product = holder.products[st.best_product];
      hv.price.product = st.best_product;
      hv.price.span = st.best_product_span;
      hv.price.unit_price = unit_price();
      hv.price.reference_price = product.reference_price_base;
      hv.price.ratio = st.best_ratio;
      hv.price.units = static_cast<int64_t>(unit_divisor);
    }
    hv.signals_begin = static_cast<uint32_t>(verdict.signals.size());
    for (int32_t c : s.cues_hit_) {
      const auto& rule = rules.pack().cues[c];
      Signal sig;
      sig.kind = SignalKind::kCue;
      sig.shadow = rule.mode == rules::RuleMode::kShadow;
      sig.weight = sig.shadow ? 0 : rule.weight;
      sig.index = c;
      sig.span = s.cues_[c].span;
      verdict.signals.push_back(sig);
    }
    if (hv.coverage == Coverage::kNone && st.best_product >= 0 &&
        BelowPriceLimit(st.best_ratio, listing.price, fx, hv.price.units,
                        holder.products[st.best_product])) {
      Signal sig;
      sig.kind = SignalKind::kPrice;
      sig.weight = policy.weights.price;
      sig.index = st.best_product;
      sig.span = hv.price.span;
      sig.unit_price = hv.price.unit_price;
      sig.reference_price = hv.price.reference_price;
      sig.ratio = hv.price.ratio;
      sig.units = hv.price.units;
      verdict.signals.push_back(sig);
    }
    if (st.image_match >= 0) {
      const ImageMatch& m = image_matches[st.image_match];
      Signal sig;
      sig.kind = SignalKind::kImage;
      sig.weight = policy.weights.image;
      sig.index = m.product;
      sig.image = m.image;
      sig.genuine_photo = m.genuine_photo;
      sig.variant = m.variant;
      sig.stage = m.stage;
      sig.distance = m.distance;
      sig.quality = m.quality;
      sig.inliers = m.inliers;
      verdict.signals.push_back(sig);
    }
    if (st.evasive_brand) {
      Signal sig;
      sig.kind = SignalKind::kObfuscatedBrand;
      sig.weight = policy.weights.obfuscated_brand;
      sig.span = st.first_evasive_brand;
      verdict.signals.push_back(sig);
    }
    if (st.known_photo >= 0) {
      const KnownPhotoMatch& m = known_photos[st.known_photo];
      Signal sig;
      sig.kind = SignalKind::kKnownCounterfeitPhoto;
      sig.weight = policy.weights.known_counterfeit_photo;
      sig.index = m.photo;
      sig.image = m.image;
      sig.variant = m.variant;
      sig.distance = m.distance;
      sig.quality = m.quality;
      verdict.signals.push_back(sig);
    }
    int32_t record = -1;
    if (const int64_t confirmed =
            feedback.ConfirmedCases(h, listing.seller_id, listing.marketplace, listing.id, record);
        confirmed > 0) {
      Signal sig;
      sig.kind = SignalKind::kSellerRecord;
      sig.weight = policy.weights.seller_record;
      sig.index = record;
      sig.units = confirmed;  // the seller's other confirmed cases
      verdict.signals.push_back(sig);
    }
    hv.signals_end = static_cast<uint32_t>(verdict.signals.size());
    for (uint32_t i = hv.signals_begin; i < hv.signals_end; ++i) {
      hv.score += verdict.signals[i].weight;
    }
    // Scores are sums of decimal weights; round away binary noise before comparing.
    hv.score = std::round(hv.score * 1e9) / 1e9;
    hv.authorized_seller = holder.authorized_sellers.contains(listing.seller_id) ||
                           feedback.AuthorizedSeller(h, listing.seller_id);
    hv.case_opened = hv.score >= hv.threshold && !hv.authorized_seller;
    verdict.holders.push_back(hv);
  }
}

}  // namespace bonafide::engine
