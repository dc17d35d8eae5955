#include "engine/listing_validation.h"

#include <cmath>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "bonafide/listing.h"
#include "util/strings.h"

#include "simdjson.h"

namespace bonafide::engine {

std::optional<int64_t> QuantityFromDouble(double value) {
  // 9.2e18 < 2^63: the largest doubles below it convert to int64 exactly.
  if (value >= 1 && value < 9.2e18 && value == std::floor(value)) {
    return static_cast<int64_t>(value);
  }
  return std::nullopt;
}

ImagePathProblem CheckImagePath(std::string_view p) {
  if (p.empty()) return ImagePathProblem::kEmpty;
  if (p.front() == '/') return ImagePathProblem::kEscapesRoot;
  // One pass (paths are short; memchr-based finds cost more in calls than they save).
  size_t component_start = 0;
  const size_t n = p.size();
  for (size_t i = 0; i <= n; ++i) {
    const char c = i < n ? p[i] : '/';
    if (c == '/') {
      if (i - component_start == 2 && p[component_start] == '.' && p[component_start + 1] == '.') {
        return ImagePathProblem::kEscapesRoot;
      }
      component_start = i + 1;
    } else if (c == '\\' || c == '\0') {
      return ImagePathProblem::kEscapesRoot;
    }
  }
  return ImagePathProblem::kNone;
}

bool IsUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

void AppendMissingField(const FieldSpec& spec, std::string& out) {
  absl::StrAppend(&out, "missing required field \"", ToAbsl(spec.name), "\"");
}

void AppendEmptyField(const FieldSpec& spec, std::string& out) {
  absl::StrAppend(&out, "field \"", ToAbsl(spec.name), "\" must not be empty");
}

void AppendFieldOverCap(const FieldSpec& spec, std::string& out) {
  if (spec.type == FieldType::kImagePaths) {
    absl::StrAppend(&out, "field \"", ToAbsl(spec.name), "\" has a path over ", spec.max_bytes,
                    " bytes");
    return;
  }
  absl::StrAppend(&out, "field \"", ToAbsl(spec.name), "\" exceeds ", spec.max_bytes, " bytes");
}

void AppendWrongType(const FieldSpec& spec, std::string& out) {
  const char* expected = "a string";
  switch (spec.type) {
    case FieldType::kText:
      break;
    case FieldType::kPrice:
    case FieldType::kQuantity:
      expected = "a number";
      break;
    case FieldType::kImagePaths:
      expected = "an array of strings or objects";
      break;
  }
  absl::StrAppend(&out, "field \"", ToAbsl(spec.name), "\" must be ", expected);
}

void AppendInvalidUtf8(std::string_view name, std::string& out) {
  absl::StrAppend(&out, "invalid UTF-8 in field \"", ToAbsl(name), "\"");
}

void AppendImageEntryDetail(size_t index, std::string_view key, std::string_view problem,
                            std::string& out) {
  absl::StrAppend(&out, "images[", index, "].", ToAbsl(key), " ", ToAbsl(problem));
}

std::string_view RejectClassOf(std::string_view message) {
  for (const std::string_view detailed : {kImagePathEscapesRoot, kInvalidImageEntry}) {
    if (message.starts_with(detailed) && message.substr(detailed.size()).starts_with(": ")) {
      return detailed;
    }
  }
  return message;
}

void AppendImagePathEscapesWithDetail(std::string_view path, std::string& out) {
  absl::StrAppend(&out, ToAbsl(kImagePathEscapesRoot), ": ");
  AppendJsonString(path.substr(0, 256), out);
}

}  // namespace bonafide::engine

namespace bonafide {

absl::Status ValidateListing(const Listing& listing) {
  using engine::FieldType;
  std::string message;
  auto invalid = [&] { return absl::InvalidArgumentError(message); };
  for (const engine::FieldSpec& spec : engine::kListingFields) {
    switch (spec.type) {
      case FieldType::kText: {
        const std::string& value = listing.*spec.text;
        if (!engine::IsUtf8(value)) {
          engine::AppendInvalidUtf8(spec.name, message);
          return invalid();
        }
        if (spec.field == engine::ListingField::kCurrency && !IsCurrencyCode(value)) {
          return absl::InvalidArgumentError(ToAbsl(engine::kCurrencyNotACode));
        }
        // A reader truncates over-cap text; a hand-built listing must arrive within it.
        if (value.size() > spec.max_bytes) {
          engine::AppendFieldOverCap(spec, message);
          return invalid();
        }
        if (spec.non_empty && value.empty()) {
          engine::AppendEmptyField(spec, message);
          return invalid();
        }
        break;
      }
      case FieldType::kPrice:
        if (!engine::IsValidPrice(listing.price)) {
          return absl::InvalidArgumentError(ToAbsl(engine::kPriceOutOfRange));
        }
        break;
      case FieldType::kQuantity:
        if (!engine::IsValidQuantity(listing.quantity)) {
          return absl::InvalidArgumentError(ToAbsl(engine::kQuantityOutOfRange));
        }
        break;
      case FieldType::kImagePaths:
        if (listing.images.size() > engine::kMaxImages) {
          return absl::InvalidArgumentError(ToAbsl(engine::kTooManyImages));
        }
        for (const std::string& path : listing.images) {
          switch (engine::CheckImagePath(path)) {
            case engine::ImagePathProblem::kNone:
              break;
            case engine::ImagePathProblem::kEmpty:
              return absl::InvalidArgumentError(ToAbsl(engine::kImagePathEmpty));
            case engine::ImagePathProblem::kEscapesRoot:
              engine::AppendImagePathEscapesWithDetail(path, message);
              return invalid();
          }
          if (path.size() > spec.max_bytes) {
            engine::AppendFieldOverCap(spec, message);
            return invalid();
          }
        }
        if (!listing.image_bytes.empty() && listing.image_bytes.size() != listing.images.size()) {
          absl::StrAppend(&message, ToAbsl(engine::kInvalidImageEntry), ": ",
                          listing.image_bytes.size(), " photos in memory for ",
                          listing.images.size(), " paths");
          return invalid();
        }
        if (!listing.image_hashes.empty() && listing.image_hashes.size() != listing.images.size()) {
          absl::StrAppend(&message, ToAbsl(engine::kInvalidImageEntry), ": ",
                          listing.image_hashes.size(), " image hashes for ", listing.images.size(),
                          " paths");
          return invalid();
        }
        for (size_t i = 0; i < listing.image_hashes.size(); ++i) {
          const int32_t quality = listing.image_hashes[i].quality;
          if (quality != Listing::ImageHash::kNoHash && (quality < 0 || quality > 100)) {
            absl::StrAppend(&message, ToAbsl(engine::kInvalidImageEntry), ": ");
            engine::AppendImageEntryDetail(i, "quality", engine::kQualityNotInRange, message);
            return invalid();
          }
        }
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace bonafide
