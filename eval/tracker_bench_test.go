package eval_test

import (
	"fmt"
	"maps"
	"net/netip"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/synth/synthtest"
	"github.com/bulkhead/bulkhead/model"
)

// BenchmarkTrackerApply measures one object event through the
// incremental engine at 10k pods: the model updated and every changed
// connection listed. Each iteration applies an event and its inverse, so
// the state stays the same; the figure is per event.
func BenchmarkTrackerApply(b *testing.B) {
	for _, pods := range []int{1000, 10000} {
		snap := synthtest.Snapshot(b, synth.Config{Pods: pods, Policies: pods / 5})
		opts := eval.Options{ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
		tr := eval.NewTracker(snap, opts)
		var sample *model.Endpoint
		for _, ep := range snap.Endpoints {
			if ep.Labels["tier"] == "backend" {
				sample = ep
				break
			}
		}
		newPod := func(name string, labels map[string]string) *model.Endpoint {
			ep := *sample
			ep.Name = name
			ep.Labels = labels
			ep.IPs = []netip.Addr{netip.MustParseAddr("10.200.0.1")}
			return &ep
		}
		same := newPod("bench-same", sample.Labels)
		relabelled := maps.Clone(sample.Labels)
		relabelled["pod-template-hash"] = "bench"
		fresh := newPod("bench-new-class", relabelled)
		var pol, deny *model.Policy
		for _, p := range snap.Policies {
			switch {
			case p.Name == "allow-dns" && pol == nil:
				pol = p
			case p.Name == "default-deny" && deny == nil:
				deny = p
			}
		}
		ingressOnly := *deny
		ingressOnly.EgressIsolation = false
		changed := *pol
		changed.Rules = append([]model.Rule(nil), pol.Rules...)
		changed.Rules[0].Ports = []model.PortSpec{{Protocol: model.UDP, Ports: model.SinglePort(53)}}
		events := []struct {
			name     string
			do, undo eval.Change
		}{
			{"pod-add-existing-class", eval.Change{Op: eval.OpUpsert, Endpoint: same}, eval.Change{Op: eval.OpDelete, Endpoint: same}},
			{"pod-add-new-class", eval.Change{Op: eval.OpUpsert, Endpoint: fresh}, eval.Change{Op: eval.OpDelete, Endpoint: fresh}},
			{"policy-change", eval.Change{Op: eval.OpUpsert, Policy: &changed}, eval.Change{Op: eval.OpUpsert, Policy: pol}},
			{"namespace-wide-policy-change", eval.Change{Op: eval.OpUpsert, Policy: &ingressOnly}, eval.Change{Op: eval.OpUpsert, Policy: deny}},
		}
		b.Run(fmt.Sprintf("pods=%d/pod-add-new-class-each-time", pods), func(b *testing.B) {
			i := 0
			for b.Loop() {
				ls := maps.Clone(sample.Labels)
				ls["pod-template-hash"] = fmt.Sprintf("bench-%d", i)
				i++
				ep := newPod("bench-unique", ls)
				tr.Apply(eval.Change{Op: eval.OpUpsert, Endpoint: ep})
				tr.Apply(eval.Change{Op: eval.OpDelete, Endpoint: ep})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N)/1e6, "ms/event")
		})
		// The display order after a change: what a consumer that lists the
		// endpoints after every event (the agent once did) pays on top.
		b.Run(fmt.Sprintf("pods=%d/pod-add-then-endpoints", pods), func(b *testing.B) {
			n := 0
			for b.Loop() {
				tr.Apply(eval.Change{Op: eval.OpUpsert, Endpoint: same})
				tr.Read(func(e *eval.Engine) { n += len(e.Endpoints()) })
				tr.Apply(eval.Change{Op: eval.OpDelete, Endpoint: same})
				tr.Read(func(e *eval.Engine) { n -= len(e.Endpoints()) })
			}
			if n != b.N {
				b.Fatalf("the added pod was listed %d times in %d rounds", n, b.N)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N)/1e6, "ms/event")
		})
		for _, ev := range events {
			b.Run(fmt.Sprintf("pods=%d/%s", pods, ev.name), func(b *testing.B) {
				n := 0
				for b.Loop() {
					n += len(tr.Apply(ev.do))
					n += len(tr.Apply(ev.undo))
				}
				if tr.Rebuilds() > 0 {
					b.Fatalf("%d events needed a rebuild", tr.Rebuilds())
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N)/1e6, "ms/event")
				b.ReportMetric(float64(n)/float64(2*b.N), "changes/event")
			})
		}
	}
}
