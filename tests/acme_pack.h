// A small rules directory written from strings, after the examples of docs/rule-format.md:
// rights holder `acme` (brand ACME, products Runner 22, Phone 12, Pavilion DV6) and `luxe`
// (brands Dior, UGG, Casio — names that hide inside common words — threshold 2).
#ifndef BONAFIDE_TESTS_ACME_PACK_H_
#define BONAFIDE_TESTS_ACME_PACK_H_

#include <string>

#include "tests/test_util.h"

namespace bonafide::testing {

inline std::string WriteAcmePack(const TempDir& dir) {
  dir.Write("rules/policy.yaml", R"(currency: EUR
fx_date: 2026-11-27
fx: {USD: 0.86, GBP: 1.14, JPY: 0.0057, CNY: 0.12}
threshold: 1.0
weights: {cue: 1.0, price: 1.0, image: 1.0, obfuscated_brand: 0.5}
image: {max_distance: 31, min_quality: 50}
)");
  dir.Write("rules/cues.yaml", R"(rules:
  - id: cue.replica
    version: 3
    mode: enforce
    phrases: [replica, replika, nachbildung, 高仿, 复刻, реплика]
    weight: 1.0
    examples:
      match: ["ACME Runner 22 replica", "ACME Runner 22 REPLIKA"]
      no_match: ["replicate the look"]
  - id: cue.one-to-one
    regex: '\b1\s*[:：]\s*1\b'
    examples:
      match: ["acme 1:1 copy", "acme 1 ： 1"]
      no_match: ["100ml", "11:15"]
  - id: cue.inspired
    mode: shadow
    phrases: [inspired by]
)");
  dir.Write("rules/context.yaml", R"(compatibility: [for, compatible with, fits, replacement for]
accessories: [case, cover, cable, charger, adapter, battery, strap, band, mount, holder,
              screen protector, tempered glass, skin]
bundle: [with, and, incl, including, "+"]
used: [used, pre-owned, second hand, gebraucht]
packaging_only: [box only, empty box, dust bag only]
)");
  dir.Write("rules/rights_holders/acme.yaml", R"(id: acme
name: ACME Sports GmbH
brands:
  - name: ACME
    aliases: [ACME Originals]
    exclude: [acme anvil]
    examples: {match: ["ACME Runner 22 replica"], no_match: ["Cartoon acme anvil prop"]}
authorized_sellers: [s-100, s-101]
products:
  - id: acme-runner-22
    name: Runner 22
    keywords: [runner 22, r22 runner]
    category: shoes
    reference_price: {amount: 180, currency: EUR}
    min_price_ratio: 0.4
  - id: acme-phone-12
    name: Phone 12
    keywords: [phone 12]
    reference_price: {amount: 800, currency: EUR}
    min_price_ratio: 0.4
  - id: acme-pavilion-dv6
    name: Pavilion DV6
    keywords: [pavilion dv6]
    reference_price: {amount: 600, currency: USD}
    min_price_ratio: 0.4
)");
  dir.Write("rules/rights_holders/luxe.yaml", R"(id: luxe
name: Luxe Group
threshold: 2.0
brands:
  - name: Dior
  - name: UGG
  - name: Casio
products:
  - id: luxe-saddle
    name: Saddle bag
    keywords: [saddle bag]
    reference_price: {amount: 3000, currency: EUR}
    min_price_ratio: 0.3
)");
  return dir.Join("rules");
}

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_ACME_PACK_H_
