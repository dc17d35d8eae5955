#!/usr/bin/env python3
"""Compares two outboxes through `bonafide outbox list --format jsonl`: the same cases (every
field but the times) and the same events (case, type, payload; not their ids or order, since
shards publish their runs separately). Exit 0 when equal, 1 with the first differences.

usage: compare_outboxes.py BONAFIDE EXPECTED_OUTBOX ACTUAL_OUTBOX
"""
import collections
import json
import subprocess
import sys

TIMES = ("first_seen_at", "last_seen_at", "created_at", "id")


def listing(bonafide, outbox, *flags):
    out = subprocess.run([bonafide, "outbox", "list", "--outbox", outbox, "--format", "jsonl",
                          *flags], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        row = json.loads(line)
        for key in TIMES:
            row.pop(key, None)
        rows.append(json.dumps(row, sort_keys=True))
    return collections.Counter(rows)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    bonafide, expected, actual = sys.argv[1:]
    ok = True
    for what, flags in (("cases", ()), ("events", ("--events",))):
        want, got = listing(bonafide, expected, *flags), listing(bonafide, actual, *flags)
        if want == got:
            print(f"{what}: {sum(got.values())} equal")
            continue
        ok = False
        missing, extra = want - got, got - want
        print(f"{what}: {sum(missing.values())} missing, {sum(extra.values())} unexpected "
              f"(expected {sum(want.values())}, got {sum(got.values())})")
        for row in list(missing)[:3]:
            print("  missing:", row[:400])
        for row in list(extra)[:3]:
            print("  unexpected:", row[:400])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
