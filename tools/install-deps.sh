#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of bonafide from Debian 12's
# repositories. Idempotent: packages already present are left alone. Run as root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libabsl-dev libre2-dev libhyperscan-dev libtbb-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libopencv-features2d-dev libopencv-calib3d-dev  # the local-feature photo stage (ORB, RANSAC)
  libsimdjson-dev libyaml-cpp-dev libsqlite3-dev sqlite3 libicu-dev
  libzstd-dev zlib1g-dev
  libpq-dev  # the PostgreSQL outbox backend (libpq directly)
  postgresql-15  # tests/services/postgresql.sh: a throwaway server for the postgresql label
  libcpp-httplib-dev libssl-dev  # bonafide relay: webhooks over http(s), HMAC-SHA256 signatures
  librdkafka-dev  # bonafide consume: the Kafka consumer (its tests use the library's mock cluster)
  libgtest-dev libgmock-dev libbenchmark-dev
  libopencv-contrib-dev  # img_hash::PHash, the peer in bench/bonafide_image_bench (~150 packages)
  python3 python3-yaml zstd ripgrep
  clang-format clang-tidy  # tools/format.sh --check and tools/lint.sh, run by tools/test.sh
  chromium  # tests/browser: the portal page in the system's headless browser
  slurm-wlm munge procps  # tests/schedulers: a single-node Slurm cluster (pkill kills a task)
)
# tests/browser runs on node and npm. A machine may already have them from another source
# (a nodejs package that bundles npm conflicts with Debian's npm), so they are installed only
# when the commands are missing.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all ${#packages[@]} packages present"

# The browser test's one npm package (tests/browser/package-lock.json), pinned. It drives
# /usr/bin/chromium and must never download a browser of its own.
browser_tests=$(cd "$(dirname "$0")/../tests/browser" && pwd)
wanted=$(node -p "require(process.argv[1]).packages['node_modules/playwright-core'].version" \
  "$browser_tests/package-lock.json")
have=$(node -p "require(process.argv[1]).version" \
  "$browser_tests/node_modules/playwright-core/package.json" 2>/dev/null || true)
if [[ "$have" != "$wanted" ]]; then
  (cd "$browser_tests" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
echo "install-deps: playwright-core $wanted present in tests/browser/node_modules"
