#include "tools/gen/listing_generator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <re2/re2.h>

namespace bonafide::gen {
namespace {

// ---------------------------------------------------------------------------------------
// Text helpers shared by the oracle and the generator.

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}
bool IsSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}
char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
std::string LowerString(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerAscii(c);
  return out;
}

struct Tok {
  uint32_t b = 0;  // byte range in the text
  uint32_t e = 0;
};

// Words are runs of ASCII letters/digits and non-ASCII bytes; every other non-space byte
// is a token of its own ("+", "&", "-", "/"). `lowered` receives the ASCII-lowered text.
void Tokenize(std::string_view text, std::string& lowered, std::vector<Tok>& toks) {
  lowered.assign(text.data(), text.size());
  for (char& c : lowered) c = LowerAscii(c);
  toks.clear();
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (IsSpace(c)) {
      ++i;
    } else if (IsWordByte(c)) {
      size_t j = i;
      while (j < n && IsWordByte(static_cast<unsigned char>(text[j]))) ++j;
      toks.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(j)});
      i = j;
    } else {
      toks.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)});
      ++i;
    }
  }
}

std::vector<std::string> TokenStrings(std::string_view phrase) {
  std::string lowered;
  std::vector<Tok> toks;
  Tokenize(phrase, lowered, toks);
  std::vector<std::string> out;
  out.reserve(toks.size());
  for (const Tok& t : toks) out.push_back(lowered.substr(t.b, t.e - t.b));
  return out;
}

// Units announced by a title (tokens lowered). Mirrors the phrases of docs/matching.md
// ("lot of N", "N pcs", "set of N", "N pairs", "N x") plus the ones the
// engine's rules/price.h also reads (pack/box of N, pieces, units, N-pack, Stück); the
// largest count wins.
int64_t UnitsInTitle(std::string_view lowered, const std::vector<Tok>& toks) {
  auto word = [&](size_t i) -> std::string_view {
    if (i >= toks.size()) return {};
    return lowered.substr(toks[i].b, toks[i].e - toks[i].b);
  };
  auto count = [](std::string_view w) -> int64_t {
    if (!IsDigits(w) || w.size() > 6) return 0;
    const int64_t n = std::strtoll(std::string(w).c_str(), nullptr, 10);
    return n >= 2 && n <= 10000 ? n : 0;
  };
  static const std::unordered_set<std::string_view> kBefore = {"lot", "set", "pack", "box"};
  static const std::unordered_set<std::string_view> kAfter = {
      "pcs", "pc", "pieces", "piece", "pairs", "pair", "units", "pack", "stuck", "stk", "x"};
  int64_t best = 1;
  for (size_t i = 0; i < toks.size(); ++i) {
    const std::string_view w = word(i);
    if (kBefore.count(w) && word(i + 1) == "of") best = std::max(best, count(word(i + 2)));
    if (IsDigits(w)) {
      size_t k = i + 1;
      if (word(k) == "-") ++k;  // "6-pack"
      if (kAfter.count(word(k))) best = std::max(best, count(w));
    } else {
      size_t d = 0;  // "10pcs"
      while (d < w.size() && w[d] >= '0' && w[d] <= '9') ++d;
      if (d > 0 && d < w.size() && kAfter.count(w.substr(d)) && w.substr(d) != "x") {
        best = std::max(best, count(w.substr(0, d)));
      }
    }
  }
  return best;
}

enum class TermKind : uint8_t {
  kBrand,  // brand name or alias
  kKeyword,
  kCue,
  kCompat,
  kAccessory,
  kBundle,
  kUsed,
  kPackaging,
};

struct Term {
  std::vector<std::string> toks;
  TermKind kind = TermKind::kBrand;
  int holder = -1;
  int product = -1;
  int rule = -1;
};

struct Hit {
  int term = 0;
  uint32_t tb = 0, te = 0;  // token range
  bool evasive = false;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// LabelOracle

struct LabelOracle::Impl {
  struct ProductRule {
    double ref_base = 0;  // 0: no price rule
    double ratio = 0;
  };
  struct HolderRule {
    std::string id;
    double threshold = 1;
    std::unordered_set<std::string> authorized;
    std::vector<ProductRule> products;
  };

  std::vector<Term> terms;
  // First token -> terms; keys view terms[i].toks[0] (terms is not changed after Create).
  std::unordered_map<std::string_view, std::vector<int>> first;
  std::vector<std::unique_ptr<RE2>> regexes;
  std::vector<int> regex_rule;
  std::vector<double> rule_points;  // weight when enforced, 0 for shadow/off
  std::vector<bool> rule_enforced;
  std::map<std::string, double, std::less<>> fx;
  double price_weight = 1;
  double obfuscated_weight = 0.5;
  std::vector<HolderRule> holders;

  void AddTerm(std::string_view phrase, TermKind kind, int holder, int product, int rule) {
    Term t;
    t.toks = TokenStrings(phrase);
    if (t.toks.empty()) return;
    t.kind = kind;
    t.holder = holder;
    t.product = product;
    t.rule = rule;
    terms.push_back(std::move(t));
  }

