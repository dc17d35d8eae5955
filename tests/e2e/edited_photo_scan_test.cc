// The stages after PDQ in the scan (docs/images.md, "Edited photos"): a genuine photo
// cropped, padded or with a caption laid over it opens a photo case whose evidence names
// the stage; unrelated photos do not; broken photos keep their per-photo error; a rescan
// whose hashes come from the photo cache finds the same.
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bonafide/scanner.h"
#include "engine/photo_hash_cache.h"
#include "tests/models/labelled_photo_set.h"
#include "tests/models/synthetic_photos.h"
#include "tests/test_util.h"

#include "simdjson.h"

namespace bonafide {
namespace {

using namespace ::bonafide::testing;  // NOLINT: test helpers

class MemorySink : public CaseSink {
 public:
  absl::StatusOr<OutboxWriteStats> Write(const OutboxBatch& batch) override {
    for (const CaseRecord& c : batch.cases) records[c.listing_id] = c;
    return OutboxWriteStats{};
  }
  absl::StatusOr<OutboxWriteStats> Publish(std::string_view) override { return OutboxWriteStats{}; }
  std::map<std::string, CaseRecord> records;  // by listing id
};

class EditedPhotoScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("rules/policy.yaml", R"(currency: EUR
fx_date: 2026-11-27
threshold: 1.0
weights: {cue: 1.0, price: 1.0, image: 1.0, obfuscated_brand: 0.5}
image: {max_distance: 31, min_quality: 50}
)");
    dir_.Write("rules/cues.yaml", "rules:\n  - id: cue.replica\n    phrases: [replica]\n");
    WriteRightsHolder("photos/front.jpg, photos/side.jpg, photos/box.jpg");
    for (int i = 0; i < 3; ++i) genuine_.push_back(DrawClutteredPhoto(i + 1));
    dir_.Write("rules/rights_holders/photos/front.jpg", EncodeJpeg(genuine_[0], 92));
    dir_.Write("rules/rights_holders/photos/side.jpg", EncodeJpeg(genuine_[1], 92));
    dir_.Write("rules/rights_holders/photos/box.jpg", EncodeJpeg(genuine_[2], 92));

    dir_.Write("images/same.jpg", EncodeJpeg(genuine_[0], 80));
    dir_.Write("images/cropped.jpg", EncodeJpeg(Cropped(genuine_[0], 0.3, 0, 1)));
    dir_.Write("images/padded.jpg", EncodeJpeg(Padded(genuine_[1], 0.25, 0, cv::Scalar(0, 0, 0))));
    dir_.Write("images/captioned.jpg", EncodeJpeg(Overlaid(genuine_[2], 0)));
    dir_.Write("images/unrelated.jpg", EncodeJpeg(DrawClutteredPhoto(500)));
    dir_.Write("images/unrelated-cropped.jpg",
               EncodeJpeg(Cropped(DrawClutteredPhoto(501), 0.2, 1, 2)));
    const std::string jpeg = EncodeJpeg(genuine_[0]);
    dir_.Write("images/truncated.jpg", jpeg.substr(0, jpeg.size() / 3));

    auto line = [](const std::string& id, const std::string& title, const std::string& images) {
      return "{\"id\":\"" + id + "\",\"title\":\"" + title +
             "\",\"price\":79,\"currency\":\"EUR\",\"seller_id\":\"s-9\",\"images\":[" + images +
             "]}\n";
    };
    std::string dump;
    dump += line("same", "Shoes", "\"same.jpg\"");
    dump += line("cropped", "Shoes", "\"cropped.jpg\"");
    dump += line("padded", "Shoes", "\"padded.jpg\"");
    dump += line("captioned", "Shoes", "\"captioned.jpg\"");
    dump += line("unrelated", "Shoes", "\"unrelated.jpg\",\"unrelated-cropped.jpg\"");
    dump += line("broken", "ACME replica", "\"truncated.jpg\",\"cropped.jpg\"");
    dump_ = dir_.Write("listings.jsonl", dump);
  }

  // ACME with one product whose genuine photos are `images` (YAML flow list items).
  void WriteRightsHolder(const std::string& images) {
    dir_.Write("rules/rights_holders/acme.yaml",
               "id: acme\nname: ACME Sports GmbH\nbrands:\n  - name: ACME\nproducts:\n"
               "  - id: acme-runner-22\n    name: Runner 22\n    keywords: [runner 22]\n"
               "    images: [" +
                   images + "]\n");
  }

  std::unique_ptr<Scanner> NewScanner(bool edited_photos, const std::string& cache_dir = "") {
    ScannerOptions options;
    options.rules_dir = dir_.Join("rules");
    options.cache_dir = cache_dir;
    options.image_root = dir_.Join("images");
    options.edited_photos = edited_photos;
    auto scanner = Scanner::Create(options);
    EXPECT_TRUE(scanner.ok()) << scanner.status();
    return scanner.ok() ? std::move(*scanner) : nullptr;
  }

