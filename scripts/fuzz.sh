#!/bin/sh
# Build the libFuzzer targets with clang (ASan + UBSan, library coverage-instrumented) and run
# each for a bounded time on a scratch copy of its committed corpus (fuzz/corpus/<name>).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      SECONDS per target, default 20
#   scripts/fuzz.sh BUILD_DIR                   as the fuzz hook of scripts/test.sh calls it;
#                                               BUILD_DIR is ignored (fuzzing needs its own
#                                               clang build), SECONDS from ICMS_FUZZ_SECONDS
#
# Environment: ICMS_FUZZ_SECONDS (default 20), ICMS_FUZZ_BUILD (build directory, default
# build-fuzz), CC (default clang).
# Exit status is non-zero when a target finds a crash, leak or timeout; the reproducer is left
# in build-fuzz/findings/<name>/ and replays with: <build>/fuzz/fuzz_gapcoin_<name> FILE
# (fuzz_core_<name> for the core parsers' targets)
set -eu

secs=${ICMS_FUZZ_SECONDS:-20}
case ${1:-} in
    '' ) ;;
    *[!0-9]* ) [ -d "$1" ] && shift ;;
    * ) secs=$1; shift ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ICMS_FUZZ_BUILD:-$root/build-fuzz}
targets=${*:-"tx block header merkle_proof base58 bech32 address sha256 core_json"}

# fuzz_core_<name> for the core parsers, fuzz_gapcoin_<name> for the rest.
exe_name() {
    case $1 in
        core_*) echo "fuzz_$1" ;;
        *) echo "fuzz_gapcoin_$1" ;;
    esac
}

CC=${CC:-clang} cmake -S "$root" -B "$build" -DICMS_FUZZ=ON -DICMS_BUILD_TESTS=OFF \
    -DICMS_BUILD_CLI=OFF -DICMS_BUILD_BENCH=OFF -DICMS_SANITIZE=address,undefined,fuzzer-no-link \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
for t in $targets; do
    cmake --build "$build" -j2 --target "$(exe_name "$t")" >/dev/null
done

status=0
for t in $targets; do
    exe=$(find "$build" -type f -name "$(exe_name "$t")" -perm -u+x | head -n 1)
    work=$build/corpus/$t
    findings=$build/findings/$t
    mkdir -p "$work" "$findings"
    echo "== $(exe_name "$t") for ${secs}s"
    # New inputs go to the scratch directory; the committed corpus is only read.
    if ! ("$exe" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 \
            -artifact_prefix="$findings/" \
            -max_len=4096 -print_final_stats=1 "$work" "$root/fuzz/corpus/$t" 2>&1 |
            grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::new_units_added|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)"); then
        :
    fi
    if [ -n "$(ls -A "$findings")" ]; then
        echo "$(exe_name "$t"): finding(s) left in $findings"
        status=1
    fi
done
exit $status
