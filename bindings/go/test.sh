#!/usr/bin/env bash
# The Go binding's suite (scripts/test.sh's "go" stage):
#
#   bash bindings/go/test.sh [BUILD_DIR]     (default: build/)
#
# go vet; go test with cgocheck=2 pointer checks; the concurrent and
# callback tests again under the race detector (not the memory test: the
# race runtime's shadow memory grows RSS by itself); the example. Against
# BUILD_DIR/src/libicms.so, offline: no module downloads (the module has no
# dependencies), GOPATH and GOCACHE under BUILD_DIR/bindings/go (a build
# directory's disposable state, kept so that a second run is fast).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-${ICMS_BUILD_DIR:-$ROOT/build}}
# shellcheck source=bindings/lib.sh
. "$ROOT/bindings/lib.sh"
bindings_libicms "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
GOTMP="$BUILD/bindings/go"
mkdir -p "$GOTMP"
export GOPATH="$GOTMP/gopath" GOCACHE="$GOTMP/gocache" GOFLAGS=-mod=mod GOPROXY=off GO111MODULE=on \
  GOTOOLCHAIN=local CGO_ENABLED=1
export CGO_LDFLAGS="-L$BUILD/src -Wl,-rpath,$BUILD/src"
cd "$ROOT/bindings/go"
go vet ./...
run() {
  if ! GODEBUG=cgocheck=2 go test -count=1 -v "$@" ./... >"$GOTMP/test.log" 2>&1; then
    cat "$GOTMP/test.log"
    return 1
  fi
  grep -E '^(--- |ok)|memory:' "$GOTMP/test.log"
}
run
run -race -run 'EndToEnd|Goroutines|Transport|Closed|Notifier|Subscri|Nats|RateLimiter|RPC'

go run ./examples/endtoend >/dev/null
go run ./examples/pushevents >/dev/null
echo "go binding: suite and example passed"
