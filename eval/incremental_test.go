package eval

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bulkhead/bulkhead/model"
	"github.com/google/go-cmp/cmp"
)

func connLines(c *Connectivity) []string {
	var out []string
	c.Each(func(cn Conn) bool {
		out = append(out, fmt.Sprintf("%s -> %s: %v | %v", cn.Src.ID(), cn.Dst.ID(), cn.Allowed, cn.Unknown))
		return true
	})
	return out
}

func changeLines(cs []ConnChange) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%v %s -> %s: %v => %v (unknown %v => %v)", c.Kind, c.Src, c.Dst, c.Old, c.New, c.OldConn.Unknown, c.NewConn.Unknown))
	}
	slices.Sort(out)
	return out
}

// morph returns changes that turn snapshot a into b, shuffled, with
// namespaces first (as the API server requires them before their pods).
func morph(r *rand.Rand, a, b *model.Snapshot) []Change {
	var nsCh, rest []Change
	for n, ns := range b.Namespaces {
		if old := a.Namespaces[n]; old == nil || !labelsEqual(old.Labels, ns.Labels) {
			nsCh = append(nsCh, Change{Op: OpUpsert, Namespace: ns})
		}
	}
	inB := map[string]bool{}
	for _, ep := range b.Endpoints {
		inB[ep.ID()] = true
		rest = append(rest, Change{Op: OpUpsert, Endpoint: ep})
	}
	for _, ep := range a.Endpoints {
		if !inB[ep.ID()] {
			rest = append(rest, Change{Op: OpDelete, Endpoint: ep})
		}
	}
	polB := map[string]bool{}
	for _, p := range b.Policies {
		polB[policyKey(p)] = true
		rest = append(rest, Change{Op: OpUpsert, Policy: p})
	}
	for _, p := range a.Policies {
		if !polB[policyKey(p)] {
			rest = append(rest, Change{Op: OpDelete, Policy: p})
		}
	}
	for _, n := range b.Nodes {
		rest = append(rest, Change{Op: OpUpsert, Node: n})
	}
	r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	return append(nsCh, rest...)
}

// TestIncrementalAgreesWithRebuild applies random object changes one at a
// time and checks after each that the incrementally updated engine lists
// exactly the connections of an engine built from scratch, and that the
// changes it reported are exactly the difference between the two fresh
// analyses.
func TestIncrementalAgreesWithRebuild(t *testing.T) {
	iters := 400
	if testing.Short() {
		iters = 60
	}
	incremental, total := 0, 0
	for seed := range iters {
		r := rand.New(rand.NewPCG(uint64(seed), 11))
		a := randomSnapshot(r)
		b := randomSnapshot(r)
		for _, opts := range []Options{{}, {IPBlockExternalOnly: seed%2 == 0}} {
			tr := NewTracker(a, opts)
			prev := New(a, opts).Connectivity()
			chs := morph(r, a, b)
			for step := 0; step < len(chs); {
				// Mostly one change at a time, sometimes a batch.
				n := 1
				if r.IntN(4) == 0 {
					n = 1 + r.IntN(5)
				}
				batch := chs[step:min(step+n, len(chs))]
				ch := batch[0]
				step += len(batch)
				before := tr.Rebuilds()
				got := tr.Apply(batch...)
				total++
				if tr.Rebuilds() == before {
					incremental++
				}
				freshEng := New(tr.Snapshot(), opts)
				fresh := freshEng.Connectivity()
				var gotIDs, wantIDs []string
				for _, ep := range tr.Engine().Endpoints() {
					gotIDs = append(gotIDs, ep.ID())
				}
				for _, ep := range freshEng.Endpoints() {
					wantIDs = append(wantIDs, ep.ID())
					if tr.Engine().Lookup(ep.ID()) == nil {
						t.Fatalf("seed %d step %d: Lookup(%s) = nil after %s", seed, step, ep.ID(), describe(ch))
					}
				}
				if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
					t.Fatalf("seed %d step %d (%s): Endpoints() differ (-rebuild +incremental):\n%s", seed, step, describe(ch), diff)
				}
				if diff := cmp.Diff(connLines(fresh), connLines(tr.Engine().Connectivity())); diff != "" {
					t.Fatalf("seed %d step %d (%+v): incremental connectivity differs from a rebuild (-rebuild +incremental):\n%s", seed, step, describe(ch), diff)
				}
				if diff := cmp.Diff(changeLines(DiffConnectivity(prev, fresh)), changeLines(got)); diff != "" {
					t.Fatalf("seed %d step %d (%s): reported changes differ (-want +got):\n%s", seed, step, describe(ch), diff)
				}
				prev = fresh
			}
		}
	}
	t.Logf("%d of %d changes applied incrementally", incremental, total)
	if incremental < total/2 {
		t.Errorf("only %d of %d changes were incremental", incremental, total)
	}
}

func describe(ch Change) string {
	op := "upsert"
	if ch.Op == OpDelete {
		op = "delete"
	}
	switch {
	case ch.Endpoint != nil:
		return op + " endpoint " + ch.Endpoint.ID()
	case ch.Policy != nil:
		return op + " policy " + policyKey(ch.Policy)
	case ch.Namespace != nil:
		return op + " namespace " + ch.Namespace.Name
	case ch.Node != nil:
		return op + " node " + ch.Node.Name
	}
	return op
}
