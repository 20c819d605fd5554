#!/usr/bin/env bash
# The README's second command: every test of libicms, stage by stage, stopping
# at the first stage that fails. CI runs exactly this (.ci/run).
#
#   scripts/test.sh              every stage
#   scripts/test.sh unit asan    only the named stages (names below)
#
# Stages, in order (cheap ones first, so a broken build fails in minutes):
#   deps      scripts/install-deps.sh: the Debian packages a fresh machine lacks
#   checks    the checks below reject a bad sample and accept a good one
#             (tests/build/selftest.sh), so a green run means something
#   unit      configure + build build/ with -DICMS_WERROR=ON; ctest
#   headers   every public header compiles alone as C99 and as C++11
#   symbols   every dynamic symbol of libicms.so starts with icms_ (and is not
#             an icms__ internal); every global of libicms.a starts with icms_
#   install   install into a temporary prefix; build and run examples/consumer
#             through find_package(icms) and through pkg-config
#   asan      the same suites built in build-asan/ with
#             -DICMS_SANITIZE=address,undefined; ctest
#   tsan      the tests labelled `threads` built in build-tsan/ with
#             -DICMS_SANITIZE=thread (only their targets); ctest -L threads
#   valgrind  the suites of build/ under valgrind memcheck (errors and definite
#             leaks fail the test): tests/build/memcheck.sh
#   python, node, go, cli, fuzz
#             hooks: each runs only when its script exists (see the end of this
#             file); a missing one is reported as skipped
#
# ctest labels a test may carry (icms_add_test(... LABELS ...)):
#   no-valgrind  not run under valgrind: a C program of ours that times other
#                processes or waits on real servers, so that valgrind's slowness
#                would only make it flaky. (Tests whose command is not a program
#                of ours -- a shell, Python or Node driver -- are left out of the
#                valgrind stage without a label: tests/build/foreign_tests.py.)
#   no-asan      not run in the sanitizer build: a test that loads the library
#                into an interpreter that was not built with ASan
#   threads      runs threads over shared library state (one icms_db, a store,
#                the rpc client...): also run by the tsan stage, which builds
#                only these tests (a `threads` test must be an icms_add_test
#                target of the same name)
# Tests see ICMS_VALGRIND=1 under valgrind and ICMS_SANITIZE=1 under ASan and TSan, and
# may use them to shorten long loops (never to skip their assertions).
#
# A hung test fails instead of eating CI's time: ctest's per-test timeout is
# 300 s in unit, 600 s under ASan and TSan, 1200 s under valgrind (a test may set its
# own TIMEOUT property).
#
# Environment: ICMS_JOBS (parallel jobs, default nproc), ICMS_FUZZ_SECONDS
# (time budget per fuzz target, passed to scripts/fuzz.sh; default 10).
set -uo pipefail
ICMS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ICMS_ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

wanted=("$@")
names=()
results=()
times=()
passed=0
failed=0
skipped=0

summary() {
  echo
  echo "==== summary ===="
  local i
  for i in "${!names[@]}"; do
    printf '  %-10s %-8s %5ss\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
  done
  printf '  %-10s %-8s %5ss\n' total "" "$SECONDS"
  # CPU time of everything run, which the machine's load does not inflate:
  # on an idle machine with 2 cores the run takes at least half of it.
  # (`times` runs in this shell only when not in a pipe or $(...).)
  local cpu f
  f=$(mktemp)
  times >"$f"
  cpu=$(tail -n1 "$f" | awk '{ for (i = 1; i <= 2; i++) { split($i, t, "m");
        sub("s", "", t[2]); s += t[1] * 60 + t[2] } printf "%.0f", s }')
  rm -f "$f"
  echo "  cpu time of all stages: ${cpu}s (user + system)"
  echo "$passed passed, $failed failed, $skipped skipped"
}

