#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/*_fuzz.cpp) with clang, ASan and UBSan
# into build-fuzz/, and runs each for SECONDS (default 30) on a scratch copy
# of its seed corpus (fuzz/corpus/<name>/), so a run never changes the tree.
# Prints, per harness, the executions and whether it crashed; a crash input
# is kept in build-fuzz/crashes/<name>/ and the script exits 1.
#
#   scripts/fuzz.sh            # every harness, 30 s each (the CI smoke run)
#   scripts/fuzz.sh 600        # ten minutes each
#   FUZZERS=frame_reader scripts/fuzz.sh 60
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
SECONDS_EACH=${1:-30}
FUZZ_DIR=$ROOT/build-fuzz

install_missing

echo "==> building the fuzz harnesses in $FUZZ_DIR"
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$FUZZ_DIR" -DIPCHUB_WERROR=ON -DIPCHUB_FUZZ=ON -DIPCHUB_SANITIZE=fuzzer \
    -DIPCHUB_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" >/dev/null
mapfile -t all < <(cd "$ROOT/fuzz" && ls ./*_fuzz.cpp | sed 's|^\./||; s|_fuzz\.cpp$||')
read -r -a chosen <<< "${FUZZERS:-${all[*]}}"
cmake --build "$FUZZ_DIR" -j"$(nproc)" --target "${chosen[@]/%/_fuzz}"

failed=0
for name in "${chosen[@]}"; do
    work=$(mktemp -d)
    cp -r "$ROOT/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
    mkdir -p "$FUZZ_DIR/crashes/$name"
    log=$FUZZ_DIR/$name.log
    set +e
    "$FUZZ_DIR/fuzz/${name}_fuzz" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$FUZZ_DIR/crashes/$name/" "$work" >"$log" 2>&1
    rc=$?
    set -e
    rm -rf "$work"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        echo "    $name: ${runs:-?} executions in ${SECONDS_EACH} s, no crash"
    else
        failed=1
        echo "    $name: CRASH after ${runs:-?} executions (exit $rc); input in $FUZZ_DIR/crashes/$name/, log $log"
        grep -m5 -E "ERROR|SUMMARY|runtime error" "$log" | sed 's/^/      /' || true
    fi
done
exit $failed
