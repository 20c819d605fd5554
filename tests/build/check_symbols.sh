#!/usr/bin/env bash
# The library's symbols stay in its namespace.
#  - Every dynamic symbol libicms.so defines is public API: it starts with
#    icms_ and is not an internal icms__ name. Anything else means a missing
#    `static`, a module built without hidden visibility, or a dependency linked
#    in whole.
#  - Every global symbol libicms.a defines starts with icms_ (internal icms__
#    names included): a host that links the archive must not meet a stray
#    `hex_decode` or `parse_header` of ours.
#
#   tests/build/check_symbols.sh path/to/libicms.so [path/to/libicms.a]
set -euo pipefail
so=${1:?usage: $0 path/to/libicms.so [path/to/libicms.a]}
archive=${2:-}
[ -f "$so" ] || { echo "no such library: $so"; exit 1; }

symbols=$(nm -D --defined-only "$so" | awk '{print $NF}' | sort -u)
count=$(printf '%s\n' "$symbols" | grep -c '^icms_[a-z0-9]' || true)
bad=$(printf '%s\n' "$symbols" | grep -v '^icms_[a-z0-9]' || true)
if [ "$count" = 0 ]; then
  echo "FAIL: $so exports no icms_ symbol at all"; exit 1
fi
if [ -n "$bad" ]; then
  echo "FAIL: $so exports symbols outside the icms_ namespace (or internal icms__ ones):"
  printf '    %s\n' $bad
  exit 1
fi
echo "symbols: $so exports $count symbols, all icms_*"

if [ -n "$archive" ]; then
  [ -f "$archive" ] || { echo "no such archive: $archive"; exit 1; }
  globals=$(nm -g --defined-only "$archive" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u)
  bad=$(printf '%s\n' "$globals" | grep -v '^icms_' || true)
  if [ -n "$bad" ]; then
    echo "FAIL: $archive defines global symbols outside the icms_ namespace (make them static,"
    echo "      or name them icms__ if another file needs them):"
    nm -g --defined-only -A "$archive" 2>/dev/null | awk 'NF == 3 && $3 !~ /^icms_/ {print "    " $0}'
    exit 1
  fi
  echo "symbols: $archive defines $(printf '%s\n' "$globals" | grep -c .) globals, all icms_*"
fi
