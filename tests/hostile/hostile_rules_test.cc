// Bad rules directories (docs/rule-format.md): each must fail Scanner::Create with
// InvalidArgument and a `file:line:column: ` prefix, quickly and in bounded memory.
//
// Every case starts from a copy of examples/rules and overwrites one file. The CLI side
// (exit status 2, no outbox written) is in hostile_cli_test.cc.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bonafide/scanner.h"
#include "rules/rule_pack.h"
#include "rules/text_matcher.h"
#include "tests/hostile/memory.h"
#include "tests/test_util.h"

namespace bonafide {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kExampleRules = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";

// "[w0, w1, ..., w{n-1}]"
std::string WordList(int n, const std::string& stem = "w") {
  std::string out = "[";
  for (int i = 0; i < n; ++i) out += (i ? ", " : "") + stem + std::to_string(i);
  return out + "]";
}

// The classic "billion laughs": lol9 stands for 10^9 strings in 10 lines.
std::string BillionLaughs(const std::string& key) {
  std::string out = "x_lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    const std::string prev = "*lol" + std::to_string(i - 1);
    out += "x_lol" + std::to_string(i) + ": &lol" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) out += (k ? ", " : "") + prev;
    out += "]\n";
  }
  return out + key + ": *lol9\n";
}

// A rights holder whose 1500 brands are aliases of one brand with 1500 aliases: 20 KB of
// YAML standing for 2.25 million strings (before the guard: 2 GB and minutes).
std::string AmplifiedBrands() {
  std::string out =
      "id: nike\nname: Nike\nbrands:\n  - &b {name: Nike, aliases: " + WordList(1500) + "}\n";
  for (int i = 0; i < 1500; ++i) out += "  - *b\n";
  return out;
}

struct BadRulesCase {
  const char* name;
  const char* file;      // relative to the rules directory
  std::string contents;  // replaces the file
  const char* where;     // expected "file:line:column" after the rules directory
  const char* message;   // expected substring of the message
};

