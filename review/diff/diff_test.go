package diff_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/synth/synthtest"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/bulkhead/bulkhead/review/diff"
)

// mutate returns a copy of snap with some policies removed, changed and
// added, and, when endpoints is set, some endpoints relabelled or removed.
// It never modifies snap.
func mutate(r *rand.Rand, snap *model.Snapshot, n int, endpoints bool) *model.Snapshot {
	s := *snap
	s.Policies = slices.Clone(snap.Policies)
	for range n {
		if len(s.Policies) == 0 {
			break
		}
		i := r.IntN(len(s.Policies))
		p := *s.Policies[i]
		switch r.IntN(5) {
		case 0: // remove
			s.Policies = slices.Delete(s.Policies, i, i+1)
			continue
		case 1: // drop a rule
			if len(p.Rules) > 0 {
				k := r.IntN(len(p.Rules))
				p.Rules = slices.Delete(slices.Clone(p.Rules), k, k+1)
			}
		case 2: // change a rule's ports
			if len(p.Rules) > 0 {
				p.Rules = slices.Clone(p.Rules)
				k := r.IntN(len(p.Rules))
				p.Rules[k].Ports = []model.PortSpec{{Protocol: model.TCP, Ports: model.SinglePort(uint16(1 + r.IntN(9000)))}}
			}
		case 3: // flip ingress isolation
			p.IngressIsolation = !p.IngressIsolation
		case 4: // add a copy in another namespace
			if p.Namespace == "" {
				continue
			}
			q := p
			q.Name += "-copy"
			q.Subject.Namespace = snap.Endpoints[r.IntN(len(snap.Endpoints))].Namespace
			q.Namespace = q.Subject.Namespace
			s.Policies = append(s.Policies, &q)
			continue
		}
		s.Policies[i] = &p
	}
	if endpoints {
		s.Endpoints = slices.Clone(snap.Endpoints)
		for range max(1, n/3) {
			i := r.IntN(len(s.Endpoints))
			if r.IntN(2) == 0 {
				s.Endpoints = slices.Delete(s.Endpoints, i, i+1)
				continue
			}
			ep := *s.Endpoints[i]
			ep.Labels = map[string]string{"app": "relabelled", "tier": "backend"}
			s.Endpoints[i] = &ep
		}
	}
	return &s
}

// TestCompareOracle checks, on random mutations of generated clusters,
// that the reported changes are exactly the pairs whose connections the
// engine answers differently, and that every change has a cause among the
// reported changes, a policy cause whenever only policies changed.
func TestCompareOracle(t *testing.T) {
	iters := 12
	if testing.Short() {
		iters = 4
	}
	for i := range iters {
		cfg := synth.Config{Pods: 80, Policies: 30, AdminPolicies: i % 3 * 2, Seed: uint64(i + 1)}
		old := synthtest.Snapshot(t, cfg)
		r := rand.New(rand.NewPCG(uint64(i), 7))
		endpoints := i%2 == 1
		snap := mutate(r, old, 1+r.IntN(8), endpoints)
		oe, ne := eval.New(old, eval.Options{}), eval.New(snap, eval.Options{})
		rep := diff.Compare(oe, ne, nil, nil)

		// Oracle over pod and workload pairs present on both sides.
		type key struct{ src, dst string }
		got := map[key]diff.ConnChange{}
		for _, c := range rep.Conns {
			got[key{c.Src, c.Dst}] = c
		}
		want := 0
		for _, a := range oe.Endpoints() {
			for _, b := range oe.Endpoints() {
				if a == b || !a.IsPodLike() || !b.IsPodLike() {
					continue
				}
				na, nb := ne.Lookup(a.ID()), ne.Lookup(b.ID())
				if na == nil || nb == nil {
					continue
				}
				oa, ou := oe.Allowed(a, b)
				nA, nU := ne.Allowed(na, nb)
				c, reported := got[key{a.ID(), b.ID()}]
				differs := !oa.Equal(nA) || !ou.Equal(nU)
				if differs != reported {
					t.Fatalf("iter %d: %s -> %s: before %s, after %s; reported %v", i, a.ID(), b.ID(), oa, nA, reported)
				}
				if differs {
					want++
					if !c.Old.Equal(oa) || !c.New.Equal(nA) {
						t.Fatalf("iter %d: %s -> %s: reported %s -> %s, engine %s -> %s", i, a.ID(), b.ID(), c.Old, c.New, oa, nA)
					}
				}
			}
		}
		for _, c := range rep.Conns {
			if len(c.Causes) == 0 {
				t.Fatalf("iter %d: %s %s -> %s (%s -> %s) has no cause", i, c.Kind, c.Src, c.Dst, c.Old, c.New)
			}
			hasPolicy := false
			for _, x := range c.Causes {
				switch {
				case x.Policy != nil:
					hasPolicy = true
					if !slices.Contains(rep.Policies, x.Policy) {
						t.Fatalf("iter %d: cause %s is not among the policy changes", i, x.Policy.Ref)
					}
				case x.Endpoint != nil:
					if !endpoints {
						t.Fatalf("iter %d: endpoint cause %s, but no endpoint changed", i, x.Endpoint.ID)
					}
				}
			}
			if !endpoints && !hasPolicy {
				t.Fatalf("iter %d: %s -> %s changed with policies only, but has no policy cause", i, c.Src, c.Dst)
			}
		}
		t.Logf("iter %d: %d policy changes, %d endpoint changes, %d connection changes (%d between pods both sides have)", i, len(rep.Policies), len(rep.Endpoints), len(rep.Conns), want)
	}
}

