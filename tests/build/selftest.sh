#!/usr/bin/env bash
# The checks of scripts/test.sh must be able to fail: each is run here on a
# small bad input and must reject it, and on a good one and must accept it.
#
#   tests/build/selftest.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

expect() { # expect pass|fail DESCRIPTION command...
  local want=$1 what=$2
  shift 2
  if "$@" >"$tmp/out" 2>&1; then got=pass; else got=fail; fi
  if [ "$got" = "$want" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "SELFTEST FAILED: $what: expected $want, got $got"
    sed 's/^/    /' "$tmp/out"
  fi
}

# Headers.
mkdir -p "$tmp/inc/good/icms" "$tmp/inc/noproto/icms" "$tmp/inc/nocxx/icms" "$tmp/inc/c11/icms"
cp "$root/include/icms/common.h" "$tmp/inc/good/icms/"
for d in noproto nocxx c11; do cp "$root/include/icms/common.h" "$tmp/inc/$d/icms/"; done
printf '#include "icms/common.h"\n' >"$tmp/inc/noproto/icms/a.h"
printf 'int icms_x();\n' >>"$tmp/inc/noproto/icms/a.h"
printf '#include "icms/common.h"\nICMS_EXTERN int icms_x(void);\n' >"$tmp/inc/nocxx/icms/a.h"
printf 'struct s { union { int a; float b; }; };\n' >"$tmp/inc/c11/icms/a.h"
expect pass "headers: common.h alone" bash "$here/check_headers.sh" "$tmp/inc/good"
expect fail "headers: f() without a prototype" bash "$here/check_headers.sh" "$tmp/inc/noproto"
expect fail "headers: no extern \"C\" guard" bash "$here/check_headers.sh" "$tmp/inc/nocxx"
expect fail "headers: C11 anonymous union" bash "$here/check_headers.sh" "$tmp/inc/c11"

# Symbols.
printf 'int icms_a(void) { return 0; }\n' >"$tmp/good.c"
printf 'int icms_a(void) { return 0; }\nint helper(void) { return 1; }\n' >"$tmp/stray.c"
printf 'int icms_a(void) { return 0; }\nint icms__internal(void) { return 1; }\n' >"$tmp/internal.c"
for n in good stray internal; do
  gcc -shared -fPIC -o "$tmp/lib$n.so" "$tmp/$n.c" || exit 1
done
expect pass "symbols: only icms_" bash "$here/check_symbols.sh" "$tmp/libgood.so"
expect fail "symbols: a stray global" bash "$here/check_symbols.sh" "$tmp/libstray.so"
expect fail "symbols: an icms__ internal" bash "$here/check_symbols.sh" "$tmp/libinternal.so"
gcc -c -o "$tmp/internal.o" "$tmp/internal.c" && ar rc "$tmp/libinternal.a" "$tmp/internal.o" || exit 1
gcc -c -o "$tmp/stray.o" "$tmp/stray.c" && ar rc "$tmp/libstray.a" "$tmp/stray.o" || exit 1
expect pass "symbols: archive with icms__ internals" \
  bash "$here/check_symbols.sh" "$tmp/libgood.so" "$tmp/libinternal.a"
expect fail "symbols: archive with a stray global" \
  bash "$here/check_symbols.sh" "$tmp/libgood.so" "$tmp/libstray.a"

# Valgrind: a leak and an uninitialised read fail, a clean program passes, a
# test driven by a shell is left out.
mkdir -p "$tmp/vg"
cat >"$tmp/vg/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(selftest C)
enable_testing()
foreach(t tidy leak uninit)
  add_executable(${t} ${t}.c)
  add_test(NAME ${t} COMMAND ${t})
endforeach()
add_test(NAME driver COMMAND sh -c "exit 0")
CMAKE
printf 'int main(void) { return 0; }\n' >"$tmp/vg/tidy.c"
printf '#include <stdlib.h>\nint main(void) { void *volatile p = malloc(16); p = 0; return p != 0; }\n' \
  >"$tmp/vg/leak.c"
printf '#include <stdio.h>\n#include <stdlib.h>\nint main(void) { int *p = malloc(8); if (p[1] > 0) puts("+"); free(p); return 0; }\n' \
  >"$tmp/vg/uninit.c"
if cmake -S "$tmp/vg" -B "$tmp/vg/b" >/dev/null && cmake --build "$tmp/vg/b" >/dev/null; then
  expect pass "valgrind: clean program" bash "$here/memcheck.sh" "$tmp/vg/b" -R '^tidy$'
  expect fail "valgrind: definite leak" bash "$here/memcheck.sh" "$tmp/vg/b" -R '^leak$'
  expect fail "valgrind: uninitialised read" bash "$here/memcheck.sh" "$tmp/vg/b" -R '^uninit$'
  expect pass "valgrind: shell driver left out" bash -c \
    "python3 '$here/foreign_tests.py' '$tmp/vg/b' | grep -qx driver"
else
  echo "SELFTEST FAILED: cannot build the valgrind sample"
  failed=$((failed + 1))
fi

echo "selftest: $passed passed, $failed failed"
[ "$failed" = 0 ]
