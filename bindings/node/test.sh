#!/usr/bin/env bash
# The Node binding's suite (scripts/test.sh's "node" stage):
#
#   bash bindings/node/test.sh [BUILD_DIR]     (default: build/)
#
# Builds the addon against BUILD_DIR/src/libicms.so (build.sh, no node-gyp),
# runs `node --test` and the example.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-${ICMS_BUILD_DIR:-$ROOT/build}}
bash "$ROOT/bindings/node/build.sh" "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
export ICMS_NODE_ADDON="$BUILD/bindings/node/native.node"
cd "$ROOT/bindings/node"
node --test test/
node examples/end_to_end.js >/dev/null
node examples/push_events.js >/dev/null
echo "node binding: suite and example passed"
