// LoadOpenCvModule: the module's bytes, embedded by the build, written to an in-memory file
// and opened with dlopen (models/opencv_module.h says why).
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

#include "models/opencv_module.h"

#ifdef BONAFIDE_OPENCV_MODULE_EMBED
// Defines BONAFIDE_OPENCV_MODULE_FILE (the stripped module the build made) and
// BONAFIDE_OPENCV_MODULE_SHA256 (its digest: a new module changes this file's preprocessed
// text, so that a compiler cache cannot hand back an object with the old bytes).
#include BONAFIDE_OPENCV_MODULE_EMBED

// The bytes, in read-only data: pages the kernel maps only when the module is loaded.
asm(".section .rodata.bonafide_opencv_module,\"a\",@progbits\n"
    ".balign 64\n"
    ".globl bonafide_opencv_module_begin\n"
    ".hidden bonafide_opencv_module_begin\n"
    "bonafide_opencv_module_begin:\n"
    ".incbin \"" BONAFIDE_OPENCV_MODULE_FILE
    "\"\n"
    ".globl bonafide_opencv_module_end\n"
    ".hidden bonafide_opencv_module_end\n"
    "bonafide_opencv_module_end:\n"
    ".previous\n");
extern "C" const char bonafide_opencv_module_begin[];
extern "C" const char bonafide_opencv_module_end[];
#endif

namespace bonafide::models {
namespace {

#ifdef BONAFIDE_OPENCV_MODULE_EMBED
absl::StatusOr<const OpenCvModule*> OpenModule() {
  const int fd = memfd_create("bonafide-opencv-module", MFD_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create an in-memory file for bonafide's OpenCV module: ", std::strerror(errno)));
  }
  const char* p = bonafide_opencv_module_begin;
  while (p < bonafide_opencv_module_end) {
    const ssize_t n = write(fd, p, static_cast<size_t>(bonafide_opencv_module_end - p));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      close(fd);
      return absl::UnavailableError(
          absl::StrCat("cannot write bonafide's OpenCV module: ", std::strerror(error)));
    }
    p += n;
  }
  // RTLD_LOCAL: the module's OpenCV symbols stay out of the process's global scope. The
  // descriptor can be closed once the loader has mapped the file.
  const std::string path = absl::StrCat("/proc/self/fd/", fd);
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  close(fd);
  void* table = handle == nullptr ? nullptr : dlsym(handle, kOpenCvModuleSymbol);
  if (table == nullptr) {
    const char* why = dlerror();
    return absl::UnavailableError(absl::StrCat("cannot load bonafide's OpenCV module: ",
                                               why != nullptr ? why : "no error given"));
  }
  return static_cast<const OpenCvModule*>(table);
}
#else
absl::StatusOr<const OpenCvModule*> OpenModule() {
  return absl::UnimplementedError(
      "this build of bonafide has no OpenCV (built with BONAFIDE_WITH_OPENCV=OFF)");
}
#endif

}  // namespace

absl::StatusOr<const OpenCvModule*> LoadOpenCvModule() {
  static const absl::StatusOr<const OpenCvModule*> module = OpenModule();
  return module;
}

}  // namespace bonafide::models
