#!/usr/bin/env bash
# The Python binding's suite (scripts/test.sh's "python" stage):
#
#   bash bindings/python/test.sh [BUILD_DIR]     (default: build/)
#
# Builds the SWIG module against BUILD_DIR/src/libicms.so (build.sh), runs
# the unittest suite with Debian's /usr/bin/python3 and the example.
# ICMS_BINDINGS_VALGRIND=1 also runs the suite under valgrind memcheck.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-${ICMS_BUILD_DIR:-$ROOT/build}}
bash "$ROOT/bindings/python/build.sh" "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
export PYTHONPATH="$BUILD/bindings/python"
cd "$ROOT"
/usr/bin/python3 -W error::ResourceWarning -m unittest discover -s bindings/python/tests -v
/usr/bin/python3 bindings/python/examples/end_to_end.py >/dev/null
/usr/bin/python3 bindings/python/examples/push_events.py >/dev/null
# Opt-in (about 2 minutes): the C shims under valgrind memcheck, every test
# but the RSS one (valgrind's own allocator makes RSS meaningless).
if [ "${ICMS_BINDINGS_VALGRIND:-0}" = 1 ]; then
  PYTHONMALLOC=malloc PYTHONPATH="$PYTHONPATH:$ROOT/bindings/python/tests" \
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --suppressions="$ROOT/bindings/python/valgrind.supp" --error-exitcode=99 \
    /usr/bin/python3 -m unittest test_bindings.EndToEnd test_bindings.Errors \
    test_bindings.Callbacks test_bindings.Helpers test_auth_audit test_gapcoin test_host_api
fi
echo "python binding: suite and example passed"
