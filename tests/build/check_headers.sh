#!/usr/bin/env bash
# Every public header compiles alone, twice in a row (include guard), as C99
# and as C++11, with warnings as errors: hosts include them from either
# language, and SWIG's Node wrapper is C++. A header that declares functions
# must also carry extern "C" guards, which compiling alone cannot show.
#
#   tests/build/check_headers.sh [include-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
inc=${1:-$root/include}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cc=${CC:-gcc}
cxx=${CXX:-g++}
cflags=(-std=c99 -pedantic -Wall -Wextra -Wstrict-prototypes -Werror -fsyntax-only)
cxxflags=(-std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only)

checked=0
failed=0
while IFS= read -r -d '' header; do
  rel=${header#"$inc"/}
  printf '#include "%s"\n#include "%s"\n' "$rel" "$rel" >"$tmp/t.c"
  cp "$tmp/t.c" "$tmp/t.cpp"
  ok=1
  if ! "$cc" "${cflags[@]}" -I"$inc" "$tmp/t.c" 2>"$tmp/err"; then
    echo "FAIL $rel as C99:"; sed 's/^/    /' "$tmp/err"; ok=0
  fi
  if ! "$cxx" "${cxxflags[@]}" -I"$inc" "$tmp/t.cpp" 2>"$tmp/err"; then
    echo "FAIL $rel as C++11:"; sed 's/^/    /' "$tmp/err"; ok=0
  fi
  # A function declaration in a header is marked ICMS_EXTERN (the house rule).
  if grep -Eq '^[[:space:]]*ICMS_EXTERN[[:space:]]' "$header" && ! grep -q 'extern "C"' "$header"; then
    echo "FAIL $rel declares functions but has no extern \"C\" guard"; ok=0
  fi
  checked=$((checked + 1))
  [ "$ok" = 1 ] || failed=$((failed + 1))
done < <(find "$inc" -name '*.h' -print0 | sort -z)

if [ "$checked" = 0 ]; then
  echo "no headers found under $inc"; exit 1
fi
echo "headers: $checked checked as C99 and C++11, $failed failed"
[ "$failed" = 0 ]
