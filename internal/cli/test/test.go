// Package test implements `bulkhead test`: run a connectivity test spec
// (kind ConnectivityTest) against manifests and report every expectation
// as passed or failed, for people or for CI (JSON, JUnit XML, TAP).
package test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/render"
	"github.com/bulkhead/bulkhead/render/table"
	"github.com/bulkhead/bulkhead/spec"
	"github.com/spf13/cobra"
)

type flagpole struct {
	input  cmdutil.InputFlags
	output string
	junit  string
}

// NewCommand returns the test command.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "test SPEC.yaml [PATH...]",
		Short: "Check connectivity expectations and zone rules (exit 1 on any failure)",
		Long: `Test runs a connectivity test spec (apiVersion bulkhead.dev/v1, kind
ConnectivityTest) against manifests: expectations such as "the storefront
reaches catalog on 8080/TCP" (allow), "nothing in dev reaches prod" (deny) or
"checkout reaches payments somehow" (allow-some), and zone rules such as
"only the ingress zone is reachable from the internet". Every test reports
pass or fail with why: the offending pairs and the decision trace of one.
A selector that matches no endpoint fails its test.

The manifests are the PATHs given after the spec, or else the spec's own
'manifests:' list (relative to the spec file). Exit status: 0 when every test
passes, 1 when any fails, 2 for an invalid spec or invalid manifests. The
schema is documented in docs/review.md.`,
		Example: `  # The shop example's tests (their manifests are named in the spec)
  bulkhead test examples/specs/shop.yaml

  # The same tests against other manifests, as JUnit XML for CI
  bulkhead test examples/specs/shop.yaml deploy/ -o junit > results.xml

  # Human output on the terminal and a JUnit file for the CI system
  bulkhead test examples/specs/shop.yaml --junit-file results.xml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmdutil.Invalidf("give the spec file: test SPEC.yaml [PATH...]")
			}
			// Without PATHs the spec's own manifests are read, unless a
			// cluster is chosen; only reject PATHs combined with a cluster.
			_, err := f.input.FromCluster(args[1:])
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), streams, log, f, args)
		},
	}
	f.input.AddFlags(cmd.Flags())
	cmd.Flags().StringVarP(&f.output, "output", "o", "txt", "output format: txt, json, junit (JUnit XML) or tap (TAP version 13)")
	cmd.Flags().StringVar(&f.junit, "junit-file", "", "also write the results as JUnit XML to this file")
	return cmd
}

func run(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) error {
	format, err := render.ParseFormat(f.output, spec.Formats...)
	if err != nil {
		return cmdutil.Invalid(err)
	}
	specPath := args[0]
	data, err := os.ReadFile(specPath)
	if err != nil {
		return cmdutil.Invalid(err)
	}
	s, problems := spec.Parse(specPath, data)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(streams.ErrOut, "error:", p.Error())
		}
		return &cmdutil.ExitError{Code: cmdutil.ExitInvalid, Err: fmt.Errorf("%s: %d problem(s) in the spec; no test was run", specPath, len(problems))}
	}
	paths := args[1:]
	explicitCluster := f.input.Live || f.input.Kubeconfig != "" || f.input.Context != ""
	if len(paths) == 0 && !explicitCluster {
		if len(s.Manifests) == 0 {
			return cmdutil.Invalidf("%s names no manifests: give manifest paths after the spec, or list them under 'manifests:'", specPath)
		}
		for _, m := range s.Manifests {
			if !filepath.IsAbs(m) {
				m = filepath.Join(filepath.Dir(specPath), m)
			}
			paths = append(paths, m)
		}
	}
	in, err := f.input.Load(ctx, streams, log, paths)
	if err != nil {
		return err
	}
	results := spec.Run(s, in.Engine)
	if f.junit != "" {
		if err := writeFile(f.junit, results); err != nil {
			return err
		}
	}
	st := table.Style{Color: streams.OutIsTerminal && format == spec.Text}
	if err := spec.Write(streams.Out, format, results, st); err != nil {
		return err
	}
	if n := results.Failed(); n > 0 {
		return &cmdutil.ExitError{Code: cmdutil.ExitFindings, Err: fmt.Errorf("%d of %d tests failed", n, len(results.Results))}
	}
	return nil
}

// writeFile writes JUnit XML to path, whole or not at all.
func writeFile(path string, r *spec.Results) error {
	return cmdutil.WriteFile(path, func(w io.Writer) error { return spec.Write(w, spec.JUnit, r, table.Style{}) })
}
