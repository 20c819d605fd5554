#!/usr/bin/env bash
# The Python binding's suite (scripts/test.sh's "python" stage):
#
#   bash bindings/python/test.sh [BUILD_DIR]     (default: build/)
#
# Builds the SWIG module against BUILD_DIR/src/libicms.so (build.sh), runs
# the unittest suite with Debian's /usr/bin/python3 and the example.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-${ICMS_BUILD_DIR:-$ROOT/build}}
bash "$ROOT/bindings/python/build.sh" "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
export PYTHONPATH="$BUILD/bindings/python"
cd "$ROOT"
/usr/bin/python3 -W error::ResourceWarning -m unittest discover -s bindings/python/tests -v
/usr/bin/python3 bindings/python/examples/end_to_end.py >/dev/null
echo "python binding: suite and example passed"
