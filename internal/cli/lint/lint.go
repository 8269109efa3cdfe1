// Package lint implements `bulkhead lint`: policy mistakes with an ID, a
// severity, the file and line, an explanation and the fix, for people
// (text), programs (JSON) and code-scanning tools (SARIF).
package lint

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/lint"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
)

type flagpole struct {
	input         cmdutil.InputFlags
	output        string
	failOn        string
	baseline      string
	baselineWrite string
	only          []string
	skip          []string
	listChecks    bool
	uriBase       string
	namespaces    []string
	all           bool
}

// NewCommand returns the lint command.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "lint PATH...",
		Short: "Find mistakes in network policies",
		Long: `Lint reads Kubernetes manifests (files, directories, - for stdin) and reports
policy mistakes: policies and peers that select nothing, named ports no pod
serves, egress isolation that cuts pods off the cluster DNS, names that say the
opposite of the rules, separate peer items where one item was meant, ipBlocks
holding pod addresses, allow-all rules open to the internet, redundant and
unreachable rules, policies on hostNetwork pods, Admin-tier Pass rules with
nothing below, and cluster policies whose order is undefined. Each finding
has an ID (bulkhead lint --list-checks), a severity, the file and line, an
explanation and the fix; docs/lint.md documents every check.

Suppress a finding on the object with the annotation
  bulkhead.dev/lint-ignore: "BH-LINT-008: why this is accepted"
(a reason is required); suppressed findings show with -v and in JSON/SARIF.
With --baseline, only findings that are not in the baseline file count.

Exit status: 1 when an active finding reaches --fail-on (default error),
2 for invalid input or usage, else 0.`,
		Example: `  bulkhead lint examples/lint/mistakes
  bulkhead lint manifests/ -o sarif > bulkhead.sarif
  bulkhead lint manifests/ --fail-on warning
  bulkhead lint manifests/ --baseline-write .bulkhead-baseline.json
  bulkhead lint manifests/ --baseline .bulkhead-baseline.json
  bulkhead lint --list-checks`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			verbose := false
			if fl := cmd.Flag("verbose"); fl != nil {
				verbose = fl.Value.String() == "true"
			}
			return run(cmd.Context(), streams, log, f, args, verbose)
		},
	}
	f.input.AddFlags(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVarP(&f.output, "output", "o", "txt", "output format: txt, json or sarif")
	fs.StringVar(&f.failOn, "fail-on", "error", "exit 1 when an active finding has this severity or higher: error, warning, info or none")
	fs.StringVar(&f.baseline, "baseline", "", "report only findings that are not in this baseline file")
	fs.StringVar(&f.baselineWrite, "baseline-write", "", "write the current findings to this baseline file (and exit 0)")
	fs.StringSliceVarP(&f.namespaces, "namespace", "n", nil, "report only the findings of policies in these namespaces (cluster-wide policies are left out)")
	fs.BoolVarP(&f.all, "all-namespaces", "A", false, "report the findings of every policy (the default)")
	fs.StringSliceVar(&f.only, "check", nil, "run only these checks (IDs, repeatable or comma-separated)")
	fs.StringSliceVar(&f.skip, "skip-check", nil, "leave these checks out (IDs, repeatable or comma-separated)")
	// The names these flags had first; audit's have always been --check
	// and --skip-check.
	fs.StringSliceVar(&f.only, "checks", nil, "")
	fs.StringSliceVar(&f.skip, "skip", nil, "")
	_ = fs.MarkDeprecated("checks", "use --check, as bulkhead audit does")
	_ = fs.MarkDeprecated("skip", "use --skip-check, as bulkhead audit does")
	fs.BoolVar(&f.listChecks, "list-checks", false, "list the checks and exit")
	fs.StringVar(&f.uriBase, "uri-base", "", "directory SARIF file URIs are relative to (default: the git repository root of the current directory, else the current directory)")
	return cmd
}