  void FindHits(std::string_view lowered, const std::vector<Tok>& toks,
                const std::vector<std::pair<size_t, size_t>>& evasive,
                std::vector<Hit>& hits) const {
    hits.clear();
    for (size_t i = 0; i < toks.size(); ++i) {
      auto it = first.find(lowered.substr(toks[i].b, toks[i].e - toks[i].b));
      if (it == first.end()) continue;
      for (int id : it->second) {
        const Term& t = terms[id];
        if (i + t.toks.size() > toks.size()) continue;
        bool ok = true;
        for (size_t k = 1; k < t.toks.size() && ok; ++k) {
          const Tok& tk = toks[i + k];
          ok = lowered.substr(tk.b, tk.e - tk.b) == t.toks[k];
        }
        if (!ok) continue;
        Hit h;
        h.term = id;
        h.tb = static_cast<uint32_t>(i);
        h.te = static_cast<uint32_t>(i + t.toks.size());
        const size_t bb = toks[i].b, be = toks[h.te - 1].e;
        for (const auto& [eb, ee] : evasive) {
          if (bb < ee && eb < be) h.evasive = true;
        }
        hits.push_back(h);
      }
    }
  }
};

LabelOracle::LabelOracle(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LabelOracle::~LabelOracle() = default;

absl::StatusOr<std::unique_ptr<LabelOracle>> LabelOracle::Create(const rules::RulePack& pack) {
  auto impl = std::make_unique<Impl>();
  const auto& policy = pack.policy;
  impl->fx = {policy.fx.begin(), policy.fx.end()};
  impl->fx[policy.currency] = 1.0;
  impl->price_weight = policy.weights.price;
  impl->obfuscated_weight = policy.weights.obfuscated_brand;
  for (size_t h = 0; h < pack.rights_holders.size(); ++h) {
    const auto& rh = pack.rights_holders[h];
    Impl::HolderRule hr;
    hr.id = rh.id;
    hr.threshold = rh.threshold.value_or(policy.threshold);
    hr.authorized.insert(rh.authorized_sellers.begin(), rh.authorized_sellers.end());
    for (const auto& b : rh.brands) {
      impl->AddTerm(b.name, TermKind::kBrand, static_cast<int>(h), -1, -1);
      for (const auto& a : b.aliases) {
        impl->AddTerm(a, TermKind::kBrand, static_cast<int>(h), -1, -1);
      }
    }
    for (size_t p = 0; p < rh.products.size(); ++p) {
      const auto& prod = rh.products[p];
      Impl::ProductRule pr;
      if (prod.reference_price && prod.min_price_ratio > 0) {
        auto it = impl->fx.find(prod.reference_price->currency);
        if (it == impl->fx.end()) {
          return absl::InvalidArgumentError("product \"" + prod.id +
                                            "\": reference currency has no fx rate");
        }
        pr.ref_base = prod.reference_price->amount * it->second;
        pr.ratio = prod.min_price_ratio;
      }
      hr.products.push_back(pr);
      for (const auto& k : prod.keywords) {
        impl->AddTerm(k, TermKind::kKeyword, static_cast<int>(h), static_cast<int>(p), -1);
      }
    }
    impl->holders.push_back(std::move(hr));
  }
  for (size_t r = 0; r < pack.cues.size(); ++r) {
    const auto& cue = pack.cues[r];
    const bool enforced = cue.mode == rules::RuleMode::kEnforce;
    impl->rule_enforced.push_back(enforced);
    impl->rule_points.push_back(enforced ? cue.weight : 0.0);
    for (const auto& p : cue.phrases) {
      impl->AddTerm(p, TermKind::kCue, -1, -1, static_cast<int>(r));
    }
    if (!cue.regex.empty()) {
      RE2::Options o;
      o.set_case_sensitive(false);
      auto re = std::make_unique<RE2>(cue.regex, o);
      if (!re->ok()) {
        return absl::InvalidArgumentError("cue \"" + cue.id + "\": " + re->error());
      }
      impl->regexes.push_back(std::move(re));
      impl->regex_rule.push_back(static_cast<int>(r));
    }
  }
  const auto& ctx = pack.context;
  for (const auto& p : ctx.compatibility) impl->AddTerm(p, TermKind::kCompat, -1, -1, -1);
  for (const auto& p : ctx.accessories) impl->AddTerm(p, TermKind::kAccessory, -1, -1, -1);
  for (const auto& p : ctx.bundle) impl->AddTerm(p, TermKind::kBundle, -1, -1, -1);
  for (const auto& p : ctx.used) impl->AddTerm(p, TermKind::kUsed, -1, -1, -1);
  for (const auto& p : ctx.packaging_only) {
    impl->AddTerm(p, TermKind::kPackaging, -1, -1, -1);
  }
  for (size_t i = 0; i < impl->terms.size(); ++i) {
    impl->first[impl->terms[i].toks[0]].push_back(static_cast<int>(i));
  }
  return std::unique_ptr<LabelOracle>(new LabelOracle(std::move(impl)));
}

bool LabelOracle::HasAnyTerm(std::string_view text) const {
  std::string lowered;
  std::vector<Tok> toks;
  std::vector<Hit> hits;
  Tokenize(text, lowered, toks);
  impl_->FindHits(lowered, toks, {}, hits);
  if (!hits.empty()) return true;
  for (const auto& re : impl_->regexes) {
    if (RE2::PartialMatch(lowered, *re)) return true;
  }
  return false;
}

void LabelOracle::Evaluate(const LabelInput& in, std::vector<HolderVerdict>& out) const {
  const Impl& m = *impl_;
  out.clear();
  thread_local std::string tl, dl;
  thread_local std::vector<Tok> tt, dt;
  thread_local std::vector<Hit> th, dh;
  Tokenize(in.title, tl, tt);
  Tokenize(in.description, dl, dt);
  m.FindHits(tl, tt, in.title_evasive, th);
  m.FindHits(dl, dt, in.description_evasive, dh);

  const size_t nh = m.holders.size();
  thread_local std::vector<int> state;  // bit 1 referenced, 2 an evasive brand or alias
  state.assign(nh, 0);
  thread_local std::vector<uint8_t> price_sig;
  price_sig.assign(nh, 0);
  thread_local std::vector<uint8_t> rule_hit;
  rule_hit.assign(m.rule_points.size(), 0);

  // Units and unit price in the base currency.
  int64_t units = in.quantity > 1 ? in.quantity : UnitsInTitle(tl, tt);
  double fx = 0;
  if (auto it = m.fx.find(in.currency); it != m.fx.end()) fx = it->second;
  const double unit_base = in.price * fx / static_cast<double>(units);

  bool global_cover = in.condition == "used" || in.condition == "parts";
  for (int f = 0; f < 2; ++f) {
    for (const Hit& h : f == 0 ? th : dh) {
      const Term& t = m.terms[h.term];
      switch (t.kind) {
        case TermKind::kBrand:
        case TermKind::kKeyword:
          state[t.holder] |= 1;
          if (h.evasive && t.kind == TermKind::kBrand) state[t.holder] |= 2;
          if (t.kind == TermKind::kKeyword && f == 0) {  // products named in the title
            const auto& pr = m.holders[t.holder].products[t.product];
            if (pr.ref_base > 0 && unit_base < pr.ratio * pr.ref_base) {
              price_sig[t.holder] = 1;
            }
          }
          break;
        case TermKind::kCue:
          rule_hit[t.rule] = 1;
          break;
        case TermKind::kUsed:
        case TermKind::kPackaging:
          if (f == 0) global_cover = true;
          break;
        default:
          break;
      }
    }
  }
  for (size_t i = 0; i < m.regexes.size(); ++i) {
    if (RE2::PartialMatch(tl, *m.regexes[i]) || RE2::PartialMatch(dl, *m.regexes[i])) {
      rule_hit[m.regex_rule[i]] = 1;
    }
  }
  double cue_points = 0;
  for (size_t r = 0; r < rule_hit.size(); ++r) {
    if (rule_hit[r]) cue_points += m.rule_points[r];
  }

  auto covered = [&](int holder) {
    if (global_cover) return true;
    for (const Hit& mh : th) {
      const Term& mt = m.terms[mh.term];
      if ((mt.kind != TermKind::kBrand && mt.kind != TermKind::kKeyword) || mt.holder != holder) {
        continue;
      }
      for (const Hit& c : th) {
        const Term& ct = m.terms[c.term];
        if (ct.kind == TermKind::kCompat && c.te <= mh.tb && mh.tb - c.te <= 3) return true;
      }
      for (const Hit& a : th) {
        if (m.terms[a.term].kind != TermKind::kAccessory || a.tb < mh.te) continue;
        bool bundled = false;
        for (const Hit& b : th) {
          if (m.terms[b.term].kind == TermKind::kBundle && b.tb >= mh.te && b.te <= a.tb) {
            bundled = true;
          }
        }
        if (!bundled) return true;
      }
    }
    return false;
  };

  for (size_t h = 0; h < nh; ++h) {
    if (!(state[h] & 1)) continue;
    HolderVerdict v;
    v.holder = static_cast<int>(h);
    v.cue_points = cue_points;
    v.covered = covered(static_cast<int>(h));
    v.price_signal = price_sig[h] && !v.covered;
    v.obfuscated = (state[h] & 2) != 0;
    v.score = cue_points + (v.price_signal ? m.price_weight : 0) +
              (v.obfuscated ? m.obfuscated_weight : 0);
    v.score = std::round(v.score * 1e9) / 1e9;
    v.authorized = m.holders[h].authorized.count(std::string(in.seller_id)) > 0;
    v.is_case = v.score >= m.holders[h].threshold && !v.authorized;
    out.push_back(v);
  }
}

// ---------------------------------------------------------------------------------------
// Generator

namespace {

// Deterministic PRNG with our own distributions (std distributions are not portable).
class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint64_t Next() { return g_(); }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  int Int(int lo, int hi) { return lo + static_cast<int>(Below(hi - lo + 1)); }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Range(double lo, double hi) { return lo + (hi - lo) * Unit(); }
  bool Chance(double p) { return Unit() < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

 private:
  std::mt19937_64 g_;
};

// A text field and its plain shadow (see the header comment).
struct Field {
  std::string real, plain;
  std::vector<std::pair<size_t, size_t>> evasive;  // ranges in `plain`

  void Clear() {
    real.clear();
    plain.clear();
    evasive.clear();
  }
  void Sep() {
    if (!real.empty() && real.back() != ' ') {
      real += ' ';
      plain += ' ';
    }
  }
  void Word(std::string_view s) {
    Sep();
    real += s;
    plain += s;
  }
  void Raw(std::string_view s) {
    real += s;
    plain += s;
  }
  void Mention(std::string_view real_form, std::string_view plain_form, bool is_evasive) {
    Sep();
    real += real_form;
    if (is_evasive) evasive.emplace_back(plain.size(), plain.size() + plain_form.size());
    plain += plain_form;
  }
};

enum class Form {
  kPlain,
  kUpper,
  kLower,
  kAccent,
  kLeet,
  kHomoglyph,
  kFullWidth,
  kSpaced,
  kDotted,
  kEdgeLeet,     // a digit for a letter at a word's end: "Bage1", "Nik3", "7esla", "Ug9"
  kSpacedModel,  // a model number's characters spaced apart: "5 5 0 v 2" (keywords only)
};
constexpr Form kEvasiveForms[] = {Form::kLeet,   Form::kHomoglyph, Form::kFullWidth,
                                  Form::kSpaced, Form::kDotted,    Form::kEdgeLeet};
// The evasive forms of a product keyword (letters spaced or dotted apart would join the
// words of a multi-word keyword).
constexpr Form kKeywordEvasiveForms[] = {Form::kHomoglyph, Form::kEdgeLeet, Form::kSpacedModel};

// The form's name in the `label_form` field.
const char* FormName(Form form) {
  switch (form) {
    case Form::kLeet:
      return "leet";
    case Form::kHomoglyph:
      return "homoglyph";
    case Form::kFullWidth:
      return "full_width";
    case Form::kSpaced:
      return "spaced";
    case Form::kDotted:
      return "dotted";
    case Form::kEdgeLeet:
      return "edge_leet";
    case Form::kSpacedModel:
      return "spaced_model";
    default:
      return "plain";
  }
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string TitleCase(std::string_view s) {
  std::string out(s);
  bool start = true;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == ' ') {
      start = true;
      continue;
    }
    if (start) {
      // A word with a digit is a model number: upper case ("GA-2100", "AF1").
      size_t j = i;
      bool digit = false;
      while (j < out.size() && out[j] != ' ') digit |= (out[j] >= '0' && out[j] <= '9'), ++j;
      if (digit) {
        for (size_t k = i; k < j; ++k) {
          if (out[k] >= 'a' && out[k] <= 'z') out[k] = static_cast<char>(out[k] - 32);
        }
      } else if (out[i] >= 'a' && out[i] <= 'z') {
        out[i] = static_cast<char>(out[i] - 32);
      }
      start = false;
    }
  }
  return out;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Look-alike letters from Cyrillic and Greek that ICU's confusables fold to the Latin
// letter. Capital I and l are left out on purpose (confusable with each other).
uint32_t Homoglyph(char c) {
  switch (c) {
    case 'a':
      return 0x0430;
    case 'c':
      return 0x0441;
    case 'e':
      return 0x0435;
    case 'o':
      return 0x043E;
    case 'p':
      return 0x0440;
    case 'x':
      return 0x0445;
    case 'y':
      return 0x0443;
    case 'i':
      return 0x0456;
    case 'A':
      return 0x0410;
    case 'B':
      return 0x0412;
    case 'C':
      return 0x0421;
    case 'E':
      return 0x0415;
    case 'H':
      return 0x041D;
    case 'K':
      return 0x041A;
    case 'M':
      return 0x041C;
    case 'N':
      return 0x039D;  // Greek capital nu
    case 'O':
      return 0x041E;
    case 'P':
      return 0x0420;
    case 'T':
      return 0x0422;
    case 'X':
      return 0x0425;
    default:
      return 0;
  }
}

std::string FullWidth(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u > 0x20 && u < 0x7F) {
      AppendUtf8(0xFF01 + (u - 0x21), out);
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> HomoglyphForm(std::string_view s, Rng& rng, bool every_word) {
  std::string out;
  size_t i = 0;
  bool any = false;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    std::string_view w = s.substr(i, j - i);
    std::vector<size_t> cand;
    for (size_t k = 0; k < w.size(); ++k) {
      if (Homoglyph(w[k])) cand.push_back(k);
    }
    bool letters = false;
    for (char c : w) letters |= IsAsciiLetter(c);
    if (!cand.empty() && (every_word || !any)) {
      const size_t pick = cand[rng.Below(cand.size())];
      for (size_t k = 0; k < w.size(); ++k) {
        if (k == pick) {
          AppendUtf8(Homoglyph(w[k]), out);
        } else {
          out += w[k];
        }
      }
      any = true;
    } else if (every_word && letters) {
      out += FullWidth(w);
      any = true;
    } else {
      out += w;
    }
    if (j < s.size()) out += ' ';
    i = j + 1;
  }
  if (!any) return std::nullopt;
  return out;
}

// Digits and symbols for letters, as the normaliser documents them: "N1ke", "Ad!das",
// "$upreme", "@pple", plus o->0 and e->3 inside words.
std::optional<std::string> LeetForm(std::string_view s, Rng& rng) {
  struct Sub {
    size_t pos;
    char c;
  };
  std::vector<Sub> subs;
  for (size_t k = 0; k < s.size(); ++k) {
    const char c = LowerAscii(s[k]);
    const bool word_start = k == 0 || s[k - 1] == ' ';
    const bool word_end = k + 1 == s.size() || s[k + 1] == ' ';
    if (c == 'i' && !word_start && !word_end) {
      subs.push_back({k, '1'});
      subs.push_back({k, '!'});
    }
    if (c == 'a' && word_start) subs.push_back({k, '@'});
    if (c == 's' && word_start) subs.push_back({k, '$'});
    if (c == 'o' && !word_start && !word_end) subs.push_back({k, '0'});
    if (c == 'e' && !word_start && !word_end) subs.push_back({k, '3'});
  }
  if (subs.empty()) return std::nullopt;
  const Sub& sub = subs[rng.Below(subs.size())];
  std::string out(s);
  out[sub.pos] = sub.c;
  return out;
}

// The digit that stands for `letter` in evasive spellings (a4 b8 e3 g9 i1 l1 o0 s5 t7), or
// 0 for a letter without one.
char DigitFor(char letter) {
  constexpr std::string_view kLetters = "abegilost";
  constexpr std::string_view kDigits = "483911057";
  const size_t at = kLetters.find(LowerAscii(letter));
  return at == std::string_view::npos ? 0 : kDigits[at];
}

// One letter at the end of a word of letters only written as the digit that stands for it,
// where the normaliser reads a number: last letters l e o g a s -> 1 3 0 9 4 5, first
// letters t a s b -> 7 4 5 8 ("Bage1", "Nik3", "7esla"). Words of at least 3 letters.
std::optional<std::string> EdgeLeetForm(std::string_view s, Rng& rng) {
  struct Sub {
    size_t pos;
    char c;
  };
  std::vector<Sub> subs;
  for (size_t b = 0; b < s.size();) {
    size_t e = b;
    while (e < s.size() && s[e] != ' ' && s[e] != '-') ++e;
    bool letters = e - b >= 3;
    for (size_t k = b; k < e && letters; ++k) letters = IsAsciiLetter(s[k]);
    if (letters) {
      if (std::string_view("tasb").find(LowerAscii(s[b])) != std::string_view::npos) {
        subs.push_back({b, DigitFor(s[b])});
      }
      if (std::string_view("leogas").find(LowerAscii(s[e - 1])) != std::string_view::npos) {
        subs.push_back({e - 1, DigitFor(s[e - 1])});
      }
    }
    b = e + 1;
  }
  if (subs.empty()) return std::nullopt;
  const Sub& sub = subs[rng.Below(subs.size())];
  std::string out(s);
  out[sub.pos] = sub.c;
  return out;
}

// A product code that looks like a short brand name written mostly in digits ("U99" for
// UGG, "4ppl3" for Apple): two letters replaced where the normaliser keeps digits (a word's
// first or last letter, any g), more than a mention may hold, so it names nobody. Nullopt
// for names of other shapes (not one word of 3 to 5 letters, fewer than two such letters).
std::optional<std::string> NumberLookAlike(std::string_view name, Rng& rng) {
  if (name.size() < 3 || name.size() > 5) return std::nullopt;
  for (char c : name) {
    if (!IsAsciiLetter(c)) return std::nullopt;
  }
  std::vector<size_t> at;
  for (size_t k = 0; k < name.size(); ++k) {
    const bool edge = k == 0 || k + 1 == name.size();
    if (DigitFor(name[k]) != 0 && (edge || LowerAscii(name[k]) == 'g')) at.push_back(k);
  }
  if (at.size() < 2) return std::nullopt;
  const size_t first = rng.Below(at.size());
  size_t second = rng.Below(at.size() - 1);
  if (second >= first) ++second;
  std::string out(name);
  out[at[first]] = DigitFor(out[at[first]]);
  out[at[second]] = DigitFor(out[at[second]]);
  return out;
}

// The characters of every word with a digit spaced apart: "550v2" -> "5 5 0 v 2",
// "Air Max 90" -> "Air Max 9 0". Nullopt when no word has a digit.
std::optional<std::string> SpacedModelForm(std::string_view s) {
  std::string out;
  bool any = false;
  for (size_t b = 0; b < s.size();) {
    size_t e = b;
    while (e < s.size() && s[e] != ' ' && s[e] != '-') ++e;
    bool digit = false;
    for (size_t k = b; k < e; ++k) digit |= s[k] >= '0' && s[k] <= '9';
    for (size_t k = b; k < e; ++k) {
      if (digit && k > b) out += ' ';
      out += s[k];
    }
    any |= digit && e - b > 1;
    if (e < s.size()) out += s[e];
    b = e + 1;
  }
  if (!any) return std::nullopt;
  return out;
}

// "N i k e" / "N.i.k.e" (single words of letters only).
std::optional<std::string> SpreadForm(std::string_view s, char sep) {
  if (s.size() < 3) return std::nullopt;
  for (char c : s) {
    if (!IsAsciiLetter(c)) return std::nullopt;
  }
  std::string out;
  for (size_t k = 0; k < s.size(); ++k) {
    if (k) out += sep;
    out += s[k];
  }
  return out;
}

std::string AccentForm(std::string_view s) {
  std::string out(s);
  for (size_t k = 1; k < s.size(); ++k) {
    uint32_t cp = 0;
    switch (s[k]) {
      case 'a':
        cp = 0xE1;
        break;
      case 'e':
        cp = 0xE9;
        break;
      case 'i':
        cp = 0xED;
        break;
      case 'o':
        cp = 0xF3;
        break;
      case 'u':
        cp = 0xFA;
        break;
      case 'A':
        cp = 0xC1;
        break;
      case 'E':
        cp = 0xC9;
        break;
      case 'O':
        cp = 0xD3;
        break;
      case 'U':
        cp = 0xDA;
        break;
      default:
        break;
    }
    if (cp) {
      std::string r(s.substr(0, k));
      AppendUtf8(cp, r);
      r += s.substr(k + 1);
      return r;
    }
  }
  return out;
}

// Returns the written form of `name` in `form` and whether it is evasive. When the form
// does not apply, writes `name` full width and sets `form` to kFullWidth.
std::pair<std::string, bool> Render(std::string_view name, Form& form, Rng& rng) {
  switch (form) {
    case Form::kPlain:
      return {std::string(name), false};
    case Form::kUpper: {
      std::string u(name);
      for (char& c : u) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      }
      return {u, false};
    }
    case Form::kLower:
      return {LowerString(name), false};
    case Form::kAccent:
      return {AccentForm(name), false};
    case Form::kLeet:
      if (auto s = LeetForm(name, rng)) return {*s, true};
      break;
    case Form::kHomoglyph:
      if (auto s = HomoglyphForm(name, rng, /*every_word=*/true)) return {*s, true};
      break;
    case Form::kSpaced:
      if (auto s = SpreadForm(name, ' ')) return {*s, true};
      break;
    case Form::kDotted:
      if (auto s = SpreadForm(name, '.')) return {*s, true};
      break;
    case Form::kEdgeLeet:
      if (auto s = EdgeLeetForm(name, rng)) return {*s, true};
      break;
    case Form::kSpacedModel:
      if (auto s = SpacedModelForm(name)) return {*s, true};
      break;
    case Form::kFullWidth:
      break;
  }
  form = Form::kFullWidth;
  return {FullWidth(name), true};
}

// --- vocabularies -------------------------------------------------------------------------

const std::vector<std::string>& Colors() {
  static const std::vector<std::string> v = {"black", "white", "red",    "blue", "grey",
                                             "navy",  "beige", "green",  "pink", "brown",
                                             "olive", "cream", "silver", "gold"};
  return v;
}

// Descriptor phrases per product class; {size} is replaced.
struct ClassVocab {
  std::vector<std::string> nouns;
  std::vector<std::string> extras;
};

const std::map<std::string, ClassVocab>& ClassVocabs() {
  static const std::map<std::string, ClassVocab> v = {
      {"shoes",
       {{"men's running shoes", "women's sneakers", "trainers", "unisex sneakers",
         "low top sneakers", "high top sneakers", "women's boots"},
        {"size {eu}", "EU {eu}", "size {eu}", "US {us}"}}},
      {"watches",
       {{"men's wrist watch", "digital watch", "women's smartwatch", "analog watch"},
        {"resin", "stainless steel", "44 mm", "41 mm", "water resistant"}}},
      {"phones",
       {{"smartphone", "mobile phone"}, {"128 GB", "256 GB", "512 GB", "unlocked", "dual sim"}}},
      {"headphones", {{"wireless earbuds", "noise cancelling earbuds"}, {"white", "in ear"}}},
      {"laptops", {{"laptop", "notebook"}, {"16 GB RAM", "512 GB SSD", "13 inch", "15 inch"}}},
      {"fragrance",
       {{"eau de parfum", "eau de toilette", "perfume"}, {"100 ml", "60 ml", "200 ml"}}},
      {"bags",
       {{"handbag", "tote", "shoulder purse", "crossbody purse"},
        {"monogram canvas", "leather", "medium", "small"}}},
      {"clothing",
       {{"hoodie", "sweatshirt", "t-shirt", "jacket"},
        {"size medium", "size large", "size small", "cotton"}}},
      {"personal care",
       {{"electric toothbrush", "electric shaver", "trimmer"}, {"rechargeable", "travel"}}},
      {"lighting", {{"smart bulbs", "light kit"}, {"E27", "dimmable", "starter pack"}}},
      {"generic", {{"item", "product"}, {"new season", "limited"}}},
  };
  return v;
}

std::string ClassOf(std::string_view category) {
  const std::string c = LowerString(category);
  auto has = [&](const char* s) { return c.find(s) != std::string::npos; };
  if (has("shoe") || has("sneaker") || has("boot") || has("footwear")) return "shoes";
  if (has("watch")) return "watches";
  if (has("phone") && !has("head")) return "phones";
  if (has("headphone") || has("audio") || has("earbud")) return "headphones";
  if (has("laptop") || has("computer")) return "laptops";
  if (has("fragrance") || has("perfume") || has("beauty")) return "fragrance";
  if (has("bag") || has("leather")) return "bags";
  if (has("cloth") || has("apparel") || has("hoodie") || has("shirt")) return "clothing";
  if (has("care") || has("tooth") || has("shav")) return "personal care";
  if (has("light")) return "lighting";
  return "generic";
}

// Titles of unrelated products; traps included. {color} is replaced.
const std::vector<std::string>& UnrelatedTitles() {
  static const std::vector<std::string> v = {
      "Handmade ceramic coffee mug 350 ml {color}",
      "Stainless steel water bottle 750 ml {color}",
      "Yoga mat non slip 6 mm {color}",
      "LED desk lamp dimmable {color}",
      "Cast iron frying pan 28 cm",
      "Hand knitted wool scarf {color}",
      "Acoustic guitar strings medium gauge",
      "Office chair ergonomic mesh {color}",
      "Succulent plant in ceramic pot",
      "Dog leash nylon 2 m {color}",
      "Mechanical keyboard hot swappable {color}",
      "Kitchen knife block german steel",
      "Road bike helmet size 58 {color}",
      "Children's picture book hardcover",
      "Portable bluetooth speaker waterproof {color}",
      "Vinyl record jazz collection",
      "Evening dress for a special occasion {color} size 38",
      "Occasion wedding guest hat {color}",
      "Snuggle puppy plush toy {color}",
      "Snuggle fleece blanket 150 by 200 cm {color}",
      "Diorama miniature trees model railway",
      "Wooden diorama kit medieval village",
      "Casino night party decorations",
      "Casino royale poker table felt {color}",
      "Homemade applesauce jars organic",
      "Applesauce cake baking mix",
      "Replica of a famous painting, oil on canvas, unbranded",
      "Pineapple slicer stainless steel",
      "Phillips head screwdriver magnetic",
      "Supremely soft memory foam pillow",
      "Diecast model car scale 1:18 {color}",
      "Wall clock 11:11 minimalist {color}",
      "Garden hose 25 m with spray nozzle",
      "Air fryer 5 litre digital {color}",
      "Louis armchair upholstered {color}",
      "Jordan almonds wedding favours",
      "Board game family edition",
      "Crochet pattern booklet beginners",
      "Bamboo cutting board large",
      "Aquarium filter pump quiet",
  };
  return v;
}

const std::vector<std::string>& UnrelatedCategories() {
  static const std::vector<std::string> v = {"home",  "kitchen", "garden", "toys",
                                             "books", "sports",  "music",  "crafts"};
  return v;
}

// Neutral words for description padding (checked against the pack at start-up).
const char* const kFillerWords[] = {
    "comfortable", "lightweight",  "everyday",   "soft",     "durable",    "classic",    "modern",
    "design",      "ships",        "fast",       "tracked",  "parcel",     "within",     "two",
    "days",        "smoke",        "free",       "home",     "pet",        "please",     "check",
    "photos",      "measurements", "questions",  "welcome",  "happy",      "answer",     "bought",
    "last",        "year",         "kept",       "clean",    "dry",        "place",      "great",
    "condition",   "fits",         "true",       "size",     "colour",     "may",        "vary",
    "slightly",    "screen",       "lighting",   "payment",  "bank",       "transfer",   "accepted",
    "collection",  "possible",     "city",       "centre",   "weekend",    "evening",    "daily",
    "material",    "stitching",    "sole",       "grip",     "cushioning", "breathable", "mesh",
    "upper",       "padded",       "collar",     "heel",     "support",    "walking",    "gym",
    "travel",      "office",       "gift",       "idea",     "birthday",   "season",     "spring",
    "summer",      "autumn",       "winter",     "rainy",    "sunny",      "cosy",       "warm",
    "cool",        "elegant",      "simple",     "neat",     "tidy",       "careful",    "packed",
    "bubble",      "wrap",         "sturdy",     "carton",   "postage",    "included",   "price",
    "firm",        "offers",       "considered", "bundle",   "discount",   "multiple",   "items",
    "see",         "other",        "listings",   "thanks",   "looking",    "reply",      "quickly",
    "usually",     "same",         "day",        "dispatch", "monday",     "friday",     "holiday",
    "break",       "delay",        "possible",   "return",   "accepted",   "fourteen",   "refund",
    "policy",      "buyer",        "pays",       "shipping", "europe",     "worldwide",  "insured",
    "delivery",    "option",       "available",  "request",  "matching",   "colours",    "stock",
    "fresh",       "smell",        "perfect",    "present",  "partner",    "friend",     "family",
    "children",    "adults",       "weight",     "width",    "length",     "height",     "pocket",
    "zip",         "button",       "lining",     "soft",     "touch",      "smooth",     "finish",
    "matte",       "glossy",       "texture",    "pattern",  "stripe",     "plain",      "trim",
    "detail",      "premium",      "feel",       "easy",     "wear",       "care",       "hand",
    "wash",        "cold",         "water",      "air",      "dry",
};

}  // namespace

// ---------------------------------------------------------------------------------------

struct ProductInfo {
  int index = 0;
  std::string keyword;  // display form of one keyword
  std::vector<std::string> keywords;
  bool priced = false;
  double ref_base = 0;
  double ratio = 0;
  std::string category;
  std::string cls;
};

struct HolderInfo {
  int index = 0;
  std::string id;
  std::vector<std::string> brands;  // display forms (names and aliases)
  std::vector<std::string> names;   // display forms of brand names only
  std::vector<ProductInfo> products;
  std::vector<int> priced;  // indexes into products
  std::vector<std::string> authorized;
};

enum Scenario : int {
  kUnrelated,
  kGenuine,
  kBrandOnlyCheap,
  kCueTitle,
  kCueDescription,
  kCueForeign,
  kCueRegex,
  kCueShadow,
  kPriceAnomaly,
  kLotNormal,
  kLotCheap,
  kEvasiveAlone,
  kEvasiveCue,
  kEvasivePrice,
  kAccessory,
  kBundle,
  kUsed,
  kPackaging,
  kAuthorized,
  kTwoBrands,
  kNumScenarios,
};

const std::vector<std::string>& ListingGenerator::ScenarioNames() {
  static const std::vector<std::string> v = {
      "unrelated",   "genuine",       "brand_only_cheap", "cue_title",     "cue_description",
      "cue_foreign", "cue_regex",     "cue_shadow",       "price_anomaly", "lot_normal",
      "lot_cheap",   "evasive_alone", "evasive_cue",      "evasive_price", "accessory",
      "bundle",      "used",          "packaging",        "authorized",    "two_brands"};
  return v;
}

namespace {
constexpr double kScenarioWeights[kNumScenarios] = {35, 10, 2, 5, 4, 3, 3, 3, 5, 2,
                                                    2,  4,  3, 2, 4, 2, 3, 2, 3, 3};
}  // namespace

struct ListingGenerator::State {
  rules::RulePack pack;
  GeneratorOptions options;
  std::unique_ptr<LabelOracle> oracle;
  Rng rng{1};

