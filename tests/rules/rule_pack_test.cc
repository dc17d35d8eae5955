#include "rules/rule_pack.h"

#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/temp_dir.h"

namespace bonafide::rules {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kPolicy[] = R"(currency: EUR
fx: {USD: 0.86, GBP: 1.14}
threshold: 1.0
weights: {cue: 2.0, price: 1.0, image: 1.0, obfuscated_brand: 0.5}
)";

constexpr char kAcme[] = R"(id: acme
name: ACME Sports GmbH
brands:
  - name: ACME
    aliases: [ACME Originals]
authorized_sellers: [s-100]
products:
  - id: acme-runner-22
    name: Runner 22
    keywords: [runner 22]
    category: shoes
    reference_price: {amount: 180, currency: EUR}
    min_price_ratio: 0.4
)";

// Builds a rules directory from strings in a fresh temporary folder: a valid policy.yaml and
// rights_holders/acme.yaml to start with, which each test overwrites or extends.
class RulePackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write("policy.yaml", kPolicy);
    Write("rights_holders/acme.yaml", kAcme);
  }

  void Write(const std::string& relative, std::string_view text) { dir_.Write(relative, text); }

  // The path of `relative` as LoadRulePack names it in messages.
  std::string Path(const std::string& relative) const { return dir_.Join(relative); }

  absl::StatusOr<RulePack> Load() const { return LoadRulePack(dir_.path()); }

  // Expects an InvalidArgument error "<file>:<line>:<column>: ..." containing `message`.
  void ExpectError(const std::string& relative, int line, int column,
                   std::string_view message) const {
    const absl::StatusOr<RulePack> pack = Load();
    ASSERT_FALSE(pack.ok()) << "loaded without error";
    EXPECT_EQ(pack.status().code(), absl::StatusCode::kInvalidArgument) << pack.status();
    const std::string prefix =
        Path(relative) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
    EXPECT_THAT(std::string(pack.status().message()), StartsWith(prefix));
    EXPECT_THAT(std::string(pack.status().message()), HasSubstr(std::string(message)));
  }

  testing::TempDir dir_;
};

TEST(FormatLocationTest, WritesFileLineAndColumn) {
  EXPECT_EQ(FormatLocation({"rules/cues.yaml", 12, 3}), "rules/cues.yaml:12:3");
}

const RightsHolder* FindHolder(const RulePack& pack, std::string_view id) {
  for (const RightsHolder& h : pack.rights_holders) {
    if (h.id == id) return &h;
  }
  return nullptr;
}

