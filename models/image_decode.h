// Image decoding for the image stage: encoded bytes (JPEG, PNG, WebP, BMP) -> float luma
// 0.299R + 0.587G + 0.114B (values 0..255), the input PDQ hashes.
//
// Usage, one decoder per worker thread:
//
//   bonafide::models::ImageDecoder decoder;             // DecodeLimits{} by default
//   bonafide::models::DecodedLuma luma;                 // reused across calls
//   absl::Status s = decoder.DecodeFile(path, DecodeMode::kReduced, luma);
//   if (s.ok()) hasher.Hash(luma.luma.data(), luma.width, luma.height);
//
// Safety: the byte size is checked first, then the header is probed (ProbeImage) and the
// image is refused before any decoding when its declared size is over the limits, so a
// 30000x30000 "decompression bomb" costs microseconds. Unknown formats, truncated files
// (JPEG without an end-of-image marker, PNG/WebP that the codec rejects), zero-byte files
// and directories are errors; nothing throws (cv::Exception is caught inside).
//
// Decoding choices (docs/images.md has the measurements):
//   - The format is taken from the content, never from a file extension.
//   - JPEG: EXIF orientation applied (OpenCV IMREAD_COLOR and IMREAD_REDUCED_* both apply it);
//     CMYK/YCCK converted by OpenCV; grayscale JPEG gives R=G=B.
//   - PNG, WebP, BMP: decoded unchanged (8 or 16 bits, 1-4 channels); 16 bits are scaled by
//     1/257 to 0..255; alpha is composited on white in float. EXIF orientation is not applied
//     to these formats.
//   - GIF is recognized by ProbeImage but OpenCV 4.6 has no GIF decoder: Decode returns
//     InvalidArgument ("gif images are not supported").
//   - DecodeMode::kReduced (JPEG only): libjpeg DCT-domain downscaling by the largest factor
//     in {8, 4, 2} that keeps the short side >= kMinReducedShortSide, read as libjpeg's Y
//     (luma) channel directly. Y is the encoder's BT.601 luma, so it is close to, but not
//     bit-identical with, 0.299R+0.587G+0.114B of the full colour decode (colour conversion
//     rounding, chroma upsampling, and DCT-domain instead of box downscaling); the PDQ drift is
//     measured in docs/images.md. Non-JPEG images and small JPEGs decode in full.
#ifndef BONAFIDE_MODELS_IMAGE_DECODE_H_
#define BONAFIDE_MODELS_IMAGE_DECODE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bonafide::models {

// Limits checked before decoding. A photo over any of them is refused with
// ResourceExhausted. Memory for one decode is at most about
// max_pixels * (decoded bytes per pixel + 4) bytes: 64 MP RGB 8-bit is ~450 MB, so lower
// max_pixels when many workers decode in parallel on a small machine.
struct DecodeLimits {
  // Largest encoded size accepted, in bytes (32 MiB).
  size_t max_bytes = size_t{32} << 20;
  // Largest width * height declared by the header (64 Mi pixels).
  int64_t max_pixels = int64_t{64} << 20;
  // Largest width or height declared by the header (20000).
  int max_side = 20000;
};

enum class DecodeMode {
  kFull,     // full resolution, colour decode, luma 0.299R+0.587G+0.114B
  kReduced,  // JPEG: DCT-domain downscaling by 2/4/8 (see the file comment); others: kFull
};

// Decoded luma, row-major, width * height floats in 0..255.
struct DecodedLuma {
  std::vector<float> luma;
  int width = 0;
  int height = 0;
  // Size of the image at full resolution, after EXIF orientation (so width * reduction is
  // source_width rounded up to the reduction).
  int source_width = 0;
  int source_height = 0;
  // Downscaling factor used: 1 (full), 2, 4 or 8.
  int reduction = 1;
};

enum class ImageFormat { kJpeg, kPng, kGif, kWebp, kBmp };

// Returns "jpeg", "png", "gif", "webp" or "bmp".
const char* ImageFormatName(ImageFormat format);