std::vector<BadRulesCase> Cases() {
  const std::string cue_head = "rules:\n  - id: cue.bad\n    version: 1\n";
  return {
      {"InvalidRegex", "cues.yaml", cue_head + "    regex: 'a(b'\n", "cues.yaml:4:12",
       "invalid regex: missing ): a(b"},
      {"RegexHyperscanRefuses", "cues.yaml", cue_head + "    regex: '(?U)x+'\n", "cues.yaml:2:5",
       "hyperscan cannot compile \"(?U)x+\""},
      {"DuplicateCueIds", "cues.yaml",
       "rules:\n  - id: cue.a\n    phrases: [fake]\n  - id: cue.a\n    phrases: [replica]\n",
       "cues.yaml:4:9", "duplicate cue rule id \"cue.a\""},
      {"DuplicateProductIdsAcrossHolders", "rights_holders/zz.yaml",
       "id: zz\nname: ZZ\nbrands: [{name: Zedzed}]\nproducts:\n"
       "  - {id: nike-air-max-90, name: Copy}\n",
       "rights_holders/zz.yaml:5:10", "duplicate product id \"nike-air-max-90\""},
      {"UnknownFieldTypo", "rights_holders/nike.yaml",
       "id: nike\nname: Nike\nbrands: [{name: Nike}]\nproducts:\n"
       "  - id: p1\n    name: P1\n    reference_price: {amount: 10, currency: EUR}\n"
       "    min_price_ration: 0.4\n",
       "rights_holders/nike.yaml:8:5",
       "unknown field \"min_price_ration\" (did you mean \"min_price_ratio\"?)"},
      {"RightsHolderIdWithUpperCase", "rights_holders/nike.yaml",
       "id: Nike\nname: Nike\nbrands: [{name: Nike}]\n", "rights_holders/nike.yaml:1:5",
       "invalid rights holder id \"Nike\""},
      {"RightsHolderIdWithSpace", "rights_holders/nike inc.yaml",
       "id: nike inc\nname: Nike\nbrands: [{name: Nike}]\n", "rights_holders/nike inc.yaml:1:5",
       "invalid rights holder id \"nike inc\""},
      {"RightsHolderIdWithPathTraversal", "rights_holders/nike.yaml",
       "id: ../nike\nname: Nike\nbrands: [{name: Nike}]\n", "rights_holders/nike.yaml:1:5",
       "invalid rights holder id \"../nike\""},
      {"MissingPhotoFile", "rights_holders/nike.yaml",
       "id: nike\nname: Nike\nbrands: [{name: Nike}]\nproducts:\n"
       "  - id: p1\n    name: P1\n    images: [photos/missing.jpg]\n",
       "rights_holders/nike.yaml:7:14", "image \"photos/missing.jpg\" not found"},
      {"PhotoIsADirectory", "rights_holders/nike.yaml",
       "id: nike\nname: Nike\nbrands: [{name: Nike}]\nproducts:\n"
       "  - id: p1\n    name: P1\n    images: ['.']\n",
       "rights_holders/nike.yaml:7:14", "is not a regular file"},
      {"BillionLaughsInContext", "context.yaml", BillionLaughs("used"),
       "context.yaml:", "yaml aliases expand to more than 100000 nodes"},
      {"BillionLaughsInCuePhrases", "cues.yaml",
       "rules:\n  - id: cue.lol\n    phrases: &p0 [a, b, c, d, e, f, g, h, i, j]\n" +
           [] {
             std::string s;
             for (int i = 1; i < 10; ++i) {
               s += "  - id: cue.lol" + std::to_string(i) + "\n    phrases: &p" +
                    std::to_string(i) + " [";
               for (int k = 0; k < 10; ++k) s += (k ? ", " : "") + ("*p" + std::to_string(i - 1));
               s += "]\n";
             }
             return s;
           }(),
       "cues.yaml:", "yaml aliases expand to more than 100000 nodes"},
      {"AliasAmplifiedBrands", "rights_holders/nike.yaml", AmplifiedBrands(),
       "rights_holders/nike.yaml:71:5", "yaml aliases expand to more than 100000 nodes"},
      {"AliasInsideItsOwnAnchor", "context.yaml", "used: &a [gebraucht, *a]\n", "context.yaml:1:22",
       "yaml alias refers to a node that contains it"},
      {"NulByte", "context.yaml", std::string("used: [a]\n\0\x01r", 12), "context.yaml:2:1",
       "file contains the control character U+0000"},
      // yaml-cpp 0.7 loops forever, growing, on a stray top-level ',' (found by
      // rule_pack_fuzzer; yaml-cpp issue #1040).
      {"StrayCommaThatHangsYamlCpp", "policy.yaml", ",\n", "policy.yaml:1:1",
       "malformed yaml: unexpected \",\""},
      {"StrayCommaAfterAListThatHangsYamlCpp", "context.yaml", "- a\n,d: acme\n",
       "context.yaml:2:1", "malformed yaml: unexpected \",d: acme\""},
      {"SecondDocument", "context.yaml", "used: [a]\n---\nused: [b]\n", "context.yaml:2:1",
       "more than one yaml document in the file"},
      {"EscapeCharacter", "cues.yaml", "rules:\n  - id: cue.x\n    phrases: [a\x1b[31mred]\n",
       "cues.yaml:3:16", "file contains the control character U+001b"},
      {"UndefinedAlias", "context.yaml", "used: *nowhere\n", "context.yaml:1:7",
       "malformed yaml: an alias (*name) whose anchor (&name) is not defined before it"},
      // yaml-cpp's own words for these were "illegal block entry" and "illegal map value"
      // on the next line; the loader names the place to fix.
      {"TabInIndentation", "rights_holders/nike.yaml",
       "id: nike\nname: Nike\nbrands:\n\t- name: Nike\n", "rights_holders/nike.yaml:4:1",
       "tab character in indentation (YAML allows only spaces)"},
      {"MissingColon", "rights_holders/nike.yaml", "id: nike\nname Nike\nbrands: [{name: Nike}]\n",
       "rights_holders/nike.yaml:2:1", "malformed yaml: missing ':' after \"name Nike\""},
      {"CueRuleNamedLikeASignal", "cues.yaml", "rules:\n  - id: price\n    phrases: [cheap]\n",
       "cues.yaml:2:9", "cue rule id \"price\" is reserved"},
  };
}

void PrintTo(const BadRulesCase& c, std::ostream* os) { *os << c.name; }

class BadRulesTest : public ::testing::TestWithParam<BadRulesCase> {};