  std::vector<HolderInfo> holders;  // holders with at least one brand
  std::vector<int> priced_holders;  // indexes into holders
  std::vector<int> auth_holders;    // indexes into holders with authorized sellers
  std::vector<std::string> currencies;
  std::map<std::string, double> fx;

  std::vector<std::string> cue_plain;    // enforced ASCII phrases
  std::vector<std::string> cue_foreign;  // enforced non-ASCII / German phrases
  std::vector<std::string> cue_regex;    // samples matching enforced regexes
  std::vector<std::string> cue_shadow;   // shadow / off samples that enforce nothing

  std::vector<std::string> compat, accessories, bundle, used, packaging;
  std::vector<std::string> unrelated_titles;
  std::map<std::string, ClassVocab> vocab;  // filtered
  std::string never_used;                   // "Never used." when it is a neutral sentence

  std::string filler;                  // pool of neutral words
  std::vector<uint32_t> filler_words;  // word starts in `filler`
  double cumulative_target = 0;

  double weights[kNumScenarios] = {};
  double weight_total = 0;

  // Appends about `n` bytes of filler (whole words, no trailing period) to `out`.
  // Returns false when nothing was appended.
  bool AppendFiller(size_t n, std::string& out) {
    if (n < 4) return false;
    const size_t max_start = filler.size() - n - 1;
    size_t w = rng.Below(filler_words.size());
    while (filler_words[w] > max_start) w = rng.Below(filler_words.size());
    std::string_view piece(filler.data() + filler_words[w], n);
    if (filler[filler_words[w] + n] != ' ') {
      const size_t sp = piece.rfind(' ');
      if (sp == std::string_view::npos || sp == 0) return false;
      piece = piece.substr(0, sp);
    }
    while (!piece.empty() && (piece.back() == '.' || piece.back() == ' ')) {
      piece.remove_suffix(1);
    }
    out += piece;
    return !piece.empty();
  }

