#!/usr/bin/env bash
# The `cli` stage of scripts/test.sh: the icms tool end to end, as a user runs
# it, against the tool of a build directory (default build/).
#
#   bash tests/cli/e2e.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
icms=$build/src/cli/icms
if [ ! -x "$icms" ]; then
  echo "e2e.sh: $icms is not built" >&2
  exit 1
fi
ICMS_CLI=$icms ICMS_TEST_DATA=$root/tests/data /usr/bin/python3 "$root/tests/cli/test_cli.py"
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
"$icms" demo --dir "$demo/run"
