#!/usr/bin/env bash
# Formats every C++ file of the repository with the checked-in .clang-format (clang-format 14,
# Debian's clang-format package).
#
# Usage: bash tools/format.sh          rewrite the files in place
#        bash tools/format.sh --check  change nothing; list the files that are not formatted
#                                      and exit 1 if there are any (what tools/test.sh runs)
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t files < <(git ls-files '*.cc' '*.h')
case "${1:-}" in
  "")
    clang-format -i "${files[@]}"
    ;;
  --check)
    unformatted=()
    for f in "${files[@]}"; do
      clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
    done
    if ((${#unformatted[@]})); then
      echo "format.sh: not formatted (run bash tools/format.sh):" >&2
      printf '  %s\n' "${unformatted[@]}" >&2
      exit 1
    fi
    echo "format.sh: all ${#files[@]} C++ files formatted"
    ;;
  *)
    echo "format.sh: unknown argument: $1 (try --check)" >&2
    exit 2
    ;;
esac
