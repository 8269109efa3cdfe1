package blast_test

import (
	"fmt"
	"testing"

	"github.com/bulkhead/bulkhead/blast"
	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/synth/synthtest"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

func synthEngine(tb testing.TB, cfg synth.Config) *eval.Engine {
	tb.Helper()
	return eval.New(synthtest.Snapshot(tb, cfg), eval.Options{})
}

func shopEngine(tb testing.TB) *eval.Engine {
	tb.Helper()
	res, err := manifest.Load([]string{"../examples/shop"}, nil, manifest.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return eval.New(res.Snapshot, eval.Options{})
}

// reachOracle computes reachability by depth-first search asking the
// engine pair by pair, without the graph.
func reachOracle(e *eval.Engine, start *model.Endpoint) map[*model.Endpoint]int {
	eps := e.Endpoints()
	dist := map[*model.Endpoint]int{start: 0}
	frontier := []*model.Endpoint{start}
	for d := 1; len(frontier) > 0; d++ {
		var next []*model.Endpoint
		for _, u := range frontier {
			if u != start && u.Kind == model.EndpointExternal {
				continue
			}
			for _, v := range eps {
				// Pairs without a pod or workload are no policy question:
				// connectivity leaves them out.
				if _, seen := dist[v]; seen || v == u || (!u.IsPodLike() && !v.IsPodLike()) {
					continue
				}
				if allowed, _ := e.Allowed(u, v); !allowed.IsEmpty() {
					dist[v] = d
					next = append(next, v)
				}
			}
		}
		frontier = next
	}
	delete(dist, start)
	return dist
}

var small = []synth.Config{
	{Pods: 60, Policies: 25, Seed: 1},
	{Pods: 80, Policies: 10, Seed: 2},
	{Pods: 120, Policies: 40, AdminPolicies: 5, Seed: 3},
	{Pods: 50, Policies: 3, Seed: 4},
}

// TestFromMatchesOracle checks hop counts and paths of every start in
// generated clusters and the shop against a search that asks the engine
// pair by pair.
func TestFromMatchesOracle(t *testing.T) {
	engines := []*eval.Engine{shopEngine(t)}
	for _, cfg := range small {
		engines = append(engines, synthEngine(t, cfg))
	}
	for n, e := range engines {
		g := blast.New(e, e.Connectivity(), blast.Options{})
		for _, start := range e.Endpoints() {
			r := g.From(start, 0)
			want := reachOracle(e, start)
			if len(r.Targets) != len(want) {
				t.Fatalf("engine %d, from %s: %d targets, oracle %d", n, start.ID(), len(r.Targets), len(want))
			}
			for i, tg := range r.Targets {
				if want[tg.Endpoint] != tg.Hops {
					t.Fatalf("engine %d, from %s to %s: %d hops, oracle %d", n, start.ID(), tg.Endpoint.ID(), tg.Hops, want[tg.Endpoint])
				}
				if i > 0 && r.Targets[i-1].Hops > tg.Hops {
					t.Fatalf("targets not nearest first")
				}
				if len(tg.Path) != tg.Hops || tg.Path[0].From != start || tg.Path[len(tg.Path)-1].To != tg.Endpoint {
					t.Fatalf("engine %d: bad path from %s to %s: %+v", n, start.ID(), tg.Endpoint.ID(), tg.Path)
				}
				for k, h := range tg.Path {
					if h.Conns.IsEmpty() {
						t.Fatalf("path hop %s -> %s allows nothing", h.From.ID(), h.To.ID())
					}
					if k > 0 && (tg.Path[k-1].To != h.From || h.From.Kind == model.EndpointExternal) {
						t.Fatalf("path %v is not a chain through pivots", tg.Path)
					}
				}
			}
		}
	}
}

// TestRankMatchesFrom checks the condensation-based ranking against one
// breadth-first search per endpoint.
func TestRankMatchesFrom(t *testing.T) {
	engines := []*eval.Engine{shopEngine(t)}
	for _, cfg := range small {
		engines = append(engines, synthEngine(t, cfg))
	}
	sensitive := func(ep *model.Endpoint) bool { return ep.Labels["tier"] == "db" || ep.Labels["app"] == "postgres" }
	for n, e := range engines {
		g := blast.New(e, e.Connectivity(), blast.Options{})
		scores := g.Rank(sensitive, blast.ByReachable)
		pods := 0
		for _, ep := range e.Endpoints() {
			if ep.IsPodLike() {
				pods++
			}
		}
		if len(scores) != pods {
			t.Fatalf("engine %d: %d scores for %d pods and workloads", n, len(scores), pods)
		}
		for i, s := range scores {
			r := g.From(s.Endpoint, 0)
			var want blast.Score
			want.Endpoint = s.Endpoint
			for _, tg := range r.Targets {
				want.Reachable++
				switch tg.Endpoint.Kind {
				case model.EndpointExternal:
					want.External++
				case model.EndpointNode:
					want.Nodes++
				default:
					want.PodLike++
				}
				if sensitive(tg.Endpoint) {
					want.Sensitive++
				}
			}
			if s != want {
				t.Fatalf("engine %d: score %+v, search says %+v", n, s, want)
			}
			if i > 0 && scores[i-1].Reachable < s.Reachable {
				t.Fatalf("engine %d: ranking not in descending order at %d", n, i)
			}
		}
		byS := g.Rank(sensitive, blast.BySensitive)
		for i := 1; i < len(byS); i++ {
			if byS[i-1].Sensitive < byS[i].Sensitive {
				t.Fatalf("engine %d: BySensitive not in descending order at %d", n, i)
			}
		}
	}
}

func TestMaxHops(t *testing.T) {
	e := synthEngine(t, small[0])
	g := blast.New(e, e.Connectivity(), blast.Options{})
	for _, start := range e.Endpoints()[:20] {
		full := g.From(start, 0)
		for h := 1; h <= full.MaxHops; h++ {
			r := g.From(start, h)
			want := 0
			for _, tg := range full.Targets {
				if tg.Hops <= h {
					want++
				}
			}
			if len(r.Targets) != want || r.Truncated != (h < full.MaxHops) {
				t.Fatalf("from %s, max %d hops: %d targets (truncated %v), want %d", start.ID(), h, len(r.Targets), r.Truncated, want)
			}
		}
	}
}

func TestFromUnknownEndpoint(t *testing.T) {
	e := shopEngine(t)
	g := blast.New(e, e.Connectivity(), blast.Options{})
	if r := g.From(&model.Endpoint{Kind: model.EndpointPod, Namespace: "x", Name: "y"}, 0); r != nil {
		t.Errorf("an endpoint of another engine has a radius: %+v", r)
	}
}

func ExampleGraph_From() {
	res, _ := manifest.Load([]string{"../examples/shop"}, nil, manifest.Options{})
	e := eval.New(res.Snapshot, eval.Options{})
	g := blast.New(e, e.Connectivity(), blast.Options{})
	r := g.From(e.Lookup("shop-backend/checkout[Deployment]"), 1)
	for _, t := range r.Targets {
		fmt.Println(t.Hops, t.Endpoint.ID(), t.Path[0].Conns)
	}
	// Output:
	// 1 kube-system/coredns[Deployment] TCP 53; UDP 53
	// 1 shop-backend/orders[Deployment] TCP 50051
	// 1 shop-backend/payments[Deployment] TCP 8443
	// 1 shop-data/postgres[StatefulSet] TCP 5432
}

var benchSizes = []synth.Config{
	{Pods: 1000, Policies: 200},
	{Pods: 10000, Policies: 2000},
}

func sizeName(cfg synth.Config) string {
	return fmt.Sprintf("pods=%d/policies=%d", cfg.Pods, cfg.Policies)
}

// BenchmarkFrom measures the blast radius of one workload from a built
// engine: the connectivity, the graph, one breadth-first search with
// paths.
func BenchmarkFrom(b *testing.B) {
	for _, cfg := range benchSizes {
		b.Run(sizeName(cfg), func(b *testing.B) {
			e := synthEngine(b, cfg)
			start := e.Endpoints()[len(e.Endpoints())/2]
			b.ReportAllocs()
			var n int
			for b.Loop() {
				g := blast.New(e, e.Connectivity(), blast.Options{})
				n = len(g.From(start, 0).Targets)
			}
			b.ReportMetric(float64(n), "reached")
		})
	}
}

// BenchmarkRank measures ranking every pod and workload.
func BenchmarkRank(b *testing.B) {
	for _, cfg := range benchSizes {
		b.Run(sizeName(cfg), func(b *testing.B) {
			e := synthEngine(b, cfg)
			sensitive := func(ep *model.Endpoint) bool { return ep.Labels["tier"] == "db" }
			b.ReportAllocs()
			var top int
			for b.Loop() {
				g := blast.New(e, e.Connectivity(), blast.Options{})
				top = g.Rank(sensitive, blast.ByReachable)[0].Reachable
			}
			b.ReportMetric(float64(top), "top-reach")
		})
	}
}