// What the header says, without decoding.
struct ImageInfo {
  ImageFormat format = ImageFormat::kJpeg;
  // Stored size, before any EXIF orientation (a JPEG with orientation 6 or 8 decodes with
  // width and height swapped).
  int width = 0;
  int height = 0;
};

// Reads the format, width and height from the header:
// JPEG (SOFn), PNG (IHDR), GIF (logical screen), WebP (VP8, VP8L, VP8X), BMP (DIB header).
// Reads only the header bytes; never allocates for the image.
// Errors: InvalidArgument for an unknown format or a truncated or malformed header;
// NotFound for a JPEG whose markers end (SOS or EOI) before any SOFn frame header.
absl::StatusOr<ImageInfo> ProbeImage(std::string_view bytes);

// Smallest short side (pixels) that kReduced keeps; the factor is the largest of 8, 4, 2
// with ceil(short_side / factor) >= this, else 1.
inline constexpr int kMinReducedShortSide = 256;

// Returns the reduction factor (1, 2, 4 or 8) kReduced uses for a JPEG of this size.
int ChooseJpegReduction(int width, int height);

// Reads the whole regular file at `path` into `out` (its capacity is reused), checking its
// size with fstat before reading; a FIFO or device is refused without blocking. Messages
// do not repeat the path (the caller has it and decides how to show it).
// Errors: NotFound (no such file), InvalidArgument (a directory, another non-regular file,
// an empty file, cannot open or read), ResourceExhausted (over max_bytes).
absl::Status ReadImageFile(const std::string& path, size_t max_bytes, std::string& out);

// Decodes images into float luma, reusing its buffers from call to call.
//
// Thread-safety: one-per-thread (it owns scratch buffers); distinct decoders may run
// concurrently. Movable, not copyable (the scratch is per worker by design).
// Allocation: once warm on images of the same size and kind, Decode allocates nothing of
// its own (out.luma keeps its capacity); OpenCV's codecs allocate internally.
class ImageDecoder {
 public:
  explicit ImageDecoder(DecodeLimits limits = {});
  ~ImageDecoder();
  ImageDecoder(ImageDecoder&&) noexcept;
  ImageDecoder& operator=(ImageDecoder&&) noexcept;
  ImageDecoder(const ImageDecoder&) = delete;
  ImageDecoder& operator=(const ImageDecoder&) = delete;

  // Decodes the encoded image `bytes` into `out` (its vector capacity is reused).
  // `bytes` is only read during the call. On error `out` is left empty (width 0).
  // Errors:
  //   InvalidArgument: empty input, unknown format, malformed or truncated data, GIF;
  //   ResourceExhausted: over limits().max_bytes, max_pixels or max_side (before decoding);
  //   NotFound: a JPEG without a frame header;
  //   Unimplemented: a build without OpenCV (BONAFIDE_WITH_OPENCV=OFF), for any image that
  //     passed the checks above;
  //   Unavailable: bonafide's OpenCV module (loaded at the first decode, not at start-up:
  //     models/opencv_module.h) or a library it needs cannot be loaded.
  absl::Status Decode(std::string_view bytes, DecodeMode mode, DecodedLuma& out);

  // Reads the file at `path` with ReadImageFile(path, limits().max_bytes, ...) and decodes
  // it like Decode. Messages do not repeat the path.
  // Errors: as ReadImageFile, then as Decode.
  absl::Status DecodeFile(const std::string& path, DecodeMode mode, DecodedLuma& out);

  const DecodeLimits& limits() const { return limits_; }

 private:
  // The codec, for bytes that Decode checked (format, limits, a JPEG's end marker): fills
  // out.luma, out.width and out.height. The one part that needs OpenCV: it calls the
  // OpenCV module (models/opencv_module.h).
  absl::Status DecodePixels(std::string_view bytes, const ImageInfo& info, int factor,
                            DecodedLuma& out);

  struct Scratch;  // the module's decoder, defined beside DecodePixels
  DecodeLimits limits_;
  std::unique_ptr<Scratch> scratch_;
  std::string file_buffer_;
};

}  // namespace bonafide::models

#endif  // BONAFIDE_MODELS_IMAGE_DECODE_H_
