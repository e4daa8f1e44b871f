#!/bin/sh
# Installs the Debian/Ubuntu packages given (`make deps` passes what the
# test suite needs), only those missing: directly as root, through sudo
# otherwise, and says what to do when neither is possible. Nothing is run
# when every package is there.
set -eu

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
else
    echo "deps: no dpkg-query: not a Debian/Ubuntu system; install the equivalents of: $*" >&2
    exit 0
fi
if [ -z "$missing" ]; then
    echo "deps: installed already: $*"
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "deps: missing:$missing; installing them needs root: run this as root, or install sudo" >&2
    exit 1
fi
echo "deps: installing:$missing"
$as_root apt-get update
# shellcheck disable=SC2086 # one word per package
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
