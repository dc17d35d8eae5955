// The image stage end to end (docs/images.md): genuine photos registered in a rules
// directory, listing photos that reuse them with a seller's edits, scanned through
// Scanner::ScanFiles and the `bonafide` CLI.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "bonafide/summary.h"
#include "tests/models/synthetic_photos.h"
#include "tests/outbox_test_util.h"
#include "tests/test_util.h"
#include "util/strings.h"

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

// A 30000x30000 PNG: signature and IHDR only (a decompression bomb's header).
std::string PngBombHeader() {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  png.append(std::string("\x00\x00\x00\x0dIHDR", 8));
  for (int i = 0; i < 2; ++i) png.append(std::string("\x00\x00\x75\x30", 4));  // 30000
  png.append(std::string("\x08\x02\x00\x00\x00", 5));
  png.append(std::string("\x00\x00\x00\x00", 4));  // CRC (not checked by the probe)
  return png;
}

class ImageScanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const TempDir& d = *dir_;
    d.Write("rules/policy.yaml", R"(currency: EUR
fx_date: 2026-11-27
fx: {USD: 0.86}
threshold: 1.0
weights: {cue: 1.0, price: 1.0, image: 1.0, obfuscated_brand: 0.5}
image: {max_distance: 31, min_quality: 50}
)");
    d.Write("rules/cues.yaml", R"(rules:
  - id: cue.replica
    phrases: [replica]
)");
    d.Write("rules/rights_holders/acme.yaml", R"(id: acme
name: ACME Sports GmbH
threshold: 1.0
brands:
  - name: ACME
authorized_sellers: [s-100]
products:
  - id: acme-runner-22
    name: Runner 22
    keywords: [runner 22]
    reference_price: {amount: 180, currency: EUR}
    min_price_ratio: 0.4
    images: [photos/runner-front.jpg, photos/runner-side.jpg, photos/runner-box.jpg]
)");
    d.Write("rules/rights_holders/plainco.yaml", R"(id: plainco
name: Plain Co
brands:
  - name: Plainco
products:
  - id: plainco-card
    name: Card
    images: [photos/blank-card.jpg]
)");
    for (int i = 0; i < 3; ++i) genuine_.push_back(DrawPhoto(i + 1));
    d.Write("rules/rights_holders/photos/runner-front.jpg", EncodeJpeg(genuine_[0], 92));
    d.Write("rules/rights_holders/photos/runner-side.jpg", EncodeJpeg(genuine_[1], 92));
    d.Write("rules/rights_holders/photos/runner-box.jpg", EncodeJpeg(genuine_[2], 92));
    d.Write("rules/rights_holders/photos/blank-card.jpg",
            EncodeJpeg(cv::Mat(600, 800, CV_8UC3, cv::Scalar(250, 250, 250))));

    // Listing photos: the seller's edits of the genuine ones, and others.
    d.Write("images/resized.jpg", EncodeJpeg(Resized(genuine_[0], 0.45)));
    d.Write("images/recompressed.jpg", EncodeJpeg(genuine_[1], 60));
    d.Write("images/brightened.jpg", EncodeJpeg(Brightened(genuine_[2], 40)));
    d.Write("images/watermarked.jpg",
            EncodeJpeg(Watermarked(genuine_[0], "best-shoes-shop.example")));
    d.Write("images/mirrored.jpg", EncodeJpeg(Mirrored(genuine_[1])));
    d.Write("images/rotated.jpg", EncodeJpeg(Rotated90(genuine_[2])));
    d.Write("images/png/front.png", EncodePng(Resized(genuine_[0], 0.6)));
    d.Write("images/unrelated-1.jpg", EncodeJpeg(DrawPhoto(101)));
    d.Write("images/unrelated-2.jpg", EncodeJpeg(DrawPhoto(102)));
    d.Write("images/plain.jpg", EncodeJpeg(cv::Mat(480, 640, CV_8UC3, cv::Scalar(90, 90, 90))));
    const std::string jpeg = EncodeJpeg(genuine_[0]);
    d.Write("images/truncated.jpg", jpeg.substr(0, jpeg.size() / 3));
    d.Write("images/bomb.png", PngBombHeader());
    d.Write("outside/secret.jpg", EncodeJpeg(genuine_[0]));
    std::filesystem::create_symlink(d.Join("outside/secret.jpg"), d.Join("images/link.jpg"));

    auto line = [](const std::string& id, const std::string& seller, const std::string& title,
                   const std::string& images) {
      return "{\"id\":\"" + id + "\",\"title\":\"" + title +
             "\",\"price\":79,\"currency\":\"EUR\",\"seller_id\":\"" + seller + "\",\"images\":[" +
             images + "]}\n";
    };
    std::string dump;
    dump += line("resized", "s-9", "Running shoes, size 42", "\"resized.jpg\"");
    dump += line("recompressed", "s-9", "Sneakers for sale", "\"recompressed.jpg\"");
    dump += line("brightened", "s-9", "Great trainers", "\"brightened.jpg\"");
    dump += line("watermarked", "s-9", "Shoes", "\"watermarked.jpg\"");
    dump += line("mirrored", "s-9", "Sport shoes", "\"mirrored.jpg\"");
    dump += line("rotated", "s-9", "Shoes, box included", "\"rotated.jpg\"");
    dump += line("png", "s-9", "Shoes", "\"png/front.png\"");
    dump += line("second-photo", "s-9", "Shoes", "\"unrelated-1.jpg\",\"mirrored.jpg\"");
    dump += line("authorized", "s-100", "Running shoes", "\"resized.jpg\",\"rotated.jpg\"");
    dump += line("unrelated", "s-9", "Running shoes", "\"unrelated-1.jpg\",\"unrelated-2.jpg\"");
    dump += line("plain", "s-9", "Blank card", "\"plain.jpg\"");
    dump += line("broken", "s-9", "ACME Runner 22 replica",
                 "\"truncated.jpg\",\"missing.jpg\",\"bomb.png\",\"link.jpg\"");
    dump += line("broken-no-brand", "s-9", "Shoes", "\"truncated.jpg\",\"missing.jpg\"");
    dump += line("no-photos", "s-9", "Shoes", "");
    dump_ = d.Write("listings.jsonl", dump);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::unique_ptr<Scanner> NewScanner(const std::string& image_root) {
    ScannerOptions options;
    options.rules_dir = dir_->Join("rules");
    options.cache_dir = dir_->Join("cache");
    options.image_root = image_root;
    auto scanner = Scanner::Create(options);
    EXPECT_TRUE(scanner.ok()) << scanner.status();
    return scanner.ok() ? std::move(*scanner) : nullptr;
  }

  static ScanSummary Run(const Scanner& scanner, MemorySink& sink, int threads = 2) {
    ScanOptions options;
    options.threads = threads;
    auto summary = scanner.ScanFiles({dump_}, sink, options);
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary.ok() ? *summary : ScanSummary{};
  }

  // The image reason of a case, parsed (empty object when there is none).
  static std::map<std::string, std::string> ImageReason(const CaseRecord& c) {
    std::map<std::string, std::string> out;
    simdjson::dom::parser parser;
    simdjson::dom::element reasons;
    EXPECT_EQ(parser.parse(c.reasons_json).get(reasons), simdjson::SUCCESS) << c.reasons_json;
    for (simdjson::dom::element r : reasons.get_array()) {
      if (std::string_view(r["signal"].get_string().value()) != "image") continue;
      for (auto field : r.get_object()) {
        std::string value;
        if (field.value.is_string()) {
          value = std::string(field.value.get_string().value());
        } else {
          value = simdjson::minify(field.value);
        }
        out[std::string(field.key)] = value;
      }
    }
    return out;
  }

  static TempDir* dir_;
  static std::vector<cv::Mat> genuine_;
  static std::string dump_;
};

