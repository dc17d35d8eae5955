// What the rights holders' verdicts teach later scans (ScannerOptions::feedback), through
// the public Scanner API on the ACME pack of tests/acme_pack.h (which registers no genuine
// photo, so listing photos are read only for the known counterfeit photos): authorized
// sellers, the seller's record and the photos of confirmed counterfeits, down to the
// reasons and explanation of the case record.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "models/image_decode.h"
#include "models/pdq.h"
#include "tests/acme_pack.h"
#include "tests/models/synthetic_photos.h"
#include "tests/test_util.h"

namespace bonafide {
namespace {

using ::bonafide::testing::DrawPhoto;
using ::bonafide::testing::EncodeJpeg;
using ::bonafide::testing::Rotated90;

constexpr char kConfirmedCase[] = "acme:default:fake-1";

class FeedbackScanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    rules_dir_ = new std::string(testing::WriteAcmePack(*dir_));
    const cv::Mat counterfeit = DrawPhoto(7);
    dir_->Write("images/fake.jpg", EncodeJpeg(counterfeit));
    dir_->Write("images/fake-rotated.jpg", EncodeJpeg(Rotated90(counterfeit)));
    dir_->Write("images/other.jpg", EncodeJpeg(DrawPhoto(8)));
    // The counterfeit photo's hash, as a scan records it in the case's evidence.
    models::ImageDecoder decoder;
    models::DecodedLuma luma;
    ASSERT_TRUE(
        decoder.DecodeFile(dir_->Join("images/fake.jpg"), models::DecodeMode::kReduced, luma).ok());
    models::PdqHasher hasher;
    const models::PdqResult pdq = hasher.Hash(luma.luma.data(), luma.width, luma.height);
    ASSERT_GE(pdq.quality, 50);
    feedback_ = new OutboxFeedback();
    feedback_->authorized_sellers = {{"acme", "s-good"}};
    feedback_->counterfeit_photos = {
        {"acme", models::ToHex(pdq.hash), pdq.quality, kConfirmedCase}};
    feedback_->seller_records = {{"acme", "s-bad", 2}};
  }
  static void TearDownTestSuite() {
    delete feedback_;
    delete rules_dir_;
    delete dir_;
  }

  static std::unique_ptr<Scanner> MakeScanner(const OutboxFeedback& feedback) {
    ScannerOptions options;
    options.rules_dir = *rules_dir_;
    options.image_root = dir_->Join("images");
    options.feedback = feedback;
    auto scanner = Scanner::Create(options);
    EXPECT_TRUE(scanner.ok()) << scanner.status();
    return scanner.ok() ? std::move(*scanner) : nullptr;
  }

  // Scans the listing; returns acme's verdict (null when the listing does not reference it)
  // and fills record_ with its case record.
  const HolderVerdict* Judge(const Scanner& scanner, const Listing& listing) {
    auto scratch = scanner.NewScratch();
    EXPECT_TRUE(scratch.ok());
    EXPECT_TRUE(scanner.Scan(listing, **scratch, verdict_).ok());
    for (const HolderVerdict& h : verdict_.holders) {
      if (scanner.rules_info().holders[h.holder].id == "acme") {
        scanner.MakeCaseRecord(listing, verdict_, h, record_);
        return &h;
      }
    }
    return nullptr;
  }
  const Signal* FindSignal(const HolderVerdict& h, SignalKind kind) const {
    for (uint32_t i = h.signals_begin; i < h.signals_end; ++i) {
      if (verdict_.signals[i].kind == kind) return &verdict_.signals[i];
    }
    return nullptr;
  }

  static Listing MakeListing(std::string id, std::string title, std::string seller,
                             std::vector<std::string> images = {}) {
    Listing l;
    l.id = std::move(id);
    l.title = std::move(title);
    l.price = 60;
    l.currency = "EUR";
    l.seller_id = std::move(seller);
    l.images = std::move(images);
    return l;
  }

