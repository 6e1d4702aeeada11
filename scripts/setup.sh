#!/usr/bin/env bash
# Installs what the build needs (Debian 12 packages) and builds ipchub into
# build/ (or $BUILD_DIR). Sourced by demo.sh and test.sh; safe to run again.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PACKAGES=(g++ cmake make pkg-config nlohmann-json3-dev libcli11-dev doctest-dev valgrind
          clang libclang-rt-14-dev) # clang: the libFuzzer harnesses (scripts/fuzz.sh)

install_missing() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# POSIX message queues are visible (for leak checks and sweeping) only where
# the mqueue file system is mounted; systemd mounts it, a bare container may not.
mount_mqueue() {
    mountpoint -q /dev/mqueue 2>/dev/null && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "==> mounting the mqueue file system on /dev/mqueue"
    $sudo mkdir -p /dev/mqueue && $sudo mount -t mqueue mqueue /dev/mqueue
}

# configure_and_build <build dir> [cmake options...]
configure_and_build() {
    local dir=$1
    shift
    echo "==> building in $dir $*"
    cmake -S "$ROOT" -B "$dir" -DIPCHUB_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j"$(nproc)"
}
