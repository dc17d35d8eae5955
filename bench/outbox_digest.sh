#!/usr/bin/env bash
# Prints a digest of an outbox's content that ignores when it was written, so that the outboxes
# of two builds on the same input can be compared (a refactor must not change a byte of what
# rights holders read):
#
#   bash bench/outbox_digest.sh OUTBOX.db [--ignore-rules-version]
#
# One line per table of what a scan writes (schema version 3 and later): name, row count,
# SHA-256 of its rows in key order, with the time columns (first_seen_at, last_seen_at,
# created_at, updated_at) left out. With --ignore-rules-version the rules-version digest in
# the evidence is masked, and the columns derived from it (the content fingerprint, and the
# event key, which embedded it before schema version 2) are left out: for comparing builds
# whose rules-version derivation differs on purpose.
set -euo pipefail
db=${1:?usage: bash bench/outbox_digest.sh OUTBOX.db [--ignore-rules-version]}
mask=0
[[ "${2:-}" == "--ignore-rules-version" ]] && mask=1

if ((mask)); then
  cases="SELECT id, case_key, rights_holder, marketplace, listing_id, seller_id, score, reasons,
           replace(evidence, json_extract(evidence, '\$.rules_version'), 'masked'), signals,
           material, status
         FROM cases ORDER BY case_key"
  events="SELECT id, rights_holder, case_key, type, payload FROM events ORDER BY id"
else
  cases="SELECT id, case_key, rights_holder, marketplace, listing_id, seller_id, score, reasons,
           evidence, signals, fingerprint, material, status FROM cases ORDER BY case_key"
  events="SELECT id, event_key, rights_holder, case_key, type, payload FROM events ORDER BY id"
fi
announcements="SELECT case_id, status, material, revision FROM announcements ORDER BY case_id"
to_publish="SELECT run, case_id FROM to_publish ORDER BY run, case_id"
checkpoints="SELECT run, input, identity, byte_offset, line, rejects_bytes, done
             FROM scan_checkpoints ORDER BY run, input"

for table in cases announcements to_publish events checkpoints; do
  sql=${!table}
  rows=$(sqlite3 -readonly "$db" "SELECT count(*) FROM ($sql)")
  sum=$(sqlite3 -readonly -json "$db" "$sql" | sha256sum | cut -c1-16)
  printf '%-13s %9s rows  %s\n' "$table" "$rows" "$sum"
done
