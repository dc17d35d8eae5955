#include "models/image_decode.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "models/opencv_module.h"

namespace bonafide::models {
namespace {

// ---------------------------------------------------------------------------------------
// Header probing. Every read is bounds-checked against the input size.

uint32_t Be16(const unsigned char* p) { return (uint32_t{p[0]} << 8) | p[1]; }
uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint32_t Le16(const unsigned char* p) { return uint32_t{p[0]} | (uint32_t{p[1]} << 8); }
uint32_t Le24(const unsigned char* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16);
}
uint32_t Le32(const unsigned char* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

bool StartsWith(std::string_view bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() && bytes.substr(0, prefix.size()) == prefix;
}

absl::Status Truncated(const char* format) {
  return absl::InvalidArgumentError(absl::StrCat("truncated ", format, " header"));
}

absl::StatusOr<ImageInfo> Dimensions(ImageFormat format, int64_t width, int64_t height) {
  if (width <= 0 || height <= 0 || width > INT32_MAX || height > INT32_MAX) {
    return absl::InvalidArgumentError(absl::StrFormat("%s header declares an invalid size %dx%d",
                                                      ImageFormatName(format), width, height));
  }
  ImageInfo info;
  info.format = format;
  info.width = static_cast<int>(width);
  info.height = static_cast<int>(height);
  return info;
}

// Walks the JPEG marker segments up to the first SOFn. `*sof_offset` receives the offset of
// the SOFn marker (used to look for the end-of-image marker after it).
absl::StatusOr<ImageInfo> ProbeJpeg(std::string_view bytes, size_t* sof_offset) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t pos = 2;  // after SOI (FF D8)
  while (true) {
    if (pos >= n) return Truncated("jpeg");
    if (b[pos] != 0xFF) {
      return absl::InvalidArgumentError(
          absl::StrFormat("malformed jpeg header: no marker at offset %d", pos));
    }
    const size_t marker_offset = pos;
    while (pos < n && b[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= n) return Truncated("jpeg");
    const unsigned marker = b[pos++];
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (marker == 0xD9 || marker == 0xDA) {
      return absl::NotFoundError(absl::StrFormat("jpeg has no frame header (SOFn) before %s",
                                                 marker == 0xD9 ? "EOI" : "SOS"));
    }
    if (pos + 2 > n) return Truncated("jpeg");
    const size_t length = Be16(b + pos);
    if (length < 2) {
      return absl::InvalidArgumentError(
          absl::StrFormat("malformed jpeg header: segment length %d at offset %d", length, pos));
    }
    const bool is_sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_sof) {
      // length(2) precision(1) height(2) width(2) components(1)
      if (pos + 8 > n) return Truncated("jpeg");
      *sof_offset = marker_offset;
      return Dimensions(ImageFormat::kJpeg, Be16(b + pos + 5), Be16(b + pos + 3));
    }
    pos += length;
  }
}

// True when the JPEG ends with an end-of-image marker after its frame header. Inside
// entropy-coded data 0xFF is always followed by 0x00 or RSTn, so an FF D9 after the SOFn is
// a real EOI; an FF D9 before it belongs to an embedded (EXIF) thumbnail. Trailing bytes
// after the EOI are allowed.
bool JpegHasEoi(std::string_view bytes, size_t sof_offset) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t begin = sof_offset + 2;  // after the SOFn marker itself
  size_t end = bytes.size();
  while (end > begin) {
    const void* hit = memrchr(b + begin, 0xD9, end - begin);
    if (hit == nullptr) return false;
    const size_t at = static_cast<size_t>(static_cast<const unsigned char*>(hit) - b);
    if (b[at - 1] == 0xFF) return true;
    end = at;
  }
  return false;
}

absl::StatusOr<ImageInfo> ProbePng(std::string_view bytes) {
  // signature(8) length(4) "IHDR"(4) width(4) height(4) ...
  if (bytes.size() < 24) return Truncated("png");
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if (std::memcmp(b + 12, "IHDR", 4) != 0) {
    return absl::InvalidArgumentError("malformed png header: first chunk is not IHDR");
  }
  return Dimensions(ImageFormat::kPng, Be32(b + 16), Be32(b + 20));
}

absl::StatusOr<ImageInfo> ProbeGif(std::string_view bytes) {
  if (bytes.size() < 10) return Truncated("gif");
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  return Dimensions(ImageFormat::kGif, Le16(b + 6), Le16(b + 8));
}

