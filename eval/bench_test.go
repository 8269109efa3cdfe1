package eval_test

import (
	"fmt"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/synth/synthtest"
)

var benchSizes = []synth.Config{
	{Pods: 1000, Policies: 200},
	{Pods: 10000, Policies: 2000},
	{Pods: 10000, Policies: 2000, AdminPolicies: 100},
	{Pods: 100000, Policies: 20000},
}

func sizeName(cfg synth.Config) string {
	s := fmt.Sprintf("pods=%d/policies=%d", cfg.Pods, cfg.Policies)
	if cfg.AdminPolicies > 0 {
		s += fmt.Sprintf("/admin=%d", cfg.AdminPolicies)
	}
	return s
}

// BenchmarkAnalyze measures the whole analysis of a generated cluster: the
// engine (classes, peers, programs) and every allowed connection counted
// from the class pairs.
func BenchmarkAnalyze(b *testing.B) {
	for _, cfg := range benchSizes {
		b.Run(sizeName(cfg), func(b *testing.B) {
			if testing.Short() && cfg.Pods > 10000 {
				b.Skip("-short: skipping the 100k-pod cluster")
			}
			snap := synthtest.Snapshot(b, cfg)
			b.ReportAllocs()
			var n int
			for b.Loop() {
				e := eval.New(snap, eval.Options{})
				n = e.Connectivity().Count()
			}
			e := eval.New(snap, eval.Options{})
			st := e.Stats()
			b.ReportMetric(float64(n), "conns")
			b.ReportMetric(float64(st.Classes), "classes")
			b.ReportMetric(float64(st.Programs), "programs")
		})
	}
}

// BenchmarkExpand adds expanding every connection to endpoint pairs, as
// analyze does before printing.
func BenchmarkExpand(b *testing.B) {
	cfg := benchSizes[1]
	snap := synthtest.Snapshot(b, cfg)
	e := eval.New(snap, eval.Options{})
	c := e.Connectivity()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		c.Each(func(eval.Conn) bool { n++; return true })
	}
}
