// Package report implements `bulkhead report`: one self-contained HTML
// page with the connectivity graph, the matrix, the exposure, the lint
// findings and the results of a connectivity test spec.
package report

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	clilint "github.com/bulkhead/bulkhead/internal/cli/lint"
	"github.com/bulkhead/bulkhead/lint"
	"github.com/bulkhead/bulkhead/report"
	"github.com/bulkhead/bulkhead/spec"
	"github.com/spf13/cobra"
)

type flagpole struct {
	input     cmdutil.InputFlags
	output    string
	spec      string
	title     string
	noLint    bool
	noExp     bool
	baseline  string
	detailed  int
	generated string
}

// NewCommand returns the report command.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "report [PATH...] -o report.html",
		Short: "Write one self-contained HTML page: graph, matrix, exposure, lint and tests",
		Long: `Report writes one HTML file that needs nothing else to be viewed (no network,
no other files): the connectivity graph grouped by namespace, the reachability
matrix, the exposure of every workload, the lint findings and, with --spec,
the results of a connectivity test spec (whose manifests are used when no
PATH is given). Click a node of the graph to see only
its connections; hover arrows and matrix cells for the ports. Clusters with
more pods than --detailed are shown per namespace.

Findings suppressed by annotation, or in the --baseline file, are listed
apart. The report is written whole or not at all.`,
		Example: `  bulkhead report examples/shop -o shop.html
  bulkhead report examples/shop --spec examples/specs/shop.yaml -o shop.html
  kubectl get pods,deployments,networkpolicies,namespaces -A -o yaml | bulkhead report - -o cluster.html`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), streams, log, f, args)
		},
	}
	f.input.AddFlags(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVarP(&f.output, "output", "o", "", "file to write the HTML to (required; - for standard output)")
	fs.StringVar(&f.spec, "spec", "", "connectivity test spec (ConnectivityTest) whose results to include")
	fs.StringVar(&f.title, "title", "", "page title (default: bulkhead report)")
	fs.BoolVar(&f.noLint, "no-lint", false, "leave the lint findings out")
	fs.BoolVar(&f.noExp, "no-exposure", false, "leave the exposure out (the costliest section on large clusters)")
	fs.StringVar(&f.baseline, "baseline", "", "lint baseline file: its findings are listed apart")
	fs.IntVar(&f.detailed, "detailed", report.DefaultDetailed, "show pods one by one in the graph and matrix up to this many, else per namespace")
	fs.StringVar(&f.generated, "generated", "", "the generation time to print (default: now, UTC); set it for reproducible files")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func run(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) error {
	if f.output == "" {
		return cmdutil.Invalidf("-o: give the file to write the report to (- for standard output)")
	}
	var s *spec.Spec
	if f.spec != "" {
		data, err := os.ReadFile(f.spec)
		if err != nil {
			return cmdutil.Invalid(err)
		}
		sp, problems := spec.Parse(f.spec, data)
		if len(problems) > 0 {
			for _, p := range problems {
				fmt.Fprintln(streams.ErrOut, "error:", p.Error())
			}
			return cmdutil.Invalidf("--spec %s: %d problem(s) in the spec", f.spec, len(problems))
		}
		s = sp
	}
	var base *lint.Baseline
	if f.baseline != "" {
		var err error
		if base, err = clilint.ReadBaseline(f.baseline); err != nil {
			return err
		}
	}
	if len(args) == 0 && s != nil {
		// Like bulkhead test: the spec's own manifests, relative to it.
		for _, m := range s.Manifests {
			if !filepath.IsAbs(m) {
				m = filepath.Join(filepath.Dir(f.spec), m)
			}
			args = append(args, m)
		}
	}
	in, err := f.input.Load(ctx, streams, log, args)
	if err != nil {
		return err
	}
	rin := report.Input{Engine: in.Engine, NoExposure: f.noExp}
	if !f.noLint {
		res, err := lint.Run(in.Engine, lint.Options{Annotations: clilint.Annotations(in.Objects), Locate: clilint.NewLocator().Line})
		if err != nil {
			return err
		}
		if base != nil {
			base.Apply(res.Findings)
		}
		rin.Findings, rin.LintRan = res.Findings, true
	}
	if s != nil {
		rin.Tests = spec.Run(s, in.Engine)
	}
	gen := f.generated
	if gen == "" {
		gen = time.Now().UTC().Format("2006-01-02 15:04 MST")
	}
	opts := report.Options{Title: f.title, Sources: args, Generated: gen, Detailed: f.detailed}
	write := func(w io.Writer) error { return report.WriteHTML(w, rin, opts) }
	if f.output == "-" {
		return write(streams.Out)
	}
	if err := cmdutil.WriteFile(f.output, write); err != nil {
		return fmt.Errorf("-o %s: %w", f.output, err)
	}
	fmt.Fprintf(streams.ErrOut, "wrote %s\n", f.output)
	return nil
}
