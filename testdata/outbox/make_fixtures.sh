#!/usr/bin/env bash
# Writes one fixture outbox with a bonafide binary built at an old commit (README.md says
# which commit wrote which fixture). Documentation of how the committed fixtures were made:
# CI never runs it, and a fixture must never be rewritten with a newer build.
#
#   testdata/outbox/make_fixtures.sh first           OLD_BONAFIDE OUT.db   # schema "v1 (first)"
#   testdata/outbox/make_fixtures.sh run-checkpoints OLD_BONAFIDE OUT.db   # "v1 (checkpoints per run)"
#   testdata/outbox/make_fixtures.sh v2              OLD_BONAFIDE OUT.db   # schema version 2
#   testdata/outbox/make_fixtures.sh v3              OLD_BONAFIDE OUT.db   # schema version 3
#
# All: scan listings-a.jsonl (cases opened), then listings-a2.jsonl (five of those listings
# changed: case.updated). v2 then records three verdicts (the first three case keys:
# counterfeit, genuine with the seller authorized, not_ours) and scans listings-a.jsonl
# again (the five listings change back). v3 does what v2 does, then creates two portal tokens
# (one for a rights holder, one admin, the first revoked) and runs `bonafide relay --once`
# against a local receiver (relay_receiver.py) that acknowledges adidas, answers 500 to apple
# (one attempt allowed: its events dead) and 410 Gone to dior (endpoint disabled), so that
# every relay table holds rows. run-checkpoints, v2 and v3 then scan listings-a2.jsonl
# once more and interrupt it with SIGINT when its first batch reaches the outbox (gdb makes
# that deterministic), which leaves the checkpoint of an unfinished scan (and, in v2, the
# cases its first batch changed, marked for a publication that has not happened). The first
# schema's build never writes checkpoints, so its table stays empty. Finally the WAL is
# checkpointed into the file and the file vacuumed, so the .db alone is the fixture.
set -euo pipefail

if [[ $# -ne 3 || ( $1 != first && $1 != run-checkpoints && $1 != v2 && $1 != v3 ) ]]; then
  echo "usage: $0 first|run-checkpoints|v2|v3 OLD_BONAFIDE OUT.db" >&2
  exit 2
fi
schema=$1
bonafide=$(realpath "$2")
out=$(realpath -m "$3")
rm -f "$out" "$out-wal" "$out-shm"

# Relative names: a checkpoint stores the input as named on the command line.
cd "$(dirname "$0")"
scan=("$bonafide" scan --rules rules --outbox "$out" --rejects "" --cache-dir "" --threads 1)
"${scan[@]}" listings-a.jsonl >/dev/null
"${scan[@]}" listings-a2.jsonl >/dev/null
if [[ $schema == v2 || $schema == v3 ]]; then
  mapfile -t keys < <(sqlite3 "$out" "SELECT case_key FROM cases ORDER BY case_key LIMIT 3")
  "$bonafide" verdict --outbox "$out" "${keys[0]}" counterfeit --comment "fake: wrong stitching" \
    >/dev/null
  "$bonafide" verdict --outbox "$out" "${keys[1]}" genuine --authorize-seller >/dev/null
  "$bonafide" verdict --outbox "$out" "${keys[2]}" not_ours --comment "not our product" >/dev/null
  "${scan[@]}" listings-a.jsonl >/dev/null
fi
if [[ $schema == v3 ]]; then
  "$bonafide" token create --outbox "$out" --rights-holder adidas >/dev/null 2>&1
  "$bonafide" token create --outbox "$out" --admin >/dev/null 2>&1
  "$bonafide" token revoke --outbox "$out" \
    "$(sqlite3 "$out" "SELECT prefix FROM access_tokens WHERE rights_holder = 'adidas'")" \
    >/dev/null
  work=$(mktemp -d)
  trap 'kill "$receiver" 2>/dev/null || true; rm -rf "$work"' EXIT
  python3 relay_receiver.py "$work/port" &
  receiver=$!
  for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.1; done
  port=$(cat "$work/port")
  secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
  cat >"$work/relay.yaml" <<YAML
attempts: 1
timeout_s: 5
rights_holders:
  adidas: {url: "http://127.0.0.1:$port/ok", secret: $secret}
  apple: {url: "http://127.0.0.1:$port/fail", secret: $secret}
  dior: {url: "http://127.0.0.1:$port/gone", secret: $secret}
YAML
  "$bonafide" relay --outbox "$out" --config "$work/relay.yaml" --once 2>/dev/null
  kill "$receiver"
fi
if [[ $schema == run-checkpoints || $schema == v2 || $schema == v3 ]]; then
  # Small batches, so that the input is several batches long; the first Write() gets a
  # SIGINT (the scan's stop handler then finishes the batches in flight and exits 130).
  status=0
  gdb -batch -ex 'rbreak SqliteOutbox::Write(' -ex run -ex 'signal SIGINT' \
    -ex delete -ex continue --args "${scan[@]}" --chunk-kib 4 listings-a2.jsonl \
    >/dev/null 2>&1 || status=$?
  if [[ $(sqlite3 "$out" "SELECT count(*) FROM scan_checkpoints WHERE done = 0") == 0 ]]; then
    echo "$0: the interrupted scan left no checkpoint (gdb status $status)" >&2
    exit 1
  fi
fi
sqlite3 "$out" "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;" >/dev/null
echo "$out: $(sqlite3 "$out" "SELECT (SELECT count(*) FROM cases) || ' cases, ' ||
  (SELECT count(*) FROM events) || ' events, ' ||
  (SELECT count(*) FROM scan_checkpoints) || ' checkpoints'")"
if [[ $schema == v3 ]]; then
  echo "$out: $(sqlite3 "$out" "SELECT (SELECT count(*) FROM deliveries) || ' deliveries, ' ||
    (SELECT count(*) FROM relay_cursors) || ' relay cursors, ' ||
    (SELECT count(*) FROM relay_endpoints) || ' disabled endpoints, ' ||
    (SELECT count(*) FROM access_tokens) || ' tokens'")"
fi
