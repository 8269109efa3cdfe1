package kube_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/kubetest"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/kube"
	"github.com/bulkhead/bulkhead/kube/livetest"
)

// BenchmarkInitialSync measures reading the 10k-pod benchmark cluster
// (10,000 pods, 2,000 NetworkPolicies, 100 namespaces) from a real API
// server: with Read (paged lists, what every command does) and with a
// Watcher (informers, what watch and the agent do), each followed by the
// engine's first analysis, reported apart (eval-ms).
//
//	go test ./kube -run '^$' -bench InitialSync -benchtime 5x
func BenchmarkInitialSync(b *testing.B) {
	pods := 10000
	if testing.Short() {
		pods = 1000
	}
	env := kubetest.Start(b)
	c := synth.Generate(synth.Config{Pods: pods, Policies: pods / 5, Seed: 1})
	took := livetest.CreateCluster(b, env.Config(), c)
	b.Logf("created %d pods, %d policies, %d namespaces in %v", len(c.Pods), len(c.Policies), len(c.Namespaces), took.Round(time.Millisecond))
	cluster := kube.ForConfig(env.Config())
	opts := eval.Options{ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	analyze := func(b *testing.B, res *kube.Result) time.Duration {
		t := time.Now()
		e := eval.New(res.Snapshot, opts)
		e.Connectivity().Count()
		return time.Since(t)
	}

	b.Run("read", func(b *testing.B) {
		var ev time.Duration
		for b.Loop() {
			res, err := cluster.Read(context.Background(), kube.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if n := len(res.Snapshot.Endpoints); n < pods {
				b.Fatalf("%d endpoints, want %d", n, pods)
			}
			ev += analyze(b, res)
		}
		b.ReportMetric(float64(ev.Milliseconds())/float64(b.N), "eval-ms")
	})
	b.Run("watch", func(b *testing.B) {
		var ev time.Duration
		errSynced := errors.New("synced")
		for b.Loop() {
			err := cluster.Watcher(kube.Options{}).Run(context.Background(), func(_ context.Context, u kube.Update) error {
				if n := len(u.Snapshot.Endpoints); n < pods {
					b.Fatalf("%d endpoints, want %d", n, pods)
				}
				ev += analyze(b, &kube.Result{Snapshot: u.Snapshot})
				return errSynced
			})
			if !errors.Is(err, errSynced) {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(ev.Milliseconds())/float64(b.N), "eval-ms")
	})
}