  // Scratch.
  Field title, desc;
  std::string line, suffix, esc, scratch;
  std::vector<HolderVerdict> verdicts;
};

namespace {

void AppendJson(std::string_view s, std::string& out) {
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
}

void AppendCsv(std::string_view s, std::string& out) {
  bool quote = false;
  for (char c : s) quote |= c == ',' || c == '"' || c == '\n' || c == '\r';
  if (!quote) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Single-token terms of the pack (a title word must not be one) and every token of every
// term (a filler word must not be one).
struct TermWords {
  std::unordered_set<std::string> single, all;
};

TermWords CollectTermWords(const rules::RulePack& pack) {
  TermWords tw;
  auto add = [&](std::string_view phrase) {
    auto toks = TokenStrings(phrase);
    if (toks.size() == 1) tw.single.insert(toks[0]);
    for (auto& t : toks) tw.all.insert(t);
  };
  for (const auto& h : pack.rights_holders) {
    for (const auto& b : h.brands) {
      add(b.name);
      for (const auto& a : b.aliases) add(a);
    }
    for (const auto& p : h.products) {
      for (const auto& k : p.keywords) add(k);
    }
  }
  for (const auto& c : pack.cues) {
    for (const auto& p : c.phrases) add(p);
  }
  const auto& x = pack.context;
  for (const auto* list :
       {&x.compatibility, &x.accessories, &x.bundle, &x.used, &x.packaging_only}) {
    for (const auto& p : *list) add(p);
  }
  return tw;
}

std::string Fill(std::string_view tmpl, std::string_view key, std::string_view value) {
  std::string out(tmpl);
  const size_t pos = out.find(key);
  if (pos != std::string::npos) out.replace(pos, key.size(), value);
  return out;
}

}  // namespace

ListingGenerator::ListingGenerator(std::unique_ptr<State> state) : state_(std::move(state)) {}
ListingGenerator::~ListingGenerator() = default;
const LabelOracle& ListingGenerator::oracle() const { return *state_->oracle; }

absl::StatusOr<std::unique_ptr<ListingGenerator>> ListingGenerator::Create(
    const rules::RulePack& pack, const GeneratorOptions& options) {
  if (options.count < 0) return absl::InvalidArgumentError("count must be >= 0");
  if (options.record_bytes < 0) return absl::InvalidArgumentError("record_bytes must be >= 0");
  auto st = std::make_unique<State>();
  st->pack = pack;
  st->options = options;
  st->rng = Rng(options.seed);
  auto oracle = LabelOracle::Create(pack);
  if (!oracle.ok()) return oracle.status();
  st->oracle = std::move(*oracle);
  const LabelOracle& o = *st->oracle;
  const TermWords tw = CollectTermWords(pack);

  st->fx = {pack.policy.fx.begin(), pack.policy.fx.end()};
  st->fx[pack.policy.currency] = 1.0;
  for (const auto& [cur, rate] : st->fx) {
    if (rate > 0) st->currencies.push_back(cur);
  }

  // Probes a text alone: which holders / rules / context kinds it triggers.
  std::vector<HolderVerdict> probe;
  auto references_holder = [&](std::string_view text) {
    LabelInput in;
    in.title = text;
    in.price = 1;
    in.currency = pack.policy.currency;
    o.Evaluate(in, probe);
    return !probe.empty();
  };

  // Rights holders.
  for (size_t h = 0; h < pack.rights_holders.size(); ++h) {
    const auto& rh = pack.rights_holders[h];
    HolderInfo hi;
    hi.index = static_cast<int>(h);
    hi.id = rh.id;
    auto display = [](const std::string& s) {
      bool upper = false;
      for (char c : s) upper |= (c >= 'A' && c <= 'Z');
      return upper ? s : TitleCase(s);
    };
    for (const auto& b : rh.brands) {
      hi.brands.push_back(display(b.name));
      hi.names.push_back(display(b.name));
      for (const auto& a : b.aliases) hi.brands.push_back(display(a));
    }
    if (hi.names.empty()) continue;
    for (size_t p = 0; p < rh.products.size(); ++p) {
      const auto& prod = rh.products[p];
      if (prod.keywords.empty()) continue;
      ProductInfo pi;
      pi.index = static_cast<int>(p);
      for (const auto& k : prod.keywords) {
        pi.keywords.push_back(LowerString(prod.name) == LowerString(k) ? prod.name : TitleCase(k));
      }
      pi.keyword = pi.keywords[0];
      pi.category = prod.category.empty() ? "other" : prod.category;
      pi.cls = ClassOf(prod.category);
      if (prod.reference_price && prod.min_price_ratio > 0) {
        auto it = st->fx.find(prod.reference_price->currency);
        if (it != st->fx.end()) {
          pi.priced = true;
          pi.ref_base = prod.reference_price->amount * it->second;
          pi.ratio = prod.min_price_ratio;
        }
      }
      if (pi.priced) hi.priced.push_back(static_cast<int>(hi.products.size()));
      hi.products.push_back(std::move(pi));
    }
    hi.authorized = rh.authorized_sellers;
    st->holders.push_back(std::move(hi));
  }
  if (st->holders.empty()) {
    return absl::InvalidArgumentError("rules: no rights holder with a brand");
  }
  for (size_t i = 0; i < st->holders.size(); ++i) {
    if (!st->holders[i].priced.empty()) st->priced_holders.push_back(static_cast<int>(i));
    if (!st->holders[i].authorized.empty() && !st->holders[i].priced.empty()) {
      st->auth_holders.push_back(static_cast<int>(i));
    }
  }

  // Cue samples: each must trigger its own rule (or, for shadow samples, no enforced
  // rule) and reference no rights holder.
  auto rules_hit = [&](std::string_view sample, bool& holder, bool& enforced_hit) {
    LabelInput in;
    // Probe with a brand so that the oracle reports cue points.
    std::string text = st->holders[0].names[0] + " " + std::string(sample);
    in.title = text;
    in.price = 1;
    in.currency = pack.policy.currency;
    o.Evaluate(in, probe);
    enforced_hit = !probe.empty() && probe[0].cue_points > 0;
    holder = probe.size() != 1 || references_holder(sample);
  };
  static const std::set<std::string> kGerman = {"nachbildung", "replika",     "gefälscht",
                                                "fälschung",   "nachgemacht", "kopie"};
  for (const auto& cue : pack.cues) {
    std::vector<std::string> samples;
    for (const auto& p : cue.phrases) samples.push_back(p);
    if (!cue.regex.empty()) {
      RE2::Options ro;
      ro.set_case_sensitive(false);
      RE2 re("(" + cue.regex + ")", ro);
      std::vector<std::string> sources = cue.examples_match;
      for (const char* s : {"1:1", "1 : 1", "aaa", "aaa+", "top quality", "mirror"}) {
        sources.emplace_back(s);
      }
      for (const auto& src : sources) {
        std::string m;
        if (re.ok() && RE2::PartialMatch(LowerString(src), re, &m) && !m.empty() &&
            std::find(samples.begin(), samples.end(), m) == samples.end()) {
          samples.push_back(m);
        }
      }
    }
    for (const auto& s : samples) {
      bool holder = false, enforced = false;
      rules_hit(s, holder, enforced);
      if (holder) continue;
      if (cue.mode == rules::RuleMode::kEnforce) {
        if (!enforced || cue.weight <= 0) continue;
        if (std::find(cue.phrases.begin(), cue.phrases.end(), s) == cue.phrases.end()) {
          st->cue_regex.push_back(s);
        } else if (!IsAscii(s) || kGerman.count(s)) {
          st->cue_foreign.push_back(s);
        } else {
          st->cue_plain.push_back(s);
        }
      } else if (!enforced) {
        st->cue_shadow.push_back(s);
      }
    }
  }

  // Context phrases that reference no holder by themselves.
  auto keep = [&](const std::vector<std::string>& in, std::vector<std::string>& out,
                  bool ascii_only) {
    for (const auto& p : in) {
      if (references_holder(p)) continue;
      if (ascii_only && !IsAscii(p)) continue;
      out.push_back(p);
    }
  };
  keep(pack.context.compatibility, st->compat, false);
  keep(pack.context.accessories, st->accessories, false);
  keep(pack.context.bundle, st->bundle, false);
  keep(pack.context.used, st->used, false);
  keep(pack.context.packaging_only, st->packaging, false);

  // Title vocabularies: drop phrases that contain a single-token term or trigger anything.
  auto clean_phrase = [&](const std::string& p) {
    for (const auto& t : TokenStrings(p)) {
      if (tw.single.count(t)) return false;
    }
    return !o.HasAnyTerm(Fill(p, "{eu}", "42"));
  };
  for (const auto& [cls, v] : ClassVocabs()) {
    ClassVocab f;
    for (const auto& n : v.nouns) {
      if (clean_phrase(n)) f.nouns.push_back(n);
    }
    for (const auto& n : v.extras) {
      if (clean_phrase(Fill(n, "{us}", "9"))) f.extras.push_back(n);
    }
    st->vocab[cls] = std::move(f);
  }
  for (const auto& t : UnrelatedTitles()) {
    if (!references_holder(Fill(t, "{color}", "black"))) st->unrelated_titles.push_back(t);
  }
  // "Never used." in descriptions: context is read in titles only, so it changes nothing.
  {
    LabelInput in;
    const std::string probe_text = st->holders[0].names[0] + " never used";
    in.title = probe_text;
    in.price = 1;
    in.currency = pack.policy.currency;
    o.Evaluate(in, probe);
    if (!probe.empty() && probe[0].cue_points == 0) st->never_used = "Never used.";
  }

  // Filler pool: neutral words only; no pair of them may match a cue regex.
  std::vector<std::string> words;
  for (const char* w : kFillerWords) {
    if (tw.all.count(w) || o.HasAnyTerm(w)) continue;
    if (std::find(words.begin(), words.end(), w) == words.end()) words.emplace_back(w);
  }
  {
    std::vector<bool> bad(words.size(), false);
    for (size_t i = 0; i < words.size(); ++i) {
      for (size_t j = 0; j < words.size(); ++j) {
        if (o.impl_->regexes.empty()) break;
        const std::string pair = words[i] + " " + words[j];
        for (const auto& re : o.impl_->regexes) {
          if (RE2::PartialMatch(pair, *re)) bad[i] = bad[j] = true;
        }
      }
    }
    std::vector<std::string> kept;
    for (size_t i = 0; i < words.size(); ++i) {
      if (!bad[i]) kept.push_back(words[i]);
    }
    words.swap(kept);
  }
  if (words.size() < 10) return absl::InvalidArgumentError("filler vocabulary too small");
  {
    Rng frng(0x5eed);
    int in_sentence = 0;
    while (st->filler.size() < (1u << 20)) {
      if (!st->filler.empty()) st->filler += ' ';
      st->filler_words.push_back(static_cast<uint32_t>(st->filler.size()));
      std::string w = words[frng.Below(words.size())];
      if (in_sentence == 0) w[0] = static_cast<char>(w[0] - 32);
      st->filler += w;
      if (++in_sentence >= 6 + static_cast<int>(frng.Below(8))) {
        st->filler += '.';
        in_sentence = 0;
      }
    }
  }

  // Scenario weights: impossible scenarios get none.
  for (int s = 0; s < kNumScenarios; ++s) st->weights[s] = kScenarioWeights[s];
  if (options.mix == ScenarioMix::kNightly) {
    st->weights[kUnrelated] *= 30;
    st->weights[kGenuine] *= 5;
  }
  const bool priced = !st->priced_holders.empty();
  auto zero_unless = [&](int s, bool ok) {
    if (!ok) st->weights[s] = 0;
  };
  zero_unless(kCueTitle, !st->cue_plain.empty());
  zero_unless(kCueDescription, !st->cue_plain.empty());
  zero_unless(kCueForeign, !st->cue_foreign.empty());
  zero_unless(kCueRegex, !st->cue_regex.empty());
  zero_unless(kCueShadow, !st->cue_shadow.empty());
  zero_unless(kEvasiveCue, !st->cue_plain.empty());
  for (int s : {kGenuine, kPriceAnomaly, kLotNormal, kLotCheap, kEvasivePrice, kBundle, kUsed,
                kPackaging}) {
    zero_unless(s, priced);
  }
  zero_unless(kAccessory, priced && (!st->accessories.empty() || !st->compat.empty()));
  zero_unless(kBundle, !st->accessories.empty() && !st->bundle.empty());
  zero_unless(kPackaging, !st->packaging.empty());
  zero_unless(kAuthorized, !st->auth_holders.empty() && !st->cue_plain.empty());
  zero_unless(kTwoBrands, st->holders.size() >= 2 && priced);
  zero_unless(kUnrelated, !st->unrelated_titles.empty());
  for (double w : st->weights) st->weight_total += w;
  if (st->weight_total <= 0) return absl::InvalidArgumentError("no scenario is possible");
  return std::unique_ptr<ListingGenerator>(new ListingGenerator(std::move(st)));
}

// --- one listing ----------------------------------------------------------------------------

namespace {

struct Draft {
  int scenario = kUnrelated;
  std::string currency;
  std::string price_text;
  double price = 0;
  std::string seller;
  std::string category;
  std::string condition;
  int64_t quantity = 0;  // 0: absent
  // Evasive scenarios: the form the brand and the product keyword were written in
  // ("label_form", "label_keyword_form"; null when plain or absent).
  const char* form = nullptr;
  const char* keyword_form = nullptr;
};

}  // namespace

namespace {

class Builder {
 public:
  Builder(ListingGenerator::State& s, Draft& d) : s_(s), d_(d), rng_(s.rng) {}

