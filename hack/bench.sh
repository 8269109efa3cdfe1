#!/usr/bin/env bash
# hack/bench.sh: end-to-end CLI benchmark of `bulkhead analyze` on generated
# clusters (YAML parsing + engine + output), wall time and peak RSS.
#   hack/bench.sh [sizes...]    sizes as PODS:POLICIES:ADMIN, default below
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000:200:0 10000:2000:0 10000:2000:100 100000:20000:0)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bulkhead" ./cmd/bulkhead
go build -o "$tmp/gencluster" ./hack/gencluster
printf '%-8s %-9s %-6s %-9s %-9s %-12s %s\n' pods policies admin yaml_MB wall_s peak_RSS_MB connections
for s in "${sizes[@]}"; do
  IFS=: read -r pods pols admin <<<"$s"
  f="$tmp/c.yaml"
  "$tmp/gencluster" -pods "$pods" -policies "$pols" -admin "$admin" >"$f"
  mb=$(( $(stat -c %s "$f") / 1048576 ))
  /usr/bin/time -f '%e %M' -o "$tmp/t" "$tmp/bulkhead" analyze "$f" -o csv >"$tmp/out.csv"
  read -r wall rss <"$tmp/t"
  printf '%-8s %-9s %-6s %-9s %-9s %-12s %s\n' "$pods" "$pols" "$admin" "$mb" "$wall" "$((rss / 1024))" "$(( $(wc -l <"$tmp/out.csv") - 1 ))"
done
