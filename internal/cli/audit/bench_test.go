package audit_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/cli"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/internal/synth"
)

// BenchmarkAuditCLI measures `bulkhead audit` end to end on a generated
// cluster written as YAML: reading and modelling the manifests, the
// engine, every check and the output.
func BenchmarkAuditCLI(b *testing.B) {
	for _, tc := range []struct {
		cfg    synth.Config
		format string
	}{
		{synth.Config{Pods: 10000, Policies: 2000}, "json"},
		{synth.Config{Pods: 10000, Policies: 2000}, "txt"},
		{synth.Config{Pods: 10000, Policies: 2000}, "sarif"},
		{synth.Config{Pods: 10000, Policies: 2000, AdminPolicies: 100}, "json"},
	} {
		name := fmt.Sprintf("pods=%d/policies=%d/admin=%d/%s", tc.cfg.Pods, tc.cfg.Policies, tc.cfg.AdminPolicies, tc.format)
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "cluster.yaml")
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			if err := synth.Generate(tc.cfg).WriteYAML(f); err != nil {
				b.Fatal(err)
			}
			f.Close()
			var errOut strings.Builder
			streams := cmdutil.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut}
			b.ReportAllocs()
			for b.Loop() {
				if err := cli.Run(context.Background(), []string{"audit", path, "-o", tc.format, "--fail-on", "none"}, streams); err != nil {
					b.Fatalf("%v\n%s", err, errOut.String())
				}
			}
		})
	}
}