  std::map<std::string, CaseRecord> Scan(const Scanner& scanner,
                                         ScanSummary* summary_out = nullptr) {
    MemorySink sink;
    ScanOptions options;
    options.threads = 2;
    auto summary = scanner.ScanFiles({dump_}, sink, options);
    EXPECT_TRUE(summary.ok()) << summary.status();
    if (summary.ok() && summary_out != nullptr) *summary_out = *summary;
    return sink.records;
  }

  // The image reason of a case as its raw JSON object ("" when there is none).
  static std::string ImageReason(const CaseRecord& c) {
    simdjson::dom::parser parser;
    simdjson::dom::element reasons;
    EXPECT_EQ(parser.parse(c.reasons_json).get(reasons), simdjson::SUCCESS) << c.reasons_json;
    for (simdjson::dom::element r : reasons.get_array()) {
      if (std::string_view(r["signal"].get_string().value()) == "image") {
        return simdjson::minify(r);
      }
    }
    return "";
  }

  TempDir dir_;
  std::vector<cv::Mat> genuine_;
  std::string dump_;
};

TEST_F(EditedPhotoScanTest, EditedGenuinePhotosOpenCasesThatNameTheStage) {
  auto scanner = NewScanner(true);
  ASSERT_NE(scanner, nullptr);
  EXPECT_THAT(scanner->rules_info().photo_features,
              ::testing::MatchesRegex("on: 3 photos, [0-9]+ keypoints"));
  auto records = Scan(*scanner);

  // The same photo: PDQ of the whole photo; its evidence has no "stage" (as before the
  // later stages existed).
  ASSERT_EQ(records.count("same"), 1u);
  EXPECT_THAT(ImageReason(records["same"]),
              ::testing::MatchesRegex(
                  "\\{\"signal\":\"image\",\"photo\":\"same.jpg\",\"genuine_photo\":\"rights_"
                  "holders/photos/front.jpg\",\"product\":\"acme-runner-22\",\"variant\":"
                  "\"original\",\"distance\":[0-9]+,\"max_distance\":31,\"quality\":[0-9]+,"
                  "\"genuine_quality\":[0-9]+,\"weight\":1,\"shadow\":false\\}"));

  ASSERT_EQ(records.count("padded"), 1u);
  EXPECT_THAT(ImageReason(records["padded"]),
              ::testing::MatchesRegex(
                  ".*\"genuine_photo\":\"rights_holders/photos/side.jpg\",\"product\":\"acme-"
                  "runner-22\",\"stage\":\"pdq_trimmed\",\"variant\":\"original\",\"distance\":"
                  "[0-9]+,\"max_distance\":31,.*"));
  EXPECT_THAT(records["padded"].evidence_json,
              ::testing::HasSubstr("is genuine photo rights_holders/photos/side.jpg of "
                                   "acme-runner-22 (inside uniform borders, original, distance"));

  for (const auto& [id, photo] :
       std::map<std::string, std::string>{{"cropped", "front.jpg"}, {"captioned", "box.jpg"}}) {
    SCOPED_TRACE(id);
    ASSERT_EQ(records.count(id), 1u);
    const std::string reason = ImageReason(records[id]);
    EXPECT_THAT(reason, ::testing::MatchesRegex(
                            ".*\"genuine_photo\":\"rights_holders/photos/" + photo +
                            "\",\"product\":\"acme-runner-22\",\"stage\":\"features\",\"inliers\":"
                            "[0-9]+,\"min_inliers\":20,\"quality\":[0-9]+,.*"));
    EXPECT_GE(std::stoi(reason.substr(reason.find("\"inliers\":") + 10)), 20);
    EXPECT_THAT(records[id].evidence_json,
                ::testing::HasSubstr("shows genuine photo rights_holders/photos/" + photo +
                                     " of acme-runner-22 (local features: "));
    EXPECT_THAT(records[id].evidence_json, ::testing::HasSubstr("\"matched\":true"));
  }
  // Unrelated photos, plain and cropped: no case.
  EXPECT_EQ(records.count("unrelated"), 0u);
  // A broken photo keeps its error beside the one that matched.
  ASSERT_EQ(records.count("broken"), 1u);
  EXPECT_THAT(records["broken"].evidence_json,
              ::testing::HasSubstr("{\"photo\":\"truncated.jpg\",\"status\":\"unreadable\","
                                   "\"detail\":\"truncated jpeg"));
  EXPECT_THAT(ImageReason(records["broken"]), ::testing::HasSubstr("\"stage\":\"features\""));
  EXPECT_EQ(records.size(), 5u);
}

