// The image side's OpenCV code lives in a module of its own, loaded at its first use.
//
// Why: Debian's OpenCV libraries (core, imgproc, features2d, calib3d, flann, imgcodecs)
// bring about 20 more libraries (LAPACK, BLAS, gfortran, X11, GDAL, ...) and static
// initialisers; loading them took a third of a text-only scan's start-up, although such a
// scan never decodes a photo. So libbonafide and the CLI link none of OpenCV: the code
// that calls it (image_decode_opencv.cc, local_features_opencv.cc) is built into
// libbonafide_opencv.so, a module whose one exported symbol is the table below, and
// ImageDecoder and FeatureExtractor go through the table.
//
// Where the module comes from: the build embeds its bytes in the library that loads it
// (opencv_module_loader.cc), which writes them to an anonymous in-memory file (memfd) at
// the first use and dlopens that. So there is no module path to install, configure or get
// out of step: a static or shared libbonafide, in the build tree or installed anywhere,
// always loads the module built with it. The module links OpenCV itself; the dynamic
// loader finds OpenCV's libraries as it would for any program.
//
// The table's functions follow the contracts of the members they implement
// (models/image_decode.h, models/local_features.h). Both sides are compiled from this
// header by the same build, so the table is plain C++ (absl::Status, std::vector).
#ifndef BONAFIDE_MODELS_OPENCV_MODULE_H_
#define BONAFIDE_MODELS_OPENCV_MODULE_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "models/image_decode.h"
#include "models/local_features.h"

namespace bonafide::models {

struct OpenCvModule {
  // A decoder with its reusable buffers (one per ImageDecoder).
  void* (*new_decoder)();
  void (*delete_decoder)(void* decoder);
  // ImageDecoder::DecodePixels: bytes that ImageDecoder checked -> luma. `factor` (1, 2, 4,
  // 8) applies to JPEG only; a decoded image over `max_pixels` is refused. Messages name
  // the format by `format_name`.
  absl::Status (*decode)(void* decoder, std::string_view bytes, const char* format_name, bool jpeg,
                         int factor, int64_t max_pixels, DecodedLuma& out);
  // A keypoint extractor with its reusable buffers (one per FeatureExtractor).
  void* (*new_extractor)(const LocalFeatureOptions& options);
  void (*delete_extractor)(void* extractor);
  // FeatureExtractor::Extract.
  absl::Status (*extract)(void* extractor, const float* luma, int width, int height,
                          LocalFeatures& out);
  // VerifyGeometry.
  GeometryCheck (*verify_geometry)(const LocalFeatures& listing, const LocalFeatures& genuine,
                                   std::span<const FeaturePair> pairs,
                                   const GeometryOptions& options);
};

// The module's exported symbol (defined in opencv_module.cc, inside the module only).
inline constexpr char kOpenCvModuleSymbol[] = "bonafide_opencv_module";

// Loads the module at the first call and returns its table; later calls return the same
// table (or the same error). Thread-safe. The module stays loaded until exit.
// Errors: Unimplemented in a build without OpenCV (BONAFIDE_WITH_OPENCV=OFF), with a
// message saying so; Unavailable when the module or a library it needs cannot be loaded
// (the message gives the loader's reason).
absl::StatusOr<const OpenCvModule*> LoadOpenCvModule();

}  // namespace bonafide::models

#endif  // BONAFIDE_MODELS_OPENCV_MODULE_H_
