#!/usr/bin/env bash
# Scale-out figures of bench/RESULTS.md ("Beyond one machine"): the whole `bonafide scan`
# process, side by side, on one machine.
#
#   1. cases/s into PostgreSQL against SQLite: a flag-heavy dump (the generator's "test" mix:
#      about a third of the listings open a case) scanned into a fresh outbox of each, then
#      rescanned (nothing changes: the rescan path);
#   2. shards: 1, 2 and 4 `scan --shard I/N` processes side by side into one outbox (the
#      nightly dump, 3% flagged), wall time until the last finishes, for both backends.
#
# Every figure is the minimum of ROUNDS runs (default 3), the configurations taking turns.
# PostgreSQL is a throwaway server started here (tests/services/postgresql.sh: fsync off, so
# this measures bonafide and the server's CPU, not a disk).
#
#   bash bench/scale.sh            # about 5 minutes on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."
data=${BONAFIDE_BENCH_DATA:-build/bench-data}
rounds=${ROUNDS:-3}
mkdir -p "$data"
cmake --preset release > /dev/null
cmake --build --preset release --target bonafide generate_listings > /dev/null
bonafide=build/release/tools/bonafide

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores," \
  "$(free -g | awk '/Mem:/ {print $2}') GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD), date: $(date -u +%FT%TZ)"

flagged=$data/test-200k.jsonl
nightly=$data/nightly-1m.jsonl
[[ -f $flagged ]] || build/release/tools/generate_listings --rules examples/rules --count 200000 \
  --seed 1 --mix test --out "$flagged" --nosummary
[[ -f $nightly ]] || build/release/tools/generate_listings --rules examples/rules --count 1000000 \
  --seed 1 --mix nightly --out "$nightly" --nosummary

pg_dir=$(mktemp -d /tmp/bonafide-scale-pg.XXXXXX)
chmod 0755 "$pg_dir"
trap 'bash tests/services/postgresql.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
pg=$(bash tests/services/postgresql.sh start "$pg_dir")
sqlite_db=$data/scale.db

# fresh_outbox BACKEND: prints the location of a new, empty outbox.
fresh_outbox() {
  if [[ $1 == sqlite ]]; then
    rm -f "$sqlite_db" "$sqlite_db-wal" "$sqlite_db-shm"
    echo "$sqlite_db"
  else
    # Named by the clock: this runs in a $(...) subshell, where a counter would not count.
    local name
    name="scale_$(date +%s%N)"
    psql "$pg/postgres" -qAtc "CREATE DATABASE $name" > /dev/null
    echo "$pg/$name"
  fi
}

# run_shards OUTBOX N INPUT: N shard processes side by side; prints the wall seconds.
run_shards() {
  local outbox=$1 n=$2 input=$3 i start
  start=$(date +%s.%N)
  if ((n == 1)); then
    "$bonafide" scan --rules examples/rules --outbox "$outbox" --rejects '' --cache-dir '' \
      --threads 2 "$input" > /dev/null
  else
    for ((i = 0; i < n; i++)); do
      "$bonafide" scan --rules examples/rules --outbox "$outbox" --rejects '' --cache-dir '' \
        --threads 1 --shard "$i/$n" "$input" > /dev/null &
    done
    wait
  fi
  echo "$(date +%s.%N) - $start" | bc
}

min() { tr ' ' '\n' <<< "$1" | grep . | sort -n | head -n 1; }

cases=$("$bonafide" scan --rules examples/rules --outbox "$(fresh_outbox sqlite)" --rejects '' \
  --cache-dir '' --format jsonl "$flagged" | grep -c '^{"case_key"')
echo
echo "== cases/s: $flagged ($cases cases), 2 threads, min of $rounds"
declare -A first=() again=()
for ((r = 0; r < rounds; r++)); do
  for backend in sqlite postgresql; do
    outbox=$(fresh_outbox $backend)
    first[$backend]+="$(run_shards "$outbox" 1 "$flagged") "
    again[$backend]+="$(run_shards "$outbox" 1 "$flagged") "
  done
done
for backend in sqlite postgresql; do
  f=$(min "${first[$backend]}")
  a=$(min "${again[$backend]}")
  printf '%-10s first scan %6.2f s (%6.0f cases/s)   rescan %6.2f s\n' "$backend" "$f" \
    "$(echo "$cases / $f" | bc -l)" "$a"
done
printf 'postgresql / sqlite: first scan %.2fx, rescan %.2fx the time\n' \
  "$(echo "$(min "${first[postgresql]}") / $(min "${first[sqlite]}")" | bc -l)" \
  "$(echo "$(min "${again[postgresql]}") / $(min "${again[sqlite]}")" | bc -l)"

echo
echo "== shards: $nightly, N processes side by side (1 thread each; N=1: 2 threads), min of $rounds"
declare -A wall=()
for ((r = 0; r < rounds; r++)); do
  for backend in sqlite postgresql; do
    for n in 1 2 4; do
      wall[$backend-$n]+="$(run_shards "$(fresh_outbox $backend)" $n "$nightly") "
    done
  done
done
for backend in sqlite postgresql; do
  line="$backend:"
  for n in 1 2 4; do line+="$(printf '  N=%d %6.2f s' $n "$(min "${wall[$backend-$n]}")")"; done
  echo "$line"
done
