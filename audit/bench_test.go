package audit_test

import (
	"fmt"
	"testing"

	"github.com/bulkhead/bulkhead/audit"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/synth/synthtest"
)

// synthInput models a generated cluster through the manifest Builder, as
// the CLI does after decoding.
func synthInput(tb testing.TB, cfg synth.Config) audit.Input {
	tb.Helper()
	snap, objs := synthtest.Load(tb, cfg)
	in := audit.Input{Snapshot: snap}
	for _, o := range objs {
		in.Objects = append(in.Objects, audit.Object{Source: o.Source, Obj: o.Obj})
	}
	return in
}

// BenchmarkAudit measures the whole audit of a generated cluster: the
// probe engine, every check, suppressions and scores (not parsing: see
// BenchmarkAuditCLI in internal/cli/audit for end to end).
func BenchmarkAudit(b *testing.B) {
	for _, cfg := range []synth.Config{
		{Pods: 1000, Policies: 200},
		{Pods: 10000, Policies: 2000},
		{Pods: 10000, Policies: 2000, AdminPolicies: 100},
	} {
		name := fmt.Sprintf("pods=%d/policies=%d", cfg.Pods, cfg.Policies)
		if cfg.AdminPolicies > 0 {
			name += fmt.Sprintf("/admin=%d", cfg.AdminPolicies)
		}
		b.Run(name, func(b *testing.B) {
			in := synthInput(b, cfg)
			b.ReportAllocs()
			var r *audit.Report
			for b.Loop() {
				r = audit.Run(in, audit.Config{})
			}
			b.ReportMetric(float64(len(r.Findings)), "findings")
		})
	}
}
