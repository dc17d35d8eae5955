// Sorting large arrays of 64-bit keys (hashes, ids).
#ifndef BONAFIDE_UTIL_SORT_H_
#define BONAFIDE_UTIL_SORT_H_

#include <cstdint>
#include <vector>

namespace bonafide {

// Sorts `v` ascending, like std::sort. Large arrays go by LSD radix sort, 16 bits a pass:
// on the millions of listing hashes a scan checks for repeats, several times faster than
// std::sort (and that check runs on the serial path after the scan). Uses a second array
// of v.size() while it sorts.
void SortUint64(std::vector<uint64_t>& v);

}  // namespace bonafide

#endif  // BONAFIDE_UTIL_SORT_H_
