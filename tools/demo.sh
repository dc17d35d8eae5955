#!/usr/bin/env bash
# The README's demo: installs the dependencies, builds bonafide, validates the sample rules,
# scans the bundled sample listings into an outbox and prints the summary and a few cases.
# Run from anywhere, as root on a fresh Debian 12 machine (apt-get needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake --preset release > /dev/null
cmake --build --preset release --target bonafide
mkdir -p out
bonafide=build/release/tools/bonafide
echo
echo "== bonafide check --rules examples/rules"
"$bonafide" check --rules examples/rules
echo
echo "== bonafide scan --rules examples/rules examples/listings/*.jsonl"
"$bonafide" scan --rules examples/rules --outbox out/demo-outbox.db \
  --rejects out/demo-rejects.jsonl examples/listings/*.jsonl
echo
echo "== rejected records (out/demo-rejects.jsonl)"
cat out/demo-rejects.jsonl
echo
echo "== the first cases in the outbox (out/demo-outbox.db)"
"$bonafide" outbox list --outbox out/demo-outbox.db --limit 6
