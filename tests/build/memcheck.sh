#!/usr/bin/env bash
# Runs the ctest suites of a build directory under valgrind memcheck. A test
# fails on any memory error and on any definitely lost block; valgrind's report
# for it is printed. Tests labelled no-valgrind, and tests whose command is not
# a program of ours (foreign_tests.py), are left out. Tests see ICMS_VALGRIND=1.
#
#   tests/build/memcheck.sh BUILD_DIR [extra ctest args...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR [ctest args]}" && pwd)
shift
jobs=${ICMS_JOBS:-$(nproc 2>/dev/null || echo 2)}

logs=$build/Testing/Temporary
mkdir -p "$logs"
rm -f "$logs"/MemoryChecker.*.log
# ctest -T wants a DartConfiguration.tcl; the options below say everything, so
# an empty one only quiets its warning.
[ -f "$build/DartConfiguration.tcl" ] || : >"$build/DartConfiguration.tcl"

exclude=()
foreign=$(python3 "$here/foreign_tests.py" "$build")
if [ -n "$foreign" ]; then
  # shellcheck disable=SC2086
  echo "not under valgrind (not a program of ours):" $foreign
  # shellcheck disable=SC2086
  exclude=(-E "^($(echo $foreign | tr ' ' '|'))\$")
fi

options=(
  --error-exitcode=97          # any error fails the test
  --leak-check=full
  --errors-for-leak-kinds=definite
  --show-leak-kinds=definite
  --num-callers=40
  --suppressions="$here/valgrind.supp"
  --gen-suppressions=all       # a ready entry, should a dependency be at fault
)

rc=0
ICMS_VALGRIND=1 ctest --test-dir "$build" -T memcheck -j "$jobs" --output-on-failure \
  --no-tests=error --timeout 1200 -LE no-valgrind "${exclude[@]}" \
  --overwrite MemoryCheckCommand="$(command -v valgrind)" \
  --overwrite "MemoryCheckCommandOptions=${options[*]}" "$@" || rc=1

# ctest names the failing tests; valgrind's own report is in its log file.
for log in "$logs"/MemoryChecker.*.log; do
  [ -f "$log" ] || continue
  if ! grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
    echo "---- valgrind report: $log"
    cat "$log"
    rc=1
  fi
done
exit $rc
