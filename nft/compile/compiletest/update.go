// Package compiletest drives the compiler the way the node agent does,
// for benchmarks shared by package compile and the agent: a generated
// cluster followed by eval.Tracker, a cached compile.Compiler, and one
// object change at a time. It is imported only from tests and never
// touches the kernel.
package compiletest

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

// Synth models a generated cluster through the manifest Builder, as the
// agent does after reading manifests. synth puts pods on 50 nodes,
// node-0 to node-49.
func Synth(tb testing.TB, cfg synth.Config) *model.Snapshot {
	tb.Helper()
	c := synth.Generate(cfg)
	b := manifest.NewBuilder(manifest.Options{})
	for _, o := range c.Objects() {
		b.Add(o, model.Source{File: "synth"})
	}
	snap := b.Snapshot()
	if errs := snap.Errors(); len(errs) > 0 {
		tb.Fatalf("generated cluster has %d invalid objects, first: %v", len(errs), errs[0].Error())
	}
	return snap
}

// Update follows a generated cluster as the agent does.
type Update struct {
	tb       testing.TB
	node     string
	snap     *model.Snapshot
	tracker  *eval.Tracker
	compiler *compile.Compiler
	local    []*model.Endpoint
	// Ruleset is the last compiled ruleset, Base the one before and
	// Delta the change between them, as the Compiler reports them.
	Ruleset *nft.Ruleset
	Base    *nft.Ruleset
	Delta   nft.Delta

	template *model.Endpoint // a local pod that added pods copy
	added    int
	policy   [2]*model.Policy // a policy selecting local pods, and a variant
	toggle   int

	n               int
	engine, compile time.Duration
}

// NewUpdateBench generates cfg's cluster and compiles node's ruleset
// once.
func NewUpdateBench(tb testing.TB, cfg synth.Config, node string) *Update {
	tb.Helper()
	u := &Update{tb: tb, node: node, snap: Synth(tb, cfg)}
	u.tracker = eval.NewTracker(u.snap, eval.Options{})
	u.compiler = compile.NewCompiler(compile.Options{})
	for _, ep := range u.snap.Endpoints {
		if ep.Kind == model.EndpointPod && ep.NodeName == node {
			u.local = append(u.local, ep)
			if u.template == nil && !ep.HostNetwork && len(ep.IPs) > 0 && ep.Namespace != "kube-system" && ep.Namespace != "monitoring" {
				u.template = ep
			}
		}
	}
	if u.template == nil {
		tb.Fatalf("no pod on %s", node)
	}
	u.policy = PolicyVariants(tb, u.snap, u.local)
	u.compileNow()
	u.n, u.engine, u.compile = 0, 0, 0
	return u
}

// PolicyVariants returns a NetworkPolicy with ports that selects one of
// the pods in local (one of snap's), and a variant of it with one more
// port in each rule that has ports: toggling between them rewrites the
// chains of the pods it selects, and nothing else.
func PolicyVariants(tb testing.TB, snap *model.Snapshot, local []*model.Endpoint) [2]*model.Policy {
	tb.Helper()
	var out [2]*model.Policy
	for _, p := range snap.Policies {
		if p.Kind != "NetworkPolicy" || p.Name == "default-deny" || !slices.ContainsFunc(p.Rules, func(r model.Rule) bool { return len(r.Ports) > 0 }) {
			continue
		}
		if slices.ContainsFunc(local, func(ep *model.Endpoint) bool {
			return ep.Namespace == p.Namespace && p.Subject.PodSelector.Matches(ep.Labels)
		}) {
			out[0] = p
			break
		}
	}
	if out[0] == nil {
		tb.Fatal("no NetworkPolicy with ports selects a local pod")
	}
	v := *out[0]
	v.Rules = append([]model.Rule(nil), v.Rules...)
	for i := range v.Rules {
		if len(v.Rules[i].Ports) > 0 {
			v.Rules[i].Ports = append(append([]model.PortSpec(nil), v.Rules[i].Ports...),
				model.PortSpec{Protocol: model.TCP, Ports: model.SinglePort(9999)})
		}
	}
	out[1] = &v
	return out
}

func (u *Update) nsLabels(ns string) map[string]string {
	if n := u.snap.Namespaces[ns]; n != nil {
		return n.Labels
	}
	return nil
}

// compileNow compiles with the tracker's engine, timing it (the Delta
// from the previous ruleset included).
func (u *Update) compileNow() {
	t0 := time.Now()
	res, err := u.compiler.Compile(u.tracker.Engine(), u.local)
	if err != nil {
		u.tb.Fatal(err)
	}
	u.compile += time.Since(t0)
	u.Ruleset, u.Base, u.Delta = res.Ruleset, res.Base, res.Delta
	u.n++
}

// Changes name the changes Change makes.
var Changes = []string{"pod-add", "policy-change"}

// Change makes one change of a kind Changes names: AddPod for "pod-add",
// TogglePolicy for "policy-change".
func (u *Update) Change(kind string) {
	switch kind {
	case "pod-add":
		u.AddPod()
	case "policy-change":
		u.TogglePolicy()
	default:
		u.tb.Fatalf("compiletest: unknown change %q", kind)
	}
}

// AddPod adds a pod on the node, a replica of an existing local pod.
func (u *Update) AddPod() {
	u.added++
	ep := *u.template
	ep.Name = fmt.Sprintf("%s-added-%d", u.template.Name, u.added)
	ep.IPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 200, byte(u.added >> 8), byte(u.added)})}
	t0 := time.Now()
	u.tracker.Apply(eval.Change{Op: eval.OpUpsert, Endpoint: &ep})
	u.engine += time.Since(t0)
	u.compiler.EndpointsChanged([]compile.EndpointChange{{New: &ep}}, u.nsLabels)
	u.local = append(u.local, &ep)
	u.compileNow()
}

// TogglePolicy replaces a policy selecting local pods by its variant (one
// more port), or back.
func (u *Update) TogglePolicy() {
	u.toggle++
	t0 := time.Now()
	u.tracker.Apply(eval.Change{Op: eval.OpUpsert, Policy: u.policy[u.toggle%2]})
	u.engine += time.Since(t0)
	u.compileNow()
}

// Report reports the mean time of each stage and the ruleset's size.
func (u *Update) Report(b *testing.B) {
	if u.n == 0 {
		return
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(u.n) / 1e6 }
	b.ReportMetric(ms(u.engine), "engine-ms")
	b.ReportMetric(ms(u.compile), "compile-ms")
	s := compile.StatsOf(u.Ruleset)
	b.ReportMetric(float64(s.Elements()), "elements")
}
