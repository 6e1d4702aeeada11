#!/usr/bin/env bash
# expect_rejected.sh CHECKER MODE HEADER_DIR LIB EXPECTED...
#
# Proves that check_exports.sh can fail: runs it on LIB, a library built to
# export what it must not, and passes only when the checker exits 1 and its
# report contains every EXPECTED line fragment (e.g. "T ipchub::internal_detail::stray_function").
set -uo pipefail
[ $# -ge 5 ] || { echo "usage: $0 CHECKER MODE HEADER_DIR LIB EXPECTED..." >&2; exit 2; }
checker=$1 mode=$2 headers=$3 lib=$4
shift 4
report=$(bash "$checker" "$mode" "$headers" "$lib")
rc=$?
echo "$report"
[ "$rc" = 1 ] || { echo "FAIL: the checker exited with $rc on $lib, expected 1"; exit 1; }
for expected in "$@"; do
    grep -qF -- "$expected" <<<"$report" || { echo "FAIL: the checker's report does not name: $expected"; exit 1; }
done
echo "PASS: the checker rejects $(basename "$lib") and names all $# expected symbols"