  void Build() {
    s_.title.Clear();
    s_.desc.Clear();
    d_ = Draft{};
    d_.seller = "s-" + std::to_string(rng_.Int(1000, 999999));
    const double r = rng_.Unit() * s_.weight_total;
    double acc = 0;
    d_.scenario = kUnrelated;
    for (int i = 0; i < kNumScenarios; ++i) {
      acc += s_.weights[i];
      if (r < acc && s_.weights[i] > 0) {
        d_.scenario = i;
        break;
      }
    }
    const int roll = rng_.Int(0, 99);
    d_.condition = roll < 55 ? "new" : "";
    switch (d_.scenario) {
      case kUnrelated:
        Unrelated();
        break;
      case kGenuine:
        Genuine();
        break;
      case kBrandOnlyCheap:
        BrandOnlyCheap();
        break;
      case kCueTitle:
        CueScenario(Pick(s_.cue_plain), /*in_title=*/true);
        break;
      case kCueDescription:
        CueScenario(Pick(s_.cue_plain), false);
        break;
      case kCueForeign:
        CueScenario(Pick(s_.cue_foreign), rng_.Chance(0.5));
        break;
      case kCueRegex:
        CueScenario(Pick(s_.cue_regex), rng_.Chance(0.6));
        break;
      case kCueShadow:
        CueScenario(Pick(s_.cue_shadow), rng_.Chance(0.6));
        break;
      case kPriceAnomaly:
        PriceAnomaly();
        break;
      case kLotNormal:
        Lot(false);
        break;
      case kLotCheap:
        Lot(true);
        break;
      case kEvasiveAlone:
        Evasive(0);
        break;
      case kEvasiveCue:
        Evasive(1);
        break;
      case kEvasivePrice:
        Evasive(2);
        break;
      case kAccessory:
        Accessory();
        break;
      case kBundle:
        Bundle();
        break;
      case kUsed:
        Used();
        break;
      case kPackaging:
        Packaging();
        break;
      case kAuthorized:
        Authorized();
        break;
      case kTwoBrands:
        TwoBrands();
        break;
      default:
        Unrelated();
        break;
    }
  }

