package compile_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile"
)

// TestCompilerIncremental checks the Compiler's cache: after random pod
// additions, deletions, relabellings and readdressings (reported with
// EndpointsChanged), policy edits and node changes, compiling with the
// cache gives exactly what a fresh compilation gives.
func TestCompilerIncremental(t *testing.T) { checkIncremental(t, 23, false) }

// TestCompilerFollowsTracker is TestCompilerIncremental with the engine
// that eval.Tracker updates in place, as the agent uses it: the Compiler
// then also reuses chains between compilations.
func TestCompilerFollowsTracker(t *testing.T) { checkIncremental(t, 29, true) }

func checkIncremental(t *testing.T, stream uint64, tracker bool) {
	iters := 300
	if testing.Short() {
		iters = 60
	}
	for seed := range uint64(iters) {
		r := rand.New(rand.NewPCG(seed, stream))
		snap := randomCluster(r)
		opts := eval.Options{IPBlockExternalOnly: seed%3 == 0}
		node := "node0"
		if seed%2 == 0 {
			node = "" // every pod local
		}
		var tr *eval.Tracker
		if tracker {
			tr = eval.NewTracker(snap, opts)
		}
		c := compile.NewCompiler(compile.Options{})
		nsLabels := func(ns string) map[string]string {
			if n := snap.Namespaces[ns]; n != nil {
				return n.Labels
			}
			return nil
		}
		var prev *nft.Ruleset
		for step := range 12 {
			fresh := eval.New(snap, opts)
			e := fresh
			if tr != nil {
				e = tr.Engine()
			}
			got, err := c.Compile(e, localPods(e, node))
			if err != nil {
				t.Fatal(err)
			}
			want, err := compile.Compile(fresh, localPods(fresh, node), compile.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want.Ruleset, got.Ruleset) {
				t.Fatalf("seed %d step %d (tracker %v): cached compile differs from a fresh one:\n%s",
					seed, step, tracker, nft.RenderDelta(nft.Diff(want.Ruleset, got.Ruleset)))
			}
			checkDelta(t, fmt.Sprintf("seed %d step %d (tracker %v)", seed, step, tracker), prev, got)
			prev = got.Ruleset
			var chs []eval.Change
			snap, chs = mutate(r, snap, c, nsLabels)
			if tr != nil {
				tr.Apply(chs...)
			}
		}
	}
}

// checkDelta checks that res's Delta is the change from the previous
// result's ruleset: the one nft.Diff computes, and one that nft.Patch turns
// into res.Ruleset.
func checkDelta(t *testing.T, where string, prev *nft.Ruleset, res *compile.Result) {
	t.Helper()
	if res.Base != prev {
		t.Fatalf("%s: Base is not the previous result's ruleset", where)
	}
	if diff := cmp.Diff(nft.RenderDelta(nft.Diff(prev.Clone(), res.Ruleset)), nft.RenderDelta(res.Delta)); diff != "" {
		t.Fatalf("%s: Delta differs from nft.Diff (-want +got):\n%s", where, diff)
	}
	if prev == nil {
		return
	}
	patched, err := nft.Patch(prev, res.Delta)
	if err != nil {
		t.Fatalf("%s: Patch(Base, Delta): %v", where, err)
	}
	if !nft.Diff(res.Ruleset, patched).IsEmpty() {
		t.Fatalf("%s: Patch(Base, Delta) is not the ruleset", where)
	}
}

func localPods(e *eval.Engine, node string) []*model.Endpoint {
	var out []*model.Endpoint
	for _, ep := range e.Endpoints() {
		if ep != nil && ep.IsPodLike() && (node == "" || ep.NodeName == node) {
			out = append(out, ep)
		}
	}
	return out
}

