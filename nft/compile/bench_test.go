package compile_test

import (
	"fmt"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft/compile"
	"github.com/bulkhead/bulkhead/nft/compile/compiletest"
)

// onNode returns e's pods on node ("" for every pod).
func onNode(e *eval.Engine, node string) []*model.Endpoint {
	var out []*model.Endpoint
	for _, ep := range e.Endpoints() {
		if ep != nil && ep.Kind == model.EndpointPod && (node == "" || ep.NodeName == node) {
			out = append(out, ep)
		}
	}
	return out
}

// benchSizes are generated clusters with policies in proportion to pods:
// one NetworkPolicy per five pods, and one Admin-tier policy per hundred
// (tenant isolation: each selects a tenant's namespaces and denies every
// other tenant's pods, so its peer sets hold most of the cluster), or
// none.
var benchSizes = []synth.Config{
	{Pods: 1000, Policies: 200, AdminPolicies: 10},
	{Pods: 10000, Policies: 2000, AdminPolicies: 100},
	{Pods: 1000, Policies: 200},
	{Pods: 10000, Policies: 2000},
}

func sizeName(cfg synth.Config) string {
	return fmt.Sprintf("pods=%d/admin=%d", cfg.Pods, cfg.AdminPolicies)
}

// BenchmarkCompile compiles one node's ruleset (node-0 of 50) and the
// ruleset of a single node holding every pod, and reports the ruleset's
// size: rules, sets, set and map elements grow with pods and policies,
// not with pairs of pods.
func BenchmarkCompile(b *testing.B) {
	for _, cfg := range benchSizes {
		snap := compiletest.Synth(b, cfg)
		e := eval.New(snap, eval.Options{})
		for _, node := range []string{"node-0", ""} {
			name := sizeName(cfg) + "/node=" + node
			if node == "" {
				name = sizeName(cfg) + "/all-local"
			}
			b.Run(name, func(b *testing.B) {
				local := onNode(e, node)
				b.ReportAllocs()
				var res *compile.Result
				for b.Loop() {
					var err error
					if res, err = compile.Compile(e, local, compile.Options{}); err != nil {
						b.Fatal(err)
					}
				}
				reportSize(b, res)
			})
		}
	}
}

func reportSize(b *testing.B, res *compile.Result) {
	s := res.Stats
	b.ReportMetric(float64(s.LocalPods), "local-pods")
	b.ReportMetric(float64(s.Chains), "chains")
	b.ReportMetric(float64(s.Rules), "rules")
	b.ReportMetric(float64(s.Sets), "sets")
	b.ReportMetric(float64(s.Elements()), "elements")
}

// BenchmarkUpdate measures what the agent does when one object changes on
// a cluster it follows: the engine's incremental update (eval.Tracker),
// the cached compilation of node-0's ruleset (Compiler, told which
// endpoint changed), which also reports the change from the previous
// ruleset that the dataplane turns into a netlink transaction. pod-add
// adds a pod on node-0 per iteration, in an existing app; policy-change
// toggles a port of a NetworkPolicy that selects pods on node-0. Each
// stage's mean time is reported as engine-ms and compile-ms (the delta
// included). The kernel transaction is measured by the agent's
// BenchmarkPrivilegedUpdate.
func BenchmarkUpdate(b *testing.B) {
	for _, cfg := range benchSizes {
		for _, change := range compiletest.Changes {
			b.Run(sizeName(cfg)+"/"+change, func(b *testing.B) {
				u := compiletest.NewUpdateBench(b, cfg, "node-0")
				b.ReportAllocs()
				for b.Loop() {
					u.Change(change)
				}
				u.Report(b)
			})
		}
	}
}