TEST_F(EditedPhotoScanTest, WithoutTheLaterStagesOnlyTheWholePhotoMatches) {
  auto scanner = NewScanner(false);
  ASSERT_NE(scanner, nullptr);
  EXPECT_EQ(scanner->rules_info().photo_features, "off");
  auto records = Scan(*scanner);
  EXPECT_EQ(records.count("same"), 1u);
  EXPECT_EQ(records.count("cropped"), 0u);
  EXPECT_EQ(records.count("padded"), 0u);
  EXPECT_EQ(records.count("captioned"), 0u);
  EXPECT_EQ(records.count("broken"), 1u);  // the text names the brand with a cue
  EXPECT_EQ(ImageReason(records["broken"]), "");
}

TEST_F(EditedPhotoScanTest, ARescanFromThePhotoCacheFindsTheSame) {
  const std::string cache = dir_.Join("cache");
  auto first = NewScanner(true, cache);
  ASSERT_NE(first, nullptr);
  const auto before = Scan(*first);
  auto second = NewScanner(true, cache);
  ASSERT_NE(second, nullptr);
  ScanSummary summary;
  const auto after = Scan(*second, &summary);
  // Every photo that could be read was hashed before: the hashes come from the cache, and
  // the later stages run again only on photos the cache does not say they found nothing in.
  EXPECT_EQ(summary.images.from_cache, summary.images.hashed);
  EXPECT_EQ(summary.images.hashed, 7);  // 8 photos, one truncated
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [id, record] : before) {
    SCOPED_TRACE(id);
    ASSERT_EQ(after.count(id), 1u);
    EXPECT_EQ(ImageReason(after.at(id)), ImageReason(record));
  }
  EXPECT_EQ(after.count("cropped"), 1u);
}

// The listing-photo cache remembers the photos in which the later stages found nothing, so
// that a rescan neither decodes them again nor runs the stages; under another
// configuration (here a genuine photo added) the stages run again and find what is new.
TEST_F(EditedPhotoScanTest, TheCacheRemembersPhotosTheLaterStagesFoundNothingIn) {
  const std::string cache_dir = dir_.Join("cache");
  {
    auto first = NewScanner(true, cache_dir);
    ASSERT_NE(first, nullptr);
    const auto records = Scan(*first);
    EXPECT_EQ(records.count("unrelated"), 0u);
  }
  auto cache = engine::PhotoHashCache::Open(cache_dir, {});
  ASSERT_TRUE(cache.ok()) << cache.status();
  auto session = (*cache)->NewSession();
  ASSERT_NE(session, nullptr);
  auto mark = [&](const std::string& photo) -> uint64_t {
    struct stat st;
    EXPECT_EQ(::stat(dir_.Join("images/" + photo).c_str(), &st), 0) << photo;
    engine::CachedPhotoHash row;
    EXPECT_TRUE(session->Lookup(engine::FileIdentity::FromStat(st), 1, row)) << photo;
    return row.nothing_after_pdq;
  };
  const uint64_t nothing = mark("unrelated.jpg");
  EXPECT_NE(nothing, 0u);
  EXPECT_EQ(mark("unrelated-cropped.jpg"), nothing);  // one configuration, one digest
  EXPECT_EQ(mark("cropped.jpg"), 0u);                 // the features found it
  EXPECT_EQ(mark("same.jpg"), 0u);                    // PDQ found it: no later stage ran
  session.reset();

  // The photo that unrelated-cropped.jpg was cut from becomes a genuine photo.
  dir_.Write("rules/rights_holders/photos/extra.jpg", EncodeJpeg(DrawClutteredPhoto(501), 92));
  WriteRightsHolder("photos/front.jpg, photos/side.jpg, photos/box.jpg, photos/extra.jpg");
  auto rescan = NewScanner(true, cache_dir);
  ASSERT_NE(rescan, nullptr);
  ScanSummary summary;
  const auto records = Scan(*rescan, &summary);
  EXPECT_EQ(summary.images.from_cache, summary.images.hashed);
  ASSERT_EQ(records.count("unrelated"), 1u);
  EXPECT_THAT(ImageReason(records.at("unrelated")), ::testing::HasSubstr("\"stage\":\"features\""));
}

TEST_F(EditedPhotoScanTest, ExplainNamesTheStage) {
  auto scanner = NewScanner(true);
  ASSERT_NE(scanner, nullptr);
  auto scratch = scanner->NewScratch();
  ASSERT_TRUE(scratch.ok());
  Listing listing;
  listing.id = "e1";
  listing.seller_id = "s-9";
  listing.title = "Shoes";
  listing.price = 79;
  listing.currency = "EUR";
  listing.images = {"cropped.jpg"};
  const ListingExplanation e = scanner->Explain(listing, **scratch);
  std::string why;
  for (const HolderExplanation& h : e.holders) {
    for (const SignalExplanation& s : h.signals) {
      if (s.signal == "image" && s.held) why = s.why;
    }
  }
  EXPECT_THAT(why, ::testing::MatchesRegex("photo #0 shows genuine photo rights_holders/photos/"
                                           "front.jpg \\(local features: [0-9]+ matching points, "
                                           "at least 20\\)"));
}

}  // namespace
}  // namespace bonafide
