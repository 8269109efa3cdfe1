package spec_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/synth/synthtest"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/bulkhead/bulkhead/spec"
)

const cluster = `apiVersion: v1
kind: Pod
metadata: {name: a, namespace: dev, labels: {app: a}}
spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: prod, labels: {app: b}}
spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: prod, labels: {app: c}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b, namespace: prod}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from: [{podSelector: {}}]
    ports: [{port: 80}, {port: 443}]
`

// TestRunSemantics checks each kind of expectation on a three-pod cluster
// where prod/b admits prod pods on 80 and 443, and everything else is
// open.
func TestRunSemantics(t *testing.T) {
	res := manifest.LoadBytes("c.yaml", []byte(cluster), manifest.Options{})
	e := eval.New(res.Snapshot, eval.Options{})
	tests := []struct {
		test      string
		pass      bool
		pairs     int
		offending int
	}{
		{"{from: prod/c, to: prod/b, ports: [80/TCP, 443/TCP], expect: allow}", true, 1, 0},
		{"{from: prod/c, to: prod/b, ports: [80/TCP, 8080/TCP], expect: allow}", false, 1, 1},
		{"{from: prod/c, to: prod/b, ports: [80/TCP, 8080/TCP], expect: allow-some}", true, 1, 0},
		{"{from: prod/c, to: prod/b, ports: [8080/TCP], expect: allow-some}", false, 1, 1},
		{"{from: dev/a, to: prod/b, expect: deny}", true, 1, 0},
		{"{from: {namespace: prod}, to: {namespace: prod}, ports: [80], expect: allow}", true, 2, 0},
		{"{from: {external: true}, to: {namespace: prod}, ports: [443], expect: deny}", false, 2, 1},
		{"{from: {namespace: prod}, to: {namespace: nope}, expect: deny}", false, 0, 0},
		{"{from: prod/b, to: prod/b, expect: allow}", false, 0, 0},
		{"{zone: prod, notReachableFrom: [dev]}", false, 2, 1},
		{"{zone: prod, reachableOnlyFrom: [prod]}", false, 4, 2},
		{"{zone: dev, mayReachOnly: [prod]}", false, 1, 1},
		{"{zone: internet, mayReachOnly: [dev, prod], ports: [any]}", true, 0, 0},
	}
	for _, tt := range tests {
		in := "apiVersion: bulkhead.dev/v1\nkind: ConnectivityTest\nmetadata: {name: s}\nzones:\n  dev: [{namespace: dev}]\n  prod: [{namespaceLabels: {kubernetes.io/metadata.name: prod}}]\ntests:\n- " + tt.test + "\n"
		s, problems := spec.Parse("s.yaml", []byte(in))
		if len(problems) > 0 {
			t.Fatalf("%s: %v", tt.test, problems)
		}
		r := spec.Run(s, e).Results[0]
		if r.Passed != tt.pass || r.Pairs != tt.pairs || r.Offending != tt.offending {
			t.Errorf("%s: passed %v, %d pairs, %d offending (%s); want %v, %d, %d", tt.test, r.Passed, r.Pairs, r.Offending, r.Message, tt.pass, tt.pairs, tt.offending)
		}
		if r.Pairs > 0 && r.Explanation == nil {
			t.Errorf("%s: no explanation", tt.test)
		}
	}
}

// BenchmarkRun measures a spec of zone rules and expectations over a
// generated cluster, from a built engine.
func BenchmarkRun(b *testing.B) {
	for _, cfg := range []synth.Config{{Pods: 1000, Policies: 200}, {Pods: 10000, Policies: 2000}} {
		b.Run(fmt.Sprintf("pods=%d/policies=%d", cfg.Pods, cfg.Policies), func(b *testing.B) {
			e := eval.New(synthtest.Snapshot(b, cfg), eval.Options{})
			data, err := os.ReadFile("testdata/bench.yaml")
			if err != nil {
				b.Fatal(err)
			}
			s, problems := spec.Parse("testdata/bench.yaml", data)
			if len(problems) > 0 {
				b.Fatal(problems)
			}
			b.ReportAllocs()
			var failed int
			for b.Loop() {
				failed = spec.Run(s, e).Failed()
			}
			b.ReportMetric(float64(failed), "failed")
		})
	}
}