const CueRule* FindCue(const RulePack& pack, std::string_view id) {
  for (const CueRule& c : pack.cues) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

// --- valid directories ---------------------------------------------------------------

TEST(RulePackExamplesTest, LoadsExampleRules) {
  const std::string dir = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";
  const absl::StatusOr<RulePack> pack = LoadRulePack(dir);
  ASSERT_TRUE(pack.ok()) << pack.status();

  EXPECT_EQ(pack->directory, dir);
  EXPECT_EQ(pack->policy.currency, "EUR");
  EXPECT_EQ(pack->policy.fx_date, "2026-11-27");
  EXPECT_EQ(pack->policy.fx.at("EUR"), 1.0);
  EXPECT_EQ(pack->policy.fx.at("USD"), 0.86);
  EXPECT_EQ(pack->policy.fx.size(), 6u);
  EXPECT_EQ(pack->policy.weights.obfuscated_brand, 0.5);
  EXPECT_EQ(pack->policy.image.max_distance, 31);

  EXPECT_TRUE(pack->warnings.empty()) << FormatWarning(pack->warnings.at(0));
  ASSERT_EQ(pack->rights_holders.size(), 9u);
  EXPECT_EQ(pack->rights_holders.front().id, "adidas");
  EXPECT_EQ(pack->rights_holders.back().id, "ugg");
  for (size_t i = 1; i < pack->rights_holders.size(); ++i) {
    EXPECT_LT(pack->rights_holders[i - 1].id, pack->rights_holders[i].id);
  }
  const RightsHolder* nike = FindHolder(*pack, "nike");
  ASSERT_NE(nike, nullptr);
  EXPECT_EQ(nike->brands.front().name, "Nike");
  ASSERT_FALSE(nike->products.empty());
  const Product& air_max = nike->products.front();
  EXPECT_EQ(air_max.id, "nike-air-max-90");
  ASSERT_TRUE(air_max.reference_price.has_value());
  EXPECT_EQ(air_max.reference_price->amount, 150);
  EXPECT_EQ(air_max.reference_price->currency, "EUR");
  EXPECT_EQ(air_max.min_price_ratio, 0.4);
  EXPECT_EQ(air_max.location.file, dir + "/rights_holders/nike.yaml");

  const CueRule* inspired = FindCue(*pack, "cue.inspired");
  ASSERT_NE(inspired, nullptr);
  EXPECT_EQ(inspired->mode, RuleMode::kShadow);
  EXPECT_EQ(inspired->weight, 0.5);
  const CueRule* replica = FindCue(*pack, "cue.replica");
  ASSERT_NE(replica, nullptr);
  EXPECT_EQ(replica->mode, RuleMode::kEnforce);
  EXPECT_EQ(replica->location.file, dir + "/cues.yaml");
  EXPECT_FALSE(replica->examples_match.empty());
  const CueRule* one_to_one = FindCue(*pack, "cue.one-to-one");
  ASSERT_NE(one_to_one, nullptr);
  EXPECT_TRUE(one_to_one->phrases.empty());
  EXPECT_FALSE(one_to_one->regex.empty());

  EXPECT_THAT(pack->context.compatibility, ::testing::Contains("for"));
  EXPECT_THAT(pack->context.accessories, ::testing::Not(::testing::Contains("laces")));
}

TEST(RulePackExamplesTest, LoadsTestdataMinimal) {
  const std::string dir = std::string(BONAFIDE_SOURCE_DIR) + "/testdata/rules/minimal";
  const absl::StatusOr<RulePack> pack = LoadRulePack(dir);
  ASSERT_TRUE(pack.ok()) << pack.status();
  ASSERT_EQ(pack->rights_holders.size(), 1u);
  EXPECT_EQ(pack->rights_holders[0].id, "acme");
}

TEST(RulePackExamplesTest, TestdataTypoIsRejected) {
  const std::string dir = std::string(BONAFIDE_SOURCE_DIR) + "/testdata/rules/invalid-typo";
  const absl::StatusOr<RulePack> pack = LoadRulePack(dir);
  ASSERT_FALSE(pack.ok());
  EXPECT_EQ(pack.status().message(),
            dir +
                "/rights_holders/acme.yaml:13:5: unknown field \"min_price_ration\" "
                "(did you mean \"min_price_ratio\"?)");
}

TEST_F(RulePackTest, AppliesDefaults) {
  Write("cues.yaml", R"(rules:
  - id: cue.replica
    phrases: [replica]
)");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  ASSERT_EQ(pack->cues.size(), 1u);
  const CueRule& rule = pack->cues[0];
  EXPECT_EQ(rule.version, 1);
  EXPECT_EQ(rule.mode, RuleMode::kEnforce);
  EXPECT_EQ(rule.weight, 2.0);  // policy weights.cue
  EXPECT_EQ(rule.location.line, 2);
  EXPECT_EQ(rule.location.column, 5);
  EXPECT_EQ(pack->policy.fx.at("EUR"), 1.0);
  EXPECT_EQ(pack->policy.image.max_distance, 31);
  EXPECT_EQ(pack->policy.image.min_quality, 50);
  EXPECT_TRUE(pack->context.accessories.empty());  // context.yaml is optional
  const RightsHolder& acme = pack->rights_holders.at(0);
  EXPECT_FALSE(acme.threshold.has_value());
  EXPECT_EQ(acme.brands.at(0).aliases.at(0), "ACME Originals");
  EXPECT_EQ(acme.authorized_sellers.at(0), "s-100");
}

TEST_F(RulePackTest, ReadsExcludePhrasesAndExamplesOfBrandsAndProducts) {
  Write("rights_holders/acme.yaml", R"(id: acme
name: ACME Sports GmbH
brands:
  - name: ACME
    exclude: [acme anvil, acme corp cartoon]
    examples: {match: ["ACME Runner 22"], no_match: ["acme anvil prop"]}
products:
  - id: acme-runner-22
    name: Runner 22
    keywords: [runner 22]
    exclude: [runner 22 bean]
    examples:
      no_match: ["Runner 22 bean seeds"]
)");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  const RightsHolder& acme = pack->rights_holders.at(0);
  EXPECT_THAT(acme.brands.at(0).exclude, ElementsAre("acme anvil", "acme corp cartoon"));
  EXPECT_THAT(acme.brands.at(0).examples.match, ElementsAre("ACME Runner 22"));
  EXPECT_THAT(acme.brands.at(0).examples.no_match, ElementsAre("acme anvil prop"));
  EXPECT_THAT(acme.products.at(0).exclude, ElementsAre("runner 22 bean"));
  EXPECT_TRUE(acme.products.at(0).examples.match.empty());
  EXPECT_THAT(acme.products.at(0).examples.no_match, ElementsAre("Runner 22 bean seeds"));
}

TEST_F(RulePackTest, RejectsMalformedExcludeAndExamples) {
  Write("rights_holders/acme.yaml",
        "id: acme\nname: A\nbrands:\n  - name: ACME\n    exclude: acme anvil\n");
  ExpectError("rights_holders/acme.yaml", 5, 14, "expected a list");
  Write("rights_holders/acme.yaml",
        "id: acme\nname: A\nbrands:\n  - name: ACME\n    examples: {matches: [x]}\n");
  ExpectError("rights_holders/acme.yaml", 5, 16, "unknown field \"examples.matches\"");
}

TEST_F(RulePackTest, WarnsAboutOtherFilesInRightsHolders) {
  Write("rights_holders/README.md", "# not a rights holder\n");
  Write("rights_holders/.acme.yaml.swp", "garbage: [");  // dot files: silently skipped
  Write("rights_holders/.hidden.yaml", "garbage: [");
  Write("rights_holders/photos/front.jpg", "a genuine photo");  // folders: photos
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  EXPECT_EQ(pack->rights_holders.size(), 1u);
  ASSERT_EQ(pack->warnings.size(), 1u);
  EXPECT_EQ(FormatWarning(pack->warnings[0]),
            Path("rights_holders/README.md") +
                ": warning: not read: rights holder files end in .yaml or .yml (move other "
                "files elsewhere)");
}

// A genuine photo may sit beside the rights holder file that names it.
TEST_F(RulePackTest, DoesNotWarnAboutPhotosBesideTheRightsHolderFile) {
  Write("rights_holders/runner22.jpg", "a genuine photo");
  Write("rights_holders/acme.yaml", std::string(kAcme) + "    images: [./runner22.jpg]\n");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  EXPECT_TRUE(pack->warnings.empty()) << FormatWarning(pack->warnings[0]);
}

TEST_F(RulePackTest, LoadsYmlRightsHolderFiles) {
  Write("rights_holders/beta.yml", "id: beta\nname: Beta\nbrands: [{name: Beta}]\n");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  ASSERT_EQ(pack->rights_holders.size(), 2u);
  EXPECT_EQ(pack->rights_holders[1].id, "beta");
  EXPECT_EQ(pack->rights_holders[1].location.file, Path("rights_holders/beta.yml"));
  EXPECT_TRUE(pack->warnings.empty());
}

TEST_F(RulePackTest, RejectsOneRightsHolderInYamlAndYml) {
  Write("rights_holders/acme.yml", kAcme);
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_FALSE(pack.ok());
  EXPECT_EQ(pack.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pack.status().message(),
            Path("rights_holders/acme.yml") + ": rights holder \"acme\" is also defined by " +
                Path("rights_holders/acme.yaml") + " (keep one of the two files)");
}

TEST_F(RulePackTest, WarnsWhenTwoRightsHoldersClaimOneBrand) {
  // "acme" (normalised like listing text) is ACME's brand; Beta claims it as an alias.
  Write("rights_holders/beta.yaml",
        "id: beta\nname: Beta\nbrands:\n  - name: Beta\n  - {name: Beta Two, aliases: [Acme]}\n");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  ASSERT_EQ(pack->warnings.size(), 1u);
  EXPECT_EQ(FormatWarning(pack->warnings[0]),
            Path("rights_holders/beta.yaml") +
                ":5:5: warning: brand \"Acme\" of rights holder \"beta\" is also claimed by "
                "rights holder \"acme\" (" +
                Path("rights_holders/acme.yaml") +
                ":4:5, as \"ACME\"): a listing that names it can open a case for both");
}

TEST_F(RulePackTest, WarnsOncePerSharedBrandAndRightsHolder) {
  Write("rights_holders/beta.yaml",
        "id: beta\nname: Beta\nbrands: [{name: A C M E, aliases: [acme, ACME]}]\n");
  Write("rights_holders/gamma.yaml", "id: gamma\nname: Gamma\nbrands: [{name: Acme}]\n");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  ASSERT_EQ(pack->warnings.size(), 2u);
  EXPECT_THAT(pack->warnings[0].message,
              StartsWith("brand \"A C M E\" of rights holder \"beta\" is also claimed by "
                         "rights holder \"acme\""));
  EXPECT_THAT(pack->warnings[1].message,
              StartsWith("brand \"Acme\" of rights holder \"gamma\" is also claimed by "
                         "rights holder \"acme\""));
}

TEST_F(RulePackTest, WarnsAboutWhiteSpaceClassesInRegexes) {
  Write("cues.yaml",
        "rules:\n"
        "  - {id: cue.spaced, regex: '\\b1\\s*:\\s*1\\b'}\n"
        "  - {id: cue.escaped, regex: 'a\\\\s b'}\n"  // a backslash, then s: no \s
        "  - {id: cue.plain, regex: '\\b1 ?: ?1\\b'}\n");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  ASSERT_EQ(pack->warnings.size(), 1u);
  EXPECT_EQ(FormatWarning(pack->warnings[0]),
            Path("cues.yaml") +
                ":2:5: warning: rule \"cue.spaced\": \\s in the regex only ever matches a space "
                "(the normalised text has one between words and no other white space); write "
                "\" \" or \" ?\": \\s* and \\s+ make every scan slower");
}

TEST_F(RulePackTest, DistinctBrandsGiveNoWarning) {
  Write("rights_holders/beta.yaml", "id: beta\nname: Beta\nbrands: [{name: Acmes}]\n");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  EXPECT_TRUE(pack->warnings.empty());
}

TEST_F(RulePackTest, SortsRightsHoldersById) {
  Write("rights_holders/zeta.yaml", "id: zeta\nname: Zeta\nbrands: [{name: Zeta}]\n");
  Write("rights_holders/beta.yaml", "id: beta\nname: Beta\nbrands: [{name: Beta}]\n");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  ASSERT_EQ(pack->rights_holders.size(), 3u);
  EXPECT_EQ(pack->rights_holders[0].id, "acme");
  EXPECT_EQ(pack->rights_holders[1].id, "beta");
  EXPECT_EQ(pack->rights_holders[2].id, "zeta");
}

TEST_F(RulePackTest, ResolvesImagesAgainstTheRightsHolderFolder) {
  Write("rights_holders/photos/runner22-front.jpg", "not really a jpeg");
  Write("rights_holders/acme.yaml",
        std::string(kAcme) + "    images: [photos/runner22-front.jpg]\n");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  EXPECT_EQ(pack->rights_holders[0].products[0].images.at(0),
            Path("rights_holders/photos/runner22-front.jpg"));
}

// --- errors ------------------------------------------------------------------------------

TEST_F(RulePackTest, RejectsMalformedYaml) {
  Write("cues.yaml", "rules:\n  - id: cue.x\n    phrases: [replica\n");
  ExpectError("cues.yaml", 4, 1, "malformed yaml: a list opened with '[' is not closed with ']'");
}

TEST_F(RulePackTest, RejectsBadIndentation) {
  Write("policy.yaml", "currency: EUR\n  threshold: 1.0\n");
  ExpectError("policy.yaml", 2, 12,
              "malformed yaml: unexpected ':' (quote a value that contains \": \", or check "
              "this line's indentation)");
}

TEST_F(RulePackTest, RejectsLineThatDoesNotContinueTheMapping) {
  Write("context.yaml", "used:\n  - gebraucht\n  bundle: [with]\n");
  ExpectError("context.yaml", 3, 3,
              "malformed yaml: this line does not continue the mapping above it (check its "
              "indentation)");
}

// yaml-cpp blames the line after the one without a colon ("illegal map value").
TEST_F(RulePackTest, ReportsTheLineWithoutAColon) {
  Write("rights_holders/acme.yaml", "id: acme\nname ACME Sports GmbH\nbrands: [{name: ACME}]\n");
  ExpectError("rights_holders/acme.yaml", 2, 1,
              "malformed yaml: missing ':' after \"name ACME Sports GmbH\" (a mapping entry is "
              "`key: value`)");
}

TEST_F(RulePackTest, ReportsTheNestedLineWithoutAColon) {
  Write("rights_holders/acme.yaml",
        "id: acme\nname: ACME\nbrands: [{name: ACME}]\nproducts:\n  - id: p1\n"
        "    name Runner\n    # a comment\n\n    category: shoes\n");
  ExpectError("rights_holders/acme.yaml", 6, 5, "missing ':' after \"name Runner\"");
}

TEST_F(RulePackTest, ReportsAListKeyWithoutAColon) {
  Write("rights_holders/acme.yaml", "id: acme\nname: ACME\nbrands\n  - name: ACME\n");
  ExpectError("rights_holders/acme.yaml", 3, 1, "missing ':' after \"brands\"");
}

TEST_F(RulePackTest, RejectsTabInIndentation) {
  Write("rights_holders/acme.yaml", "id: acme\nname: ACME\nbrands:\n\t- name: ACME\n");
  ExpectError("rights_holders/acme.yaml", 4, 1,
              "tab character in indentation (YAML allows only spaces)");
}

TEST_F(RulePackTest, RejectsTabAfterSpacesInIndentation) {
  Write("cues.yaml", "rules:\n  - id: cue.x\n  \t  phrases: [fake]\n");
  ExpectError("cues.yaml", 3, 3, "tab character in indentation (YAML allows only spaces)");
}

// A whitespace-only line with a tab: yaml-cpp's own complaint, in the same words.
TEST_F(RulePackTest, RejectsTabOnABlankLine) {
  Write("policy.yaml", "currency: EUR\n\t\nthreshold: 1.0\n");
  ExpectError("policy.yaml", 2, 1, "tab character in indentation (YAML allows only spaces)");
}

// Where YAML allows tabs: inside a flow list that spans lines, before a comment, inside a
// quoted scalar and inside a block scalar.
TEST_F(RulePackTest, AcceptsTabsOutsideIndentation) {
  Write("policy.yaml",
        "currency: EUR\nfx: {USD: 0.86,\n\tGBP: 1.14}\n\t# a comment\nthreshold:\t1.0\n");
  Write("context.yaml", "used: [\"pre-\n\towned\"]\n");
  Write("rights_holders/acme.yaml",
        "id: acme\nname: |\n  ACME\n  \tSports\nbrands:\n  - name: ACME\n");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  EXPECT_EQ(pack->policy.fx.at("GBP"), 1.14);
  EXPECT_EQ(pack->context.used.at(0), "pre- owned");
  EXPECT_EQ(pack->rights_holders[0].name, "ACME\n\tSports\n");
}

TEST_F(RulePackTest, RejectsCueRuleIdThatNamesASignal) {
  for (const std::string id :
       {"price", "image", "obfuscated_brand", "known_counterfeit_photo", "seller_record"}) {
    Write("cues.yaml", "rules:\n  - id: cue.ok\n    phrases: [fake]\n  - id: " + id +
                           "\n    phrases: [cheap]\n");
    ExpectError("cues.yaml", 4, 9,
                "cue rule id \"" + id + "\" is reserved: it names the built-in " + id +
                    " signal in reasons and the summary");
  }
}

TEST_F(RulePackTest, RejectsStringWhereNumberExpected) {
  Write("policy.yaml", "currency: EUR\nthreshold: high\n");
  ExpectError("policy.yaml", 2, 12, "threshold: expected a number, got \"high\"");
}

TEST_F(RulePackTest, RejectsQuotedNumber) {
  Write("rights_holders/acme.yaml",
        "id: acme\nname: ACME\nbrands: [{name: ACME}]\nproducts:\n"
        "  - id: p1\n    name: P1\n    reference_price: {amount: \"180\", currency: EUR}\n");
  ExpectError("rights_holders/acme.yaml", 7, 31,
              "reference_price.amount: expected a number, got the string \"180\"");
}

TEST_F(RulePackTest, RejectsListWhereStringExpected) {
  Write("rights_holders/acme.yaml", "id: acme\nname: [ACME]\nbrands: [{name: ACME}]\n");
  ExpectError("rights_holders/acme.yaml", 2, 7, "name: expected a string, got a list");
}

TEST_F(RulePackTest, RejectsNonIntegerVersion) {
  Write("cues.yaml", "rules:\n  - id: cue.x\n    version: 1.5\n    phrases: [x]\n");
  ExpectError("cues.yaml", 3, 14, "version: expected an integer, got \"1.5\"");
}

TEST_F(RulePackTest, RejectsUnknownFieldWithHint) {
  Write("rights_holders/acme.yaml", R"(id: acme
name: ACME
brands: [{name: ACME}]
products:
  - id: p1
    name: P1
    reference_price: {amount: 10, currency: EUR}
    min_price_ration: 0.4
)");
  ExpectError("rights_holders/acme.yaml", 8, 5,
              "unknown field \"min_price_ration\" (did you mean \"min_price_ratio\"?)");
}

TEST_F(RulePackTest, RejectsUnknownNestedFieldWithHint) {
  Write("policy.yaml", "currency: EUR\nweights:\n  cues: 1.0\n");
  ExpectError("policy.yaml", 3, 3,
              "unknown field \"weights.cues\" (did you mean \"weights.cue\"?)");
}

TEST_F(RulePackTest, RejectsUnknownFieldWithoutHint) {
  Write("policy.yaml", "currency: EUR\ncolour: blue\n");
  ExpectError("policy.yaml", 2, 1,
              "unknown field \"colour\" (expected one of: currency, fx_date, fx, threshold, "
              "weights, image)");
}

TEST_F(RulePackTest, RejectsDuplicateKey) {
  Write("policy.yaml", "currency: EUR\nthreshold: 1.0\nthreshold: 2.0\n");
  ExpectError("policy.yaml", 3, 1,
              "duplicate key \"threshold\" (first at " + Path("policy.yaml") + ":2:1)");
}

TEST_F(RulePackTest, RejectsMissingRequiredField) {
  Write("rights_holders/acme.yaml", "id: acme\nbrands: [{name: ACME}]\n");
  ExpectError("rights_holders/acme.yaml", 1, 1, "missing required field \"name\"");
}

TEST_F(RulePackTest, RejectsDuplicateRuleId) {
  Write("cues.yaml", R"(rules:
  - id: cue.replica
    phrases: [replica]
  - id: cue.replica
    phrases: [replika]
)");
  ExpectError(
      "cues.yaml", 4, 9,
      "duplicate cue rule id \"cue.replica\" (first defined at " + Path("cues.yaml") + ":2:5)");
}

TEST_F(RulePackTest, RejectsBadRuleId) {
  Write("cues.yaml", "rules:\n  - id: Cue Replica\n    phrases: [replica]\n");
  ExpectError("cues.yaml", 2, 9, "invalid cue rule id \"Cue Replica\"");
}

TEST_F(RulePackTest, RejectsBadMode) {
  Write("cues.yaml", "rules:\n  - id: cue.x\n    mode: shadw\n    phrases: [x]\n");
  ExpectError("cues.yaml", 3, 11,
              "mode must be enforce, shadow or off, got \"shadw\" (did you mean \"shadow\"?)");
}

TEST_F(RulePackTest, RejectsNonPositiveVersion) {
  Write("cues.yaml", "rules:\n  - id: cue.x\n    version: 0\n    phrases: [x]\n");
  ExpectError("cues.yaml", 3, 14, "version must be a positive integer, got 0");
}

TEST_F(RulePackTest, RejectsBadRightsHolderId) {
  Write("rights_holders/acme.yaml", "id: ACME Corp\nname: ACME\nbrands: [{name: ACME}]\n");
  ExpectError("rights_holders/acme.yaml", 1, 5,
              "invalid rights holder id \"ACME Corp\" (allowed: a-z, 0-9, '_' and '-')");
}

TEST_F(RulePackTest, RejectsIdFileNameMismatch) {
  Write("rights_holders/acme.yaml", "id: acme2\nname: ACME\nbrands: [{name: ACME}]\n");
  ExpectError("rights_holders/acme.yaml", 1, 5,
              "rights holder id \"acme2\" does not match the file name \"acme.yaml\"");
}

TEST_F(RulePackTest, RejectsInvalidRegex) {
  Write("cues.yaml", "rules:\n  - id: cue.bad\n    regex: '(replica'\n");
  ExpectError("cues.yaml", 3, 12, "rule \"cue.bad\": invalid regex: missing ): (replica");
}

TEST_F(RulePackTest, RejectsRegexMatchingEmptyString) {
  Write("cues.yaml", "rules:\n  - id: cue.bad\n    regex: 'x*'\n");
  ExpectError("cues.yaml", 3, 12, "rule \"cue.bad\": regex matches the empty string");
}

TEST_F(RulePackTest, RejectsBothPhrasesAndRegex) {
  Write("cues.yaml", "rules:\n  - id: cue.both\n    phrases: [replica]\n    regex: 'rep'\n");
  ExpectError("cues.yaml", 4, 5, "rule \"cue.both\": has both phrases and regex (use one)");
}

TEST_F(RulePackTest, RejectsNeitherPhrasesNorRegex) {
  Write("cues.yaml", "rules:\n  - id: cue.none\n    phrases: []\n");
  ExpectError("cues.yaml", 2, 5, "rule \"cue.none\": needs non-empty phrases or a regex");
}

TEST_F(RulePackTest, RejectsEmptyPhrase) {
  Write("cues.yaml", "rules:\n  - id: cue.x\n    phrases: [replica, '  ']\n");
  ExpectError("cues.yaml", 3, 24, "phrases: must not be empty");
}

TEST_F(RulePackTest, RejectsReferenceCurrencyNotInFx) {
  Write("rights_holders/acme.yaml", R"(id: acme
name: ACME
brands: [{name: ACME}]
products:
  - id: p1
    name: P1
    reference_price: {amount: 10, currency: SEK}
)");
  ExpectError("rights_holders/acme.yaml", 7, 45,
              "reference_price.currency \"SEK\" is not in policy fx (known: EUR, GBP, USD)");
}

TEST_F(RulePackTest, RejectsMinPriceRatioAboveOne) {
  Write("rights_holders/acme.yaml", R"(id: acme
name: ACME
brands: [{name: ACME}]
products:
  - id: p1
    name: P1
    reference_price: {amount: 10, currency: USD}
    min_price_ratio: 1.5
)");
  ExpectError("rights_holders/acme.yaml", 8, 22, "min_price_ratio must be in (0, 1], got 1.5");
}

TEST_F(RulePackTest, RejectsZeroMinPriceRatio) {
  Write("rights_holders/acme.yaml", R"(id: acme
name: ACME
brands: [{name: ACME}]
products:
  - id: p1
    name: P1
    reference_price: {amount: 10, currency: USD}
    min_price_ratio: 0
)");
  ExpectError("rights_holders/acme.yaml", 8, 22, "min_price_ratio must be in (0, 1], got 0");
}

TEST_F(RulePackTest, RejectsMinPriceRatioWithoutReferencePrice) {
  Write("rights_holders/acme.yaml", R"(id: acme
name: ACME
brands: [{name: ACME}]
products:
  - id: p1
    name: P1
    min_price_ratio: 0.5
)");
  ExpectError("rights_holders/acme.yaml", 7, 5, "min_price_ratio requires reference_price");
}

TEST_F(RulePackTest, RejectsMissingPolicy) {
  fs::remove(dir_.Join("policy.yaml"));
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_FALSE(pack.ok());
  EXPECT_EQ(pack.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(pack.status().message(), Path("policy.yaml") + ": required file not found");
}

TEST_F(RulePackTest, RejectsMissingDirectory) {
  const absl::StatusOr<RulePack> pack = LoadRulePack(Path("no-such-dir"));
  ASSERT_FALSE(pack.ok());
  EXPECT_EQ(pack.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(pack.status().message()), HasSubstr("not found"));
}

TEST_F(RulePackTest, RejectsNoRightsHolders) {
  fs::remove(dir_.Join("rights_holders/acme.yaml"));
  Write("rights_holders/acme.json", "{}");  // not a rules file
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_FALSE(pack.ok());
  EXPECT_EQ(pack.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pack.status().message(),
            Path("rights_holders") +
                ": no rights holder files (at least one *.yaml or *.yml is required)");
}

TEST_F(RulePackTest, RejectsMissingImageFile) {
  Write("rights_holders/acme.yaml",
        std::string(kAcme) + "    images: [photos/runner22-front.jpg]\n");
  ExpectError("rights_holders/acme.yaml", 14, 14,
              "image \"photos/runner22-front.jpg\" not found (looked for \"" +
                  Path("rights_holders/photos/runner22-front.jpg") + "\")");
}

TEST_F(RulePackTest, RejectsImageThatIsADirectory) {
  fs::create_directories(dir_.Join("rights_holders/photos"));
  Write("rights_holders/acme.yaml", std::string(kAcme) + "    images: [photos]\n");
  ExpectError("rights_holders/acme.yaml", 14, 14, "image \"photos\" is not a regular file");
}

TEST_F(RulePackTest, RejectsNegativeRuleWeight) {
  Write("cues.yaml", "rules:\n  - id: cue.x\n    phrases: [x]\n    weight: -1\n");
  ExpectError("cues.yaml", 4, 13, "weight must be >= 0, got -1");
}

TEST_F(RulePackTest, ReadsFeedbackWeightsWithTheirDefaults) {
  {
    const absl::StatusOr<RulePack> pack = Load();
    ASSERT_TRUE(pack.ok()) << pack.status();
    EXPECT_EQ(pack->policy.weights.known_counterfeit_photo, 1.0);
    EXPECT_EQ(pack->policy.weights.seller_record, 0.5);
  }
  Write("policy.yaml",
        "currency: EUR\nweights: {known_counterfeit_photo: 2.0, seller_record: 0.25}\n");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_TRUE(pack.ok()) << pack.status();
  EXPECT_EQ(pack->policy.weights.known_counterfeit_photo, 2.0);
  EXPECT_EQ(pack->policy.weights.seller_record, 0.25);
  Write("policy.yaml", "currency: EUR\nweights: {seller_record: -1}\n");
  ExpectError("policy.yaml", 2, 26, "weights.seller_record must be >= 0, got -1");
}

TEST_F(RulePackTest, RejectsNegativePolicyWeight) {
  Write("policy.yaml", "currency: EUR\nweights: {cue: 1.0, price: -0.5}\n");
  ExpectError("policy.yaml", 2, 28, "weights.price must be >= 0, got -0.5");
}

TEST_F(RulePackTest, RejectsBadFxCode) {
  Write("policy.yaml", "currency: EUR\nfx:\n  usd: 0.86\n");
  ExpectError("policy.yaml", 3, 3,
              "fx currency must be 3 upper-case letters (ISO 4217), got \"usd\"");
}

TEST_F(RulePackTest, RejectsNonPositiveFxRate) {
  Write("policy.yaml", "currency: EUR\nfx:\n  USD: 0\n");
  ExpectError("policy.yaml", 3, 8, "fx.USD must be > 0, got 0");
}

TEST_F(RulePackTest, RejectsInfiniteFxRate) {
  Write("policy.yaml", "currency: EUR\nfx:\n  USD: .inf\n");
  ExpectError("policy.yaml", 3, 8, "fx.USD: must be a finite number, got .inf");
}

TEST_F(RulePackTest, RejectsBaseCurrencyRateOtherThanOne) {
  Write("policy.yaml", "currency: EUR\nfx: {EUR: 0.9, USD: 0.86}\n");
  ExpectError("policy.yaml", 2, 11, "fx rate of the base currency EUR must be 1, got 0.9");
}

TEST_F(RulePackTest, RejectsNonPositiveThreshold) {
  Write("rights_holders/acme.yaml", "id: acme\nname: ACME\nthreshold: 0\nbrands: [{name: ACME}]\n");
  ExpectError("rights_holders/acme.yaml", 3, 12, "threshold must be > 0, got 0");
}

TEST_F(RulePackTest, RejectsImageDistanceOutOfRange) {
  Write("policy.yaml", "currency: EUR\nimage: {max_distance: 300}\n");
  ExpectError("policy.yaml", 2, 23, "image.max_distance must be in 0..256, got 300");
}

TEST_F(RulePackTest, RejectsEmptyBrands) {
  Write("rights_holders/acme.yaml", "id: acme\nname: ACME\nbrands: []\n");
  ExpectError("rights_holders/acme.yaml", 3, 9, "brands must not be empty");
}

TEST_F(RulePackTest, RejectsEmptyBrandName) {
  Write("rights_holders/acme.yaml", "id: acme\nname: ACME\nbrands:\n  - name: ''\n");
  ExpectError("rights_holders/acme.yaml", 4, 11, "name: must not be empty");
}

TEST_F(RulePackTest, RejectsDuplicateProductIdAcrossFiles) {
  Write("rights_holders/beta.yaml", R"(id: beta
name: Beta
brands: [{name: Beta}]
products:
  - id: acme-runner-22
    name: Runner
)");
  ExpectError("rights_holders/beta.yaml", 5, 9,
              "duplicate product id \"acme-runner-22\" (first defined at " +
                  Path("rights_holders/acme.yaml") + ":8:5)");
}

TEST_F(RulePackTest, ReportsFirstBrokenFileInSortedOrder) {
  Write("rights_holders/zeta.yaml", "id: zeta\nname: Z\nbrands: [{name: Z}]\nbogus: 1\n");
  Write("rights_holders/beta.yaml", "id: beta\nname: B\nbrands: [{name: B}]\nbogus: 1\n");
  ExpectError("rights_holders/beta.yaml", 4, 1, "unknown field \"bogus\"");
}

TEST_F(RulePackTest, RejectsNonMappingTopLevel) {
  Write("context.yaml", "- for\n- fits\n");
  ExpectError("context.yaml", 1, 1, "expected a mapping at the top of the file, got a list");
}

TEST_F(RulePackTest, RejectsInvalidUtf8) {
  Write("context.yaml",
        "compatibility: [for]\nused: [gebr\xFC"
        "cht]\n");
  ExpectError("context.yaml", 2, 12, "file is not valid utf-8");
}

TEST_F(RulePackTest, RejectsDeeplyNestedYaml) {
  Write("context.yaml", "used: " + std::string(100000, '[') + std::string(100000, ']') + "\n");
  const absl::StatusOr<RulePack> pack = Load();
  ASSERT_FALSE(pack.ok());
  EXPECT_EQ(pack.status().code(), absl::StatusCode::kInvalidArgument) << pack.status();
  EXPECT_THAT(std::string(pack.status().message()), StartsWith(Path("context.yaml") + ":1:"));
}

TEST_F(RulePackTest, CountsColumnsInCharacters) {
  // 高仿 and 复刻 are 3 bytes each in UTF-8: the empty phrase is at byte column 31 but at
  // character column 23.
  Write("cues.yaml", "rules:\n  - id: cue.x\n    phrases: [高仿, 复刻, '']\n");
  ExpectError("cues.yaml", 3, 23, "phrases: must not be empty");
}

}  // namespace
}  // namespace bonafide::rules
