// bonafide outbox show: one case, with its listing, reasons in words, events and verdicts.
#include <algorithm>
#include <cmath>
#include <compare>
#include <cstdio>
#include <string>
#include <vector>

#include <simdjson.h>

#include "tools/bonafide/flags.h"
#include "tools/bonafide/outbox_common.h"
#include "util/decimal.h"

namespace bonafide::cli {
namespace {

constexpr char kCommand[] = "bonafide outbox show";

// Returns reason.<key> as text ("" when absent), a number as its shortest decimal.
std::string Field(simdjson::dom::element reason, const char* key) {
  simdjson::dom::element value;
  if (reason[key].get(value) != simdjson::SUCCESS) return "";
  std::string_view text;
  if (value.get(text) == simdjson::SUCCESS) return std::string(text);
  double number;
  if (value.get(number) == simdjson::SUCCESS) return FormatDecimal(number);
  return "";
}
double Number(simdjson::dom::element reason, const char* key) {
  double number = 0;
  return reason[key].get(number) == simdjson::SUCCESS ? number : 0;
}
std::string PercentBelow(double ratio, Decimal limit) {
  std::string out;
  AppendPercentBelow(ratio, limit, out);
  return out;
}
std::string Percent(Decimal percent) {
  std::string out;
  AppendPercent(percent, out);
  return out;
}

// One reason of a case (docs/matching.md, "Reasons and evidence") as a sentence.
std::string DescribeReason(simdjson::dom::element reason) {
  const std::string signal = Field(reason, "signal");
  std::string out;
  if (signal == "cue") {
    out = "cue rule " + Field(reason, "rule") + " v" + Field(reason, "version") + " matched \"" +
          Field(reason, "text") + "\" in the " + Field(reason, "field");
  } else if (signal == "price") {
    // As the explanation words it: the listing's own currency first, the base currency in
    // brackets when it differs, the lot when the price is for several units.
    const std::string currency = Field(reason, "currency");
    const std::string base = Field(reason, "base_currency");
    const double units = std::max(1.0, Number(reason, "units"));
    const bool listing_fx = currency != base;
    out = "unit price ";
    AppendMoney(listing_fx ? Number(reason, "price") / units : Number(reason, "unit_price"),
                currency, out);
    if (listing_fx || units > 1) {
      out += " (";
      if (listing_fx) AppendMoney(Number(reason, "unit_price"), base, out);
      if (listing_fx && units > 1) out += "; ";
      if (units > 1) {
        AppendMoney(Number(reason, "price"), currency, out);
        out += " for " + FormatDecimal(units) + " units";
      }
      out += ")";
    }
    const Decimal limit = PercentOf(Number(reason, "min_price_ratio"));
    out += " is " + PercentBelow(Number(reason, "ratio"), limit) + " of the reference ";
    // Cases written before the rules' own reference currency was recorded have only the
    // reference in the base currency.
    const std::string reference_currency = Field(reason, "reference_currency");
    const bool reference_fx = !reference_currency.empty() && reference_currency != base;
    if (reference_fx) {
      AppendMoney(Number(reason, "reference_amount"), reference_currency, out);
      out += " (";
      AppendMoney(Number(reason, "reference_price"), base, out);
      out += ")";
    } else {
      AppendMoney(Number(reason, "reference_price"), base, out);
    }
    out += " of " + Field(reason, "product") + " (below " + Percent(limit);
    if (listing_fx || reference_fx) out += "; FX rates of " + Field(reason, "fx_date");
    out += ")";
  } else if (signal == "image") {
    out = "photo " + Field(reason, "photo") + " is genuine photo " +
          Field(reason, "genuine_photo") + " of " + Field(reason, "product") + " (" +
          Field(reason, "variant") + ", distance " + Field(reason, "distance") + " of at most " +
          Field(reason, "max_distance") + ")";
  } else if (signal == "obfuscated_brand") {
    out = "brand written evasively as \"" + Field(reason, "text") + "\" in the " +
          Field(reason, "field");
  } else {  // a signal this build does not describe: its name and matched text, if any
    out = signal;
    if (const std::string text = Field(reason, "text"); !text.empty()) {
      out += " \"" + text + "\" in the " + Field(reason, "field");
    }
  }
  bool shadow = false;
  if (reason["shadow"].get(shadow) != simdjson::SUCCESS) shadow = false;
  out += shadow ? " [shadow, not scored]" : " [weight " + Field(reason, "weight") + "]";
  return Printable(out);
}

void PrintText(const StoredCase& c, const std::vector<StoredEvent>& events,
               const std::vector<StoredVerdict>& verdicts) {
  const CaseSummary summary = SummarizeCase(c);
  std::string out;
  auto line = [&out](const char* label, const std::string& value) {
    char padded[16];
    std::snprintf(padded, sizeof(padded), "%-13s", label);
    out.append(padded).append(value).push_back('\n');
  };
  line("case", Printable(c.case_key));
  line("status", CaseStatusName(c.status));
  line("listing", Printable(c.listing_id) + " on " + Printable(c.marketplace) + ", seller " +
                      Printable(c.seller_id));
  line("title", Printable(summary.title));
  std::string price;
  AppendPrice(summary, price);
  line("price", price);
  line("score",
       FormatDecimal(c.score) +
           (summary.threshold ? " (threshold " + FormatDecimal(*summary.threshold) + ")" : ""));
  line("first seen", c.first_seen_at);
  line("last seen", c.last_seen_at);
  line("explanation", Printable(summary.explanation));
  out.append("reasons\n");
  simdjson::dom::parser parser;
  simdjson::dom::array reasons;
  if (parser.parse(c.reasons_json).get(reasons) == simdjson::SUCCESS) {
    for (simdjson::dom::element reason : reasons) {
      out.append("  ").append(DescribeReason(reason)).push_back('\n');
    }
  }
  out.append("events\n");
  for (const StoredEvent& e : events) {
    out.append("  ").append(e.created_at).append("  ").append(e.type).push_back('\n');
  }
  out.append("verdicts\n");
  if (verdicts.empty()) out.append("  none\n");
  for (const StoredVerdict& v : verdicts) {
    out.append("  ").append(v.created_at).append("  ").append(VerdictKindName(v.verdict));
    if (v.authorize_seller) out.append(", seller authorized");
    out.append("  by ").append(Printable(v.actor));
    if (!v.comment.empty()) out.append("  \"").append(Printable(v.comment)).append("\"");
    out.push_back('\n');
  }
  Write(stdout, out);
}

void PrintJson(const StoredCase& c, const std::vector<StoredEvent>& events,
               const std::vector<StoredVerdict>& verdicts) {
  std::string out;
  JsonObject object(out);
  AddCaseFields(c, object);
  std::string list = "[";
  for (const StoredEvent& e : events) {
    if (list.size() > 1) list.push_back(',');
    JsonObject(list)
        .Int("id", e.id)
        .String("type", e.type)
        .Raw("payload", e.payload_json)
        .String("created_at", e.created_at)
        .Close();
  }
  object.Raw("events", list.append("]"));
  list = "[";
  for (const StoredVerdict& v : verdicts) {
    if (list.size() > 1) list.push_back(',');
    JsonObject(list)
        .String("verdict", VerdictKindName(v.verdict))
        .String("comment", v.comment)
        .Raw("authorize_seller", v.authorize_seller ? "true" : "false")
        .String("signals", v.signals)
        .String("actor", v.actor)
        .String("created_at", v.created_at)
        .Close();
  }
  object.Raw("verdicts", list.append("]"));
  object.Close();
  out.push_back('\n');
  Write(stdout, out);
}

}  // namespace

int OutboxShow(int argc, char** argv) {
  std::string outbox_path = "outbox.db";
  std::string format = "text";
  FlagSet flags(kCommand, "--outbox FILE [--format text|jsonl] CASE_KEY",
                "Shows one case: its listing, score, reasons, events and verdicts.",
                "0  shown\n"
                "1  no such case, or the outbox could not be read\n"
                "2  bad usage");
  flags.String("outbox", "outbox: an SQLite file or a postgresql:// URI", &outbox_path);
  flags.Enum("format", "output: text, or the case as one JSON line", &format, {"text", "jsonl"});
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (positional.size() != 1) return flags.UsageError("need exactly one CASE_KEY");
  const std::string& key = positional[0];

  std::unique_ptr<Outbox> outbox = OpenForReading(kCommand, outbox_path);
  if (outbox == nullptr) return kExitFailure;
  absl::StatusOr<std::optional<StoredCase>> found = outbox->GetCase(key);
  if (!found.ok()) return Fail(kCommand, found.status());
  if (!found->has_value()) {
    std::fprintf(stderr, "%s: no case \"%s\" in %s (see: bonafide outbox list --outbox %s)\n",
                 kCommand, Printable(key).c_str(), outbox_path.c_str(), outbox_path.c_str());
    return kExitFailure;
  }
  absl::StatusOr<std::vector<StoredEvent>> events =
      outbox->ListEvents(std::nullopt, 0, 0, std::string_view(key));
  if (!events.ok()) return Fail(kCommand, events.status());
  absl::StatusOr<std::vector<StoredVerdict>> verdicts = outbox->ListVerdicts(key);
  if (!verdicts.ok()) return Fail(kCommand, verdicts.status());
  if (format == "jsonl") {
    PrintJson(**found, *events, *verdicts);
  } else {
    PrintText(**found, *events, *verdicts);
  }
  return kExitOk;
}

}  // namespace bonafide::cli
