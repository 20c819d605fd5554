#!/usr/bin/env bash
# The README's first command: from a fresh clone, install what the machine
# lacks, build everything in ./build with warnings as errors, and run the main
# job. Run it from anywhere; it works in the repository it belongs to.
set -euo pipefail
ICMS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ICMS_ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

bash scripts/install-deps.sh
icms_configure build
icms_build build

echo
echo "== main job =="
# ==== MAIN JOB: one line. The whole lifecycle on an SQLite file in a fresh
# ==== temporary folder, against a simulated Gapcoin node (docs/cli.md, "demo").
./build/src/cli/icms demo
