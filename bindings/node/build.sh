#!/usr/bin/env bash
# Build the Node addon against a built libicms, without node-gyp (nothing is
# downloaded: Node's headers come from /usr/include/node):
#
#   bash bindings/node/build.sh [BUILD_DIR]      (default: build/)
#
# Writes BUILD_DIR/bindings/node/ as a loadable package: package.json, lib/,
# native.node, events.node and async.node (linked to BUILD_DIR/src/libicms.so
# with an rpath), so that require('BUILD_DIR/bindings/node') works.
# ICMS_NODE_CFLAGS adds flags to async.node's compile (e.g. -fsanitize=address).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-${ICMS_BUILD_DIR:-$ROOT/build}}
# shellcheck source=bindings/lib.sh
. "$ROOT/bindings/lib.sh"
bindings_libicms "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
NODE_INCLUDE=${NODE_INCLUDE:-/usr/include/node}
LIB="$BUILD/src"
if [ ! -f "$NODE_INCLUDE/node.h" ]; then
  echo "build.sh: no $NODE_INCLUDE/node.h: install Node's headers (Debian: libnode-dev)" >&2
  exit 1
fi
OUT="$BUILD/bindings/node"
mkdir -p "$OUT/lib"
swig -javascript -node -c++ -Wall -I"$ROOT/include" -I"$ROOT/bindings/swig" \
  -outdir "$OUT" -o "$OUT/icms_wrap.cxx" "$ROOT/bindings/swig/icms.i"
# SWIG's generated code is not ours: warnings on, but not -Werror.
${CXX:-g++} -shared -fPIC -O1 -g -std=gnu++17 -DBUILDING_NODE_EXTENSION \
  -DNODE_GYP_MODULE_NAME=native -I"$NODE_INCLUDE" -I"$ROOT/include" -I"$ROOT/bindings/common" \
  -Wno-unused-parameter -Wno-deprecated-declarations \
  "$OUT/icms_wrap.cxx" -o "$OUT/native.node" -L"$LIB" -licms -Wl,-rpath,"$LIB"
# The push subscriptions' N-API addon (ours: -Werror like the library).
${CC:-cc} -shared -fPIC -O2 -g -std=gnu11 -pthread -Wall -Wextra -Wno-unused-parameter -Werror \
  -I"$NODE_INCLUDE" -I"$ROOT/include" -I"$ROOT/bindings/common" \
  "$ROOT/bindings/node/src/events.c" -o "$OUT/events.node" -L"$LIB" -licms -Wl,-rpath,"$LIB"
# The promise-returning network calls' N-API addon (ours: the library's warning
# set, -Werror).
${CC:-cc} -shared -fPIC -O2 -g -std=gnu11 -pthread -Wall -Wextra -Wpedantic -Wshadow -Wconversion \
  -Wno-sign-conversion -Wstrict-prototypes -Wmissing-prototypes -Werror ${ICMS_NODE_CFLAGS:-} \
  -I"$NODE_INCLUDE" -I"$ROOT/include" -I"$ROOT/bindings/common" \
  "$ROOT/bindings/node/src/async.c" -o "$OUT/async.node" -L"$LIB" -licms -Wl,-rpath,"$LIB"
cp "$ROOT"/bindings/node/lib/*.js "$OUT/lib/"
cp "$ROOT/bindings/node/package.json" "$OUT/"
echo "node binding: $OUT"
