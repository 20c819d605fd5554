# Sourced by the bindings' build and test scripts.
#
# bindings_libicms BUILD_DIR: make sure BUILD_DIR/src/libicms.so is built and
# current: an existing CMake build directory gets its icms target brought up
# to date (a no-op after scripts/test.sh's unit stage); a missing one is
# configured first.
bindings_libicms() {
  local build=$1 root
  # Inside a CMake build (-DICMS_PYTHON=ON / -DICMS_NODE=ON) the library is a
  # dependency of the target that runs this script: building it again from
  # here would run a second build in the same tree at the same time.
  if [ -n "${ICMS_BINDINGS_IN_CMAKE:-}" ]; then
    [ -f "$build/src/libicms.so" ] && return 0
    echo "bindings: no $build/src/libicms.so" >&2
    return 1
  fi
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" --log-level=WARNING >/dev/null || return 1
  fi
  cmake --build "$build" --target icms -j "${ICMS_JOBS:-$(nproc 2>/dev/null || echo 2)}" >/dev/null ||
    { echo "bindings: building libicms in $build failed" >&2; return 1; }
  [ -f "$build/src/libicms.so" ] ||
    { echo "bindings: no $build/src/libicms.so after the build" >&2; return 1; }
}
