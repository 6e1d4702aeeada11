#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running hub: installs what
# is missing, builds, starts a hub on a private instance, subscribers on every
# transport, publishes, shows what each received, and shuts down cleanly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
install_missing
mount_mqueue
configure_and_build "$BUILD_DIR"

BIN=$BUILD_DIR/bin
WORK=$(mktemp -d /tmp/ipchub-demo.XXXXXX)
export IPCHUB_INSTANCE=demo-$$ IPCHUB_RUNTIME_DIR=$WORK/run
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -n "${HUB:-}" ] && kill -TERM "$HUB" 2>/dev/null && wait "$HUB" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo
echo "==> starting the hub (instance $IPCHUB_INSTANCE), with one child on the pipe transport"
"$BIN/myipchub" --spawn "myipcsub --backend pipe --channel demo --count 3" >"$WORK/hub.out" 2>"$WORK/hub.err" &
HUB=$!
for _ in $(seq 100); do grep -q "Listening" "$WORK/hub.out" 2>/dev/null && break; sleep 0.05; done
cat "$WORK/hub.out"
BACKENDS=$(sed -n 's/^Backends available: //p' "$WORK/hub.out" | tr -d ',')

echo
echo "==> one subscriber per transport on channel 'demo'"
for b in $BACKENDS; do
    [ "$b" = pipe ] && continue # pipe clients are children the hub starts (see docs/transports/pipe.md)
    "$BIN/myipcsub" --backend "$b" --channel demo --count 3 >"$WORK/sub-$b.out" 2>"$WORK/sub-$b.err" &
    PIDS+=($!)
    for _ in $(seq 100); do grep -q "Subscribed" "$WORK/sub-$b.err" 2>/dev/null && break; sleep 0.05; done
    echo "    $(cat "$WORK/sub-$b.err")"
done

for _ in $(seq 100); do grep -q "Subscribed to \[demo\] via pipe" "$WORK/hub.err" 2>/dev/null && break; sleep 0.05; done
echo "    (the hub's child) $(grep -o "Subscribed to \[demo\] via pipe.*" "$WORK/hub.err")"

echo
echo "==> publishing three lines over the socket transport: Hello World / binary-safe, any size / bye"
printf 'Hello World\nbinary-safe, any size up to 1 MiB\nbye\n' | "$BIN/myipcpub" --backend socket --channel demo

echo
for b in $BACKENDS; do
    [ "$b" = pipe ] && continue
    wait "${PIDS[0]}" || true
    PIDS=("${PIDS[@]:1}")
    echo "==> subscriber on $b received:"
    sed 's/^/    /' "$WORK/sub-$b.out"
done

echo "==> the pipe child (its stdout reaches the hub's log):"
grep "pipe: spawn-1: " "$WORK/hub.err" | sed 's/^.*pipe: /    pipe: /'

echo
echo "==> stopping the hub with SIGTERM"
kill -TERM "$HUB"
wait "$HUB"
HUB=
grep -v "pipe: spawn-1" "$WORK/hub.err" | sed 's/^/    /'
left=$(ls -A "$WORK/run" 2>/dev/null; ls /dev/shm /dev/mqueue 2>/dev/null | grep "$IPCHUB_INSTANCE" || true)
if [ -z "$left" ]; then echo "==> nothing left behind (runtime dir, /dev/shm, /dev/mqueue are clean)"; else echo "left behind: $left"; exit 1; fi
