// Tests for util/huge_page_buffer: zeroed, aligned, writable memory that moves and frees.
#include "util/huge_page_buffer.h"

#include <cstdint>
#include <cstring>
#include <utility>

#include "gtest/gtest.h"

namespace bonafide {
namespace {

TEST(HugePageBufferTest, ZeroedAlignedAndWritable) {
  constexpr size_t kSize = (size_t{3} << 20) + 123;  // spans two huge pages and a part
  auto buffer = HugePageBuffer::Allocate(kSize);
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  ASSERT_NE(buffer->data(), nullptr);
  EXPECT_EQ(buffer->size(), kSize);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % (size_t{2} << 20), 0u);
  for (size_t i = 0; i < kSize; i += 4096) ASSERT_EQ(buffer->data()[i], 0) << i;
  EXPECT_EQ(buffer->data()[kSize - 1], 0);
  std::memset(buffer->data(), 0x5A, kSize);
  EXPECT_EQ(buffer->data()[kSize - 1], 0x5A);
}

TEST(HugePageBufferTest, MovesOwnership) {
  auto allocated = HugePageBuffer::Allocate(100);
  ASSERT_TRUE(allocated.ok());
  HugePageBuffer a = std::move(*allocated);
  a.data()[99] = 7;
  HugePageBuffer b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state
  EXPECT_EQ(a.size(), 0u);       // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.data()[99], 7);
  HugePageBuffer c;
  c = std::move(b);
  EXPECT_EQ(c.size(), 100u);
  EXPECT_EQ(c.data()[99], 7);
  auto zero = HugePageBuffer::Allocate(0);  // at least one byte
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->size(), 1u);
}

}  // namespace
}  // namespace bonafide
