#!/usr/bin/env bash
# CI: meld's exported ONNX models under a real runtime, ONNX Runtime for
# Node (npm's onnxruntime-node ships its own binary), against meld predict
# (check_exports.js). Needs ./meld built. Node and npm are installed from
# Debian when missing; with the npm registry out of reach the check is
# skipped with a message, not failed.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
fi
if ! npm ping --fetch-retries=0 --fetch-timeout=15000 >/dev/null 2>&1; then
    echo "onnxruntime: skipped: the npm registry cannot be reached"
    exit 0
fi
# The package's install script would fetch optional GPU libraries from
# elsewhere; the CPU runtime is in the package itself.
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
node check_exports.js ../../meld
