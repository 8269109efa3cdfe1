package lint_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/synth/synthtest"
	"github.com/bulkhead/bulkhead/lint"
)

// BenchmarkLint measures every check on generated clusters, the engine
// built once outside the loop (as the CLI builds it once for all its
// work); the result is written as text, the CLI's default.
func BenchmarkLint(b *testing.B) {
	for _, cfg := range []synth.Config{
		{Pods: 1000, Policies: 200},
		{Pods: 10000, Policies: 2000},
		{Pods: 10000, Policies: 2000, AdminPolicies: 100},
	} {
		name := fmt.Sprintf("pods=%d/policies=%d/admin=%d", cfg.Pods, cfg.Policies, cfg.AdminPolicies)
		b.Run(name, func(b *testing.B) {
			e := eval.New(synthtest.Snapshot(b, cfg), eval.Options{})
			b.ReportAllocs()
			var n int
			for b.Loop() {
				res, err := lint.Run(e, lint.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := lint.WriteText(io.Discard, res.Findings, lint.TextOptions{}); err != nil {
					b.Fatal(err)
				}
				n = len(res.Findings)
			}
			b.ReportMetric(float64(n), "findings")
		})
	}
}