TEST_P(BadRulesTest, CreateFailsWithLocationQuicklyAndInBoundedMemory) {
  const BadRulesCase& c = GetParam();
  if (std::string_view(c.name).find("Hyperscan") != std::string_view::npos &&
      rules::DefaultMatcherBackend() != rules::MatcherBackend::kHyperscan) {
    GTEST_SKIP() << "this build has no Hyperscan";
  }
  testing::TempDir dir;
  const std::string rules = dir.Join("rules");
  fs::copy(kExampleRules, rules, fs::copy_options::recursive);
  dir.Write(std::string("rules/") + c.file, c.contents);

  const bool measure = testing::ResetPeakRss();
  const uint64_t rss_before = testing::CurrentRssBytes();
  const auto start = std::chrono::steady_clock::now();
  ScannerOptions options;
  options.rules_dir = rules;
  absl::StatusOr<std::unique_ptr<Scanner>> scanner = Scanner::Create(options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  ASSERT_FALSE(scanner.ok()) << c.name;
  EXPECT_EQ(scanner.status().code(), absl::StatusCode::kInvalidArgument) << scanner.status();
  const std::string message(scanner.status().message());
  EXPECT_THAT(message, StartsWith(rules + "/" + c.where)) << c.name;
  EXPECT_THAT(message, HasSubstr(c.message));
  // The `file:line:column: ` prefix is well-formed: two positive numbers after the file.
  const std::string after_file = message.substr(message.find(".yaml:") + 6);
  int line = 0, column = 0;
  EXPECT_EQ(std::sscanf(after_file.c_str(), "%d:%d: ", &line, &column), 2) << message;
  EXPECT_GT(line, 0);
  EXPECT_GT(column, 0);

  // Bounded: a rejected pack costs next to nothing (the billion laughs cases stood for
  // 10^9 and 2.25 * 10^6 strings).
  EXPECT_LT(seconds, testing::kUnderAsan ? 20.0 : 5.0) << c.name;
  if (measure && !testing::kUnderAsan) {
    EXPECT_LT(testing::PeakRssBytes() - rss_before, uint64_t{64} << 20) << c.name;
  }

  // LoadRulePack alone reports the same error (except for what only compiling finds).
  absl::StatusOr<rules::RulePack> pack = rules::LoadRulePack(rules);
  if (!pack.ok()) {
    EXPECT_EQ(pack.status(), scanner.status());
  }
}

INSTANTIATE_TEST_SUITE_P(AllCases, BadRulesTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<BadRulesCase>& p) {
                           return std::string(p.param.name);
                         });

// Anchors and aliases that do not multiply the content stay legal: two products share one
// keyword list.
TEST(HostileRulesTest, ModestAliasesStillLoad) {
  testing::TempDir dir;
  const std::string rules = dir.Join("rules");
  fs::copy(kExampleRules, rules, fs::copy_options::recursive);
  dir.Write("rules/rights_holders/zz.yaml",
            "id: zz\nname: ZZ\nbrands: [{name: Zedzed}]\nproducts:\n"
            "  - {id: zz-a, name: A, keywords: &kw [zz runner, zz racer]}\n"
            "  - {id: zz-b, name: B, keywords: *kw}\n");
  absl::StatusOr<rules::RulePack> pack = rules::LoadRulePack(rules);
  ASSERT_TRUE(pack.ok()) << pack.status();
  const rules::RightsHolder& zz = pack->rights_holders.back();
  ASSERT_EQ(zz.id, "zz");
  ASSERT_EQ(zz.products.size(), 2u);
  EXPECT_EQ(zz.products[1].keywords, (std::vector<std::string>{"zz runner", "zz racer"}));
}

// Just under the alias budget still loads; one alias node more does not.
TEST(HostileRulesTest, AliasBudgetIsExact) {
  testing::TempDir dir;
  const std::string rules = dir.Join("rules");
  fs::copy(kExampleRules, rules, fs::copy_options::recursive);
  // The anchored list stands for 1 + 999 nodes; 100 aliases of it add 100000 nodes.
  auto write = [&](int aliases) {
    std::string s = "compatibility: &w " + WordList(999) + "\nx_more:\n";
    for (int i = 0; i < aliases; ++i) s += "  - *w\n";
    dir.Write("rules/context.yaml", s);
  };
  write(100);
  absl::StatusOr<rules::RulePack> pack = rules::LoadRulePack(rules);
  ASSERT_FALSE(pack.ok());  // x_more is an unknown field: the budget was not the problem
  EXPECT_THAT(std::string(pack.status().message()), HasSubstr("unknown field \"x_more\""));
  write(101);
  pack = rules::LoadRulePack(rules);
  ASSERT_FALSE(pack.ok());
  EXPECT_THAT(std::string(pack.status().message()),
              HasSubstr("context.yaml:103:5: yaml aliases expand to more than 100000 nodes"));
}

}  // namespace
}  // namespace bonafide
