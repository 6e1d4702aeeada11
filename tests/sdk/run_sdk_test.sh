#!/usr/bin/env bash
# run_sdk_test.sh BUILD_DIR SOURCE_DIR
#
# Installs BUILD_DIR to a temporary prefix and uses nothing else from the
# build or source tree afterwards except the two example folders: builds
# examples/tcp-plugin with find_package(ipchub) and examples/client-c with
# pkg-config, adds the tcp plugin to the prefix's plugins.json, starts the
# installed hub on a private instance and runtime dir, and checks that tcp
# reaches every other backend the hub offers (both directions) and that the C
# client works. Only loopback addresses are used. Prints PASS or FAIL.
set -euo pipefail

BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
WORK=$(mktemp -d /tmp/ipchub-sdk-test.XXXXXX)
PREFIX=$WORK/prefix
RUN=$WORK/run
INSTANCE=sdk-test-$$
HUB_PID=""
STARTED=() # every background PID this script started, and only those

cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: sdk test: $*"
    for f in "$WORK"/*.out "$WORK"/*.err "$WORK"/*.log; do
        [ -s "$f" ] && { echo "---- $(basename "$f")"; tail -n 30 "$f"; }
    done
    exit 1
}
step() { echo "== $*"; }

# ---- 1. install ----
step "install $BUILD to $PREFIX"
cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log" 2>&1 || fail "cmake --install failed"
for f in bin/myipchub bin/myipcpub bin/myipcsub lib/libipchub.so lib/ipchub/plugins/libipchub-socket.so \
         etc/ipchub/plugins.json include/ipchub/plugin.h include/ipchub/protocol.h include/ipchub/client.hpp \
         include/ipchub/client.h include/ipchub/export.h lib/cmake/ipchub/ipchubConfig.cmake lib/cmake/ipchub/ipchubConfigVersion.cmake \
         lib/cmake/ipchub/ipchubTargets.cmake lib/pkgconfig/ipchub.pc \
         lib/libipchub_plugin_kit.a lib/cmake/ipchub/ipchubPluginKitTargets.cmake lib/cmake/ipchub/ipchub-plugin.map \
         include/ipchub/plugin_kit/plugin_support.hpp include/ipchub/plugin_kit/listener.hpp \
         include/ipchub/plugin_kit/connection_set.hpp include/ipchub/plugin_kit/stream_io.hpp; do
    [ -e "$PREFIX/$f" ] || fail "not installed: $f"
done
# The kit's testing/ helpers are for the stock transports' own tests only.
testing=$(find "$PREFIX/include" -path '*testing*' -o -name 'hub_init_probe.hpp')
[ -z "$testing" ] || fail "the kit's testing helpers are installed: $testing"
# The runtime shared by hub and libipchub (sdk/runtime) is internal: never
# installed, never named by the CMake package or pkg-config.
internal=$(find "$PREFIX" -name '*ipchub_runtime*'; grep -rl ipchub_runtime "$PREFIX/lib/cmake" "$PREFIX/lib/pkgconfig" || true)
[ -z "$internal" ] || fail "the internal runtime library leaks into the install: $internal"
# The installed programs must find libipchub relative to themselves, never in the build tree.
for f in bin/myipchub bin/myipcpub bin/myipcsub; do
    runpath=$(readelf -d "$PREFIX/$f" | sed -n 's/.*\(RUNPATH\|RPATH\).*\[\(.*\)\]/\2/p')
    [ "$runpath" = '$ORIGIN/../lib' ] || fail "$f has RUNPATH '$runpath', expected \$ORIGIN/../lib"
done
# (myipcpub: the hub itself links the internal runtime statically and needs
# no libipchub.)
resolved=$(ldd "$PREFIX/bin/myipcpub" | awk '/libipchub\.so/ {print $3}')
[ -n "$resolved" ] && [ "$(realpath "$resolved")" = "$(realpath "$PREFIX/lib/libipchub.so")" ] ||
    fail "installed myipcpub resolves libipchub to '$resolved', not $PREFIX/lib"

# ---- 2. out-of-tree tcp plugin: find_package(ipchub) only ----
step "build examples/tcp-plugin against the prefix (ipchub::plugin_kit)"
cmake -S "$SRC/examples/tcp-plugin" -B "$WORK/tcp-build" -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS=-Werror >"$WORK/tcp-build.log" 2>&1 ||
    fail "configuring the tcp plugin failed"
cmake --build "$WORK/tcp-build" >>"$WORK/tcp-build.log" 2>&1 || fail "building the tcp plugin failed"
# IPCHUB_PLUGIN_INSTALL_DIR is relative: the plugin goes under whatever
# prefix it is installed to, not into the ipchub prefix it was built against.
OTHER=$WORK/other-prefix
cmake --install "$WORK/tcp-build" --prefix "$OTHER" >>"$WORK/tcp-build.log" 2>&1 ||
    fail "installing the tcp plugin to a second prefix failed"
[ -f "$OTHER/lib/ipchub/plugins/libipchub-tcp.so" ] ||
    fail "cmake --install --prefix $OTHER did not put the tcp plugin into $OTHER/lib/ipchub/plugins: $(find "$OTHER" -type f)"
[ ! -e "$PREFIX/lib/ipchub/plugins/libipchub-tcp.so" ] ||
    fail "cmake --install --prefix $OTHER wrote the tcp plugin into the ipchub prefix $PREFIX"
echo "   ok: cmake --install --prefix P puts the tcp plugin under P"
cmake --install "$WORK/tcp-build" --prefix "$PREFIX" >>"$WORK/tcp-build.log" 2>&1 || fail "installing the tcp plugin failed"
TCP_SO=$PREFIX/lib/ipchub/plugins/libipchub-tcp.so
[ -f "$TCP_SO" ] || fail "the tcp plugin was not installed into $PREFIX/lib/ipchub/plugins"
! readelf -d "$TCP_SO" | grep NEEDED | grep -q libipchub || fail "the tcp plugin links libipchub (plugins must not)"
# Every dynamic symbol of every type (T, W, V, u, B, D, ...), not only code:
# the version script must keep the kit's and libstdc++'s out too.
exported=$(nm -D --defined-only "$TCP_SO" | awk '{print $NF}')
[ "$exported" = "ipchub_plugin_entry" ] || fail "the tcp plugin exports more than its entry point: $(echo $exported)"

# ---- 3. out-of-tree C client: pkg-config only ----
step "build examples/client-c against the prefix (pkg-config)"
cp -r "$SRC/examples/client-c" "$WORK/client-c"
rm -f "$WORK/client-c/pubsub_c"
PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig make -C "$WORK/client-c" >"$WORK/client-c-build.log" 2>&1 ||
    fail "building the C client failed"

# ---- 4. plugins.json with tcp on a free loopback port ----
port=""
for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 40000))
    if ! ss -Hltn "sport = :$candidate" | grep -q .; then port=$candidate; break; fi
done
[ -n "$port" ] || fail "no free loopback port found"
CONFIG=$PREFIX/etc/ipchub/plugins.json
cp "$CONFIG" "$WORK/plugins.json.installed"
jq --argjson port "$port" \
    '.plugins += [{"name": "tcp", "file": "libipchub-tcp.so", "enabled": true, "required": true,
                   "config": {"address": "127.0.0.1", "port": $port, "allow_non_loopback": false}}]' \
    "$WORK/plugins.json.installed" >"$CONFIG" || fail "jq could not edit plugins.json"

# ---- 5. the installed hub, finding its plugins and config on its own ----
# No IPCHUB_CONFIG / IPCHUB_PLUGIN_DIR / LD_LIBRARY_PATH: everything comes from
# the prefix the programs live in.
unset IPCHUB_CONFIG IPCHUB_PLUGIN_DIR LD_LIBRARY_PATH
export IPCHUB_INSTANCE=$INSTANCE IPCHUB_RUNTIME_DIR=$RUN
cd "$WORK"
# A non-loopback address without "allow_non_loopback" is refused while the
# config is read: no socket is ever created for it.
jq '.plugins = [.plugins[] | select(.name == "tcp") | .config.address = "0.0.0.0"]' "$CONFIG" >"$WORK/refuse.json"
rc=0
IPCHUB_CONFIG=$WORK/refuse.json "$PREFIX/bin/myipchub" >"$WORK/refuse.out" 2>"$WORK/refuse.err" || rc=$?
[ "$rc" = 1 ] || fail "a hub whose required tcp plugin is configured for 0.0.0.0 exited with $rc, expected 1"
grep -q "refusing non-loopback address 0.0.0.0:$port" "$WORK/refuse.err" ||
    fail "no refusal message for a non-loopback address"
echo "   ok: non-loopback address refused without allow_non_loopback"
step "start $PREFIX/bin/myipchub (instance $INSTANCE, tcp on 127.0.0.1:$port)"
"$PREFIX/bin/myipchub" >"$WORK/hub.out" 2>"$WORK/hub.err" &
HUB_PID=$!
STARTED+=("$HUB_PID")
for _ in $(seq 1 100); do
    grep -q "Listening for connections" "$WORK/hub.out" 2>/dev/null && break
    kill -0 "$HUB_PID" 2>/dev/null || fail "the installed hub exited at start"
    sleep 0.1
done
grep -q "Listening for connections" "$WORK/hub.out" || fail "the installed hub did not start"
grep -q "config $CONFIG" "$WORK/hub.err" || fail "the hub did not pick up $CONFIG by itself"
backends=$(sed -n 's/^Backends available: //p' "$WORK/hub.out" | tr -d ' ' | tr ',' ' ')
echo "   backends: $backends"
[[ " $backends " == *" tcp "* ]] || fail "the hub does not offer tcp"
[[ " $backends " == *" socket "* ]] || fail "the hub does not offer socket"

# ---- 6. tcp <-> every other backend, both directions ----
sub_pid=""
pubsub() { # pubsub FROM TO
    local from=$1 to=$2 channel="$1-to-$2" tag="$1-$2"
    "$PREFIX/bin/myipcsub" --backend "$to" --channel "$channel" --count 2 >"$WORK/sub-$tag.out" 2>"$WORK/sub-$tag.err" &
    sub_pid=$!
    STARTED+=("$sub_pid")
    for _ in $(seq 1 100); do
        grep -q "Subscribed to" "$WORK/sub-$tag.err" 2>/dev/null && break
        kill -0 "$sub_pid" 2>/dev/null || fail "subscriber over $to exited early"
        sleep 0.05
    done
    grep -q "Subscribed to" "$WORK/sub-$tag.err" || fail "subscriber over $to did not subscribe"
    printf 'hello from %s\nbinary-safe line 2\n' "$from" |
        "$PREFIX/bin/myipcpub" --backend "$from" --channel "$channel" >"$WORK/pub-$tag.out" 2>"$WORK/pub-$tag.err" ||
        fail "publisher over $from failed"
    local rc=0
    for _ in $(seq 1 100); do kill -0 "$sub_pid" 2>/dev/null || break; sleep 0.05; done
    wait "$sub_pid" || rc=$?
    [ "$rc" = 0 ] || fail "subscriber over $to exited with $rc"
    expected=$(printf '[%s] hello from %s\n[%s] binary-safe line 2' "$channel" "$from" "$channel")
    [ "$(cat "$WORK/sub-$tag.out")" = "$expected" ] || fail "$from -> $to: got '$(cat "$WORK/sub-$tag.out")'"
    echo "   ok: $from -> $to"
}
for b in $backends; do
    [ "$b" = tcp ] && continue
    # pipe serves only children the hub spawns: no client can connect on its own.
    [ "$b" = pipe ] && { echo "   skip: pipe (spawned children only)"; continue; }
    pubsub tcp "$b"
    pubsub "$b" tcp
done
pubsub tcp tcp

# ---- 7. the C client over tcp and socket ----
step "run the C client"
"$WORK/client-c/pubsub_c" socket tcp c-demo 5 >"$WORK/client-c.out" 2>"$WORK/client-c.err" || fail "pubsub_c socket<-tcp failed"
grep -q "^\[c-demo\] message 4 from C$" "$WORK/client-c.out" || fail "pubsub_c printed no messages"
grep -q "5 messages tcp -> socket OK" "$WORK/client-c.out" || fail "pubsub_c did not report success"
"$WORK/client-c/pubsub_c" tcp socket c-demo2 3 >>"$WORK/client-c.out" 2>>"$WORK/client-c.err" || fail "pubsub_c tcp<-socket failed"
cat "$WORK/client-c.out" | sed 's/^/   /'

# ---- 8. shutdown, nothing left ----
step "SIGTERM the hub"
kill -TERM "$HUB_PID"
rc=0
for _ in $(seq 1 100); do kill -0 "$HUB_PID" 2>/dev/null || break; sleep 0.05; done
wait "$HUB_PID" || rc=$?
[ "$rc" = 0 ] || fail "the hub exited with $rc after SIGTERM"
left=$(find "$RUN" -mindepth 1 2>/dev/null; ls /dev/shm /dev/mqueue 2>/dev/null | grep -F "$INSTANCE" || true)
[ -z "$left" ] || fail "left behind: $left"
if ss -Hltn "sport = :$port" | grep -q .; then fail "port $port still listening after shutdown"; fi
for pid in "${STARTED[@]}"; do
    kill -0 "$pid" 2>/dev/null && fail "process $pid (started by this test) still runs"
done
echo "PASS: sdk test (install, find_package tcp plugin, pkg-config C client, tcp <-> {$(echo $backends | tr ' ' ',')})"
