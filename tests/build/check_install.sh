#!/usr/bin/env bash
# Installs a built tree into a fresh temporary prefix and builds the example
# consumer against it the two ways a host would: CMake's find_package(icms)
# (shared and static library) and pkg-config (shared, and the static archive
# with Requires.private/Libs.private). Each program is run. Also checks that
# the installed package carries nothing of the build: no source or build
# paths, no warning or sanitizer flags.
#
#   tests/build/check_install.sh [build-dir]      (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
example=$root/examples/consumer

fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || {
  cat "$tmp/install.log"; fail "cmake --install"; }

pc=$(find "$prefix" -name icms.pc | head -n1)
config=$(find "$prefix" -name icmsConfig.cmake | head -n1)
[ -n "$pc" ] || fail "icms.pc not installed"
[ -n "$config" ] || fail "icmsConfig.cmake not installed"
libdir=$(dirname "$(dirname "$pc")")
for f in "$prefix/include/icms.h" "$prefix/include/icms/common.h" "$libdir/libicms.a" \
         "$libdir/libicms.so" "$(dirname "$config")/icmsConfigVersion.cmake"; do
  [ -e "$f" ] || fail "not installed: ${f#"$prefix"/}"
done

# Nothing of the build may leak into what a consumer reads.
pkgfiles=("$pc" "$(dirname "$config")"/*.cmake)
if grep -l -e "$root" -e "$build" "${pkgfiles[@]}"; then
  fail "installed package files name the source or build tree"
fi
if grep -l -E -e '-Werror|-fsanitize|icms_build_flags|icms_mod_' "${pkgfiles[@]}"; then
  fail "installed package files carry build-only flags or targets"
fi

# 0. The version file: the installed 0.x.y satisfies a request for 0.x only
#    (before 1.0 a minor release may break the ABI; docs/api-conventions.md).
version=$(sed -n 's/^Version:[[:space:]]*//p' "$pc")
IFS=. read -r major minor _ <<<"$version"
mkdir -p "$tmp/version"
cat >"$tmp/version/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(version_probe C)
find_package(icms ${WANT} QUIET)
message(STATUS "icms-found=${icms_FOUND}")
CMAKE
probe() {
  cmake -S "$tmp/version" -B "$tmp/version/b-$1" -DWANT="$1" -DCMAKE_PREFIX_PATH="$prefix" |
    sed -n 's/^-- icms-found=//p'
}
[ "$(probe "$major.$minor")" = 1 ] || fail "find_package(icms $major.$minor) does not accept $version"
[ "$(probe "$major.$((minor + 1))")" != 1 ] || fail "find_package(icms $major.$((minor + 1))) accepts $version"
[ "$(probe "$((major + 1)).0")" != 1 ] || fail "find_package(icms $((major + 1)).0) accepts $version"
echo "install: the package version $version is accepted for $major.$minor only"

# 1. CMake: find_package(icms) with icms::icms and icms::icms_static.
cmake -S "$example" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$tmp/cmake.log" 2>&1 || {
  cat "$tmp/cmake.log"; fail "configuring the consumer with find_package(icms)"; }
cmake --build "$tmp/cmake" >"$tmp/build.log" 2>&1 || {
  cat "$tmp/build.log"; fail "building the consumer with find_package(icms)"; }
"$tmp/cmake/consumer" >"$tmp/out" || { cat "$tmp/out"; fail "cmake consumer (shared) failed"; }
grep -qx ok "$tmp/out" || fail "cmake consumer (shared) did not finish"
# (ldd's output is captured first: grep -q stops reading early, and with
# pipefail ldd's SIGPIPE would fail the test at random.)
deps=$(ldd "$tmp/cmake/consumer")
grep -q "$libdir/libicms.so" <<<"$deps" || fail "cmake consumer does not use the installed libicms.so"
"$tmp/cmake/consumer_static" >"$tmp/out" || { cat "$tmp/out"; fail "cmake consumer (static) failed"; }
deps=$(ldd "$tmp/cmake/consumer_static")
! grep -q libicms <<<"$deps" || fail "consumer_static links libicms.so"
echo "install: find_package(icms): shared and static consumers ran"

# 2. pkg-config, the plain compiler line a Makefile would use.
export PKG_CONFIG_PATH=$(dirname "$pc")
cc=${CC:-gcc}
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror "$example/main.c" -o "$tmp/pc_shared" \
  $(pkg-config --cflags --libs icms) -Wl,-rpath,"$libdir" || fail "pkg-config shared build"
"$tmp/pc_shared" >"$tmp/out" || { cat "$tmp/out"; fail "pkg-config consumer (shared) failed"; }
grep -qx ok "$tmp/out" || fail "pkg-config consumer (shared) did not finish"

# Static archive: its dependencies come from Requires.private and Libs.private.
# (pkg-config --static would also demand static builds of libcurl's own
# dependencies, which Debian does not ship; we link those shared.)
requires=$(pkg-config --print-requires-private icms | awk '{print $1}')
libs_private=$(sed -n 's/^Libs.private:[[:space:]]*//p' "$pc")
# shellcheck disable=SC2046,SC2086
"$cc" -std=c11 -Wall -Wextra -Werror "$example/main.c" -o "$tmp/pc_static" \
  $(pkg-config --cflags icms) "$libdir/libicms.a" \
  $( [ -z "$requires" ] || pkg-config --libs $requires ) $libs_private ||
  fail "pkg-config static build: Requires.private/Libs.private are incomplete"
"$tmp/pc_static" >"$tmp/out" || { cat "$tmp/out"; fail "pkg-config consumer (static) failed"; }
echo "install: pkg-config: shared and static consumers ran"
