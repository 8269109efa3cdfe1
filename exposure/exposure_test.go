package exposure_test

import (
	"fmt"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/exposure"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/synth/synthtest"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

func synthEngine(tb testing.TB, cfg synth.Config) *eval.Engine {
	tb.Helper()
	return eval.New(synthtest.Snapshot(tb, cfg), eval.Options{})
}

// TestAgainstExplain checks every side of every endpoint against the
// engine's direct per-pair explanation of that side alone.
func TestAgainstExplain(t *testing.T) {
	res, err := manifest.Load([]string{"../examples/shop"}, nil, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	engines := []*eval.Engine{eval.New(res.Snapshot, eval.Options{})}
	for i, cfg := range []synth.Config{{Pods: 60, Policies: 30}, {Pods: 80, Policies: 20, AdminPolicies: 4}, {Pods: 50, Policies: 2}} {
		cfg.Seed = uint64(i + 1)
		engines = append(engines, synthEngine(t, cfg))
	}
	for n, e := range engines {
		r := exposure.Compute(e)
		for _, x := range r.Endpoints {
			for _, s := range []*exposure.Side{&x.Ingress, &x.Egress} {
				type nsCount struct {
					peers int
					conns model.ConnSet
				}
				wantNS := map[string]nsCount{}
				wantExt := map[string]model.ConnSet{}
				pods, allowedPods := 0, 0
				for _, p := range e.Endpoints() {
					if p == x.Endpoint {
						continue
					}
					if p.IsPodLike() && !p.HostNetwork {
						pods++
					}
					var side eval.Side
					if s.Direction == model.Ingress {
						side = e.Explain(p, x.Endpoint, model.AllConns()).Ingress
					} else {
						side = e.Explain(x.Endpoint, p, model.AllConns()).Egress
					}
					if side.Allowed.IsEmpty() {
						continue
					}
					switch {
					case p.Kind == model.EndpointExternal:
						wantExt[p.ID()] = side.Allowed
					case p.IsPodLike() && !p.HostNetwork:
						allowedPods++
						c := wantNS[p.Namespace]
						c.peers++
						c.conns = c.conns.Union(side.Allowed)
						wantNS[p.Namespace] = c
					}
				}
				where := fmt.Sprintf("engine %d, %s %s", n, x.Endpoint.ID(), s.Direction)
				if len(s.Internet) != len(wantExt) {
					t.Fatalf("%s: %d internet peers, explain says %d", where, len(s.Internet), len(wantExt))
				}
				for _, p := range s.Internet {
					if !wantExt[p.Endpoint.ID()].Equal(p.Conns) {
						t.Fatalf("%s: %s allowed %s, explain says %s", where, p.Endpoint.ID(), p.Conns, wantExt[p.Endpoint.ID()])
					}
				}
				if len(s.Namespaces) != len(wantNS) {
					t.Fatalf("%s: %d namespaces, explain says %d", where, len(s.Namespaces), len(wantNS))
				}
				for _, ns := range s.Namespaces {
					w := wantNS[ns.Namespace]
					if ns.Peers != w.peers || !ns.Conns.Equal(w.conns) {
						t.Fatalf("%s: namespace %s: %d peers on %s, explain says %d on %s", where, ns.Namespace, ns.Peers, ns.Conns, w.peers, w.conns)
					}
				}
				if s.AllPods != (pods > 0 && allowedPods == pods) {
					t.Fatalf("%s: all namespaces %v, explain says %d of %d pods", where, s.AllPods, allowedPods, pods)
				}
				if s.Unprotected != (len(e.PoliciesFor(x.Endpoint, s.Direction)) == 0) {
					t.Fatalf("%s: unprotected %v", where, s.Unprotected)
				}
			}
		}
	}
}

// BenchmarkCompute measures the exposure of every pod of a generated
// cluster, from a built engine.
func BenchmarkCompute(b *testing.B) {
	for _, cfg := range []synth.Config{{Pods: 1000, Policies: 200}, {Pods: 10000, Policies: 2000}} {
		b.Run(fmt.Sprintf("pods=%d/policies=%d", cfg.Pods, cfg.Policies), func(b *testing.B) {
			e := synthEngine(b, cfg)
			b.ReportAllocs()
			var n int
			for b.Loop() {
				n = exposure.Summarize(exposure.Compute(e).Endpoints).IngressFromInternet
			}
			b.ReportMetric(float64(n), "internet-exposed")
		})
	}
}
