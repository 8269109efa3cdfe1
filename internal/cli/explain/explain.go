// Package explain implements `bulkhead explain`: the decision trace for
// one connection.
package explain

import (
	"context"
	"log/slog"

	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/render"
	"github.com/spf13/cobra"
)

type flagpole struct {
	input    cmdutil.InputFlags
	output   string
	from, to string
	port     string
}

// NewCommand returns the explain command.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "explain PATH... --from SRC --to DST [--port PORT/PROTO]",
		Short: "Explain why a connection is allowed or denied",
		Long: `Explain prints how the engine decides a connection: for the source's egress
and the destination's ingress, which policies select the endpoint, whether it
is isolated, and which tier, policy and rule allowed, denied or passed it.
Either end may be an IP address. Without --port, every connection is asked
about and the answer lists what is allowed.`,
		Example: `  bulkhead explain examples/shop --from shop-backend/recommendations --to shop-data/postgres --port 5432/TCP
  bulkhead explain examples/shop --from shop-backend/payments --to 203.0.113.10 --port 443/TCP -o json`,
		Args: f.input.Args,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), streams, log, f, args)
		},
	}
	f.input.AddFlags(cmd.Flags())
	cmd.Flags().StringVarP(&f.output, "output", "o", "txt", "output format: txt or json")
	cmd.Flags().StringVar(&f.from, "from", "", "source endpoint: ns/name, ns/name[Kind], node[Node] or an IP address (required)")
	cmd.Flags().StringVar(&f.to, "to", "", "destination endpoint, as for --from (required)")
	cmd.Flags().StringVar(&f.port, "port", "", "the destination port and protocol, e.g. 80/TCP or 53/UDP (default: every connection)")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func run(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) error {
	format, err := render.ParseFormat(f.output, render.ExplainFormats...)
	if err != nil {
		return cmdutil.Invalid(err)
	}
	scope := model.AllConns()
	if f.port != "" {
		proto, port, err := cmdutil.ParsePortFlag(f.port)
		if err != nil {
			return cmdutil.Invalid(err)
		}
		scope = model.ConnsOf(proto, model.SinglePort(port))
	}
	in, err := f.input.Load(ctx, streams, log, args)
	if err != nil {
		return err
	}
	src, err := cmdutil.ResolveEndpoint(in.Engine, f.from)
	if err != nil {
		return cmdutil.Invalidf("--from: %v", err)
	}
	dst, err := cmdutil.ResolveEndpoint(in.Engine, f.to)
	if err != nil {
		return cmdutil.Invalidf("--to: %v", err)
	}
	d := in.Engine.Explain(src, dst, scope)
	return render.WriteDecision(streams.Out, format, d, render.Style{Color: streams.OutIsTerminal})
}
