// Package audit implements `bulkhead audit`: the posture audit of
// package audit over manifests, with text, JSON, SARIF and JUnit output,
// an exit status by severity, suppressions and a baseline.
package audit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/bulkhead/bulkhead/audit"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/render"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"
)

type flagpole struct {
	input             cmdutil.InputFlags
	namespaces        []string
	all               bool
	output            string
	failOn            string
	allowedRegistries []string
	largeImage        string
	envLabels         []string
	meshRoot          string
	only, skip        []string
	baseline          string
	writeBaseline     string
	listChecks        bool
	now               string
}

// Formats are the output formats of audit.
var Formats = []string{"txt", "json", "sarif", "junit"}

// NewCommand returns the audit command.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	// From a cluster, also read the kinds the checks need beyond the model.
	f := &flagpole{input: cmdutil.InputFlags{Posture: true, PostureConfigMaps: audit.ConfigMapsRead}}
	cmd := &cobra.Command{
		Use:   "audit PATH...",
		Short: "Audit the network-security posture of a cluster's manifests",
		Long: `Audit reads Kubernetes manifests (files, directories, - for stdin) and reports the
weaknesses that let attackers into a cluster and across it: namespaces without
default deny, workloads the internet or every namespace can reach (computed from
what the policies actually allow), environments that can reach each other,
privileged and host-namespace pods, dangerous capabilities, automounted tokens,
plain-text credentials, untrusted or mutable images, a network plugin that does
not enforce the policies in use, an API server with anonymous access or without
authorization or audit logging, a dashboard on a LoadBalancer, Istio mTLS that
is not STRICT.

Each check has a stable ID (bulkhead audit --list-checks; docs/checks.md).
Suppress a finding with the annotation
  bulkhead.dev/audit-ignore: "BH-WL-004 until=2027-01-31: reason"
on the object or its namespace (one entry per line, reason mandatory), or
accept the current findings with --baseline-write and compare later runs with
--baseline.

Exit status: 0 when no active finding is at or above --fail-on (default high),
1 when some is, 2 for invalid input or usage.`,
		Example: `  # Audit the insecure example cluster
  bulkhead audit examples/insecure

  # In CI: SARIF for code scanning, fail on medium and worse
  bulkhead audit deploy/ -o sarif --fail-on medium > bulkhead.sarif

  # Accept today's findings, then report only new ones
  bulkhead audit deploy/ --baseline-write .bulkhead-baseline.json
  bulkhead audit deploy/ --baseline .bulkhead-baseline.json

  # Only your registry is trusted
  bulkhead audit deploy/ --allowed-registry registry.example.com`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.listChecks {
				return nil
			}
			return f.input.Args(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), streams, log, f, args)
		},
	}
	f.input.AddFlags(cmd.Flags())
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "txt", "output format: "+strings.Join(Formats, ", "))
	fl.StringVar(&f.failOn, "fail-on", "high", "exit with status 1 when an active finding is at or above this severity: critical, high, medium, low, info or none")
	fl.StringSliceVar(&f.allowedRegistries, "allowed-registry", nil, "registry or repository prefix images may come from (repeatable; replaces the default list: "+strings.Join(audit.DefaultAllowedRegistries, ", ")+")")
	fl.StringVar(&f.largeImage, "large-image", "1Gi", "image size above which BH-IMG-004 reports an image (sizes come from the nodes' status.images)")
	fl.StringSliceVar(&f.envLabels, "env-label", nil, "namespace label key that names an environment (repeatable; default "+strings.Join(audit.DefaultEnvLabels, ", ")+")")
	fl.StringVar(&f.meshRoot, "mesh-root-namespace", "istio-system", "Istio's root namespace, whose PeerAuthentication without selector applies mesh-wide")
	fl.StringSliceVarP(&f.namespaces, "namespace", "n", nil, "report only the findings and scores of these namespaces (cluster-scoped findings are left out)")
	fl.BoolVarP(&f.all, "all-namespaces", "A", false, "report every namespace and the cluster-scoped findings (the default)")
	fl.StringSliceVar(&f.only, "check", nil, "run only these checks (IDs, repeatable)")
	fl.StringSliceVar(&f.skip, "skip-check", nil, "leave these checks out (IDs, repeatable)")
	fl.StringVar(&f.baseline, "baseline", "", "suppress the findings listed in this baseline file")
	fl.StringVar(&f.writeBaseline, "baseline-write", "", "write every current finding to this baseline file and exit 0")
	// The name this flag had first; lint's has always been --baseline-write.
	fl.StringVar(&f.writeBaseline, "write-baseline", "", "")
	_ = fl.MarkDeprecated("write-baseline", "use --baseline-write, as bulkhead lint does")
	fl.BoolVar(&f.listChecks, "list-checks", false, "print the catalogue of checks and exit")
	fl.StringVar(&f.now, "now", "", "the date suppressions expire against, YYYY-MM-DD (default today; for reproducible runs)")
	return cmd
}

