#!/usr/bin/env bash
# hack/test.sh: set up a fresh Debian machine (root, Go 1.26) for bulkhead's
# tests and run every one of them: unit, golden, privileged kernel and lab
# tests (network namespaces + nftables), the real kube-apiserver tests and a
# short run of every fuzz test.
#
#   hack/test.sh            everything (what CI runs)
#   FUZZTIME=30s hack/test.sh
#   hack/test.sh -short     quicker: -short tests, no fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-8s}
short=false
[ "${1:-}" = "-short" ] && short=true

say() { printf '\n=== %s\n' "$*" >&2; }

# 1. System packages the tests need.
need=()
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    say "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "WARNING: not root: cannot install ${need[*]}; privileged tests will skip and say so" >&2
  fi
fi

# 2. The real kube-apiserver and etcd for the live-cluster tests (cached
#    under ~/.cache; a cold build takes ~11 minutes on 2 cores).
say "building the test API server (cached)"
hack/testenv/build.sh

# 3. Static checks and every test.
say "go vet"
go vet ./...
say "go test"
if $short; then
  go test -short -count=1 -timeout 20m ./...
else
  go test -count=1 -timeout 40m ./...
fi

# 4. Every fuzz test, briefly, from its committed corpus.
if ! $short; then
  say "fuzzing each target for $FUZZTIME"
  grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
    dir=$(dirname "$f")
    for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
      echo "fuzz $dir $fn" >&2
      go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$FUZZTIME" "$dir" >/dev/null
    done
  done
fi
say "all tests passed"