  static testing::TempDir* dir_;
  static std::string* rules_dir_;
  static OutboxFeedback* feedback_;
  Verdict verdict_;
  CaseRecord record_;
};

testing::TempDir* FeedbackScanTest::dir_ = nullptr;
std::string* FeedbackScanTest::rules_dir_ = nullptr;
OutboxFeedback* FeedbackScanTest::feedback_ = nullptr;

TEST_F(FeedbackScanTest, PhotoOfAConfirmedCounterfeitFlagsAnotherListingInAnyRotation) {
  auto scanner = MakeScanner(*feedback_);
  ASSERT_NE(scanner, nullptr);
  EXPECT_TRUE(scanner->rules_info().reads_images);  // for the counterfeit photos alone
  const HolderVerdict* acme =
      Judge(*scanner, MakeListing("copy-1", "Sneakers", "s-9", {"other.jpg", "fake-rotated.jpg"}));
  ASSERT_NE(acme, nullptr);  // the photo references acme: no brand is written
  EXPECT_FALSE(acme->named);
  const Signal* known = FindSignal(*acme, SignalKind::kKnownCounterfeitPhoto);
  ASSERT_NE(known, nullptr);
  EXPECT_EQ(known->image, 1);
  EXPECT_EQ(known->index, 0);
  EXPECT_LE(known->distance, 31);
  EXPECT_STREQ(Scanner::ImageVariantName(known->variant), "rotate270");
  EXPECT_DOUBLE_EQ(acme->score, 1.0);  // weights.known_counterfeit_photo
  EXPECT_TRUE(acme->case_opened);
  EXPECT_NE(record_.reasons_json.find(
                std::string("{\"signal\":\"known_counterfeit_photo\",\"photo\":\"fake-rotated."
                            "jpg\",\"case_key\":\"") +
                kConfirmedCase + "\",\"counterfeit_pdq\":\"" +
                feedback_->counterfeit_photos[0].pdq_hex + "\",\"variant\":\"rotate270\""),
            std::string::npos)
      << record_.reasons_json;
  EXPECT_NE(record_.evidence_json.find(std::string("photo fake-rotated.jpg shows a photo of "
                                                   "confirmed counterfeit case ") +
                                       kConfirmedCase + " (rotate270, distance"),
            std::string::npos)
      << record_.evidence_json;
  EXPECT_EQ(record_.signals, "known_counterfeit_photo");
}

TEST_F(FeedbackScanTest, ConfirmedListingIsNotEvidenceAgainstItself) {
  auto scanner = MakeScanner(*feedback_);
  ASSERT_NE(scanner, nullptr);
  EXPECT_EQ(Judge(*scanner, MakeListing("fake-1", "Sneakers", "s-9", {"fake.jpg"})), nullptr);
  Listing elsewhere = MakeListing("fake-1", "Sneakers", "s-9", {"fake.jpg"});
  elsewhere.marketplace = "other";  // the same id on another marketplace is another listing
  const HolderVerdict* acme = Judge(*scanner, elsewhere);
  ASSERT_NE(acme, nullptr);
  EXPECT_NE(FindSignal(*acme, SignalKind::kKnownCounterfeitPhoto), nullptr);
}

TEST_F(FeedbackScanTest, SellerRecordAddsItsWeightAndIsExplained) {
  auto scanner = MakeScanner(*feedback_);
  ASSERT_NE(scanner, nullptr);
  // Evasive brand (0.5) + the seller's record (0.5).
  const HolderVerdict* acme = Judge(*scanner, MakeListing("l-2", "A C M E shoes", "s-bad"));
  ASSERT_NE(acme, nullptr);
  ASSERT_NE(FindSignal(*acme, SignalKind::kSellerRecord), nullptr);
  EXPECT_TRUE(acme->case_opened);
  EXPECT_NE(record_.reasons_json.find("{\"signal\":\"seller_record\",\"seller_id\":\"s-bad\","
                                      "\"confirmed\":2,\"weight\":0.5,\"shadow\":false}"),
            std::string::npos)
      << record_.reasons_json;
  EXPECT_NE(record_.evidence_json.find("seller s-bad has 2 confirmed counterfeit cases of acme"),
            std::string::npos)
      << record_.evidence_json;
  EXPECT_EQ(record_.signals, "obfuscated_brand seller_record");
}

