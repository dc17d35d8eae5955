// Tests for the decoder of a build without OpenCV (BONAFIDE_WITH_OPENCV=OFF: the OpenCV
// module loader has no module), compiled here beside image_decode.cc so that the ordinary
// build checks it: the checks before decoding still run, then decoding is refused.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/image_decode.h"

namespace bonafide::models {
namespace {

using ::testing::HasSubstr;

// The first 24 bytes of a PNG (signature, IHDR length, "IHDR", width, height): enough for
// the header probe, nothing a codec could decode.
std::string PngHeader(uint32_t width, uint32_t height) {
  std::string bytes("\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR", 16);
  for (uint32_t v : {width, height}) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(v >> shift));
  }
  return bytes;
}

TEST(ImageDecoderWithoutOpenCvTest, RefusesToDecodeAndSaysWhy) {
  ImageDecoder decoder;
  DecodedLuma luma;
  const absl::Status s = decoder.Decode(PngHeader(640, 480), DecodeMode::kReduced, luma);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), HasSubstr("cannot decode png: this build of bonafide has no "
                                     "OpenCV (built with BONAFIDE_WITH_OPENCV=OFF)"));
  EXPECT_EQ(luma.width, 0);
  EXPECT_TRUE(luma.luma.empty());
}

TEST(ImageDecoderWithoutOpenCvTest, ChecksBeforeDecodingStillApply) {
  ImageDecoder decoder(DecodeLimits{.max_pixels = 100 * 100});
  DecodedLuma luma;
  EXPECT_EQ(decoder.Decode(PngHeader(101, 100), DecodeMode::kFull, luma).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(decoder.Decode("not an image", DecodeMode::kFull, luma).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      decoder.Decode(std::string("GIF89a\x01\x00\x01\x00", 10), DecodeMode::kFull, luma).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(decoder.Decode(PngHeader(100, 100), DecodeMode::kFull, luma).code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace bonafide::models
