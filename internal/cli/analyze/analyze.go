// Package analyze implements `bulkhead analyze`: every connection the
// policies allow between the endpoints of some manifests.
package analyze

import (
	"context"
	"log/slog"
	"slices"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/render"
	"github.com/spf13/cobra"
)

type flagpole struct {
	input      cmdutil.InputFlags
	output     string
	namespaces []string
	all        bool
	focus      string
	explain    bool
}

// NewCommand returns the analyze command.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "analyze PATH...",
		Short: "Show every connection the policies allow",
		Long: `Analyze reads Kubernetes manifests (files, directories, - for stdin) and prints
every ordered pair of endpoints that can connect, with the protocols and ports
allowed, exactly as Kubernetes NetworkPolicy and the cluster-wide policy tiers
define it. Endpoints are pods (ns/name), workloads (ns/name[Kind], from their
pod template), nodes and the ranges of addresses outside the cluster.`,
		Example: `  # Everything the shop example allows
  bulkhead analyze examples/shop

  # Only connections to or from one namespace, with the rules that allow them
  bulkhead analyze examples/shop -n shop-data --explain

  # What one workload can reach and what reaches it, as JSON
  bulkhead analyze examples/shop --focus shop-backend/payments -o json

  # From kubectl
  kubectl get pods,networkpolicies,namespaces -A -o yaml | bulkhead analyze -`,
		Args: f.input.Args,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), streams, log, f, args)
		},
	}
	f.input.AddFlags(cmd.Flags())
	cmd.Flags().StringVarP(&f.output, "output", "o", "txt", "output format: txt, json, csv, md or dot")
	cmd.Flags().StringSliceVarP(&f.namespaces, "namespace", "n", nil, "show only connections from or to these namespaces")
	cmd.Flags().BoolVarP(&f.all, "all-namespaces", "A", false, "show every namespace (the default)")
	cmd.Flags().StringVar(&f.focus, "focus", "", "show only connections from or to this endpoint (ns/name, ns/name[Kind] or an IP)")
	cmd.Flags().BoolVar(&f.explain, "explain", false, "add the policies and rules that allow each connection")
	return cmd
}

func run(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) error {
	format, err := render.ParseFormat(f.output, render.AnalysisFormats...)
	if err != nil {
		return cmdutil.Invalid(err)
	}
	in, err := f.input.Load(ctx, streams, log, args)
	if err != nil {
		return err
	}
	e := in.Engine
	var focus *model.Endpoint
	if f.focus != "" {
		if focus, err = cmdutil.ResolveEndpoint(e, f.focus); err != nil {
			return cmdutil.Invalidf("--focus: %v", err)
		}
	}
	namespaces := f.namespaces
	if f.all {
		namespaces = nil
	}
	a := Scope(e, focus, namespaces, f.explain)
	return render.WriteAnalysis(streams.Out, format, a, render.Style{Color: streams.OutIsTerminal})
}

// Scope is what analyze shows: the connections that have focus at one end
// (when focus is not nil) and an end in namespaces (all when empty), the
// endpoints they involve, and, without a focus, every pod and workload of
// those namespaces even when it has no connection. explain adds the
// allowing rules. The watch server's /connectivity answers with it too.
func Scope(e *eval.Engine, focus *model.Endpoint, namespaces []string, explain bool) *render.Analysis {
	inScope := func(ep *model.Endpoint) bool {
		return len(namespaces) == 0 || slices.Contains(namespaces, ep.Namespace)
	}
	a := &render.Analysis{Engine: e, Explain: explain}
	shown := map[*model.Endpoint]bool{}
	e.Connectivity().Each(func(c eval.Conn) bool {
		if focus != nil && c.Src != focus && c.Dst != focus || !inScope(c.Src) && !inScope(c.Dst) {
			return true
		}
		a.Conns = append(a.Conns, c)
		shown[c.Src], shown[c.Dst] = true, true
		return true
	})
	for _, ep := range e.Endpoints() {
		if shown[ep] || focus == nil && ep.IsPodLike() && inScope(ep) || ep == focus {
			a.Endpoints = append(a.Endpoints, ep)
		}
	}
	return a
}
