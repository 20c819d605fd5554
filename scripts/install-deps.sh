#!/usr/bin/env bash
# Installs the Debian packages that building and testing libicms need and that
# this machine lacks. Idempotent: when everything is there it prints nothing
# and touches nothing. Runs `apt-get update` first, but only when something is
# missing. Needs root (or sudo) only when it has something to install.
#
#   scripts/install-deps.sh            install what is missing
#   scripts/install-deps.sh --check    list what is missing, exit 1 if anything is
set -euo pipefail

# One package per line, grouped by what needs it. Add here, not in other scripts.
packages=(
  # toolchain and build
  build-essential cmake pkg-config git
  # fuzzing (libFuzzer, sanitizer runtimes) and the memory checker
  clang libclang-rt-14-dev valgrind
  # the library's dependencies
  libsqlite3-dev sqlite3 libsodium-dev libcjson-dev libcurl4-openssl-dev libgmp-dev
  libnats-dev nats-server libpq-dev postgresql
  # bench/auth compares EdDSA with RS256 (RSA-4096) through OpenSSL
  libssl-dev
  # the test framework
  libcmocka-dev
  # bindings: SWIG for Python and Node, Debian's Python, Go for cgo
  swig python3 python3-dev golang-go
)

check_only=0
case "${1:-}" in
  --check) check_only=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

# Node.js and its headers (/usr/include/node, for the SWIG addon). A Node that
# is already installed is kept, wherever it came from (some machines carry
# Node 20 with its headers from an outside repository); Debian's own nodejs
# ships the headers in libnode-dev.
if ! command -v node >/dev/null 2>&1 && ! installed nodejs; then
  missing+=(nodejs libnode-dev)
elif [ ! -f /usr/include/node/node_api.h ] && installed nodejs \
     && [[ $(dpkg-query -W -f='${Version}' nodejs) == *dfsg* ]]; then
  installed libnode-dev || missing+=(libnode-dev)
elif [ ! -f /usr/include/node/node_api.h ]; then
  echo "install-deps: warning: node is installed but /usr/include/node/node_api.h is not;" \
       "the Node binding will be skipped" >&2
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$check_only" = 1 ]; then
  echo "missing: ${missing[*]}"
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# A mirror may hiccup: try each step a few times before giving up.
retry() {
  local i
  for i in 1 2 3; do
    "$@" && return 0
    [ "$i" = 3 ] || { echo "install-deps: retrying: $*" >&2; sleep 5; }
  done
  return 1
}
retry "${sudo[@]}" apt-get update -qq
retry "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  --no-install-recommends "${missing[@]}" </dev/null

still=()
for p in "${missing[@]}"; do
  installed "$p" || still+=("$p")
done
if [ ${#still[@]} -ne 0 ]; then
  echo "install-deps: still missing after apt-get install: ${still[*]}" >&2
  exit 1
fi
