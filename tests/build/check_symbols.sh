#!/usr/bin/env bash
# Every dynamic symbol that libicms.so defines is public API: it starts with
# icms_ and is not an internal icms__ name. Anything else means a missing
# `static`, a module built without hidden visibility, or a dependency linked in
# whole.
#
#   tests/build/check_symbols.sh path/to/libicms.so
set -euo pipefail
lib=${1:?usage: $0 path/to/libicms.so}
[ -f "$lib" ] || { echo "no such library: $lib"; exit 1; }

symbols=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sort -u)
count=$(printf '%s\n' "$symbols" | grep -c '^icms_[a-z0-9]' || true)
bad=$(printf '%s\n' "$symbols" | grep -v '^icms_[a-z0-9]' || true)

if [ "$count" = 0 ]; then
  echo "FAIL: $lib exports no icms_ symbol at all"; exit 1
fi
if [ -n "$bad" ]; then
  echo "FAIL: $lib exports symbols outside the icms_ namespace (or internal icms__ ones):"
  printf '    %s\n' $bad
  exit 1
fi
echo "symbols: $count exported, all icms_*"
