#!/usr/bin/env bash
# check_exports.sh library HEADER_DIR LIB
# check_exports.sh plugin  HEADER_DIR PLUGIN...
#
# Lists the dynamic symbols a shared object defines (nm -D --defined-only,
# every symbol type: T, W, V, D, B, R, u, ..., demangled) and fails, naming
# each, on any the public headers in HEADER_DIR/ipchub do not promise:
#
#   library  libipchub: the functions marked IPCHUB_API in client.h, and the
#            members, typeinfo and vtable of the classes marked IPCHUB_API in
#            client.hpp. Also fails when one of those C functions is missing,
#            or the typeinfo of an exported class that derives from another
#            (an exception type that must stay catchable across the library).
#   plugin   a transport: IPCHUB_PLUGIN_ENTRY_SYMBOL of plugin.h, and it must
#            be there.
#
# Prints what it checked; exit status 0 = clean, 1 = violations, 2 = usage.
set -euo pipefail

usage() { echo "usage: $0 library|plugin HEADER_DIR FILE..." >&2; exit 2; }
[ $# -ge 3 ] || usage
mode=$1
headers=$2/ipchub
shift 2

# "TYPE NAME" per defined dynamic symbol, demangled, without symbol versions.
exported_symbols() {
    nm -D --defined-only --demangle "$1" | sed -E 's/^[0-9a-fA-F]* *//; s/@.*$//' | grep -v '^$'
}

allowed=()  # extended regexes a symbol name may match
required=() # exact names that must be exported
case $mode in
library)
    for f in client.h client.hpp; do [ -f "$headers/$f" ] || { echo "no $headers/$f" >&2; exit 2; }; done
    # IPCHUB_API <type> [*]name(   (the name is on the line that carries the mark)
    while read -r fn; do
        allowed+=("^${fn}\$")
        required+=("$fn")
    done < <(sed -nE 's/^IPCHUB_API[^(]*[ *]([A-Za-z_][A-Za-z0-9_]*)\(.*/\1/p' "$headers/client.h")
    # class IPCHUB_API Name [: public Base]
    while read -r cls base; do
        allowed+=("^ipchub::${cls}::" "^(typeinfo|typeinfo name|vtable) for ipchub::${cls}\$")
        [ -n "$base" ] && required+=("typeinfo for ipchub::${cls}")
    done < <(sed -nE 's/^class IPCHUB_API ([A-Za-z_][A-Za-z0-9_]*)( *: *public *([^ {]+))?.*/\1 \3/p' "$headers/client.hpp")
    ;;
plugin)
    entry=$(sed -nE 's/^#define IPCHUB_PLUGIN_ENTRY_SYMBOL "([^"]+)".*/\1/p' "$headers/plugin.h")
    [ -n "$entry" ] || { echo "no IPCHUB_PLUGIN_ENTRY_SYMBOL in $headers/plugin.h" >&2; exit 2; }
    allowed+=("^${entry}\$")
    required+=("$entry")
    ;;
*) usage ;;
esac
[ ${#required[@]} -gt 0 ] || { echo "found no public API in $headers" >&2; exit 2; }
pattern=$(IFS='|'; echo "${allowed[*]}")

status=0
for lib in "$@"; do
    [ -f "$lib" ] || { echo "FAIL: $lib does not exist"; status=1; continue; }
    symbols=$(exported_symbols "$lib")
    count=$(printf '%s\n' "$symbols" | grep -c . || true)
    stray=$(printf '%s\n' "$symbols" | awk '{t=$1; $1=""; sub(/^ /, ""); print t "\t" $0}' |
        awk -F'\t' -v re="$pattern" '$2 !~ re {print "    " $1 " " $2}')
    missing=""
    for name in "${required[@]}"; do
        printf '%s\n' "$symbols" | cut -d' ' -f2- | grep -qxF "$name" || missing+="    $name"$'\n'
    done
    if [ -z "$stray" ] && [ -z "$missing" ]; then
        echo "ok: $(basename "$lib") exports $count symbols, all promised by $mode headers"
        continue
    fi
    status=1
    echo "FAIL: $lib ($count exported symbols)"
    [ -z "$stray" ] || printf '  exported but not in the public headers:\n%s\n' "$stray"
    [ -z "$missing" ] || printf '  promised by the public headers but not exported:\n%s' "$missing"
done
exit $status
