package report_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/exposure"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/synth/synthtest"
	"github.com/bulkhead/bulkhead/lint"
	"github.com/bulkhead/bulkhead/report"
)

// BenchmarkReport measures the page on generated clusters, the engine
// built once outside the loop: "all" computes the lint and the exposure
// inside it, as the CLI does; "page" only lays out and writes the page
// from precomputed lint and exposure results.
func BenchmarkReport(b *testing.B) {
	for _, cfg := range []synth.Config{
		{Pods: 1000, Policies: 200},
		{Pods: 10000, Policies: 2000},
		{Pods: 10000, Policies: 2000, AdminPolicies: 100},
	} {
		b.Run(fmt.Sprintf("pods=%d/policies=%d/admin=%d", cfg.Pods, cfg.Policies, cfg.AdminPolicies), func(b *testing.B) {
			e := eval.New(synthtest.Snapshot(b, cfg), eval.Options{})
			b.Run("all", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					res, err := lint.Run(e, lint.Options{})
					if err != nil {
						b.Fatal(err)
					}
					in := report.Input{Engine: e, Findings: res.Findings, LintRan: true, Exposure: exposure.Compute(e)}
					if err := report.WriteHTML(io.Discard, in, report.Options{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("page", func(b *testing.B) {
				res, err := lint.Run(e, lint.Options{})
				if err != nil {
					b.Fatal(err)
				}
				in := report.Input{Engine: e, Findings: res.Findings, LintRan: true, Exposure: exposure.Compute(e)}
				b.ReportAllocs()
				for b.Loop() {
					if err := report.WriteHTML(io.Discard, in, report.Options{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
