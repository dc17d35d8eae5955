#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of bonafide from Debian 12's
# repositories. Idempotent: packages already present are left alone. Run as root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libabsl-dev libre2-dev libhyperscan-dev libtbb-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libsimdjson-dev libyaml-cpp-dev libsqlite3-dev sqlite3 libicu-dev
  libzstd-dev zlib1g-dev
  libcpp-httplib-dev libssl-dev  # bonafide relay: webhooks over http(s), HMAC-SHA256 signatures
  libgtest-dev libgmock-dev libbenchmark-dev
  libopencv-contrib-dev  # img_hash::PHash, the peer in bench/bonafide_image_bench (~150 packages)
  python3 zstd ripgrep
  clang-format clang-tidy  # tools/format.sh --check and tools/lint.sh, run by tools/test.sh
)

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
