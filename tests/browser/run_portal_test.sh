#!/usr/bin/env bash
# Runs portal_test.mjs (the portal's web page in headless Chromium) when its tools are
# installed: node, Chromium (/usr/bin/chromium, or $BONAFIDE_CHROMIUM) and playwright-core
# in tests/browser/node_modules (tools/install-deps.sh installs all three). When one is
# missing the test is skipped (exit 77, CTest's SKIP_RETURN_CODE), unless
# BONAFIDE_REQUIRE_SERVICES=1 (set by tools/test.sh, so CI never skips it silently): then it fails.
#
# Usage: run_portal_test.sh BONAFIDE_BINARY SOURCE_DIR ARTIFACT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

missing=()
command -v node >/dev/null || missing+=("node (apt-get install nodejs)")
[[ -x "${BONAFIDE_CHROMIUM:-/usr/bin/chromium}" ]] ||
  missing+=("${BONAFIDE_CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)")
[[ -f "$here/node_modules/playwright-core/package.json" ]] ||
  missing+=("playwright-core (npm ci in tests/browser)")
if ((${#missing[@]})); then
  if [[ "${BONAFIDE_REQUIRE_SERVICES:-0}" == 1 ]]; then
    echo "portal browser test: FAILED, missing: ${missing[*]}; run tools/install-deps.sh" \
      "(BONAFIDE_REQUIRE_SERVICES=1 forbids skipping)" >&2
    exit 1
  fi
  echo "portal browser test: SKIPPED, missing: ${missing[*]}; run tools/install-deps.sh"
  exit 77
fi
exec node "$here/portal_test.mjs" "$@"
