// Package exposure implements `bulkhead exposure`: what each pod and
// workload exposes and may reach, per direction, and which ones no policy
// protects.
package exposure

import (
	"context"
	"log/slog"
	"slices"

	"github.com/bulkhead/bulkhead/exposure"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/render"
	"github.com/bulkhead/bulkhead/render/table"
	"github.com/spf13/cobra"
)

type flagpole struct {
	input      cmdutil.InputFlags
	output     string
	namespaces []string
	only       string
}

// NewCommand returns the exposure command.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "exposure PATH...",
		Short: "Show what each workload exposes, and which ones no policy protects",
		Long: `Exposure shows, for every pod and workload, what its own policies let in
(ingress) and out (egress): the internet (which address ranges, on what),
every pod of every namespace, or specific namespaces (how many of their pods,
on what); and, per direction, whether any policy protects it at all.

Each direction is judged on its own: ingress exposure is what the workload's
ingress rules admit whatever the sources' egress policies say, since that is
what its owner controls and what a new or compromised source could use.`,
		Example: `  bulkhead exposure examples/shop
  bulkhead exposure examples/shop --only internet -o md
  bulkhead exposure examples/shop -n shop-data -o json`,
		Args: f.input.Args,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), streams, log, f, args)
		},
	}
	f.input.AddFlags(cmd.Flags())
	cmd.Flags().StringVarP(&f.output, "output", "o", "txt", "output format: txt, json or md")
	cmd.Flags().StringSliceVarP(&f.namespaces, "namespace", "n", nil, "show only the workloads of these namespaces")
	cmd.Flags().StringVar(&f.only, "only", "", "show only workloads that are: internet (reachable from it), all-namespaces (reachable from every pod), or unprotected (no policy in some direction)")
	return cmd
}

func run(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) error {
	format, err := render.ParseFormat(f.output, exposure.Formats...)
	if err != nil {
		return cmdutil.Invalid(err)
	}
	keep := func(*exposure.Exposure) bool { return true }
	switch f.only {
	case "":
	case "internet":
		keep = func(x *exposure.Exposure) bool { return len(x.Ingress.Internet) > 0 }
	case "all-namespaces":
		keep = func(x *exposure.Exposure) bool { return x.Ingress.AllPods }
	case "unprotected":
		keep = func(x *exposure.Exposure) bool { return x.Ingress.Unprotected || x.Egress.Unprotected }
	default:
		return cmdutil.Invalidf("--only %q: want internet, all-namespaces or unprotected", f.only)
	}
	in, err := f.input.Load(ctx, streams, log, args)
	if err != nil {
		return err
	}
	r := exposure.Compute(in.Engine)
	var eps []*exposure.Exposure
	for _, x := range r.Endpoints {
		if len(f.namespaces) > 0 && !slices.Contains(f.namespaces, x.Endpoint.Namespace) {
			continue
		}
		if keep(x) {
			eps = append(eps, x)
		}
	}
	return exposure.Write(streams.Out, format, in.Engine, r, eps, table.Style{Color: streams.OutIsTerminal})
}