absl::StatusOr<ImageInfo> ProbeWebp(std::string_view bytes) {
  // "RIFF" size(4) "WEBP" chunk-fourcc(4) chunk-size(4) payload...
  if (bytes.size() < 30) return Truncated("webp");
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const unsigned char* chunk = b + 12;
  const unsigned char* p = b + 20;
  if (std::memcmp(chunk, "VP8 ", 4) == 0) {
    // frame tag(3), start code 9D 01 2A, 14-bit width and height (2 scale bits each).
    if ((p[0] & 1) != 0 || p[3] != 0x9D || p[4] != 0x01 || p[5] != 0x2A) {
      return absl::InvalidArgumentError("malformed webp header: bad VP8 key frame");
    }
    return Dimensions(ImageFormat::kWebp, Le16(p + 6) & 0x3FFF, Le16(p + 8) & 0x3FFF);
  }
  if (std::memcmp(chunk, "VP8L", 4) == 0) {
    // signature 0x2F, then 14 bits width-1, 14 bits height-1 (little-endian bit stream).
    if (p[0] != 0x2F) {
      return absl::InvalidArgumentError("malformed webp header: bad VP8L signature");
    }
    const uint32_t bits = Le32(p + 1);
    return Dimensions(ImageFormat::kWebp, int64_t{bits & 0x3FFF} + 1,
                      int64_t{(bits >> 14) & 0x3FFF} + 1);
  }
  if (std::memcmp(chunk, "VP8X", 4) == 0) {
    // flags(1) reserved(3) canvas width-1 (24 bits) canvas height-1 (24 bits).
    return Dimensions(ImageFormat::kWebp, int64_t{Le24(p + 4)} + 1, int64_t{Le24(p + 7)} + 1);
  }
  return absl::InvalidArgumentError("malformed webp header: unknown first chunk");
}

absl::StatusOr<ImageInfo> ProbeBmp(std::string_view bytes) {
  // file header(14), DIB header size(4) at 14; BITMAPCOREHEADER (12) has 16-bit sizes.
  if (bytes.size() < 26) return Truncated("bmp");
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const uint32_t dib_size = Le32(b + 14);
  if (dib_size == 12) return Dimensions(ImageFormat::kBmp, Le16(b + 18), Le16(b + 20));
  if (dib_size < 40) {
    return absl::InvalidArgumentError(
        absl::StrFormat("malformed bmp header: DIB header size %d", dib_size));
  }
  const auto width = static_cast<int32_t>(Le32(b + 18));
  const auto height = static_cast<int32_t>(Le32(b + 22));  // negative: top-down rows
  const int64_t abs_height = height < 0 ? -int64_t{height} : int64_t{height};
  return Dimensions(ImageFormat::kBmp, width, abs_height);
}

absl::StatusOr<ImageInfo> Probe(std::string_view bytes, size_t* jpeg_sof_offset) {
  if (bytes.empty()) return absl::InvalidArgumentError("empty image (0 bytes)");
  if (StartsWith(bytes, "\xFF\xD8\xFF")) return ProbeJpeg(bytes, jpeg_sof_offset);
  if (StartsWith(bytes, "\x89PNG\r\n\x1A\n")) return ProbePng(bytes);
  if (StartsWith(bytes, "GIF87a") || StartsWith(bytes, "GIF89a")) return ProbeGif(bytes);
  if (StartsWith(bytes, "RIFF") && bytes.size() >= 12 && bytes.substr(8, 4) == "WEBP") {
    return ProbeWebp(bytes);
  }
  if (StartsWith(bytes, "BM")) return ProbeBmp(bytes);
  std::string head;
  for (size_t i = 0; i < bytes.size() && i < 4; ++i) {
    // A constant format string: clang checks Abseil's formats at compile time.
    absl::StrAppendFormat(&head, "%s%02x", i == 0 ? "" : " ", static_cast<unsigned char>(bytes[i]));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown image format (first bytes ", head, ")"));
}

int CeilDiv(int a, int b) { return (a + b - 1) / b; }

void Clear(DecodedLuma& out) {
  out.luma.clear();
  out.width = out.height = out.source_width = out.source_height = 0;
  out.reduction = 1;
}

}  // namespace

const char* ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "jpeg";
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kGif:
      return "gif";
    case ImageFormat::kWebp:
      return "webp";
    case ImageFormat::kBmp:
      return "bmp";
  }
  return "unknown";
}

absl::StatusOr<ImageInfo> ProbeImage(std::string_view bytes) {
  size_t sof_offset = 0;
  return Probe(bytes, &sof_offset);
}

int ChooseJpegReduction(int width, int height) {
  const int short_side = width < height ? width : height;
  for (int factor : {8, 4, 2}) {
    if (CeilDiv(short_side, factor) >= kMinReducedShortSide) return factor;
  }
  return 1;
}

