// The case record renderer: turns a verdict into the outbox record rights holders read
// (reasons and evidence JSON, docs/outbox-format.md). The scanner decides, this prints, as
// ripgrep keeps its searcher apart from its printer.
//
//   engine::CaseRecordRenderer renderer(compiled_rules, rules_info, feedback);
//   for (const HolderVerdict& h : verdict.holders)
//     if (h.case_opened) renderer.Render(listing, verdict, h, record);
//
// The bytes it writes are a contract: a change shows up as a `case.updated` event for every
// open case. bench/outbox_digest.sh compares two builds' outboxes.
#ifndef BONAFIDE_ENGINE_CASE_RECORD_RENDERER_H_
#define BONAFIDE_ENGINE_CASE_RECORD_RENDERER_H_

#include "bonafide/listing.h"
#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "bonafide/sink.h"
#include "bonafide/verdict.h"
#include "rules/compiled_rules.h"

namespace bonafide::engine {

// Immutable; Render may run concurrently from any number of threads. Copyable (three
// references).
//
// IMPORTANT: keeps references to `rules`, `info` and `feedback` (what the signals learnt
// from verdicts refer to), which must outlive it (the Scanner owns all four).
class CaseRecordRenderer {
 public:
  CaseRecordRenderer(const rules::CompiledRules& rules, const RulesInfo& info,
                     const OutboxFeedback& feedback)
      : rules_(rules), info_(info), feedback_(feedback) {}

  // Fills `record` with the case of `holder` (one of verdict.holders, judged on `listing`
  // by a scanner of these rules): reasons with matched text and place, evidence with the
  // listing snapshot, the photos, the threshold, the rules version and a one-line
  // explanation. Reuses the capacity of record's strings.
  void Render(const Listing& listing, const Verdict& verdict, const HolderVerdict& holder,
              CaseRecord& record) const;

 private:
  // Fills record.signals and record.material_key (what decides whether a rescan's change
  // is announced; docs/outbox-format.md).
  void RenderMaterial(const Listing& listing, const Verdict& verdict, const HolderVerdict& holder,
                      CaseRecord& record) const;

  const rules::CompiledRules& rules_;
  const RulesInfo& info_;
  const OutboxFeedback& feedback_;
};

// The listing's own text at `span` (empty when the span is empty or outside its field).
std::string_view SpanText(const Listing& listing, const TextSpan& span);

// Appends the price rule's sentence for `check` (of `product`, in base currency `base`):
// money with its currency's decimals, the listing's and the reference's own currency beside
// the base currency when they differ, the lot when the price is for several units, e.g.
//   unit price 100.00 USD (86.00 EUR; 1000.00 USD for 10 units) is 16.67% of the reference
//   600.00 USD (516.00 EUR) of acme-pavilion-dv6 (below 40%)
// `below`: whether the signal held (then the percentage never reads as the limit), else
// "... is 87.5% of ... (not below 40%)". The case explanation and `bonafide explain` share it.
void AppendPriceSentence(const Listing& listing, const PriceCheck& check,
                         const rules::CompiledProduct& product, std::string_view base, bool below,
                         std::string& out);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_CASE_RECORD_RENDERER_H_