// mutate returns a copy of snap with one random change, reported to c,
// and the change for eval.Tracker.
func mutate(r *rand.Rand, snap *model.Snapshot, c *compile.Compiler, nsLabels func(string) map[string]string) (*model.Snapshot, []eval.Change) {
	next := *snap
	next.Endpoints = slices.Clone(snap.Endpoints)
	next.Policies = slices.Clone(snap.Policies)
	var pods []int
	for i, ep := range next.Endpoints {
		if ep.IsPodLike() {
			pods = append(pods, i)
		}
	}
	nsNames := make([]string, 0, len(snap.Namespaces))
	for n := range snap.Namespaces {
		nsNames = append(nsNames, n)
	}
	slices.Sort(nsNames)
	switch k := r.IntN(7); {
	case k == 0 || len(pods) == 0: // a new pod
		ep := &model.Endpoint{Kind: model.EndpointPod, Namespace: nsNames[r.IntN(len(nsNames))],
			Name: fmt.Sprintf("new%d", r.IntN(1000)), Labels: map[string]string{"app": []string{"web", "db", "api"}[r.IntN(3)]},
			IPs: []netip.Addr{netip.AddrFrom4([4]byte{10, 0, 2, byte(r.IntN(250))})}, NodeName: "node0"}
		if r.IntN(2) == 0 {
			ep.Ports = []model.ContainerPort{{Name: "http", Protocol: model.TCP, Port: 80}}
		}
		if r.IntN(3) == 0 {
			ep.IPs = append(ep.IPs, netip.MustParseAddr(fmt.Sprintf("fd00::2:%x", r.IntN(250))))
		}
		for _, o := range next.Endpoints {
			if o.ID() == ep.ID() {
				return snap, nil
			}
		}
		next.Endpoints = append(next.Endpoints, ep)
		c.EndpointsChanged([]compile.EndpointChange{{New: ep}}, nsLabels)
		return &next, []eval.Change{{Op: eval.OpUpsert, Endpoint: ep}}
	case k == 1: // a pod goes away
		i := pods[r.IntN(len(pods))]
		old := next.Endpoints[i]
		next.Endpoints = slices.Delete(next.Endpoints, i, i+1)
		c.EndpointsChanged([]compile.EndpointChange{{Old: old}}, nsLabels)
		return &next, []eval.Change{{Op: eval.OpDelete, Endpoint: old}}
	case k == 2: // relabelled
		i := pods[r.IntN(len(pods))]
		old := next.Endpoints[i]
		ep := *old
		ep.Labels = map[string]string{"app": []string{"web", "db", "api"}[r.IntN(3)], "tier": "x"}
		next.Endpoints[i] = &ep
		c.EndpointsChanged([]compile.EndpointChange{{Old: old, New: &ep}}, nsLabels)
		return &next, []eval.Change{{Op: eval.OpUpsert, Endpoint: &ep}}
	case k == 3: // readdressed (an address another pod may hold)
		i := pods[r.IntN(len(pods))]
		old := next.Endpoints[i]
		if old.HostNetwork {
			return snap, nil
		}
		ep := *old
		ep.IPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(2)), byte(1 + r.IntN(10))})}
		next.Endpoints[i] = &ep
		c.EndpointsChanged([]compile.EndpointChange{{Old: old, New: &ep}}, nsLabels)
		return &next, []eval.Change{{Op: eval.OpUpsert, Endpoint: &ep}}
	case k == 4 && len(next.Policies) > 0: // a policy loses a rule
		i := r.IntN(len(next.Policies))
		p := *next.Policies[i]
		if len(p.Rules) > 0 {
			p.Rules = p.Rules[:len(p.Rules)-1]
		}
		next.Policies[i] = &p
		return &next, []eval.Change{{Op: eval.OpUpsert, Policy: &p}}
	case k == 5 && len(next.Policies) > 0: // a policy goes away
		i := r.IntN(len(next.Policies))
		old := next.Policies[i]
		next.Policies = slices.Delete(next.Policies, i, i+1)
		return &next, []eval.Change{{Op: eval.OpDelete, Policy: old}}
	case k == 6: // nodes swap labels
		next.Nodes = nil
		for _, n := range snap.Nodes {
			m := *n
			m.Labels = map[string]string{"zone": map[string]string{"x": "y", "y": "x"}[n.Labels["zone"]]}
			next.Nodes = append(next.Nodes, &m)
		}
		c.NodesChanged()
		var chs []eval.Change
		for _, n := range next.Nodes {
			chs = append(chs, eval.Change{Op: eval.OpUpsert, Node: n})
		}
		return &next, chs
	}
	return &next, nil
}

// TestCompilerNamedPortPodAdd adds a pod that a named-port egress rule
// reaches: the rule's "address . protocol . port" set must gain it.
func TestCompilerNamedPortPodAdd(t *testing.T) {
	client, web1 := pod("a", "client", "client", "10.0.0.1"), pod("a", "web1", "web", "10.0.0.2", http8080)
	web2 := pod("a", "web2", "web", "10.0.0.3", http8080)
	tr := eval.NewTracker(egressToWeb(client, web1), eval.Options{})
	c := compile.NewCompiler(compile.Options{})
	local := []*model.Endpoint{client}
	if _, err := c.Compile(tr.Engine(), local); err != nil {
		t.Fatal(err)
	}
	tr.Apply(eval.Change{Op: eval.OpUpsert, Endpoint: web2})
	c.EndpointsChanged([]compile.EndpointChange{{New: web2}}, nil)
	got, err := c.Compile(tr.Engine(), local)
	if err != nil {
		t.Fatal(err)
	}
	want, err := compile.Compile(eval.New(egressToWeb(client, web1, web2), eval.Options{}), local, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := nft.Diff(want.Ruleset, got.Ruleset); !d.IsEmpty() {
		t.Errorf("cached compile misses:\n%s", nft.RenderDelta(d))
	}
}
