#!/usr/bin/env bash
# Runs a hub under Valgrind memcheck while clients of every transport
# subscribe and publish, stops it with SIGTERM, and fails on any memory
# error or leak in the hub (plugins included).
# Usage: valgrind_hub.sh BUILD_DIR [more myipchub options, e.g. --spin-us 1000]
set -euo pipefail
BIN=$1/bin
shift
HUB_ARGS=("$@")
WORK=$(mktemp -d /tmp/ipchub-valgrind.XXXXXX)
export IPCHUB_INSTANCE=vg-$$ IPCHUB_RUNTIME_DIR=$WORK/run
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -n "${HUB:-}" ] && kill -KILL "$HUB" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --log-file="$WORK/valgrind.log" "$BIN/myipchub" -q "${HUB_ARGS[@]}" \
    --spawn "myipcsub --backend pipe --channel vg --count 20" >"$WORK/hub.out" 2>"$WORK/hub.err" &
HUB=$!
for _ in $(seq 300); do grep -q "Listening" "$WORK/hub.out" 2>/dev/null && break; sleep 0.1; done
for b in socket fifo mqueue shm; do
    "$BIN/myipcsub" --backend "$b" --channel vg --count 20 >"$WORK/sub-$b.out" 2>"$WORK/sub-$b.err" &
    PIDS+=($!)
    for _ in $(seq 300); do grep -q "Subscribed" "$WORK/sub-$b.err" 2>/dev/null && break; sleep 0.1; done
done
for b in socket fifo mqueue shm; do
    seq 5 | sed "s/^/$b /" | "$BIN/myipcpub" --backend "$b" --channel vg --quiet
done
for pid in "${PIDS[@]}"; do wait "$pid"; done
PIDS=()
kill -TERM "$HUB"
status=0
wait "$HUB" || status=$?
HUB=
if [ "$status" -ne 0 ]; then
    echo "valgrind_hub: the hub exited with $status under Valgrind:"
    cat "$WORK/valgrind.log" "$WORK/hub.err"
    exit 1
fi
for b in socket fifo mqueue shm; do
    [ "$(wc -l <"$WORK/sub-$b.out")" -eq 20 ] || { echo "valgrind_hub: $b subscriber got $(wc -l <"$WORK/sub-$b.out") of 20"; exit 1; }
done
echo "valgrind_hub: no memory errors or leaks in the hub${HUB_ARGS[*]:+ (${HUB_ARGS[*]})} (4 transports + a pipe child, 20 messages each)"