 private:
  const std::string& Pick(const std::vector<std::string>& v) { return rng_.Pick(v); }
  const HolderInfo& AnyHolder() { return s_.holders[rng_.Below(s_.holders.size())]; }
  const HolderInfo& PricedHolder() { return s_.holders[rng_.Pick(s_.priced_holders)]; }
  const ProductInfo& PricedProduct(const HolderInfo& h) { return h.products[rng_.Pick(h.priced)]; }
  const ProductInfo* AnyProduct(const HolderInfo& h) {
    if (h.products.empty()) return nullptr;
    return &h.products[rng_.Below(h.products.size())];
  }
  const std::string& KeywordOf(const ProductInfo& p) { return rng_.Pick(p.keywords); }

  std::string Currency() {
    if (rng_.Chance(0.55) || s_.currencies.empty()) return s_.pack.policy.currency;
    return rng_.Pick(s_.currencies);
  }

  // Sets the price from an amount in the base currency.
  void SetPrice(double base_amount) {
    d_.currency = Currency();
    const double rate = s_.fx[d_.currency];
    double amount = base_amount / rate;
    char buf[64];
    if (rate < 0.05) {
      amount = std::max(1.0, std::round(amount));
      std::snprintf(buf, sizeof buf, "%.0f", amount);
    } else {
      amount = std::max(0.5, amount);
      if (rng_.Chance(0.3)) {
        std::snprintf(buf, sizeof buf, "%.0f", std::floor(amount));
      } else {
        std::snprintf(buf, sizeof buf, "%.2f", std::floor(amount) + 0.99 - (amount < 1 ? 0.5 : 0));
      }
    }
    d_.price_text = buf;
    d_.price = std::strtod(buf, nullptr);
  }
  // Unit price factors relative to the reference, well away from the ratio.
  double NormalFactor(const ProductInfo& p) {
    const double lo = std::max(0.72, p.ratio * 1.45);
    return rng_.Range(lo, lo + 0.5);
  }
  double CheapFactor(const ProductInfo& p) { return rng_.Range(0.12, 0.68) * p.ratio; }
  void NormalPrice(const ProductInfo& p, int units = 1) {
    SetPrice(p.ref_base * NormalFactor(p) * units);
  }
  void CheapPrice(const ProductInfo& p, int units = 1) {
    SetPrice(p.ref_base * CheapFactor(p) * units);
  }
  void AnyPrice(double lo, double hi) { SetPrice(rng_.Range(lo, hi)); }
  // A price for a product without a price rule, or none.
  void ProductPrice(const ProductInfo* p) {
    if (p && p->priced) {
      NormalPrice(*p);
    } else {
      AnyPrice(15, 400);
    }
  }

  Form PlainForm() {
    const int r = rng_.Int(0, 99);
    if (r < 80) return Form::kPlain;
    if (r < 88) return Form::kUpper;
    if (r < 94) return Form::kLower;
    return Form::kAccent;
  }
  Form EvasiveForm() { return kEvasiveForms[rng_.Below(std::size(kEvasiveForms))]; }
  Form KeywordEvasiveForm() {
    return kKeywordEvasiveForms[rng_.Below(std::size(kKeywordEvasiveForms))];
  }

