// Package matrix implements `bulkhead matrix`: truth tables per port
// between every pair of pods and workloads.
package matrix

import (
	"context"
	"fmt"
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
	ports      []string
	namespaces []string
	all        bool
}

// NewCommand returns the matrix command.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "matrix PATH... --port PORT/PROTO [--port ...]",
		Short: "Print reachability truth tables per port",
		Long: `Matrix prints, for each port, a table whose rows are sources and columns
destinations, over every pod and workload: "." allowed, "X" denied. With
-o json it writes {"80/TCP": {"ns/src": {"ns/dst": true}}}, the shape
'bulkhead lab run' writes from real packets.`,
		Example: `  bulkhead matrix examples/shop --port 8080/TCP --port 53/UDP
  bulkhead matrix examples/shop --port 5432/TCP -n shop-data -o json`,
		Args: f.input.Args,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), streams, log, f, args)
		},
	}
	f.input.AddFlags(cmd.Flags())
	cmd.Flags().StringVarP(&f.output, "output", "o", "txt", "output format: txt, json, csv or md")
	cmd.Flags().StringArrayVar(&f.ports, "port", nil, "destination port and protocol, e.g. 80/TCP; repeatable (required)")
	cmd.Flags().StringSliceVarP(&f.namespaces, "namespace", "n", nil, "only endpoints in these namespaces")
	cmd.Flags().BoolVarP(&f.all, "all-namespaces", "A", false, "every namespace (the default)")
	_ = cmd.MarkFlagRequired("port")
	return cmd
}

// Port is one column family of the matrix.
type Port struct {
	Protocol model.Protocol
	Port     uint16
}

func (p Port) String() string { return fmt.Sprintf("%d/%s", p.Port, p.Protocol) }

// ParsePorts parses --port values.
func ParsePorts(vals []string) ([]Port, error) {
	var out []Port
	for _, v := range vals {
		proto, port, err := cmdutil.ParsePortFlag(v)
		if err != nil {
			return nil, err
		}
		out = append(out, Port{proto, port})
	}
	return out, nil
}

// Build computes the truth tables over eps.
func Build(e *eval.Engine, eps []*model.Endpoint, ports []Port) *render.Matrix {
	m := &render.Matrix{}
	for _, ep := range eps {
		m.IDs = append(m.IDs, ep.ID())
	}
	for _, p := range ports {
		m.Ports = append(m.Ports, p.String())
		cells := make([][]render.Cell, len(eps))
		for i, src := range eps {
			cells[i] = make([]render.Cell, len(eps))
			for j, dst := range eps {
				allowed, unknown := e.Allowed(src, dst)
				switch {
				case allowed.Contains(p.Protocol, p.Port):
					cells[i][j] = render.Allowed
				case unknown.Contains(p.Protocol, p.Port):
					cells[i][j] = render.Unknown
				}
			}
		}
		m.Cells = append(m.Cells, cells)
	}
	return m
}

func run(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) error {
	format, err := render.ParseFormat(f.output, render.MatrixFormats...)
	if err != nil {
		return cmdutil.Invalid(err)
	}
	ports, err := ParsePorts(f.ports)
	if err != nil {
		return cmdutil.Invalid(err)
	}
	in, err := f.input.Load(ctx, streams, log, args)
	if err != nil {
		return err
	}
	var eps []*model.Endpoint
	for _, ep := range in.Engine.Endpoints() {
		if ep.IsPodLike() && (f.all || len(f.namespaces) == 0 || slices.Contains(f.namespaces, ep.Namespace)) {
			eps = append(eps, ep)
		}
	}
	return render.WriteMatrix(streams.Out, format, Build(in.Engine, eps, ports), render.Style{Color: streams.OutIsTerminal})
}
