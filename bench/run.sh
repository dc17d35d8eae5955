#!/usr/bin/env bash
# Reproduces the figures of bench/RESULTS.md: builds the release preset, generates the data
# set (1M listings of about 500 bytes, the "nightly" mix: about 3% open a case), runs the
# end-to-end driver (read / simdjson / parse / match with Hyperscan and RE2::Set / ripgrep /
# scan with 1 and 2 threads, side by side, with each one's peak memory) and every
# micro-benchmark, and writes JSON results to bench/results/.
#
#   bash bench/run.sh            # everything (about 15 minutes on 2 cores)
#   bash bench/run.sh e2e        # only the end-to-end driver
#   bash bench/run.sh memory     # only peak memory of the 2-thread scan, 1M vs 5M listings
#                                # (generates a 2.5 GB dump once)
#   bash bench/run.sh images     # only the image stage (bonafide_image_bench, about 3 minutes)
#   bash bench/run.sh embed      # only the embedded path (bonafide_embed_bench: a service's
#                                # per-listing calls with the batching writer, against the scan)
#   bash bench/run.sh before-after COMMIT [INPUT]   # the whole CLI scan of COMMIT against
#                                # this one: first scan and rescan
#   bash bench/run.sh ripgrep    # the whole `bonafide scan` process against `rg` on a dump of
#                                # short listings, and the start-up of an empty scan
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
data=${BONAFIDE_BENCH_DATA:-build/bench-data}
stamp="$(date -u +%Y-%m-%d)-$(hostname -s)"
mkdir -p "$data" bench/results

cmake --preset release > /dev/null
cmake --build --preset release

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores," \
  "$(free -g | awk '/Mem:/ {print $2}') GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD), date: $(date -u +%FT%TZ)"

# ---- images: the image stage end to end (bonafide_image_bench) ------------------------------
# Generates (once) $data/images: 1000 1-MP and 20 12-MP JPEGs in listings, a rules directory
# with 250 registered genuine photos; then decode + PDQ + match through the scan with 1 and 2
# threads, beside full/reduced decode + PDQ, OpenCV img_hash::PHash and flat vs multi-index
# search. Defined here, run by `images` alone or at the end of `all`.
run_images() {
  echo
  echo "== image stage: $data/images"
  build/release/bench/bonafide_image_bench --data "$data/images" --photos 1000 \
    --large-photos 20 --genuine 250 --threads 1,2 --repeats 3 --batches 16 \
    --json "bench/results/$stamp-images.json"
}
if [[ "$what" == "images" ]]; then
  run_images
  exit 0
fi
# ---- end of images ---------------------------------------------------------------------------

input="$data/nightly-1m.jsonl"
if [[ ! -f "$input" ]]; then
  build/release/tools/generate_listings --rules examples/rules --count 1000000 --seed 1 \
    --mix nightly --out "$input" --nosummary
fi

# ---- embed: the embedded path (bonafide_embed_bench) ---------------------------------------
# 500k listings of the nightly mix, 2 threads: latency per listing and throughput of
# parse + scan + case records + the batching writer, beside ScanFiles of the same file; then
# the same with a photo in memory per listing (a 1.6-MP JPEG that matches no genuine photo;
# a slice of the dump, since photos cost milliseconds).
run_embed() {
  local half="$data/nightly-500k.jsonl" slice="$data/nightly-2k.jsonl"
  [[ -f "$half" ]] || head -n 500000 "$input" > "$half"
  [[ -f "$slice" ]] || head -n 2000 "$input" > "$slice"
  echo
  echo "== embedded path: $half"
  build/release/bench/bonafide_embed_bench --rules examples/rules --input "$half" --threads 2 \
    --repeats 5 --work-dir "$data" --json "bench/results/$stamp-embed.json"
  build/release/bench/bonafide_embed_bench --rules examples/rules --input "$slice" --threads 2 \
    --repeats 3 --work-dir "$data" --json "bench/results/$stamp-embed-photo.json" \
    --photo testdata/pdq/reg-test-input/labelme-subset/q0122.jpg \
    --listing-photo testdata/pdq/reg-test-input/dih/bridge-1-original.jpg
}
if [[ "$what" == "embed" ]]; then
  run_embed
  exit 0
fi
# ---- end of embed ----------------------------------------------------------------------------

