#!/usr/bin/env bash
# build.sh builds the kube-apiserver and etcd binaries that internal/kubetest runs
# for bulkhead's live-cluster tests, and caches them outside the repository:
#
#   ${BULKHEAD_TESTENV_CACHE:-$HOME/.cache/bulkhead/testenv}/kube-<KUBE_VERSION>_etcd-<ETCD_VERSION>/bin/
#
# It is idempotent: a binary already in the cache is not rebuilt (pass --force to
# rebuild). A cold build takes about 11 minutes on 2 cores; a warm run returns in
# well under a second. Progress goes to stderr; with --print-bin-dir the cache
# directory is the only thing written to stdout.
#
# Both binaries come from the Go module proxy through the wrapper modules next to
# this script (kube-apiserver/ and etcd/), so the main module never requires
# k8s.io/kubernetes or the etcd server.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"

force=0
print_dir=0
for arg in "$@"; do
	case "$arg" in
	--force) force=1 ;;
	--print-bin-dir) print_dir=1 ;;
	-h | --help)
		sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
		echo "usage: $0 [--force] [--print-bin-dir]"
		exit 0
		;;
	*)
		echo "build.sh: unknown argument $arg (want --force or --print-bin-dir)" >&2
		exit 2
		;;
	esac
done

log() { echo "testenv: $*" >&2; }

cache="${BULKHEAD_TESTENV_CACHE:-$HOME/.cache/bulkhead/testenv}"
bin="$cache/kube-${KUBE_VERSION}_etcd-${ETCD_VERSION}/bin"
mkdir -p "$bin"

# The wrapper modules must pin the versions that name the cache directory;
# otherwise a stale binary could hide behind a new name.
grep -Eq "k8s.io/kubernetes ${KUBE_VERSION}( |$)" "$here/kube-apiserver/go.mod" ||
	{ log "kube-apiserver/go.mod does not require k8s.io/kubernetes ${KUBE_VERSION} (versions.env)"; exit 1; }
grep -Eq "go.etcd.io/etcd/server/v3 ${ETCD_VERSION}( |$)" "$here/etcd/go.mod" ||
	{ log "etcd/go.mod does not require go.etcd.io/etcd/server/v3 ${ETCD_VERSION} (versions.env)"; exit 1; }

# build <module dir> <package> <output name> <ldflags>
build() {
	local dir="$1" pkg="$2" out="$3" ldflags="$4"
	if [[ $force == 0 && -x "$bin/$out" ]]; then
		log "$out: cached at $bin/$out"
		return
	fi
	log "$out: building $pkg (cold builds take minutes; log follows)"
	local start=$SECONDS
	# Build into a temporary name and rename, so an interrupted build never
	# leaves a half-written binary that the next run would take as cached.
	(cd "$here/$dir" && GOWORK=off CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" go build \
		-trimpath -ldflags "$ldflags" -o "$bin/.$out.tmp" "$pkg")
	mv -f "$bin/.$out.tmp" "$bin/$out"
	log "$out: built in $((SECONDS - start))s"
}

kv="${KUBE_VERSION#v}"
kmajor="${kv%%.*}"
kminor="${kv#*.}"
kminor="${kminor%%.*}"
# Without gitVersion the server reports v0.0.0-master+$Format:%H$, which clients
# (client-go discovery, kubectl) refuse to parse. A fixed buildDate keeps the
# binary reproducible.
vpkg=k8s.io/component-base/version
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver \
	"-s -w -X $vpkg.gitVersion=${KUBE_VERSION} -X $vpkg.gitMajor=${kmajor} -X $vpkg.gitMinor=${kminor} -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=1970-01-01T00:00:00Z"

build etcd go.etcd.io/etcd/server/v3 etcd \
	"-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}"

log "binaries ready in $bin"
if [[ $print_dir == 1 ]]; then
	echo "$bin"
fi