func run(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string, verbose bool) error {
	if f.listChecks {
		return listChecks(streams.Out)
	}
	switch f.output {
	case "txt", "text", "json", "sarif":
	default:
		return cmdutil.Invalidf("unknown output format %q (want one of txt, json, sarif)", f.output)
	}
	failOn, err := lint.ParseSeverity(f.failOn)
	if err != nil {
		return cmdutil.Invalidf("--fail-on: %v", err)
	}
	if f.baseline != "" && f.baselineWrite != "" {
		return cmdutil.Invalidf("--baseline and --baseline-write do not go together: write the baseline first, then lint against it")
	}
	var base *lint.Baseline
	if f.baseline != "" {
		if base, err = ReadBaseline(f.baseline); err != nil {
			return err
		}
	}
	in, err := f.input.Load(ctx, streams, log, args)
	if err != nil {
		return err
	}
	res, err := lint.Run(in.Engine, lint.Options{
		Only: upper(f.only), Skip: upper(f.skip),
		Annotations: Annotations(in.Objects),
		Locate:      NewLocator().Line,
	})
	if err != nil {
		return cmdutil.Invalid(err)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(streams.ErrOut, "note: skipped %s\n", s)
	}
	if f.baselineWrite != "" {
		b := lint.NewBaseline(res.Findings)
		if err := cmdutil.WriteFile(f.baselineWrite, b.Write); err != nil {
			return fmt.Errorf("--baseline-write: %w", err)
		}
		fmt.Fprintf(streams.ErrOut, "wrote %d finding(s) to the baseline %s\n", len(b.Findings), f.baselineWrite)
	}
	if base != nil {
		if gone := base.Apply(res.Findings); len(gone) > 0 {
			fmt.Fprintf(streams.ErrOut, "note: %d finding(s) of the baseline %s are gone (fixed); refresh it with --baseline-write\n", len(gone), f.baseline)
			if verbose {
				for _, g := range gone {
					fmt.Fprintf(streams.ErrOut, "  fixed: %s %s %s: %s\n", g.ID, g.Object, g.Path, g.Message)
				}
			}
		}
	}
	if len(f.namespaces) > 0 && !f.all {
		// Every policy was linted (a peer in one namespace selects pods of
		// others) and the baseline covers them all; -n narrows the report.
		res.Findings = slices.DeleteFunc(res.Findings, func(x lint.Finding) bool { return !slices.Contains(f.namespaces, x.Object.Namespace) })
	}
	switch f.output {
	case "json":
		err = lint.WriteJSON(streams.Out, res.Findings, res.Skipped)
	case "sarif":
		err = lint.WriteSARIF(streams.Out, res.Findings, lint.SARIFOptions{URI: uriMapper(f.uriBase), Version: version(), Baseline: base != nil})
	default:
		err = lint.WriteText(streams.Out, res.Findings, lint.TextOptions{Verbose: verbose, Color: streams.OutIsTerminal})
	}
	if err != nil {
		return err
	}
	if f.baselineWrite != "" {
		return nil
	}
	if failing := lint.Failing(res.Findings, failOn); len(failing) > 0 {
		fmt.Fprintf(streams.ErrOut, "lint: %d finding(s) at or above severity %s (--fail-on)\n", len(failing), failOn)
		return &cmdutil.ExitError{Code: cmdutil.ExitFindings}
	}
	return nil
}

// version is the module version the binary was built from, for SARIF.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func upper(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strings.ToUpper(strings.TrimSpace(id))
	}
	return out
}

func listChecks(w io.Writer) error {
	for _, c := range lint.Checks() {
		info := c.Info()
		note := ""
		if info.NeedsWorkloads {
			note = " (needs workloads)"
		}
		if _, err := fmt.Fprintf(w, "%s  %-24s %-8s %s%s\n", info.ID, info.Name, info.Severity, info.Summary, note); err != nil {
			return err
		}
	}
	return nil
}

// ReadBaseline reads the --baseline file; its errors are usage errors
// that name the flag. report reads its --baseline with it too.
func ReadBaseline(path string) (*lint.Baseline, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, cmdutil.Invalidf("--baseline: %v", err)
	}
	defer fh.Close()
	base, err := lint.ReadBaseline(fh)
	if err != nil {
		return nil, cmdutil.Invalidf("--baseline %s: %v", path, err)
	}
	return base, nil
}

// NewLocator returns a locator of findings' lines that reads the
// manifests again from disk. Standard input, which the loader consumed,
// cannot be read twice: findings from it have no line.
func NewLocator() *lint.Locator {
	return lint.NewLocator(func(file string) ([]byte, error) {
		if file == "-" {
			return nil, fmt.Errorf("standard input cannot be read twice")
		}
		return os.ReadFile(file)
	})
}

// Annotations indexes the annotations of the loaded objects for
// suppression lookups by source.
func Annotations(objs []manifest.Object) func(model.Source) map[string]string {
	type key struct{ kind, namespace, name string }
	idx := map[key]map[string]string{}
	for _, o := range objs {
		m, err := meta.Accessor(o.Obj)
		if err != nil {
			continue
		}
		if a := m.GetAnnotations(); len(a) > 0 {
			idx[key{o.Source.Kind, o.Source.Namespace, o.Source.Name}] = a
		}
	}
	return func(s model.Source) map[string]string { return idx[key{s.Kind, s.Namespace, s.Name}] }
}

// uriMapper makes SARIF URIs relative to base: the flag, else the git
// repository root above the current directory, else the current
// directory. Files outside it keep their absolute path.
func uriMapper(base string) func(string) string {
	if base == "" {
		base = repoRoot()
	}
	absBase, err := filepath.Abs(base)
	if err != nil {
		absBase = base
	}
	return func(file string) string {
		abs, err := filepath.Abs(file)
		if err != nil {
			return filepath.ToSlash(file)
		}
		rel, err := filepath.Rel(absBase, abs)
		if err != nil || strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(abs)
		}
		return filepath.ToSlash(rel)
	}
}

// repoRoot returns the nearest directory above the current one holding
// .git, or ".".
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}