# ---- before-after: the whole `bonafide scan` of an earlier commit against this one ---------
# Builds COMMIT's CLI once in a worktree under $data, then times both processes (start, scan,
# outbox close) in turns, 5 rounds per thread count: the first scan into a fresh outbox and
# the rescan of the same input into it (nothing new to announce). Prints medians and
# minimums (the minimum is what a shared VM's noise affects least). INPUT defaults to the
# 1M-listing dump; RULES (environment) to examples/rules: an older build may not read
# today's rules (testdata/outbox/rules is examples/rules frozen at b2330bb).
run_before_after() {
  local base tree in
  base=$(git rev-parse --short "${1:?usage: bash bench/run.sh before-after COMMIT [INPUT]}")
  in=${2:-$input}
  tree="$data/before-$base"
  if [[ ! -x "$tree/build/release/tools/bonafide" ]]; then
    rm -rf "$tree"
    git worktree prune
    git worktree add --force --detach "$tree" "$base" > /dev/null
    (cd "$tree" && cmake --preset release > /dev/null && cmake --build --preset release --target bonafide)
  fi
  echo
  echo "== before ($base) / after ($(git rev-parse --short HEAD)): bonafide scan of $in"
  local db="$data/before-after.db" t i which cli pass start end
  for t in 1 2; do
    declare -A times=()
    for i in 1 2 3 4 5; do
      for which in before after; do
        cli=build/release/tools/bonafide
        [[ $which == before ]] && cli="$tree/build/release/tools/bonafide"
        rm -f "$db" "$db-wal" "$db-shm"
        for pass in first rescan; do
          start=$EPOCHREALTIME  # bash's clock: no `date` process inside the timed span
          "$cli" scan --rules "${RULES:-examples/rules}" --outbox "$db" --rejects '' \
            --progress=false --threads "$t" "$in" > /dev/null
          end=$EPOCHREALTIME
          times[$which-$pass]+="$(echo "$end - $start" | bc) "
        done
      done
    done
    for pass in first rescan; do
      local b a bmin amin
      b=$(tr ' ' '\n' <<< "${times[before-$pass]}" | grep . | sort -n | sed -n 3p)
      a=$(tr ' ' '\n' <<< "${times[after-$pass]}" | grep . | sort -n | sed -n 3p)
      bmin=$(tr ' ' '\n' <<< "${times[before-$pass]}" | grep . | sort -n | head -1)
      amin=$(tr ' ' '\n' <<< "${times[after-$pass]}" | grep . | sort -n | head -1)
      printf 'threads %s, %-6s: before %.3f s, after %.3f s (medians of 5): after/before %.2fx; minimums %.3f s, %.3f s: %.2fx\n' \
        "$t" "$pass" "$b" "$a" "$(echo "scale=4; $a / $b" | bc)" "$bmin" "$amin" \
        "$(echo "scale=4; $amin / $bmin" | bc)"
    done
    unset times
  done
  rm -f "$db" "$db-wal" "$db-shm"
}
if [[ "$what" == "before-after" ]]; then
  run_before_after "${2:-}" "${3:-}"
  exit 0
fi

