// An allocation counter for the tests that hold the steady state to zero allocations.
//
// tests/allocation_counter.cc replaces every global operator new and delete (plain, array,
// nothrow, aligned) with malloc/free plus a count. Add it to the SRCS of each test binary
// that needs it (tests/CMakeLists.txt); linking it into a binary replaces allocation for that
// whole binary.
//
//   const int64_t before = testing::AllocationCount();
//   ASSERT_TRUE(scanner->Scan(listing, *scratch, verdict).ok());
//   EXPECT_EQ(testing::AllocationCount() - before, 0);
#ifndef BONAFIDE_TESTS_ALLOCATION_COUNTER_H_
#define BONAFIDE_TESTS_ALLOCATION_COUNTER_H_

#include <cstdint>

namespace bonafide::testing {

// Returns the number of operator new calls made so far by every thread of this process.
// Thread-safe. The count is process-wide: a measurement of single-threaded code is exact as
// long as no other thread of the test is running (GoogleTest starts none; a test joins its
// threads before it ends).
int64_t AllocationCount();

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_ALLOCATION_COUNTER_H_
