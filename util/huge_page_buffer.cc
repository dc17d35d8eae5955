#include "util/huge_page_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace bonafide {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

absl::StatusOr<HugePageBuffer> HugePageBuffer::Allocate(size_t size) {
  if (size == 0) size = 1;
  const size_t rounded = RoundUp(size, kHugePage);
  // One huge page more than needed, so that an aligned start lies inside the mapping.
  const size_t mapped = rounded + kHugePage;
  void* mapping = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot map ", size, " bytes: ", std::strerror(errno)));
  }
  const auto address = reinterpret_cast<uintptr_t>(mapping);
  char* aligned = static_cast<char*>(mapping) + (RoundUp(address, kHugePage) - address);
  // A hint: without transparent huge pages the memory is ordinary pages.
  madvise(aligned, rounded, MADV_HUGEPAGE);
  HugePageBuffer buffer;
  buffer.mapping_ = mapping;
  buffer.mapped_ = mapped;
  buffer.data_ = aligned;
  buffer.size_ = size;
  return buffer;
}

HugePageBuffer::HugePageBuffer(HugePageBuffer&& other) noexcept
    : mapping_(std::exchange(other.mapping_, nullptr)),
      mapped_(std::exchange(other.mapped_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

HugePageBuffer& HugePageBuffer::operator=(HugePageBuffer&& other) noexcept {
  if (this != &other) {
    if (mapping_ != nullptr) munmap(mapping_, mapped_);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapped_ = std::exchange(other.mapped_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

HugePageBuffer::~HugePageBuffer() {
  if (mapping_ != nullptr) munmap(mapping_, mapped_);
}

}  // namespace bonafide
