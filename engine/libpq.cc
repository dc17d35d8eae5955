#include "engine/libpq.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace bonafide::engine::pg {
namespace {

absl::StatusOr<LibPq> Load() {
  void* handle = dlopen(BONAFIDE_LIBPQ_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot load libpq (", BONAFIDE_LIBPQ_SONAME, "): ", dlerror()));
  }
  LibPq pq;
#define BONAFIDE_LIBPQ_LOOKUP(name)                                                             \
  pq.name = reinterpret_cast<decltype(pq.name)>(dlsym(handle, "PQ" #name));                     \
  if (pq.name == nullptr) {                                                                     \
    return absl::UnavailableError(                                                              \
        absl::StrCat("cannot load libpq (", BONAFIDE_LIBPQ_SONAME, "): no function PQ" #name)); \
  }
  BONAFIDE_LIBPQ_FUNCTIONS(BONAFIDE_LIBPQ_LOOKUP)
#undef BONAFIDE_LIBPQ_LOOKUP
  return pq;
}

const absl::StatusOr<LibPq>& Loaded() {
  static const absl::StatusOr<LibPq> table = Load();
  return table;
}

}  // namespace

absl::StatusOr<const LibPq*> OpenLibPq() {
  const absl::StatusOr<LibPq>& table = Loaded();
  if (!table.ok()) return table.status();
  return &*table;
}

const LibPq& Pq() {
  const absl::StatusOr<LibPq>& table = Loaded();
  if (!table.ok()) {
    std::fprintf(stderr, "bonafide: libpq used before it was opened: %s\n",
                 std::string(table.status().message()).c_str());
    std::abort();
  }
  return *table;
}

}  // namespace bonafide::engine::pg