TEST_F(FeedbackScanTest, SellerAuthorizedThroughAVerdictIsNotFlagged) {
  auto scanner = MakeScanner(*feedback_);
  ASSERT_NE(scanner, nullptr);
  const HolderVerdict* acme =
      Judge(*scanner, MakeListing("l-3", "ACME Runner 22 replica", "s-good"));
  ASSERT_NE(acme, nullptr);
  EXPECT_TRUE(acme->authorized_seller);
  EXPECT_FALSE(acme->case_opened);
}

TEST_F(FeedbackScanTest, WithoutFeedbackNothingIsLearnt) {
  auto scanner = MakeScanner(OutboxFeedback{});
  ASSERT_NE(scanner, nullptr);
  EXPECT_FALSE(scanner->rules_info().reads_images);  // no genuine photo, no known photo
  EXPECT_EQ(Judge(*scanner, MakeListing("copy-1", "Sneakers", "s-9", {"fake-rotated.jpg"})),
            nullptr);
  const HolderVerdict* acme = Judge(*scanner, MakeListing("l-2", "A C M E shoes", "s-bad"));
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(FindSignal(*acme, SignalKind::kSellerRecord), nullptr);
  EXPECT_FALSE(acme->case_opened);
  acme = Judge(*scanner, MakeListing("l-3", "ACME Runner 22 replica", "s-good"));
  ASSERT_NE(acme, nullptr);
  EXPECT_TRUE(acme->case_opened);
}

TEST_F(FeedbackScanTest, FlaggedListingsPhotosAreHashedForTheirEvidence) {
  // No photo to match: an unflagged listing's photos are not read, a flagged one's are, so
  // that a counterfeit verdict on its case has photos to teach.
  auto scanner = MakeScanner(OutboxFeedback{});
  ASSERT_NE(scanner, nullptr);
  Listing genuine = MakeListing("l-4", "ACME Runner 22", "s-9", {"fake.jpg"});
  genuine.price = 150;  // no price signal
  const HolderVerdict* acme = Judge(*scanner, genuine);
  ASSERT_NE(acme, nullptr);
  EXPECT_FALSE(acme->case_opened);
  EXPECT_TRUE(verdict_.images.empty());
  acme = Judge(*scanner, MakeListing("l-5", "ACME Runner 22 replica", "s-9", {"fake.jpg"}));
  ASSERT_NE(acme, nullptr);
  EXPECT_TRUE(acme->case_opened);
  ASSERT_EQ(verdict_.images.size(), 1u);
  EXPECT_EQ(verdict_.images[0].status, ImageStatus::kHashed);
  EXPECT_EQ(Scanner::ImageHashHex(verdict_.images[0]), feedback_->counterfeit_photos[0].pdq_hex);
  EXPECT_NE(record_.evidence_json.find("\"pdq\":\"" + feedback_->counterfeit_photos[0].pdq_hex),
            std::string::npos)
      << record_.evidence_json;
}

TEST_F(FeedbackScanTest, MalformedCounterfeitPhotoHashIsAnError) {
  OutboxFeedback feedback;
  feedback.counterfeit_photos = {{"acme", "not-a-hash", 90, "acme:default:x"}};
  ScannerOptions options;
  options.rules_dir = *rules_dir_;
  options.feedback = feedback;
  auto scanner = Scanner::Create(options);
  ASSERT_FALSE(scanner.ok());
  EXPECT_EQ(scanner.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(scanner.status().message().find("case \"acme:default:x\""), std::string::npos)
      << scanner.status();
}

}  // namespace
}  // namespace bonafide
