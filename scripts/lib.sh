# Sourced by scripts/build.sh and scripts/test.sh: how a build directory is
# configured and built, so that both scripts produce the same build/ and the
# second one run reuses what the first one built.

# Options every build directory gets. A part that needs a CMake option turned
# on for the README's two commands (a binding, say) adds it here.
ICMS_CMAKE_ARGS=(-DICMS_WERROR=ON)

# Parallel jobs: the machine (and CI's) has 2 cores.
ICMS_JOBS=${ICMS_JOBS:-$(nproc 2>/dev/null || echo 2)}

# icms_configure DIR [cmake args...]
icms_configure() {
  local dir=$1
  shift
  cmake -S "$ICMS_ROOT" -B "$dir" --log-level=WARNING "${ICMS_CMAKE_ARGS[@]}" "$@"
}

# icms_build DIR: every target of DIR.
icms_build() {
  cmake --build "$1" -j "$ICMS_JOBS"
}