# ---- ripgrep: whole processes, `bonafide scan` against `rg`, on short listings ---------------
# 500k listings of about 230 bytes (short titles, few descriptions, about 3% flagged), the
# shape of a marketplace's nightly export. rg gets the rules' brand, alias, keyword and cue
# phrases as literals (`rg -c -i -F -f`, 1 thread; written by bonafide_bench), bonafide
# scans with 2 threads into a fresh SQLite outbox with a warm cache directory (the night's
# second start). Both are whole processes, started and timed here, in turns, 5 rounds
# (medians). Then start-up: an empty input into a fresh outbox, 11 runs (median).
run_ripgrep() {
  local short="$data/short-500k.jsonl" cache="$data/ripgrep-cache" db="$data/ripgrep.db"
  local empty="$data/empty.jsonl" patterns="$data/bonafide-bench-rg-literal.txt"
  [[ -f "$short" ]] || build/release/tools/generate_listings --rules examples/rules \
    --count 500000 --seed 1 --mix nightly --record_bytes 230 --out "$short" --nosummary
  : > "$empty"
  build/release/bench/bonafide_bench --rules examples/rules --input "$short" --rows rg \
    --repeats 1 --work-dir "$data" --keep-rg-patterns > /dev/null
  local scan=(build/release/tools/bonafide scan --rules examples/rules --outbox "$db"
    --rejects '' --progress=false --cache-dir "$cache" --threads 2)
  "${scan[@]}" "$empty" > /dev/null  # fills the cache
  elapsed() {  # runs "$@" with a fresh outbox, prints its wall time in seconds
    rm -f "$db" "$db-wal" "$db-shm"
    local start end
    # Bash's own clock: a `date` process inside the timed span added ~14 ms to each figure.
    start=$EPOCHREALTIME
    "$@" > /dev/null
    end=$EPOCHREALTIME
    printf '%.3f' "$(echo "$end - $start" | bc)"
  }
  median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
  echo
  echo "== whole processes on $short ($(du -m "$short" | cut -f1) MB)"
  local rg_times="" scan_times="" startup_times="" i
  for i in 1 2 3 4 5; do
    rg_times+="$(elapsed rg --no-config -c -i -F -f "$patterns" "$short") "
    scan_times+="$(elapsed "${scan[@]}" "$short") "
  done
  local noop_times=""
  for i in $(seq 11); do
    startup_times+="$(elapsed "${scan[@]}" "$empty") "
    noop_times+="$(elapsed /bin/true) "  # what starting and timing any process costs here
  done
  local rg_s scan_s startup_s noop_s
  rg_s=$(median <<< "$rg_times")
  scan_s=$(median <<< "$scan_times")
  startup_s=$(median <<< "$startup_times")
  echo "rg -c -i -F -f (literals, 1 thread): ${rg_s} s (median of 5: ${rg_times})"
  echo "bonafide scan (2 threads, fresh outbox): ${scan_s} s (median of 5: ${scan_times})," \
    "$(echo "scale=2; $scan_s / $rg_s" | bc)x rg, $(echo "500000 / $scan_s" | bc) listings/s"
  noop_s=$(median <<< "$noop_times")
  echo "bonafide scan of an empty input (start-up): ${startup_s} s (median of 11);" \
    "/bin/true timed the same way: ${noop_s} s"
  rm -f "$db" "$db-wal" "$db-shm" "$patterns" "$data/bonafide-bench-rg-regex.txt"
}
if [[ "$what" == "ripgrep" ]]; then
  run_ripgrep
  exit 0
fi
# ---- end of ripgrep --------------------------------------------------------------------------

# ---- memory: peak RSS of the 2-thread scan on 1M and 5M listings ----------------------------
# Memory must stay flat as the dump grows (the target: under 512 MiB for 5M listings). Each scan
# runs in its own process (bonafide_bench forks one per configuration).
run_memory() {
  local big="$data/nightly-5m.jsonl"
  if [[ ! -f "$big" ]]; then
    build/release/tools/generate_listings --rules examples/rules --count 5000000 --seed 1 \
      --mix nightly --out "$big" --nosummary
  fi
  echo
  echo "== memory: bonafide scan (2 threads) on 1M and 5M listings"
  for dump in "$input" "$big"; do
    build/release/bench/bonafide_bench --rules examples/rules --input "$dump" --rows scan \
      --threads 2 --repeats 1 --json "bench/results/$stamp-memory-$(basename "$dump" .jsonl).json"
  done
}
if [[ "$what" == "memory" ]]; then
  run_memory
  exit 0
fi
# ---- end of memory ---------------------------------------------------------------------------

echo
echo "== end to end: $input"
echo "cat to /dev/null: $( { /usr/bin/time -f '%e' cat "$input" > /dev/null; } 2>&1 ) s"
# Also the text backends (match rows) and ripgrep as the grep-class peer (rg rows).
build/release/bench/bonafide_bench --rules examples/rules --input "$input" --threads 1,2 \
  --repeats 3 --json "bench/results/$stamp-e2e.json"

[[ "$what" == "e2e" ]] && exit 0

echo
echo "== micro-benchmarks"
for bench in scanner_bench text_match_bench listing_input_bench normalize_bench outbox_bench \
    pdq_bench image_decode_bench hamming_index_bench; do
  build/release/bench/$bench --benchmark_min_time=0.5 \
    --benchmark_out="bench/results/$stamp-$bench.json" --benchmark_out_format=json
done

run_memory  # the memory block, defined above
run_embed   # the embedded-path block, defined above
run_images  # the images block, defined above
