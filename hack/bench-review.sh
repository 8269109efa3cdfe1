#!/usr/bin/env bash
# hack/bench-review.sh: end-to-end CLI benchmark of the review, lint, report
# and audit commands on the generated 10k-pod / 2k-policy cluster, YAML
# parsing included: wall time and peak RSS of each, best of RUNS (default 3)
# since this machine's timings are noisy.
#   hack/bench-review.sh [PODS POLICIES]
set -euo pipefail
cd "$(dirname "$0")/.."
pods=${1:-10000} pols=${2:-2000} runs=${RUNS:-3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bulkhead" ./cmd/bulkhead
go build -o "$tmp/gencluster" ./hack/gencluster
"$tmp/gencluster" -pods "$pods" -policies "$pols" >"$tmp/c.yaml"
"$tmp/gencluster" -pods "$pods" -policies "$((pols + pols / 100))" >"$tmp/c-b.yaml"
# Two revisions of one path in a throwaway repository, for diff --git.
git init -q "$tmp/repo"
mkdir "$tmp/repo/deploy"
cp "$tmp/c.yaml" "$tmp/repo/deploy/c.yaml"
git -C "$tmp/repo" add . && git -C "$tmp/repo" -c user.email=b@b -c user.name=b commit -qm one
cp "$tmp/c-b.yaml" "$tmp/repo/deploy/c.yaml"
git -C "$tmp/repo" -c user.email=b@b -c user.name=b commit -qam two
cp spec/testdata/bench.yaml "$tmp/spec.yaml"
# A pod of an application namespace, the compromised workload of blast-radius.
from=$(awk 'f&&/^  name:/{n=$2} f&&/^  namespace:/&&$2!="kube-system"&&$2!="monitoring"{print $2"/"n; exit} /^kind: Pod$/{f=1}' "$tmp/c.yaml")

bench() { # name, command...
  local name=$1 best="" rss=0; shift
  for _ in $(seq "$runs"); do
    # Exit 1 is a finding (lint, audit, test, diff --fail-on), not a failure.
    /usr/bin/time -f '%e %M' -o "$tmp/t" "$@" >/dev/null 2>"$tmp/err" || [ $? -eq 1 ] || { cat "$tmp/err" >&2; return 1; }
    read -r w r < <(tail -n1 "$tmp/t")
    if [ -z "$best" ] || awk "BEGIN{exit !($w < $best)}"; then best=$w rss=$r; fi
  done
  printf '%-28s %8s %10s\n' "$name" "$best" "$((rss / 1024))"
}
b="$tmp/bulkhead" c="$tmp/c.yaml"
printf '%-28s %8s %10s\n' command wall_s peak_RSS_MB
bench analyze               "$b" analyze "$c"
bench test                  "$b" test "$tmp/spec.yaml" "$c"
bench diff                  "$b" diff "$c" "$tmp/c-b.yaml"
bench "diff --git"          sh -c "cd '$tmp/repo' && '$b' diff --git HEAD~1..HEAD deploy"
bench blast-radius          "$b" blast-radius "$from" "$c"
bench "blast-radius --rank" "$b" blast-radius --rank "$c"
bench lint                  "$b" lint "$c"
bench exposure              "$b" exposure "$c"
bench report                "$b" report "$c" -o "$tmp/report.html"
bench "audit -o txt"        "$b" audit "$c"
bench "audit -o json"       "$b" audit "$c" -o json
bench "audit -o sarif"      "$b" audit "$c" -o sarif
