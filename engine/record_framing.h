// Record framing: where one record of a dump ends. A JSON Lines record ends at a newline;
// a CSV record at a newline outside double quotes (a quoted field may span lines).
// InputSource (engine/listing_input.h, implemented in record_framing.cc) cuts its
// chunks with this, and ChunkParser walks the records of a chunk with it.
#ifndef BONAFIDE_ENGINE_RECORD_FRAMING_H_
#define BONAFIDE_ENGINE_RECORD_FRAMING_H_

#include <cstddef>

namespace bonafide::engine {

// Returns the end of the first record in data[from, to) (just after its '\n'), or npos.
// With `csv_quotes`, `in_quotes` carries the quote state across calls (in: the state at
// data[from]; out: false after a record end, else the state at `to`); a doubled "" toggles
// twice and so needs no special case.
size_t FindRecordEnd(const char* data, size_t from, size_t to, bool csv_quotes, bool& in_quotes);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_RECORD_FRAMING_H_
