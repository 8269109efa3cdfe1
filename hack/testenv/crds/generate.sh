#!/usr/bin/env bash
# generate.sh regenerates the CRDs in this directory from the Go types of
# sigs.k8s.io/network-policy-api (version pinned in ../crdgen/go.mod) with
# controller-tools, then checks that the ClusterNetworkPolicy CRD is identical
# to the experimental-channel YAML shipped in that module, which shows that the
# generator reproduces upstream's output. The result is deterministic: running
# it twice changes nothing.
#
#   hack/testenv/crds/generate.sh          regenerate in place
#   hack/testenv/crds/generate.sh --check  fail if the committed files are stale
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gen="$here/../crdgen"
out="$here"
if [[ ${1:-} == --check ]]; then
	out="$(mktemp -d)"
	trap 'rm -rf "$out"' EXIT
fi

(cd "$gen" && GOWORK=off GOFLAGS=-mod=readonly go run . -out "$out")

upstream="$(cd "$gen" && GOWORK=off GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' sigs.k8s.io/network-policy-api)"
cnp=policy.networking.k8s.io_clusternetworkpolicies.yaml
# The shipped file ends with an empty status block that is not part of a manifest.
if ! diff -u <(sed '/^status:/,$d' "$upstream/config/crd/experimental/$cnp") "$out/$cnp" >&2; then
	echo "generate.sh: generated $cnp differs from $upstream/config/crd/experimental/$cnp" >&2
	exit 1
fi

if [[ $out != "$here" ]]; then
	for f in "$out"/*.yaml; do
		if ! cmp -s "$f" "$here/$(basename "$f")"; then
			echo "generate.sh: $(basename "$f") is stale; run hack/testenv/crds/generate.sh" >&2
			exit 1
		fi
	done
	echo "generate.sh: CRDs are up to date" >&2
fi