absl::Status ImageDecoder::Decode(std::string_view bytes, DecodeMode mode, DecodedLuma& out) {
  Clear(out);
  if (bytes.empty()) return absl::InvalidArgumentError("empty image (0 bytes)");
  if (bytes.size() > limits_.max_bytes || bytes.size() > size_t{INT32_MAX}) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("image is %d bytes, over the limit of %d", bytes.size(),
                        std::min<size_t>(limits_.max_bytes, INT32_MAX)));
  }
  size_t sof_offset = 0;
  absl::StatusOr<ImageInfo> info = Probe(bytes, &sof_offset);
  if (!info.ok()) return info.status();
  const int64_t pixels = int64_t{info->width} * info->height;
  if (pixels > limits_.max_pixels) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("image is %dx%d pixels, over the limit of %d", info->width, info->height,
                        limits_.max_pixels));
  }
  if (info->width > limits_.max_side || info->height > limits_.max_side) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("image is %dx%d pixels, a side over the limit of %d", info->width,
                        info->height, limits_.max_side));
  }
  int factor = 1;
  switch (info->format) {
    case ImageFormat::kJpeg:
      if (!JpegHasEoi(bytes, sof_offset)) {
        return absl::InvalidArgumentError("truncated jpeg (no end-of-image marker)");
      }
      if (mode == DecodeMode::kReduced) factor = ChooseJpegReduction(info->width, info->height);
      break;
    case ImageFormat::kGif:
      return absl::InvalidArgumentError(
          "gif images are not supported (no gif decoder in OpenCV 4.6)");
    case ImageFormat::kPng:
    case ImageFormat::kWebp:
    case ImageFormat::kBmp:
      break;
  }
  if (absl::Status s = DecodePixels(bytes, *info, factor, out); !s.ok()) {
    Clear(out);
    return s;
  }
  out.reduction = factor;
  if (factor == 1) {
    out.source_width = out.width;
    out.source_height = out.height;
  } else if (out.width == CeilDiv(info->width, factor) &&
             out.height == CeilDiv(info->height, factor)) {
    out.source_width = info->width;
    out.source_height = info->height;
  } else {  // EXIF orientation 5..8 transposed the image
    out.source_width = info->height;
    out.source_height = info->width;
  }
  return absl::OkStatus();
}

// The codec's decoder, created in the OpenCV module at the first decode: an ImageDecoder
// that never decodes (a text-only scan's workers) never loads the module.
struct ImageDecoder::Scratch {
  const OpenCvModule* module = nullptr;
  void* decoder = nullptr;
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    if (decoder != nullptr) module->delete_decoder(decoder);
  }
};

ImageDecoder::ImageDecoder(DecodeLimits limits)
    : limits_(limits), scratch_(std::make_unique<Scratch>()) {}
ImageDecoder::~ImageDecoder() = default;
ImageDecoder::ImageDecoder(ImageDecoder&&) noexcept = default;
ImageDecoder& ImageDecoder::operator=(ImageDecoder&&) noexcept = default;

absl::Status ImageDecoder::DecodePixels(std::string_view bytes, const ImageInfo& info, int factor,
                                        DecodedLuma& out) {
  const char* format_name = ImageFormatName(info.format);
  if (scratch_->decoder == nullptr) {
    const absl::StatusOr<const OpenCvModule*> module = LoadOpenCvModule();
    if (!module.ok()) {
      return absl::Status(module.status().code(), absl::StrCat("cannot decode ", format_name, ": ",
                                                               module.status().message()));
    }
    scratch_->module = *module;
    scratch_->decoder = (*module)->new_decoder();
  }
  return scratch_->module->decode(scratch_->decoder, bytes, format_name,
                                  info.format == ImageFormat::kJpeg, factor, limits_.max_pixels,
                                  out);
}

absl::Status ReadImageFile(const std::string& path, size_t max_bytes, std::string& out) {
  out.clear();
  // O_NONBLOCK: opening a FIFO must not hang; only regular files are read below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return absl::NotFoundError("no such file");
    }
    return absl::InvalidArgumentError(absl::StrCat("cannot open: ", std::strerror(err)));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot stat: ", std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) return absl::InvalidArgumentError("is a directory");
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError("not a regular file");
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size == 0) return absl::InvalidArgumentError("empty file (0 bytes)");
  if (size > max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("file is %d bytes, over the limit of %d", size, max_bytes));
  }
  out.resize(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t r = ::read(fd, out.data() + done, size - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InvalidArgumentError(absl::StrCat("read failed: ", std::strerror(errno)));
    }
    if (r == 0) break;  // the file shrank since fstat: keep what is there
    done += static_cast<size_t>(r);
  }
  out.resize(done);
  return absl::OkStatus();
}

absl::Status ImageDecoder::DecodeFile(const std::string& path, DecodeMode mode, DecodedLuma& out) {
  Clear(out);
  if (absl::Status s = ReadImageFile(path, limits_.max_bytes, file_buffer_); !s.ok()) return s;
  return Decode(file_buffer_, mode, out);
}

}  // namespace bonafide::models
