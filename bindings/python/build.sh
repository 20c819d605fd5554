#!/usr/bin/env bash
# Build the Python binding against a built libicms:
#
#   bash bindings/python/build.sh [BUILD_DIR]      (default: build/)
#
# Writes the importable package to BUILD_DIR/bindings/python/icms/ (the pure
# Python files and the SWIG extension _native*.so, linked to
# BUILD_DIR/src/libicms.so with an rpath), so that
#   PYTHONPATH=BUILD_DIR/bindings/python /usr/bin/python3 -c 'import icms'
# works from the build tree. Uses Debian's /usr/bin/python3 (3.11) and
# python3-dev; the pyenv python3 on PATH is not used.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-${ICMS_BUILD_DIR:-$ROOT/build}}
# shellcheck source=bindings/lib.sh
. "$ROOT/bindings/lib.sh"
bindings_libicms "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
PY=${ICMS_PYTHON:-/usr/bin/python3}
PYCONFIG=${PY}-config
[ -x "$PYCONFIG" ] || PYCONFIG=/usr/bin/python3-config
LIB="$BUILD/src"
OUT="$BUILD/bindings/python"
mkdir -p "$OUT/icms"
swig -python -threads -Wall -I"$ROOT/include" -I"$ROOT/bindings/swig" \
  -outdir "$OUT/icms" -o "$OUT/icms_wrap.c" "$ROOT/bindings/swig/icms.i"
SUFFIX=$("$PYCONFIG" --extension-suffix)
# SWIG's generated code is not ours: warnings on, but not -Werror.
${CC:-cc} -shared -fPIC -O2 -g -std=gnu11 $("$PYCONFIG" --includes) -I"$ROOT/include" -I"$ROOT/bindings/common" \
  -Wno-unused-parameter -Wno-missing-field-initializers \
  "$OUT/icms_wrap.c" -o "$OUT/icms/_native$SUFFIX" \
  -L"$LIB" -licms -Wl,-rpath,"$LIB"
cp "$ROOT"/bindings/python/icms/*.py "$OUT/icms/"
echo "python binding: $OUT/icms"