  // Writes `name` in `form`; returns the form written (full width when `form` does not
  // apply).
  Form Brand(Field& f, const std::string& name, Form form) {
    auto [real, evasive] = Render(name, form, rng_);
    f.Mention(real, name, evasive);
    return form;
  }
  // As Brand, for a product keyword.
  Form Keyword(Field& f, const std::string& kw, Form form) {
    if (form == Form::kSpaced || form == Form::kDotted || form == Form::kLeet) {
      form = Form::kHomoglyph;  // multi-word keywords: look-alike letters only
    }
    // A form that does not apply to this keyword: look-alike letters.
    if ((form == Form::kEdgeLeet && !EdgeLeetForm(kw, rng_)) ||
        (form == Form::kSpacedModel && !SpacedModelForm(kw))) {
      form = Form::kHomoglyph;
    }
    auto [real, evasive] = Render(kw, form, rng_);
    f.Mention(real, kw, evasive);
    return form;
  }
  std::string Color() { return rng_.Pick(Colors()); }
  // Appends a noun, an extra (size, capacity...) and a colour; skips a noun that the
  // title already holds ("Sauvage Eau de Toilette eau de toilette").
  void Descriptors(Field& f, const std::string& cls, bool allow_extra = true) {
    auto it = s_.vocab.find(cls);
    if (it == s_.vocab.end()) it = s_.vocab.find("generic");
    const ClassVocab& v = it->second;
    if (!v.nouns.empty()) {
      const std::string& noun = rng_.Pick(v.nouns);
      if (LowerString(f.plain).find(LowerString(noun)) == std::string::npos) f.Word(noun);
    }
    if (allow_extra && !v.extras.empty() && rng_.Chance(0.7)) {
      std::string e = Fill(rng_.Pick(v.extras), "{eu}", std::to_string(rng_.Int(36, 46)));
      f.Word(Fill(e, "{us}", std::to_string(rng_.Int(5, 12))));
    }
    if (rng_.Chance(0.6)) f.Word(Color());
  }
  // True when `kw` already contains a word of `brand` ("Apple Watch Series 9").
  static bool Contains(const std::string& kw, const std::string& brand) {
    const std::vector<std::string> k = TokenStrings(kw);
    for (const std::string& b : TokenStrings(brand)) {
      if (b.size() >= 3 && std::find(k.begin(), k.end(), b) != k.end()) return true;
    }
    return false;
  }
  const std::string& BrandOf(const HolderInfo& h) {
    return rng_.Chance(0.6) ? h.brands[0] : BrandOf(h);
  }
  // Writes "<brand> <keyword>" (the brand left out when the keyword names it).
  void BrandAndKeyword(Field& f, const HolderInfo& h, const ProductInfo& p, Form brand_form,
                       bool with_brand = true, Form kw_form = Form::kPlain) {
    const std::string& kw = KeywordOf(p);
    const std::string& brand = BrandOf(h);
    if (with_brand && !Contains(kw, brand)) Brand(f, brand, brand_form);
    Keyword(f, kw, kw_form);
  }
  // "Nike Air Max 90 men's running shoes size 42 white"
  void ProductTitle(const HolderInfo& h, const ProductInfo& p, Form brand_form,
                    bool with_brand = true, Form kw_form = Form::kPlain) {
    BrandAndKeyword(s_.title, h, p, brand_form, with_brand, kw_form);
    Descriptors(s_.title, p.cls);
    d_.category = p.category;
  }
  // Mostly ASCII context words in titles; sometimes another language.
  const std::string& Context(const std::vector<std::string>& v) {
    for (int i = 0; i < 4; ++i) {
      const std::string& w = Pick(v);
      if (IsAscii(w) || rng_.Chance(0.15)) return w;
    }
    return Pick(v);
  }
  void DescSentence(std::string_view s) {
    if (!s_.desc.real.empty()) s_.desc.Raw(". ");
    s_.desc.Raw(s);
  }

  void Unrelated() {
    s_.title.Word(Fill(Pick(s_.unrelated_titles), "{color}", Color()));
    if (rng_.Chance(0.15)) {
      // A negative built to look like an evasive name: a product code mostly in digits.
      const HolderInfo& h = AnyHolder();
      if (auto code = NumberLookAlike(rng_.Pick(h.names), rng_)) {
        s_.title.Word("model " + *code);
        d_.form = "lookalike_number";
        // With a cue, a code read as the brand would open a case: the test sees it.
        if (!s_.cue_plain.empty()) s_.title.Word(Pick(s_.cue_plain));
      }
    }
    d_.category = rng_.Pick(UnrelatedCategories());
    AnyPrice(3, 250);
    if (!s_.never_used.empty() && rng_.Chance(0.1)) DescSentence(s_.never_used);
  }

  void Genuine() {
    const int v = rng_.Int(0, 9);
    if (v < 7) {
      const HolderInfo& h = PricedHolder();
      const ProductInfo& p = PricedProduct(h);
      ProductTitle(h, p, PlainForm(), /*with_brand=*/v != 0);
      NormalPrice(p);
      if (rng_.Chance(0.1)) d_.condition = "refurbished";
    } else {
      const HolderInfo& h = AnyHolder();
      const ProductInfo* p = AnyProduct(h);
      if (p) {
        ProductTitle(h, *p, PlainForm());
      } else {
        Brand(s_.title, BrandOf(h), PlainForm());
        Descriptors(s_.title, "generic");
      }
      ProductPrice(p);
    }
  }

  void BrandOnlyCheap() {
    const HolderInfo& h = AnyHolder();
    Brand(s_.title, BrandOf(h), PlainForm());
    const ProductInfo* p = AnyProduct(h);
    Descriptors(s_.title, p ? p->cls : "generic");
    d_.category = p ? p->category : "other";
    AnyPrice(2, 12);
  }

  // A cue phrase/sample in the title or the description; the product sometimes named only
  // in the description.
  void CueScenario(const std::string& cue, bool in_title) {
    const HolderInfo& h = AnyHolder();
    const ProductInfo* p = AnyProduct(h);
    const bool mention_in_desc = !in_title && rng_.Chance(0.25);
    if (mention_in_desc) {
      Descriptors(s_.title, p ? p->cls : "generic");
      if (s_.title.real.empty()) s_.title.Word("Item");
      d_.category = p ? p->category : "other";
      Field& f = s_.desc;
      f.Raw("Looks like ");
      if (p) {
        BrandAndKeyword(f, h, *p, Form::kPlain);
      } else {
        Brand(f, BrandOf(h), Form::kPlain);
      }
    } else if (p && rng_.Chance(0.8)) {
      ProductTitle(h, *p, PlainForm());
    } else {
      Brand(s_.title, BrandOf(h), PlainForm());
      Descriptors(s_.title, p ? p->cls : "generic");
      d_.category = p ? p->category : "other";
    }
    if (in_title) {
      s_.title.Word(cue);
    } else {
      DescSentence(cue);
    }
    ProductPrice(p);
  }

  void PriceAnomaly() {
    const HolderInfo& h = PricedHolder();
    const ProductInfo& p = PricedProduct(h);
    ProductTitle(h, p, PlainForm(), rng_.Chance(0.85));
    CheapPrice(p);
    if (!s_.never_used.empty() && rng_.Chance(0.3)) DescSentence(s_.never_used);
  }

  void Lot(bool cheap) {
    const HolderInfo& h = PricedHolder();
    const ProductInfo& p = PricedProduct(h);
    static const int kSizes[] = {2, 3, 5, 6, 10, 12, 20, 24, 50, 100};
    const int n = kSizes[rng_.Below(10)];
    const int form = rng_.Int(0, 4);
    const std::string ns = std::to_string(n);
    if (form == 0) {
      s_.title.Word("Lot of " + ns);
      ProductTitle(h, p, PlainForm());
    } else if (form == 1) {
      s_.title.Word("Set of " + ns);
      ProductTitle(h, p, PlainForm());
    } else if (form == 2) {
      ProductTitle(h, p, PlainForm());
      s_.title.Word(ns + (p.cls == "shoes" ? " pairs" : " pcs"));
    } else {
      ProductTitle(h, p, PlainForm());  // quantity field
      d_.quantity = n;
    }
    if (cheap) {
      // The whole listing looks fine; each unit is too cheap.
      CheapPrice(p, n);
    } else {
      NormalPrice(p, n);
    }
  }

  // mode 0: evasive brand alone (normal price or no product), 1: with a cue,
  // 2: with a price anomaly (keyword evasive too, or plain).
  void Evasive(int mode) {
    const HolderInfo& h = mode == 2 ? PricedHolder() : AnyHolder();
    Form form = EvasiveForm();
    const std::string& name = rng_.Pick(h.names);
    const int variant = rng_.Int(mode == 2 ? 1 : 0, 2);
    const ProductInfo* p = mode == 2 ? &PricedProduct(h) : AnyProduct(h);
    std::string keyword;
    if (p) {
      for (int i = 0; i < 6 && (keyword.empty() || Contains(keyword, name)); ++i) {
        keyword = KeywordOf(*p);
      }
    }
    const bool keyword_names_brand = p && Contains(keyword, name);
    if ((form == Form::kSpaced || form == Form::kDotted) && variant > 0 && keyword.size() > 1 &&
        !IsAsciiLetter(keyword[1])) {
      form = Form::kFullWidth;  // "C a s i o F-91W" would join the "F"
    }
    if (!(keyword_names_brand && variant > 0)) {
      d_.form = FormName(Brand(s_.title, name, form));
    }
    if (p && variant > 0) {
      // Variant 1: keyword evasive too; 2: keyword plain (then the brand is not
      // "only" in evasive forms).
      const Form keyword_form = variant == 1 ? KeywordEvasiveForm() : Form::kPlain;
      const Form written = Keyword(s_.title, keyword, keyword_form);
      if (variant == 1) d_.keyword_form = FormName(written);
    }
    Descriptors(s_.title, p ? p->cls : "generic");
    d_.category = p ? p->category : "other";
    if ((form == Form::kSpaced || form == Form::kDotted) && s_.title.real.size() > 3) {
      // "S.u.p.r.e.m.e t-shirt" would join the "t": write the brand full width instead.
      const size_t L = 2 * name.size() - 1;  // "N i k e"
      const std::string& t = s_.title.real;
      if (t.size() > L + 2 && t[L] == ' ' && IsAsciiLetter(t[L + 1]) &&
          (L + 2 == t.size() || !IsAsciiLetter(t[L + 2]))) {
        s_.title.real = FullWidth(name) + t.substr(L);
      }
    }
    if (mode == 1) {
      const std::string& cue = Pick(s_.cue_plain);
      if (rng_.Chance(0.5)) {
        s_.title.Word(cue);
      } else {
        DescSentence(cue);
      }
    }
    if (mode == 2) {
      CheapPrice(*p);
    } else {
      ProductPrice(variant > 0 ? p : nullptr);
    }
  }

  void Accessory() {
    const HolderInfo& h = PricedHolder();
    const ProductInfo& p = PricedProduct(h);
    const bool compat = !s_.compat.empty() && (s_.accessories.empty() || rng_.Chance(0.5));
    if (compat) {
      // "Case for Apple iPhone 15 Pro", "Screen protector compatible with the ..."
      if (!s_.accessories.empty()) s_.title.Word(TitleCase(Context(s_.accessories)));
      s_.title.Word(Context(s_.compat));
      if (rng_.Chance(0.25)) s_.title.Word("the");
      BrandAndKeyword(s_.title, h, p, PlainForm(), rng_.Chance(0.7));
      s_.title.Word(Color());
    } else {
      // "Apple iPhone 15 Pro cable black"
      BrandAndKeyword(s_.title, h, p, PlainForm(), rng_.Chance(0.8));
      s_.title.Word(Context(s_.accessories));
      if (rng_.Chance(0.5)) s_.title.Word(Color());
    }
    d_.category = "accessories";
    CheapPrice(p);
  }

