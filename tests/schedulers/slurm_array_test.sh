#!/usr/bin/env bash
# The Slurm job array for real (tools/schedulers/slurm-scan.sbatch): a single-node Slurm
# cluster and a PostgreSQL server started here (tests/services/), a generated dump scanned
# as a 4-task array into one PostgreSQL outbox, one task killed with SIGKILL mid-scan and
# requeued; the outbox must then equal an unsharded scan into SQLite, and the killed task
# must have resumed rather than started over.
#
# usage: slurm_array_test.sh BONAFIDE GENERATE_LISTINGS SOURCE_DIR
# Needs root (Slurm's daemons). BONAFIDE_TEST_OUTBOX=sqlite uses one SQLite
# file instead of PostgreSQL (all tasks run on this machine), for machines without the server.
set -euo pipefail

(($# == 3)) || { echo "usage: $0 BONAFIDE GENERATE_LISTINGS SOURCE_DIR" >&2; exit 2; }
# Skipped (exit 77) without root or the services' programs, unless BONAFIDE_REQUIRE_SERVICES=1
# (tools/test.sh), which makes that a failure.
missing=""
(($(id -u) == 0)) || missing="root"
needed="munged slurmctld slurmd sbatch pkill python3"
[[ ${BONAFIDE_TEST_OUTBOX:-postgresql} == sqlite ]] && needed+=" sqlite3" || needed+=" psql"
for command in $needed; do
  command -v "$command" >/dev/null || missing+=" $command"
done
if [[ -n $missing ]]; then
  echo "slurm test: needs$missing (tools/install-deps.sh)" >&2
  [[ ${BONAFIDE_REQUIRE_SERVICES:-0} == 1 ]] && exit 1
  exit 77
fi
bonafide=$(realpath "$1")
generate=$(realpath "$2")
src=$(realpath "$3")
services=$src/tests/services
tmp=$(mktemp -d /tmp/bonafide-slurm-test.XXXXXX)
chmod 0755 "$tmp"
cleanup() {
  local rc=$?
  bash "$services/slurm.sh" stop "$tmp/slurm" || true
  [[ -d $tmp/postgresql ]] && { bash "$services/postgresql.sh" stop "$tmp/postgresql" || true; }
  if ((rc == 0)); then rm -rf "$tmp"; else echo "slurm test: kept $tmp for a look" >&2; fi
}
trap cleanup EXIT
log() { echo "slurm test: $*"; }
fail() { echo "slurm test: FAILED: $*" >&2; exit 1; }

# --- services -----------------------------------------------------------------------------
export SLURM_CONF
SLURM_CONF=$(bash "$services/slurm.sh" start "$tmp/slurm")
if [[ ${BONAFIDE_TEST_OUTBOX:-postgresql} == sqlite ]]; then
  outbox=$tmp/sharded.db
  checkpoint_runs() { sqlite3 "$outbox" "SELECT count(DISTINCT run) FROM scan_checkpoints" 2>/dev/null || echo 0; }
else
  mkdir -p "$tmp/postgresql"
  base=$(bash "$services/postgresql.sh" start "$tmp/postgresql")
  psql "$base/postgres" -qAtc "CREATE DATABASE slurm_test" >/dev/null
  outbox=$base/slurm_test
  checkpoint_runs() { psql "$outbox" -qAtc "SELECT count(DISTINCT run) FROM scan_checkpoints" 2>/dev/null || echo 0; }
fi
log "outbox $outbox"

# --- the reference: one unsharded scan ----------------------------------------------------
"$generate" --rules "$src/examples/rules" --count 40000 --seed 5 --mix test --nosummary \
  --out "$tmp/dump.jsonl"
printf 'not json\n{"id":"x","title":"t","price":-1,"currency":"EUR","seller_id":"s"}\n' \
  >>"$tmp/dump.jsonl"
"$bonafide" scan --rules "$src/examples/rules" --outbox "$tmp/reference.db" \
  --rejects "$tmp/reference.rejects" --cache-dir "$tmp/cache" "$tmp/dump.jsonl" >/dev/null

# --- the array ----------------------------------------------------------------------------
export BONAFIDE_BIN=$bonafide BONAFIDE_RULES=$src/examples/rules BONAFIDE_OUTBOX=$outbox
export BONAFIDE_INPUTS=$tmp/dump.jsonl BONAFIDE_REJECTS_DIR=$tmp/rejects
export BONAFIDE_CACHE_DIR=$tmp/cache
# Small batches: many commits, so that the kill below lands after some and before the last.
export BONAFIDE_SCAN_FLAGS="--chunk-kib 4 --progress=false"
job=$(cd "$tmp" && sbatch --parsable --array=0-3 "$src/tools/schedulers/slurm-scan.sbatch")
log "submitted job array $job"

task_state() { squeue -h -r -j "${job}_$1" -o %T 2>/dev/null | head -n 1; }
# Every task has committed a batch (its run's checkpoint is there) and none has finished.
for _ in $(seq 600); do
  (($(checkpoint_runs) >= 4)) && break
  sleep 0.1
done
(($(checkpoint_runs) >= 4)) || fail "the four tasks did not all commit a batch within 60 s"
[[ $(task_state 1) == RUNNING ]] || fail "task 1 finished before it could be killed: make the dump larger"
# SIGKILL to the scan itself (the batch script exec'd it): no chance to commit or clean up.
pkill -KILL -f -- "--shard 1/4" || fail "no scan process of shard 1/4 to kill"
log "task 1 killed"

# Requeue it once slurmd has let go of it (a requeue during the cleanup can be refused at
# launch: "already killed, do not launch batch job"); Slurm then holds a requeued job back
# for a while, so start it now. Tried again if the requeued run did not get to run.
task_completed() { grep "^listings read" "$tmp/bonafide-scan-${job}_1.log" | grep -q "shard 1/4"; }
for attempt in 1 2 3; do
  for _ in $(seq 300); do
    [[ -z $(task_state 1) ]] && break
    sleep 0.1
  done
  for _ in $(seq 50); do
    scontrol requeue "${job}_1" 2>/dev/null && break
    sleep 0.2
  done
  for _ in $(seq 50); do
    scontrol update JobId="${job}_1" StartTime=now 2>/dev/null && break
    sleep 0.2
  done
  log "task 1 requeued (attempt $attempt)"
  # Wait for the whole array (the requeued task included) to leave the queue.
  for _ in $(seq 1800); do
    [[ -z $(squeue -h -j "$job" 2>/dev/null) ]] && break
    sleep 0.1
  done
  [[ -z $(squeue -h -j "$job") ]] || fail "the array did not finish within 3 minutes"
  task_completed && break
done

# --- checks -------------------------------------------------------------------------------
for i in 0 1 2 3; do
  out=$tmp/bonafide-scan-${job}_$i.log
  [[ -f $out ]] || fail "no log for task $i"
  # The last run of each task printed its summary (a resumed run counts what it read).
  grep "^listings read" "$out" | tail -n 1 | grep -q "(this is shard $i/4)" ||
    { cat "$out"; fail "task $i did not complete"; }
done
grep -q "resumed an interrupted scan" "$tmp/bonafide-scan-${job}_1.log" ||
  { cat "$tmp/bonafide-scan-${job}_1.log"; fail "task 1 started over instead of resuming"; }
log "task 1 resumed: $(grep -m1 'resumed an interrupted scan' "$tmp/bonafide-scan-${job}_1.log")"
python3 "$src/tests/schedulers/compare_outboxes.py" "$bonafide" "$tmp/reference.db" "$outbox" ||
  fail "the array's outbox differs from the unsharded scan's"
cat "$tmp"/rejects/rejects.shard-{0,1,2,3}-of-4.jsonl | cmp - "$tmp/reference.rejects" ||
  fail "the shards' rejects differ from the unsharded scan's"
log "passed"
