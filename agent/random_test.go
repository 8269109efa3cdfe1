package agent_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead/bulkhead/agent"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
)

// TestSyncRandomDeltas hands the agent random changes as a live source
// does, a snapshot and a Delta each: pods added, deleted, relabelled,
// readdressed or placed on the other node, and the web policy's port
// toggled. After each, the kernel's table must be what compiling the
// state from scratch gives, and every transaction after the first must
// be incremental (the compiler's delta, checked by the fake kernel with
// nft.Patch).
func TestSyncRandomDeltas(t *testing.T) {
	steps := 150
	if testing.Short() {
		steps = 40
	}
	f := newFixture(t, nil)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	specs := []podSpec{{"web-1", "web", "node-1", "10.0.0.1"}, {"client-1", "client", "node-1", "10.0.0.2"}, {"client-2", "client", "node-2", "10.0.0.3"}}
	port := "http"
	state := func() *model.Snapshot {
		extra := pods(specs[3:]...)
		y := clusterYAML(extra)
		if port != "http" {
			y = strings.Replace(y, "ports: [{port: http}]", "ports: [{port: "+port+"}]", 1)
		}
		return snapshot(t, y)
	}
	byName := func(s *model.Snapshot, name string) *model.Endpoint {
		for _, ep := range s.Endpoints {
			if ep.Name == name {
				return ep
			}
		}
		return nil
	}
	policy := func(s *model.Snapshot) *model.Policy {
		for _, p := range s.Policies {
			if p.Name == "web" {
				return p
			}
		}
		t.Fatal("no web policy")
		return nil
	}
	snap := state()
	if err := f.agent.Sync(ctx, agent.Update{Snapshot: snap}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for step := range steps {
		old := snap
		var d agent.Delta
		var name string
		switch k := r.IntN(6); {
		case k == 0 || len(specs) <= 3:
			n++
			name = fmt.Sprintf("pod-%d", n)
			specs = append(specs, podSpec{name, []string{"web", "client", "other"}[r.IntN(3)], []string{"node-1", "node-2"}[r.IntN(2)], fmt.Sprintf("10.0.%d.%d", 1+n/250, 1+n%250)})
		case k == 1: // delete
			i := 3 + r.IntN(len(specs)-3)
			name = specs[i].name
			specs = slices.Delete(specs, i, i+1)
		case k == 2: // relabel
			i := 3 + r.IntN(len(specs)-3)
			name = specs[i].name
			specs[i].app = []string{"web", "client", "other"}[r.IntN(3)]
		case k == 3: // readdress
			i := 3 + r.IntN(len(specs)-3)
			name = specs[i].name
			n++
			specs[i].ip = fmt.Sprintf("10.1.%d.%d", 1+n/250, 1+n%250)
		case k == 4: // the other node
			i := 3 + r.IntN(len(specs)-3)
			name = specs[i].name
			specs[i].node = map[string]string{"node-1": "node-2", "node-2": "node-1"}[specs[i].node]
		default: // the web policy's port
			port = map[string]string{"http": "9090", "9090": "http"}[port]
		}
		snap = state()
		if name != "" {
			d.Endpoints = []agent.EndpointChange{{Old: byName(old, name), New: byName(snap, name)}}
		} else {
			d.Policies = []agent.PolicyChange{{Old: policy(old), New: policy(snap)}}
		}
		if err := f.agent.Sync(ctx, agent.Update{Snapshot: snap, Delta: &d}); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if diff := cmp.Diff(want(t, snap, "node-1"), f.fake.Dump()); diff != "" {
			t.Fatalf("step %d (%s): kernel table (-want +got):\n%s", step, name, diff)
		}
		if ds := f.fake.Deltas(); ds[len(ds)-1].Replace != nil && len(ds) > 1 {
			t.Fatalf("step %d: the agent replaced the table:\n%s", step, nft.RenderDelta(ds[len(ds)-1]))
		}
	}
	if got := f.errors(agent.StageApply); got != 0 {
		t.Errorf("%v apply errors", got)
	}
}