TempDir* ImageScanTest::dir_ = nullptr;
std::vector<cv::Mat> ImageScanTest::genuine_;
std::string ImageScanTest::dump_;

std::string RunCommand(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int rc = pclose(pipe);
  *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

const std::string kCli = std::string(BONAFIDE_BINARY_DIR) + "/tools/bonafide";

TEST_F(ImageScanTest, ReusedGenuinePhotosOpenCasesWithoutAnyBrandInTheText) {
  auto scanner = NewScanner(dir_->Join("images"));
  ASSERT_NE(scanner, nullptr);
  MemorySink sink;
  const ScanSummary summary = Run(*scanner, sink);
  EXPECT_EQ(summary.scanned, 14);
  EXPECT_EQ(summary.rejected, 0);

  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      // listing: genuine photo, variant family
      {"resized", {"rights_holders/photos/runner-front.jpg", "original"}},
      {"recompressed", {"rights_holders/photos/runner-side.jpg", "original"}},
      {"brightened", {"rights_holders/photos/runner-box.jpg", "original"}},
      {"watermarked", {"rights_holders/photos/runner-front.jpg", "original"}},
      {"mirrored", {"rights_holders/photos/runner-side.jpg", "flip_y"}},
      {"rotated", {"rights_holders/photos/runner-box.jpg", "rotate270"}},
      {"png", {"rights_holders/photos/runner-front.jpg", "original"}},
      {"second-photo", {"rights_holders/photos/runner-side.jpg", "flip_y"}},
  };
  for (const auto& [id, want] : expected) {
    SCOPED_TRACE(id);
    auto it = sink.records.find(id);
    ASSERT_NE(it, sink.records.end()) << "no case";
    const CaseRecord& c = it->second;
    EXPECT_EQ(c.rights_holder, "acme");
    EXPECT_DOUBLE_EQ(c.score, 1.0);  // the image signal alone
    auto reason = ImageReason(c);
    std::printf("  %-13s -> %-40s %-10s distance %s\n", id.c_str(), reason["genuine_photo"].c_str(),
                reason["variant"].c_str(), reason["distance"].c_str());
    EXPECT_EQ(reason["genuine_photo"], want.first);
    EXPECT_EQ(reason["variant"], want.second);
    EXPECT_EQ(reason["product"], "acme-runner-22");
    EXPECT_EQ(reason["weight"], "1");
    EXPECT_LE(std::stoi(reason["distance"]), 31);
    EXPECT_GE(std::stoi(reason["quality"]), 50);
    EXPECT_NE(c.evidence_json.find("\"first_mention\":null"), std::string::npos);
    EXPECT_NE(c.evidence_json.find("\"status\":\"hashed\",\"pdq\":\""), std::string::npos);
    EXPECT_NE(c.evidence_json.find("photo "), std::string::npos);
  }
  EXPECT_EQ(ImageReason(sink.records["second-photo"])["photo"], "mirrored.jpg");
  EXPECT_EQ(ImageReason(sink.records["rotated"])["photo"], "rotated.jpg");

  // Unrelated and plain photos, authorized sellers: no case.
  for (const char* id : {"authorized", "unrelated", "plain", "broken-no-brand", "no-photos"}) {
    EXPECT_EQ(sink.records.count(id), 0u) << id;
  }
  // The text rules still judge a listing whose photos could not be read.
  ASSERT_EQ(sink.records.count("broken"), 1u);
  const CaseRecord& broken = sink.records["broken"];
  EXPECT_TRUE(ImageReason(broken).empty());
  for (const char* want :
       {"{\"photo\":\"truncated.jpg\",\"status\":\"unreadable\",\"detail\":\"truncated jpeg",
        "{\"photo\":\"missing.jpg\",\"status\":\"missing\"",
        "{\"photo\":\"bomb.png\",\"status\":\"too_large\",\"detail\":\"image is 30000x30000",
        "{\"photo\":\"link.jpg\",\"status\":\"outside_root\""}) {
    EXPECT_NE(broken.evidence_json.find(want), std::string::npos) << want << "\n"
                                                                  << broken.evidence_json;
  }

  EXPECT_EQ(sink.records.size(), 9u);
  // Counters.
  const auto& im = summary.images;
  EXPECT_EQ(im.photos, 20);
  EXPECT_EQ(im.not_read, 0);
  EXPECT_EQ(im.hashed, 20 - 6);
  EXPECT_EQ(im.too_plain, 1);
  EXPECT_EQ(im.matched, 10);  // 8 cases (one photo each) + the authorized seller's two
  std::map<std::string, int64_t> failed(im.failed_by_reason.begin(), im.failed_by_reason.end());
  EXPECT_EQ(failed, (std::map<std::string, int64_t>{
                        {"missing", 2}, {"unreadable", 2}, {"too_large", 1}, {"outside_root", 1}}));
  EXPECT_EQ(im.genuine_photos, 4);
  EXPECT_EQ(im.too_plain_genuine, std::vector<std::string>{"rights_holders/photos/blank-card.jpg"});
  EXPECT_EQ(summary.signals.image, 9);  // 8 cases + the authorized seller
  const std::string text = SummaryText(summary);
  EXPECT_NE(text.find("photos 20: hashed 14, matched 10, too plain 1"), std::string::npos) << text;
  EXPECT_NE(text.find("photos that could not be read: 6 (missing 2, unreadable 2, "
                      "outside_root 1, too_large 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("too plain to use 1: rights_holders/photos/blank-card.jpg"),
            std::string::npos)
      << text;
  simdjson::dom::parser parser;
  simdjson::dom::element json;
  ASSERT_EQ(parser.parse(SummaryJson(summary)).get(json), simdjson::SUCCESS);
  EXPECT_EQ(int64_t(json["images"]["matched"]), 10);
}

TEST_F(ImageScanTest, AuthorizedSellerIsJudgedButNeverFlagged) {
  auto scanner = NewScanner(dir_->Join("images"));
  ASSERT_NE(scanner, nullptr);
  auto scratch = scanner->NewScratch();
  ASSERT_TRUE(scratch.ok());
  Listing listing;
  listing.id = "a";
  listing.title = "Shoes";
  listing.currency = "EUR";
  listing.price = 10;  // 10 / 180 < 0.4: the photo's product also carries the price rule
  listing.seller_id = "s-100";
  listing.images = {"resized.jpg"};
  Verdict verdict;
  ASSERT_TRUE(scanner->Scan(listing, **scratch, verdict).ok());
  ASSERT_EQ(verdict.holders.size(), 1u);
  const HolderVerdict& h = verdict.holders[0];
  EXPECT_FALSE(h.named);
  EXPECT_TRUE(h.authorized_seller);
  EXPECT_FALSE(h.case_opened);
  EXPECT_DOUBLE_EQ(h.score, 2.0);  // image + price
  ASSERT_EQ(verdict.images.size(), 1u);
  EXPECT_TRUE(verdict.images[0].matched);

  listing.seller_id = "s-9";
  listing.images.push_back("absent.jpg");
  ASSERT_TRUE(scanner->Scan(listing, **scratch, verdict).ok());
  ASSERT_EQ(verdict.images.size(), 2u);
  EXPECT_EQ(verdict.images[1].status, ImageStatus::kMissing);
  ASSERT_EQ(verdict.holders.size(), 1u);
  EXPECT_TRUE(verdict.holders[0].case_opened);
  CaseRecord record;
  scanner->MakeCaseRecord(listing, verdict, verdict.holders[0], record);
  EXPECT_NE(record.reasons_json.find("\"signal\":\"price\""), std::string::npos);
}

// Scanner::Explain with photos: a matching photo names the genuine photo and its distance;
// one that matches nothing names the nearest genuine photo, however far; unreadable photos
// say why.
TEST_F(ImageScanTest, ExplainGivesTheMatchingOrNearestGenuinePhoto) {
  auto scanner = NewScanner(dir_->Join("images"));
  ASSERT_NE(scanner, nullptr);
  auto scratch = scanner->NewScratch();
  ASSERT_TRUE(scratch.ok());
  Listing listing;
  listing.id = "e1";
  listing.seller_id = "s-9";
  listing.title = "ACME Runner 22";
  listing.price = 150;
  listing.currency = "EUR";
  auto image_why = [](const ListingExplanation& e) -> std::string {
    for (const HolderExplanation& h : e.holders) {
      for (const SignalExplanation& s : h.signals) {
        if (h.rights_holder == "acme" && s.signal == "image") return (s.held ? "+ " : "- ") + s.why;
      }
    }
    return "(no image signal)";
  };
  listing.images = {"resized.jpg"};
  ListingExplanation e = scanner->Explain(listing, **scratch);
  EXPECT_THAT(image_why(e),
              ::testing::MatchesRegex("\\+ photo #0 matches genuine photo "
                                      "rights_holders/photos/runner-front.jpg at distance [0-9]+ "
                                      "\\(original\\), limit 31"));
  listing.images = {"unrelated-1.jpg", "missing.jpg"};
  e = scanner->Explain(listing, **scratch);
  const std::string why = image_why(e);
  EXPECT_THAT(why, ::testing::StartsWith("- nearest: photo #0 and genuine photo rights_holders/"));
  EXPECT_THAT(why, ::testing::HasSubstr(", over the limit 31"));
  const int distance = std::stoi(why.substr(why.find("at distance ") + 12));
  EXPECT_GT(distance, 31);
  ASSERT_EQ(e.photos.size(), 2u);
  // Hashed by this scan or an earlier test's (the suite shares its photo cache).
  EXPECT_THAT(e.photos[0], ::testing::MatchesRegex("#0 unrelated-1.jpg: hashed( \\(from the "
                                                   "photo cache\\))?, quality [0-9]+"));
  EXPECT_THAT(e.photos[1], ::testing::StartsWith("#1 missing.jpg: missing"));
}

// The rules version covers what the photos show and every policy field, not where the
// rules directory lies or whether the photo hashes came from a cache.
TEST_F(ImageScanTest, RulesVersionFollowsPhotoContentAndPolicy) {
  auto reference = NewScanner("");
  ASSERT_NE(reference, nullptr);
  const std::string version = reference->rules_info().rules_version;
  EXPECT_EQ(version.size(), 16u);

  TempDir copy;
  std::filesystem::copy(dir_->Join("rules"), copy.Join("rules"),
                        std::filesystem::copy_options::recursive);
  auto version_of_copy = [&]() -> std::string {
    ScannerOptions options;
    options.rules_dir = copy.Join("rules");  // no cache: every photo is decoded
    auto scanner = Scanner::Create(options);
    EXPECT_TRUE(scanner.ok()) << scanner.status();
    return scanner.ok() ? (*scanner)->rules_info().rules_version : "";
  };
  EXPECT_EQ(version_of_copy(), version);

  copy.Write("rules/rights_holders/photos/runner-side.jpg", EncodeJpeg(DrawPhoto(7), 92));
  const std::string new_photo = version_of_copy();
  EXPECT_NE(new_photo, version);

  std::string policy = ReadFileOrDie(copy.Join("rules/policy.yaml"));
  const size_t at = policy.find("max_distance: 31");
  ASSERT_NE(at, std::string::npos);
  policy.replace(at, 16, "max_distance: 30");
  copy.Write("rules/policy.yaml", policy);
  EXPECT_NE(version_of_copy(), new_photo);
}

TEST_F(ImageScanTest, WithoutAnImageRootPhotosAreCountedAsNotRead) {
  ASSERT_NE(NewScanner(""), nullptr);  // fills the photo-hash cache if no test did yet
  auto scanner = NewScanner("");
  ASSERT_NE(scanner, nullptr);
  EXPECT_FALSE(scanner->rules_info().reads_images);
  EXPECT_EQ(scanner->rules_info().genuine_photos_hashed, 0);  // the bank came from the cache
  MemorySink sink;
  const ScanSummary summary = Run(*scanner, sink, 1);
  EXPECT_EQ(summary.images.not_read, 20);
  EXPECT_EQ(summary.images.hashed, 0);
  EXPECT_EQ(sink.records.size(), 1u);  // only the text case ("broken")
  EXPECT_NE(SummaryText(summary).find("photos not read: 20 (no --images directory given)"),
            std::string::npos);
}

// A dump whose listings show photos is cut into small batches (photo_chunk_bytes), so that
// every thread gets photos to hash even when the dump is small.
TEST_F(ImageScanTest, PhotoListingsAreScannedInSmallBatches) {
  auto scanner = NewScanner(dir_->Join("images"));
  ASSERT_NE(scanner, nullptr);
  ASSERT_TRUE(scanner->rules_info().reads_images);
  std::string dump;
  for (int i = 0; i < 600; ++i) {  // about 90 kB
    dump += "{\"id\":\"l-" + std::to_string(i) +
            "\",\"title\":\"Sneakers for sale, barely worn, original box\",\"price\":79,"
            "\"currency\":\"EUR\",\"seller_id\":\"s-9\",\"images\":[\"unrelated-1.jpg\"]}\n";
  }
  const std::string path = dir_->Write("many-photos.jsonl", dump);
  MemorySink sink;
  ScanOptions options;
  options.threads = 2;
  int batches = 0;
  options.on_progress = [&](const ScanProgress&) { ++batches; };
  auto summary = scanner->ScanFiles({path}, sink, options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->images.hashed, 600);
  EXPECT_GE(batches, 5);  // 90 kB in 16 KiB batches (the default), not one 1 MiB batch
}

// A listing that carries its photos' hashes (computed at upload) gets the same cases,
// reasons and evidence as the listing whose photos are read: the files are not even there.
TEST_F(ImageScanTest, HashesInTheListingGiveTheSameCasesAsTheFiles) {
  auto scanner = NewScanner(dir_->Join("images"));
  ASSERT_NE(scanner, nullptr);
  const std::vector<std::string> photos = {"resized.jpg",   "mirrored.jpg",    "rotated.jpg",
                                           "png/front.png", "unrelated-1.jpg", "plain.jpg"};
  // The hash and quality the scan computes for each photo.
  std::map<std::string, std::pair<std::string, int>> hashes;
  auto scratch = scanner->NewScratch();
  ASSERT_TRUE(scratch.ok());
  for (const std::string& photo : photos) {
    Listing listing;
    listing.id = "probe";
    listing.title = "Shoes";
    listing.currency = "EUR";
    listing.seller_id = "s-9";
    listing.images = {photo};
    Verdict verdict;
    ASSERT_TRUE(scanner->Scan(listing, **scratch, verdict).ok());
    ASSERT_EQ(verdict.images.size(), 1u);
    ASSERT_NE(verdict.images[0].status, ImageStatus::kUnreadable) << photo;
    hashes[photo] = {Scanner::ImageHashHex(verdict.images[0]), verdict.images[0].quality};
  }
  // `bonafide hash --listing-photo` gives the scan's hash: what an upload service runs.
  if (access(kCli.c_str(), X_OK) == 0) {
    int status = -1;
    const std::string out =
        RunCommand(kCli + " hash --listing-photo " + dir_->Join("images/" + photos[0]), &status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(out, hashes[photos[0]].first + " " + std::to_string(hashes[photos[0]].second) + " " +
                       dir_->Join("images/" + photos[0]) + "\n");
  }
  auto entry = [&](const std::string& photo, bool with_hash) {
    if (!with_hash) return "\"" + photo + "\"";
    return "{\"path\":\"" + photo + "\",\"pdq\":\"" + hashes[photo].first +
           "\",\"quality\":" + std::to_string(hashes[photo].second) + "}";
  };
  auto dump = [&](bool with_hashes) {
    std::string text;
    for (size_t i = 0; i < photos.size(); ++i) {
      const std::string& second = photos[(i + 1) % photos.size()];
      text += "{\"id\":\"l-" + std::to_string(i) +
              "\",\"title\":\"Running shoes\",\"price\":79,\"currency\":\"EUR\","
              "\"seller_id\":\"s-9\",\"images\":[" +
              entry(photos[i], with_hashes) + "," + entry(second, with_hashes) + "]}\n";
    }
    return dir_->Write(with_hashes ? "with-hashes.jsonl" : "with-files.jsonl", text);
  };
  const std::string with_files = dump(false);
  const std::string with_hashes = dump(true);
  std::filesystem::create_directories(dir_->Join("no-photos-here"));
  auto hashes_only = NewScanner(dir_->Join("no-photos-here"));
  ASSERT_NE(hashes_only, nullptr);

  MemorySink files_sink, hashes_sink;
  auto from_files = scanner->ScanFiles({with_files}, files_sink, {});
  auto from_hashes = hashes_only->ScanFiles({with_hashes}, hashes_sink, {});
  ASSERT_TRUE(from_files.ok()) << from_files.status();
  ASSERT_TRUE(from_hashes.ok()) << from_hashes.status();
  EXPECT_EQ(from_hashes->rejected, 0);
  EXPECT_EQ(from_files->images.hashed, from_hashes->images.hashed);
  EXPECT_EQ(from_files->images.matched, from_hashes->images.matched);
  EXPECT_EQ(from_files->images.too_plain, from_hashes->images.too_plain);
  EXPECT_EQ(from_hashes->images.from_listing, from_hashes->images.hashed);
  EXPECT_EQ(from_files->images.from_listing, 0);
  EXPECT_GE(files_sink.records.size(), 4u);  // each listing with a genuine photo's copy
  ASSERT_EQ(files_sink.records.size(), hashes_sink.records.size());
  for (const auto& [id, want] : files_sink.records) {
    SCOPED_TRACE(id);
    ASSERT_EQ(hashes_sink.records.count(id), 1u);
    const CaseRecord& got = hashes_sink.records[id];
    EXPECT_EQ(got.score, want.score);
    EXPECT_EQ(got.reasons_json, want.reasons_json);
    EXPECT_EQ(got.evidence_json, want.evidence_json);
    EXPECT_EQ(got.signals, want.signals);
    EXPECT_EQ(got.material_key, want.material_key);
  }
}

// A service hands photos over in memory (the bytes it received, or a hash it computed at
// upload): the scanner needs no image root for them, and judges them exactly as it judges
// the same photos read from files.
TEST_F(ImageScanTest, PhotosInMemoryGiveTheSameVerdictsAsTheirFiles) {
  auto from_files = NewScanner(dir_->Join("images"));
  auto in_memory = NewScanner("");
  ASSERT_NE(from_files, nullptr);
  ASSERT_NE(in_memory, nullptr);
  auto file_scratch = from_files->NewScratch();
  auto memory_scratch = in_memory->NewScratch();
  ASSERT_TRUE(file_scratch.ok() && memory_scratch.ok());
  auto listing_of = [](const std::string& photo) {
    Listing listing;
    listing.id = "upload-1";
    listing.title = "Running shoes";
    listing.price = 79;
    listing.currency = "EUR";
    listing.seller_id = "s-9";
    listing.images = {photo};
    return listing;
  };
  for (const std::string photo : {"resized.jpg", "mirrored.jpg", "png/front.png", "unrelated-1.jpg",
                                  "plain.jpg", "truncated.jpg", "bomb.png"}) {
    SCOPED_TRACE(photo);
    const std::string bytes = ReadFileOrDie(dir_->Join("images/" + photo));
    Listing by_path = listing_of(photo);
    Verdict want;
    ASSERT_TRUE(from_files->Scan(by_path, **file_scratch, want).ok());
    ASSERT_EQ(want.images.size(), 1u);

    Listing by_bytes = listing_of(photo);
    by_bytes.image_bytes = {bytes};
    Verdict got;
    ASSERT_TRUE(in_memory->Scan(by_bytes, **memory_scratch, got).ok());
    ASSERT_EQ(got.images.size(), 1u);
    EXPECT_EQ(got.images[0].status, want.images[0].status);
    EXPECT_EQ(Scanner::ImageHashHex(got.images[0]), Scanner::ImageHashHex(want.images[0]));
    EXPECT_EQ(got.images[0].quality, want.images[0].quality);
    EXPECT_EQ(got.images[0].matched, want.images[0].matched);
    EXPECT_EQ(got.images[0].source, HashSource::kDecoded);
    ASSERT_EQ(got.holders.size(), want.holders.size());
    for (size_t h = 0; h < want.holders.size(); ++h) {
      EXPECT_EQ(got.holders[h].case_opened, want.holders[h].case_opened);
      EXPECT_EQ(got.holders[h].score, want.holders[h].score);
      if (!want.holders[h].case_opened) continue;
      CaseRecord want_case, got_case;
      from_files->MakeCaseRecord(by_path, want, want.holders[h], want_case);
      in_memory->MakeCaseRecord(by_bytes, got, got.holders[h], got_case);
      EXPECT_EQ(got_case.reasons_json, want_case.reasons_json);
      EXPECT_EQ(got_case.evidence_json, want_case.evidence_json);
      EXPECT_EQ(got_case.material_key, want_case.material_key);
    }

    // The hash computed at upload, without the bytes.
    if (want.images[0].status != ImageStatus::kHashed) continue;
    Listing by_hash = listing_of(photo);
    by_hash.image_hashes.resize(1);
    std::memcpy(by_hash.image_hashes[0].pdq, want.images[0].hash, sizeof(want.images[0].hash));
    by_hash.image_hashes[0].quality = want.images[0].quality;
    ASSERT_TRUE(in_memory->Scan(by_hash, **memory_scratch, got).ok());
    ASSERT_EQ(got.images.size(), 1u);
    EXPECT_EQ(got.images[0].source, HashSource::kListing);
    EXPECT_EQ(got.images[0].matched, want.images[0].matched);
    ASSERT_EQ(got.holders.size(), want.holders.size());
    for (size_t h = 0; h < want.holders.size(); ++h) {
      EXPECT_EQ(got.holders[h].case_opened, want.holders[h].case_opened);
    }
  }

  // Without an image root, a photo given only by its path is not read; the others are.
  Listing mixed = listing_of("resized.jpg");
  const std::string resized = ReadFileOrDie(dir_->Join("images/resized.jpg"));
  mixed.images.push_back("unrelated-1.jpg");
  mixed.image_bytes = {resized, {}};
  Verdict verdict;
  ASSERT_TRUE(in_memory->Scan(mixed, **memory_scratch, verdict).ok());
  ASSERT_EQ(verdict.images.size(), 2u);
  EXPECT_TRUE(verdict.images[0].matched);
  EXPECT_EQ(verdict.images[1].status, ImageStatus::kNotRead);
  EXPECT_TRUE(verdict.any_case());

  // One buffer per path, or none.
  mixed.image_bytes = {resized};
  const absl::Status refused = in_memory->Scan(mixed, **memory_scratch, verdict);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.message()),
              ::testing::HasSubstr("1 photos in memory for 2 paths"));
}