selected() {
  [ ${#wanted[@]} -eq 0 ] && return 0
  local w
  for w in "${wanted[@]}"; do
    [ "$w" = "$1" ] && return 0
  done
  return 1
}

# stage NAME FUNCTION: run one stage, time it, stop everything if it fails.
stage() {
  local name=$1 fn=$2
  selected "$name" || return 0
  echo
  echo "==== stage $name ===="
  local t0=$SECONDS result
  if "$fn"; then
    result=passed
    passed=$((passed + 1))
  else
    result=FAILED
    failed=$((failed + 1))
  fi
  names+=("$name")
  results+=("$result")
  times+=($((SECONDS - t0)))
  echo "==== stage $name: $result in $((SECONDS - t0))s ===="
  if [ "$result" = FAILED ]; then
    summary
    exit 1
  fi
}

skip() {
  selected "$1" || return 0
  echo
  echo "==== stage $1: skipped ($2) ===="
  names+=("$1")
  results+=(skipped)
  times+=(0)
  skipped=$((skipped + 1))
}

# --- the stages -------------------------------------------------------------

run_deps() {
  bash scripts/install-deps.sh
}

run_checks() {
  bash tests/build/selftest.sh
}

run_unit() {
  icms_configure build && icms_build build &&
    ctest --test-dir build -j "$ICMS_JOBS" --output-on-failure --no-tests=error --timeout 300
}

run_headers() {
  bash tests/build/check_headers.sh include
}

run_symbols() {
  [ -f build/src/libicms.so ] || icms_build build || return 1
  bash tests/build/check_symbols.sh build/src/libicms.so build/src/libicms.a
}

run_install() {
  bash tests/build/check_install.sh build
}

run_asan() {
  # Benchmarks run no test: the sanitizer build leaves them out.
  icms_configure build-asan -DICMS_SANITIZE=address,undefined -DICMS_BUILD_BENCH=OFF &&
    icms_build build-asan &&
    ICMS_SANITIZE=1 \
    ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -j "$ICMS_JOBS" --output-on-failure --no-tests=error --timeout 600 \
      -LE no-asan
}

# ThreadSanitizer cannot share a process with ASan, so it gets a build of its
# own. Most suites start no thread and would only repeat the asan stage more
# slowly, so only the `threads` tests are built and run (ctest names them;
# each is a target of the same name). test_events_nats is not one: it forks
# after libnats started threads, which TSan refuses. No suppressions: the
# third-party libraries (SQLite, libsodium, cJSON, libcurl) are not
# instrumented, so TSan sees only our accesses and the pthread calls they make.
# ASLR is turned off for the run (setarch -R) because some kernels place
# mappings where TSan's fixed shadow layout does not expect them.
run_tsan() {
  icms_configure build-tsan -DICMS_SANITIZE=thread -DICMS_BUILD_BENCH=OFF \
    -DICMS_BUILD_EXAMPLES=OFF || return 1
  local targets
  targets=$(ctest --test-dir build-tsan -N -L threads 2>/dev/null |
            sed -n 's/^ *Test *#[0-9]*: //p')
  [ -n "$targets" ] || { echo "no test is labelled threads"; return 1; }
  # shellcheck disable=SC2086 # one target per word
  cmake --build build-tsan -j "$ICMS_JOBS" --target $targets || return 1
  local norandom=()
  setarch "$(uname -m)" -R true 2>/dev/null && norandom=(setarch "$(uname -m)" -R)
  tsan_canary "${norandom[@]}" || return 1
  ICMS_SANITIZE=1 \
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    "${norandom[@]}" ctest --test-dir build-tsan -j "$ICMS_JOBS" --output-on-failure \
      --no-tests=error --timeout 600 -L threads
}

# The stage must be able to fail: the tests are linked with TSan, and TSan,
# run the same way on this machine, reports a plain data race.
tsan_canary() {
  local bin=build-tsan/tests/app/test_app_threads cc
  # (grep reads all of nm's output: with -q, nm could die of SIGPIPE and fail the pipe)
  nm "$bin" 2>/dev/null | grep __tsan_init >/dev/null ||
    { echo "tsan canary: $bin is not built with ThreadSanitizer"; return 1; }
  cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' build-tsan/CMakeCache.txt)
  printf '%s\n' '#include <pthread.h>' 'static int n;' \
    'static void *bump(void *a) { n++; return a; }' \
    'int main(void) { pthread_t t; pthread_create(&t, 0, bump, 0); n++;' \
    '  pthread_join(t, 0); return 0; }' >build-tsan/tsan_canary.c
  "${cc:-cc}" -fsanitize=thread -g -O1 build-tsan/tsan_canary.c -o build-tsan/tsan_canary \
    -pthread || { echo "tsan canary: cannot build with -fsanitize=thread"; return 1; }
  if TSAN_OPTIONS="halt_on_error=1" "$@" build-tsan/tsan_canary >build-tsan/tsan_canary.log 2>&1 ||
    ! grep -q 'ThreadSanitizer: data race' build-tsan/tsan_canary.log; then
    echo "tsan canary: ThreadSanitizer did not report a known race:"
    cat build-tsan/tsan_canary.log
    return 1
  fi
}

run_valgrind() {
  [ -f build/CTestTestfile.cmake ] || { icms_configure build && icms_build build; } || return 1
  bash tests/build/memcheck.sh build
}

# A hook: `bash SCRIPT ARGS...` from the repository root (ARGS default to the
# absolute path of build/), with ICMS_BUILD_DIR set to that path too; exit 0
# means the stage passed.
hook() {
  local name=$1 script=$2
  shift 2
  if [ -f "$script" ]; then
    hook_command=(bash "$script" "$@")
    [ $# -gt 0 ] || hook_command+=("$ICMS_ROOT/build")
    stage "$name" run_hook
  else
    skip "$name" "no $script yet"
  fi
}
run_hook() {
  ICMS_BUILD_DIR="$ICMS_ROOT/build" "${hook_command[@]}"
}

stage deps run_deps
stage checks run_checks
stage unit run_unit
stage headers run_headers
stage symbols run_symbols
stage install run_install
stage asan run_asan
stage tsan run_tsan
stage valgrind run_valgrind

# ==== HOOKS for later stages. Each runs only when its script exists; add
# ==== yours here, one line each, with a short stage name.
hook python bindings/python/test.sh
hook node bindings/node/test.sh
hook go bindings/go/test.sh
hook cli tests/cli/e2e.sh
hook fuzz scripts/fuzz.sh "${ICMS_FUZZ_SECONDS:-10}"

summary
[ "$failed" = 0 ]