func run(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) error {
	if !slices.Contains(Formats, f.output) && f.output != "text" {
		return cmdutil.Invalidf("unknown output format %q (want one of %s)", f.output, strings.Join(Formats, ", "))
	}
	if f.listChecks {
		var b bytes.Buffer
		if err := audit.WriteCatalogueText(&b); err != nil {
			return err
		}
		_, err := streams.Out.Write(b.Bytes())
		return err
	}
	cfg, failOn, err := f.config()
	if err != nil {
		return err
	}

	in, err := f.input.Load(ctx, streams, log, args)
	if err != nil {
		return err
	}
	input := audit.Input{Snapshot: in.Snapshot, EngineOptions: in.Engine.Options()}
	for _, o := range in.Objects {
		input.Objects = append(input.Objects, audit.Object{Source: o.Source, Obj: o.Obj})
	}
	extra := unmodelled(in.Unstructured, "default")
	input.Objects = append(input.Objects, extra...)
	log.Debug("auditing", "objects", len(input.Objects), "unmodelled", len(extra))

	r := audit.Run(input, cfg)

	if f.writeBaseline != "" {
		if err := cmdutil.WriteFile(f.writeBaseline, func(w io.Writer) error { return audit.WriteBaseline(w, r) }); err != nil {
			return cmdutil.Invalidf("--baseline-write: %v", err)
		}
		fmt.Fprintf(streams.ErrOut, "wrote %d finding(s) to %s\n", len(r.Findings)+len(r.Suppressed), f.writeBaseline)
		return nil
	}
	if !f.all {
		// Everything is read and checked (policies of one namespace
		// select pods of others), and a baseline covers everything; -n
		// narrows what is reported.
		r = r.InNamespaces(f.namespaces)
	}

	var out bytes.Buffer
	switch f.output {
	case "json":
		err = audit.WriteJSON(&out, r)
	case "sarif":
		err = audit.WriteSARIF(&out, r, versionString())
	case "junit":
		err = audit.WriteJUnit(&out, r)
	default:
		err = audit.WriteText(&out, r, render.Style{Color: streams.OutIsTerminal})
	}
	if err != nil {
		return err
	}
	if _, err := streams.Out.Write(out.Bytes()); err != nil {
		return err
	}
	if failOn != audit.SeverityUnknown {
		if n := len(r.AtLeast(failOn)); n > 0 {
			fmt.Fprintf(streams.ErrOut, "bulkhead audit: %d finding(s) at or above %s (--fail-on %s)\n", n, failOn, failOn)
			return &cmdutil.ExitError{Code: cmdutil.ExitFindings}
		}
	}
	return nil
}

// config turns the flags into an audit configuration and the --fail-on
// threshold (SeverityUnknown for none).
func (f *flagpole) config() (audit.Config, audit.Severity, error) {
	cfg := audit.Config{AllowedRegistries: f.allowedRegistries, MeshRootNamespace: f.meshRoot}
	if len(f.envLabels) > 0 {
		cfg.EnvLabels = f.envLabels
	}
	q, err := resource.ParseQuantity(f.largeImage)
	if err != nil || q.Value() <= 0 {
		return cfg, 0, cmdutil.Invalidf("--large-image %q: want a size such as 1Gi or 800Mi", f.largeImage)
	}
	cfg.LargeImageBytes = q.Value()
	for _, flag := range []struct {
		name string
		ids  []string
	}{{"--check", f.only}, {"--skip-check", f.skip}} {
		for _, id := range flag.ids {
			if audit.Lookup(id) == nil {
				return cfg, 0, cmdutil.Invalidf("%s %q: no such check (see bulkhead audit --list-checks)", flag.name, id)
			}
		}
	}
	cfg.Only, cfg.Skip = f.only, f.skip
	if f.now != "" {
		t, err := time.Parse("2006-01-02", f.now)
		if err != nil {
			return cfg, 0, cmdutil.Invalidf("--now %q: want YYYY-MM-DD", f.now)
		}
		cfg.Now = t
	}
	if f.baseline != "" {
		file, err := os.Open(f.baseline)
		if err != nil {
			return cfg, 0, cmdutil.Invalidf("--baseline: %v", err)
		}
		defer file.Close()
		b, err := audit.ReadBaseline(file)
		if err != nil {
			return cfg, 0, cmdutil.Invalidf("--baseline %s: %v", f.baseline, err)
		}
		cfg.Baseline = b
	}
	failOn := audit.SeverityUnknown
	if f.failOn != "none" {
		s, err := audit.ParseSeverity(f.failOn)
		if err != nil {
			return cfg, 0, cmdutil.Invalidf("--fail-on: %v", err)
		}
		failOn = s
	}
	return cfg, failOn, nil
}

// versionString is the version SARIF output names: the module version
// from the build info, or "dev". (The root command's Version is not
// importable here without an import cycle.)
func versionString() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