// The listing-photo cache: a rescan gives the same cases; a photo rewritten in place with
// the same size and its modification time restored is hashed again, not served stale.
TEST_F(ImageScanTest, PhotoCacheFollowsChangedFiles) {
  TempDir root;
  const std::string genuine_copy = EncodeJpeg(Resized(genuine_[0], 0.45));
  const std::string unrelated = EncodeJpeg(DrawPhoto(103));
  const size_t size = std::max(genuine_copy.size(), unrelated.size());
  // Bytes after a JPEG's end-of-image marker are ignored: both files get the same size.
  auto padded = [&](std::string jpeg) {
    jpeg.resize(size, '\0');
    return jpeg;
  };
  const std::string photo = root.Write("images/p.jpg", padded(genuine_copy));
  const std::string dump = root.Write(
      "dump.jsonl",
      R"({"id":"p","title":"Shoes","price":79,"currency":"EUR","seller_id":"s-9","images":["p.jpg"]})"
      "\n");
  ScannerOptions options;
  options.rules_dir = dir_->Join("rules");
  options.cache_dir = root.Join("cache");
  options.image_root = root.Join("images");
  int64_t from_cache = -1;
  auto scan = [&] {
    auto scanner = Scanner::Create(options);
    EXPECT_TRUE(scanner.ok()) << scanner.status();
    MemorySink sink;
    auto summary = (*scanner)->ScanFiles({dump}, sink, {});
    EXPECT_TRUE(summary.ok()) << summary.status();
    EXPECT_EQ(summary->images.hashed, 1);
    from_cache = summary->images.from_cache;
    return sink.records;
  };
  const auto first = scan();
  ASSERT_EQ(first.count("p"), 1u);
  EXPECT_EQ(from_cache, 0);
  EXPECT_TRUE(std::filesystem::exists(root.Join("cache/listing-photos-v1.sqlite")));
  const auto second = scan();
  EXPECT_EQ(from_cache, 1);
  ASSERT_EQ(second.count("p"), 1u);
  EXPECT_EQ(second.at("p").evidence_json, first.at("p").evidence_json);
  EXPECT_EQ(second.at("p").reasons_json, first.at("p").reasons_json);

  struct stat before;
  ASSERT_EQ(::stat(photo.c_str(), &before), 0);
  root.Write("images/p.jpg", padded(unrelated));
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, photo.c_str(), times, 0), 0);
  struct stat after;
  ASSERT_EQ(::stat(photo.c_str(), &after), 0);
  ASSERT_EQ(after.st_size, before.st_size);
  ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_EQ(scan().count("p"), 0u);  // the new content shows no genuine photo
  EXPECT_EQ(from_cache, 0);

  // A damaged cache file costs rehashing only.
  root.Write("cache/listing-photos-v1.sqlite", std::string(4096, 'x'));
  std::filesystem::remove(root.Join("cache/listing-photos-v1.sqlite-wal"));
  root.Write("images/p.jpg", padded(genuine_copy));
  const auto rehashed = scan();
  EXPECT_EQ(from_cache, 0);
  ASSERT_EQ(rehashed.count("p"), 1u);
  EXPECT_EQ(rehashed.at("p").evidence_json, first.at("p").evidence_json);
}
TEST_F(ImageScanTest, MissingImageRootIsAnError) {
  ScannerOptions options;
  options.rules_dir = dir_->Join("rules");
  options.image_root = dir_->Join("no-such-dir");
  auto scanner = Scanner::Create(options);
  ASSERT_FALSE(scanner.ok());
  EXPECT_EQ(scanner.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ImageScanTest, BrokenGenuinePhotoIsARulesErrorNamingTheProduct) {
  TempDir d;
  std::filesystem::copy(dir_->Join("rules"), d.Join("rules"),
                        std::filesystem::copy_options::recursive);
  d.Write("rules/rights_holders/photos/runner-side.jpg", "not an image");
  ScannerOptions options;
  options.rules_dir = d.Join("rules");
  auto scanner = Scanner::Create(options);
  ASSERT_FALSE(scanner.ok());
  EXPECT_NE(scanner.status().message().find("acme.yaml:"), std::string::npos) << scanner.status();
  EXPECT_NE(scanner.status().message().find("product \"acme-runner-22\": genuine photo"),
            std::string::npos)
      << scanner.status();
}

// Runs `command`, returns its stdout; *status gets the exit status.

TEST_F(ImageScanTest, CliScanWithImages) {
  if (access(kCli.c_str(), X_OK) != 0) GTEST_SKIP() << "no CLI at " << kCli;
  int status = -1;
  const std::string out =
      RunCommand(kCli + " scan --progress=false --threads 1 --cache-dir " + dir_->Join("cache") +
                     " --rules " + dir_->Join("rules") + " --images " + dir_->Join("images") +
                     " --outbox " + dir_->Join("outbox.db") + " --rejects '' " + dump_ + " 2>&1",
                 &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("photos 20: hashed 14, matched 10, too plain 1"), std::string::npos) << out;
  EXPECT_NE(out.find("  image "), std::string::npos) << out;
}

// Two `bonafide scan` processes (two shards of a run) share one listing-photo cache at
// once: both succeed with the same cases, and a third scan takes every hash from the cache.
TEST_F(ImageScanTest, CliScansShareOnePhotoCache) {
  if (access(kCli.c_str(), X_OK) != 0) GTEST_SKIP() << "no CLI at " << kCli;
  TempDir d;
  std::string dump;
  constexpr int kListings = 150;
  for (int i = 0; i < kListings; ++i) {
    const std::string photo = "p" + std::to_string(i) + ".jpg";
    // Every tenth listing shows an edited genuine photo, the rest photos of their own.
    d.Write("images/" + photo, EncodeJpeg(i % 10 == 0 ? Resized(genuine_[i % 3], 0.5)
                                                      : DrawPhoto(1000 + i, 320, 240)));
    dump += "{\"id\":\"l-" + std::to_string(i) +
            "\",\"title\":\"Shoes\",\"price\":79,\"currency\":\"EUR\",\"seller_id\":\"s-9\","
            "\"images\":[\"" +
            photo + "\"]}\n";
  }
  const std::string input = d.Write("dump.jsonl", dump);
  auto scan = [&](const std::string& name) {
    return kCli + " scan --progress=false --threads 2 --format jsonl --cache-dir " +
           d.Join("cache") + " --rules " + dir_->Join("rules") + " --images " + d.Join("images") +
           " --outbox " + d.Join(name + ".db") + " --rejects '' " + input + " > " +
           d.Join(name + ".out") + " 2>&1; echo " + name + " $?";
  };
  int status = -1;
  const std::string both = RunCommand("(" + scan("a") + ") & (" + scan("b") + ") & wait", &status);
  ASSERT_EQ(status, 0);
  EXPECT_NE(both.find("a 0"), std::string::npos) << both;
  EXPECT_NE(both.find("b 0"), std::string::npos) << both;
  const std::string third = RunCommand(scan("c"), &status);
  EXPECT_NE(third.find("c 0"), std::string::npos) << third;

  // The cases each scan printed (its summary line aside), in order.
  auto cases = [&](const std::string& name) {
    std::string lines;
    std::ifstream in(d.Join(name + ".out"));
    std::string summary;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("{\"summary\"", 0) == 0) {
        summary = line;
      } else {
        lines += line + "\n";
      }
    }
    return std::make_pair(lines, summary);
  };
  const auto [a, a_summary] = cases("a");
  const auto [b, b_summary] = cases("b");
  const auto [c, c_summary] = cases("c");
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), kListings / 10) << a;
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  EXPECT_NE(c_summary.find("\"hashed\":150,\"from_cache\":150,"), std::string::npos) << c_summary;
}
// One score, one spelling: `scan --format jsonl`, `outbox list` (text and jsonl) and the
// outbox's event payload all write FormatDecimal() ("1.5", never "1.500000" or "1.50").
TEST_F(ImageScanTest, CliWritesEveryScoreOneWay) {
  if (access(kCli.c_str(), X_OK) != 0) GTEST_SKIP() << "no CLI at " << kCli;
  TempDir d;
  const std::string outbox = d.Join("outbox.db");
  int status = -1;
  const std::string scan =
      RunCommand(kCli + " scan --progress=false --threads 1 --format jsonl --cache-dir " +
                     dir_->Join("cache") + " --rules " + dir_->Join("rules") + " --images " +
                     dir_->Join("images") + " --outbox " + outbox + " --rejects '' " + dump_,
                 &status);
  ASSERT_EQ(status, 0) << scan;
  const std::string list = RunCommand(kCli + " outbox list --outbox " + outbox, &status);
  ASSERT_EQ(status, 0) << list;
  const std::string list_jsonl =
      RunCommand(kCli + " outbox list --format jsonl --outbox " + outbox, &status);
  ASSERT_EQ(status, 0) << list_jsonl;
  auto stored = OpenOutbox(outbox, OutboxAccess::kReadOnly);
  ASSERT_TRUE(stored.ok());
  auto cases = testing::AllCases(**stored);
  auto events = testing::AllEvents(**stored);
  ASSERT_TRUE(cases.ok() && events.ok());
  ASSERT_FALSE(cases->empty());
  for (const StoredCase& c : *cases) {
    const std::string score = FormatDecimal(c.score);
    EXPECT_NE(scan.find("\"case_key\":\"" + c.case_key + "\""), std::string::npos) << c.case_key;
    EXPECT_NE(list.find(c.case_key + "  " + CaseStatusName(c.status) + "  score " + score + "  "),
              std::string::npos)
        << list;
    EXPECT_NE(list_jsonl.find("\"score\":" + score + ","), std::string::npos);
  }
  EXPECT_EQ(scan.find(".000000"), std::string::npos);
  for (const StoredEvent& e : *events) {
    EXPECT_EQ(e.payload_json.find("\"score\":1.0"), std::string::npos) << e.payload_json;
  }
  // The jsonl case lines carry the outbox's score bytes.
  EXPECT_NE(scan.find("\"score\":" + FormatDecimal((*cases)[0].score) + ","), std::string::npos);
}

TEST_F(ImageScanTest, CliHashPrintsTheReferenceHash) {
  if (access(kCli.c_str(), X_OK) != 0) GTEST_SKIP() << "no CLI at " << kCli;
  const std::string image =
      std::string(BONAFIDE_PDQ_DATA) + "/reg-test-input/dih/bridge-1-original.jpg";
  ASSERT_EQ(access(image.c_str(), R_OK), 0) << "no PDQ data at " << image;
  int status = -1;
  std::string out = RunCommand(kCli + " hash " + image, &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out,
            "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22 100 " + image + "\n");
  // One bad image: reported on stderr, exit status 1, the good one still printed.
  out = RunCommand(
      kCli + " hash " + dir_->Join("images/truncated.jpg") + " " + image + " 2>/dev/null", &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find(" 100 " + image), std::string::npos);
  out = RunCommand(kCli + " hash " + dir_->Join("images/truncated.jpg") + " 2>&1 >/dev/null",
                   &status);
  EXPECT_NE(out.find("truncated.jpg: truncated jpeg"), std::string::npos) << out;
}

}  // namespace
}  // namespace bonafide