func TestCompareSame(t *testing.T) {
	snap := synthtest.Snapshot(t, synth.Config{Pods: 100, Policies: 40, AdminPolicies: 3, Seed: 9})
	// Two engines of equal but separately built snapshots.
	again := synthtest.Snapshot(t, synth.Config{Pods: 100, Policies: 40, AdminPolicies: 3, Seed: 9})
	rep := diff.Compare(eval.New(snap, eval.Options{}), eval.New(again, eval.Options{}), nil, nil)
	if len(rep.Conns)+len(rep.Policies)+len(rep.Endpoints)+len(rep.Namespaces) != 0 {
		t.Errorf("identical snapshots differ: %+v", rep.Count())
	}
	if rep.Widens() || rep.Narrows() {
		t.Error("an empty diff widens or narrows")
	}
}

// TestPolicyDetails checks what a changed policy reports.
func TestPolicyDetails(t *testing.T) {
	load := func(y string) *eval.Engine {
		res := manifest.LoadBytes("p.yaml", []byte(y), manifest.Options{})
		if errs := res.Snapshot.Errors(); len(errs) > 0 {
			t.Fatal(errs[0].Error())
		}
		return eval.New(res.Snapshot, eval.Options{})
	}
	const pods = `apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns, labels: {app: a}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: ns, labels: {app: b}}
spec: {containers: [{name: c, image: x}]}
---
`
	before := load(pods + `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{port: 80}]
`)
	// The same policy reformatted, in flow style and with defaults spelled out.
	same := load(pods + `{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "ns"},
 "spec": {"policyTypes": ["Ingress"], "podSelector": {"matchLabels": {"app": "b"}}, "ingress": [{"ports": [{"protocol": "TCP", "port": 80}], "from": [{"podSelector": {"matchLabels": {"app": "a"}}}]}]}}
`)
	if rep := diff.Compare(before, same, nil, nil); len(rep.Policies) != 0 || len(rep.Conns) != 0 {
		t.Errorf("a reformatted policy is a change: %+v", rep.Policies)
	}
	after := load(pods + `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{port: 8080}]
`)
	rep := diff.Compare(before, after, nil, nil)
	if len(rep.Policies) != 1 {
		t.Fatalf("policy changes: %+v", rep.Policies)
	}
	got := fmt.Sprint(rep.Policies[0].Details)
	if want := "[ingress[0] changed egress isolation false -> true]"; got != want {
		t.Errorf("details %s, want %s", got, want)
	}
	if len(rep.Conns) != 3 { // a->b ports changed; b->a and b->outside: egress now denied
		t.Fatalf("connection changes: %+v", rep.Conns)
	}
	for _, c := range rep.Conns {
		if len(c.Causes) != 1 || c.Causes[0].Policy == nil {
			t.Errorf("%s -> %s: causes %+v", c.Src, c.Dst, c.Causes)
		}
	}
	if !rep.Widens() || !rep.Narrows() {
		t.Error("8080 opened and 80 closed: the diff both widens and narrows")
	}
}

// BenchmarkCompare measures comparing two revisions of a generated
// cluster with 1% of the policies changed, engines included.
func BenchmarkCompare(b *testing.B) {
	for _, cfg := range []synth.Config{{Pods: 1000, Policies: 200}, {Pods: 10000, Policies: 2000}} {
		b.Run(fmt.Sprintf("pods=%d/policies=%d", cfg.Pods, cfg.Policies), func(b *testing.B) {
			old := synthtest.Snapshot(b, cfg)
			snap := mutate(rand.New(rand.NewPCG(1, 2)), old, cfg.Policies/100, false)
			b.ReportAllocs()
			var n int
			for b.Loop() {
				rep := diff.Compare(eval.New(old, eval.Options{}), eval.New(snap, eval.Options{}), nil, nil)
				n = len(rep.Conns)
			}
			b.ReportMetric(float64(n), "changes")
		})
	}
}
