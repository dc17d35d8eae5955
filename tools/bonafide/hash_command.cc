// bonafide hash IMAGE...: the canonical PDQ hash of each image.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "models/image_decode.h"
#include "models/pdq.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"

namespace bonafide::cli {

int HashCommand(int argc, char** argv) {
  FlagSet flags(
      "bonafide hash", "IMAGE...",
      "Prints `<hash> <quality> <path>` for each image: the PDQ hash (64 hex digits) of the\n"
      "full-resolution decode, as the reference implementation computes it, and its quality\n"
      "(0-100; below the policy's image.min_quality, 50 by default, a hash is not matched).\n"
      "JPEG, PNG, WebP and BMP; EXIF orientation applied to JPEGs. An image that cannot be\n"
      "read is reported on stderr and the others are still hashed. With --listing-photo, the\n"
      "hash a scan computes for a listing photo (reduced JPEG decode, a few bits from the\n"
      "reference): what a listing's images entry {\"path\", \"pdq\", \"quality\"} carries.",
      "0  every image was hashed\n1  some image could not be read\n2  bad usage");
  bool listing_photo = false;
  flags.Bool("listing-photo", "hash as the scan hashes listing photos (reduced JPEG decode)",
             &listing_photo);
  std::vector<std::string> images;
  if (std::optional<int> exit = flags.Parse(argc, argv, &images)) return *exit;
  if (images.empty()) return flags.UsageError("need at least one IMAGE");
  models::ImageDecoder decoder;
  models::DecodedLuma luma;
  models::PdqHasher hasher;
  int failed = 0;
  for (const std::string& path : images) {
    const models::DecodeMode mode =
        listing_photo ? models::DecodeMode::kReduced : models::DecodeMode::kFull;
    if (absl::Status s = decoder.DecodeFile(path, mode, luma); !s.ok()) {
      std::fprintf(stderr, "bonafide hash: %s: %s\n", path.c_str(),
                   std::string(s.message()).c_str());
      ++failed;
      continue;
    }
    const models::PdqResult r = hasher.Hash(luma.luma.data(), luma.width, luma.height);
    std::printf("%s %d %s\n", models::ToHex(r.hash).c_str(), r.quality, path.c_str());
  }
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace bonafide::cli