  void Bundle() {
    const HolderInfo& h = PricedHolder();
    const ProductInfo& p = PricedProduct(h);
    BrandAndKeyword(s_.title, h, p, PlainForm());
    if (rng_.Chance(0.5)) s_.title.Word(Color());
    s_.title.Word(Context(s_.bundle));
    s_.title.Word(Context(s_.accessories));
    d_.category = p.category;
    CheapPrice(p);
  }

  void Used() {
    const HolderInfo& h = PricedHolder();
    const ProductInfo& p = PricedProduct(h);
    const int v = rng_.Int(0, 2);
    if (v == 0 && !s_.used.empty()) {
      if (rng_.Chance(0.5)) {
        s_.title.Word(TitleCase(Context(s_.used)));
        ProductTitle(h, p, PlainForm());
      } else {
        ProductTitle(h, p, PlainForm());
        s_.title.Word(Context(s_.used));
      }
      d_.condition = rng_.Chance(0.5) ? "used" : "";
    } else {
      ProductTitle(h, p, PlainForm());
      d_.condition = v == 1 ? "used" : "parts";
    }
    CheapPrice(p);
  }

  void Packaging() {
    const HolderInfo& h = PricedHolder();
    const ProductInfo& p = PricedProduct(h);
    BrandAndKeyword(s_.title, h, p, PlainForm());
    s_.title.Word(Context(s_.packaging));
    d_.category = p.category;
    CheapPrice(p);
  }

  void Authorized() {
    const HolderInfo& h = s_.holders[rng_.Pick(s_.auth_holders)];
    const ProductInfo& p = PricedProduct(h);
    d_.seller = rng_.Pick(h.authorized);
    ProductTitle(h, p, PlainForm());
    if (rng_.Chance(0.5)) {
      s_.title.Word(Pick(s_.cue_plain));
    } else {
      DescSentence(Pick(s_.cue_plain));
    }
    CheapPrice(p);
  }

  void TwoBrands() {
    const HolderInfo& a = PricedHolder();
    const HolderInfo* b = &AnyHolder();
    for (int i = 0; i < 8 && b->index == a.index; ++i) b = &AnyHolder();
    const ProductInfo& pa = PricedProduct(a);
    const ProductInfo* pb = AnyProduct(*b);
    const int v = rng_.Int(0, 2);
    BrandAndKeyword(s_.title, a, pa, PlainForm());
    s_.title.Word(rng_.Chance(0.5) ? "and" : "+");
    if (pb && rng_.Chance(0.6)) {
      BrandAndKeyword(s_.title, *b, *pb, PlainForm());
    } else {
      Brand(s_.title, BrandOf(*b), PlainForm());
    }
    d_.category = pa.category;
    if (v == 0) {
      DescSentence(Pick(s_.cue_plain.empty() ? s_.cue_regex : s_.cue_plain));
      NormalPrice(pa);
    } else if (v == 1) {
      CheapPrice(pa);
    } else {
      NormalPrice(pa);
    }
  }

  ListingGenerator::State& s_;
  Draft& d_;
  Rng& rng_;
};

}  // namespace

absl::Status ListingGenerator::Generate(const std::function<bool(std::string_view)>& write,
                                        GenerationSummary* summary) {
  State& s = *state_;
  const bool csv = s.options.format == OutputFormat::kCsv;
  std::string buffer;
  constexpr size_t kFlushBytes = 4 << 20;
  buffer.reserve(kFlushBytes + (64 << 10));
  GenerationSummary local;
  GenerationSummary& sum = summary ? *summary : local;
  sum = GenerationSummary{};
  for (const auto& name : ScenarioNames()) {
    sum.per_scenario[name] = 0;
    sum.per_scenario_with_cases[name] = 0;
  }
  if (csv) {
    buffer +=
        "id,title,description,price,currency,seller_id,category,condition,quantity,"
        "label_cases,label_scenario\n";
  }
  const double record_bytes = s.options.record_bytes;
  uint64_t record_total = 0;
  Draft d;
  std::string labels;
  for (int64_t i = 0; i < s.options.count; ++i) {
    Builder(s, d).Build();
    // Label.
    LabelInput in;
    in.title = s.title.plain;
    in.description = s.desc.plain;
    in.title_evasive = s.title.evasive;
    in.description_evasive = s.desc.evasive;
    in.price = d.price;
    in.currency = d.currency;
    in.seller_id = d.seller;
    in.condition = d.condition;
    in.quantity = d.quantity;
    s.oracle->Evaluate(in, s.verdicts);
    const std::string& scenario = ScenarioNames()[d.scenario];
    int ncases = 0;
    labels.clear();
    for (const auto& v : s.verdicts) {
      if (!v.is_case) continue;
      const std::string& id = s.pack.rights_holders[v.holder].id;
      if (csv) {
        if (ncases) labels += '|';
        labels += id;
      } else {
        if (ncases) labels += ',';
        AppendJson(id, labels);
      }
      ++ncases;
      ++sum.cases_per_holder[id];
    }
    ++sum.listings;
    ++sum.per_scenario[scenario];
    if (ncases) {
      ++sum.listings_with_cases;
      ++sum.per_scenario_with_cases[scenario];
      sum.cases += ncases;
    }

    // Record: prefix + description + suffix, the description padded with filler so that
    // the running average stays at record_bytes.
    char id[32];
    std::snprintf(id, sizeof id, "lst-%09lld", static_cast<long long>(i) + 1);
    std::string& line = s.line;
    std::string& suffix = s.suffix;
    line.clear();
    suffix.clear();
    s.esc.clear();
    if (csv) {
      line += id;
      line += ',';
      AppendCsv(s.title.real, line);
      line += ",\"";
      for (char c : s.desc.real) {
        if (c == '"') s.esc += '"';
        s.esc += c;
      }
      suffix += "\",";
      suffix += d.price_text;
      suffix += ',';
      suffix += d.currency;
      suffix += ',';
      AppendCsv(d.seller, suffix);
      suffix += ',';
      AppendCsv(d.category, suffix);
      suffix += ',';
      suffix += d.condition;
      suffix += ',';
      if (d.quantity) suffix += std::to_string(d.quantity);
      suffix += ',';
      suffix += labels;
      suffix += ',';
      suffix += scenario;
      suffix += '\n';
    } else {
      line += "{\"id\":\"";
      line += id;
      line += "\",\"title\":";
      AppendJson(s.title.real, line);
      line += ",\"description\":\"";
      AppendJson(s.desc.real, s.esc);
      s.esc = s.esc.substr(1, s.esc.size() - 2);
      suffix += "\",\"price\":";
      suffix += d.price_text;
      suffix += ",\"currency\":";
      AppendJson(d.currency, suffix);
      suffix += ",\"seller_id\":";
      AppendJson(d.seller, suffix);
      suffix += ",\"category\":";
      AppendJson(d.category, suffix);
      if (!d.condition.empty()) {
        suffix += ",\"condition\":";
        AppendJson(d.condition, suffix);
      }
      if (d.quantity) {
        suffix += ",\"quantity\":";
        suffix += std::to_string(d.quantity);
      }
      suffix += ",\"label_cases\":[";
      suffix += labels;
      suffix += "],\"label_scenario\":";
      AppendJson(scenario, suffix);
      if (d.form != nullptr) {
        suffix += ",\"label_form\":";
        AppendJson(d.form, suffix);
      }
      if (d.keyword_form != nullptr) {
        suffix += ",\"label_keyword_form\":";
        AppendJson(d.keyword_form, suffix);
      }
      suffix += "}\n";
    }
    // Padding: filler before and after the structured part of the description.
    const double jitter = record_bytes * s.rng.Range(-0.3, 0.3);
    const double target =
        static_cast<double>(i + 1) * record_bytes - static_cast<double>(record_total) + jitter;
    const double fixed = static_cast<double>(line.size() + s.esc.size() + suffix.size());
    const double max_pad = std::min(4.0 * record_bytes + 64, s.filler.size() / 2.0);
    const double pad = std::min(target - fixed, max_pad);
    if (pad >= 8) {
      const size_t total = static_cast<size_t>(pad);
      if (s.esc.empty()) {
        s.AppendFiller(total, line);
      } else {
        const size_t before = static_cast<size_t>(s.rng.Unit() * total);
        if (s.AppendFiller(before, line)) line += ". ";
        line += s.esc;
        if (total > before + 12) {
          line += ". ";
          if (!s.AppendFiller(total - before - 4, line)) line.resize(line.size() - 2);
        }
      }
    } else {
      line += s.esc;
    }
    line += suffix;
    record_total += line.size();
    buffer += line;
    if (buffer.size() >= kFlushBytes) {
      if (!write(buffer)) return absl::UnavailableError("write failed");
      sum.bytes += buffer.size();
      buffer.clear();
    }
  }
  if (!buffer.empty()) {
    if (!write(buffer)) return absl::UnavailableError("write failed");
    sum.bytes += buffer.size();
  }
  return absl::OkStatus();
}

std::string FormatSummary(const GenerationSummary& sum) {
  std::string out;
  char buf[256];
  std::snprintf(
      buf, sizeof buf, "listings: %lld  with cases: %lld  expected cases: %lld  bytes: %llu\n",
      static_cast<long long>(sum.listings), static_cast<long long>(sum.listings_with_cases),
      static_cast<long long>(sum.cases), static_cast<unsigned long long>(sum.bytes));
  out += buf;
  out += "scenario              listings  with-case\n";
  for (const auto& [name, n] : sum.per_scenario) {
    auto it = sum.per_scenario_with_cases.find(name);
    std::snprintf(buf, sizeof buf, "  %-20s %8lld %10lld\n", name.c_str(),
                  static_cast<long long>(n),
                  static_cast<long long>(it == sum.per_scenario_with_cases.end() ? 0 : it->second));
    out += buf;
  }
  out += "cases per rights holder\n";
  for (const auto& [id, n] : sum.cases_per_holder) {
    std::snprintf(buf, sizeof buf, "  %-20s %8lld\n", id.c_str(), static_cast<long long>(n));
    out += buf;
  }
  return out;
}

}  // namespace bonafide::gen
