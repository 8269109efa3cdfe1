// Package lab implements `bulkhead lab`: build the manifests' pods as
// network namespaces on this machine, put the node agent's rules in the
// node namespaces, probe every flow with real packets and compare the
// wire with the engine (package labrun does the work).
//
// The subcommands that touch the kernel exist on Linux only; elsewhere
// they fail with a clear error.
package lab

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	labnet "github.com/bulkhead/bulkhead/lab"
	"github.com/bulkhead/bulkhead/labrun"
	"github.com/bulkhead/bulkhead/render"
	"github.com/spf13/cobra"
)

type flagpole struct {
	input       cmdutil.InputFlags
	output      string
	ports       []string
	nodes       int
	prefix      string
	noRules     bool
	concurrency int
}

// NewCommand returns the lab command and its subcommands.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Build the pods as network namespaces on this machine and probe them with real packets",
		Long: `Lab builds the manifests' pods on this machine: one network namespace per pod,
with its IP (from the manifest, or assigned from 10.244.<node>.0/24), on a
bridge in a node namespace; pods are spread over several nodes joined by
routed links, and external hosts stand at representative addresses of every
external range the policies tell apart. Every host listens on every probed
port for TCP, UDP and SCTP. The node agent's compiled nftables rules are
applied in each node namespace. Probing tries every (source, destination,
port, protocol) with real packets and compares the result with the engine:
every mismatch is listed with the engine's explanation, and the exit status
is 1.

Everything lives in network namespaces named with --prefix, with no route to
this machine's interfaces; 'lab down' (and 'lab run', always) deletes them.
Needs root and Linux. See docs/lab.md.`,
	}
	cmd.AddCommand(
		newRunCommand(streams, log),
		newUpCommand(streams, log),
		newProbeCommand(streams, log),
		newDownCommand(streams, log),
	)
	return cmd
}

func (f *flagpole) addLayoutFlags(cmd *cobra.Command) {
	f.input.AddFlags(cmd.Flags())
	cmd.Flags().StringArrayVar(&f.ports, "port", nil, "destination port and protocol to probe, e.g. 80/TCP; repeatable (default: every declared container port, the edges of every port range policies name, and one more port per protocol)")
	cmd.Flags().IntVar(&f.nodes, "nodes", labrun.DefaultNodes, "node namespaces to spread pods without a nodeName over")
	cmd.Flags().StringVar(&f.prefix, "prefix", labnet.DefaultPrefix, "prefix of the lab's network namespace names")
}

func (f *flagpole) addRulesFlag(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.noRules, "no-rules", false, "apply no rules: show what the network does without the agent (mismatches expected wherever policies deny)")
}

func (f *flagpole) addProbeFlags(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.output, "output", "o", "txt", "output format of the truth table: txt or json (the shape of 'bulkhead matrix -o json')")
	cmd.Flags().IntVar(&f.concurrency, "concurrency", labnet.DefaultConcurrency, "probes in flight; lower it on a busy machine, where probes that wait long for a CPU time out")
}

func newRunCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "run PATH... [--port PORT/PROTO ...] [-o json]",
		Short: "Build the lab, apply the rules, probe, compare with the engine and delete the lab",
		Long: `Run brings the lab up, applies the agent's rules on every node, probes every
flow, deletes the lab (also on failure or interrupt) and prints the truth
table observed on the wire, like 'bulkhead matrix' (with -o json, exactly
its JSON shape). Mismatches with the engine are listed, on stderr with
-o json; the exit status is 1 when there are any.`,
		Example: `  sudo bulkhead lab run examples/shop
  sudo bulkhead lab run examples/shop --port 8080/TCP --port 53/UDP -o json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), streams, log, f, args)
		},
	}
	f.addLayoutFlags(cmd)
	f.addRulesFlag(cmd)
	f.addProbeFlags(cmd)
	return cmd
}

func newUpCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "up PATH... [--port PORT/PROTO ...]",
		Short: "Build the lab and apply the rules, then serve until interrupted",
		Long: `Up builds the lab and applies the agent's rules, prints its hosts, and keeps
running in the foreground (its listeners live in this process) until
SIGINT or SIGTERM, when it deletes the lab. Probe it from another shell
with 'bulkhead lab probe' and the same arguments and flags.`,
		Example: `  sudo bulkhead lab up examples/shop --prefix shop-`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUp(cmd.Context(), streams, log, f, args)
		},
	}
	f.addLayoutFlags(cmd)
	f.addRulesFlag(cmd)
	return cmd
}

func newProbeCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "probe PATH... [--port PORT/PROTO ...] [-o json]",
		Short: "Probe a lab that 'bulkhead lab up' serves and compare with the engine",
		Long: `Probe attaches to the lab 'bulkhead lab up' serves (same arguments and
flags: the layout is deterministic), probes every flow and prints the truth
table and the mismatches with the engine, like 'lab run'. A host that cannot
reach itself means the lab was brought up from other inputs: probe fails.`,
		Example: `  sudo bulkhead lab probe examples/shop --prefix shop-`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProbe(cmd.Context(), streams, log, f, args)
		},
	}
	f.addLayoutFlags(cmd)
	f.addProbeFlags(cmd)
	return cmd
}

func newDownCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "down [--prefix PREFIX]",
		Short: "Delete every network namespace of a lab",
		Long: `Down deletes every network namespace whose name starts with --prefix, which
removes the lab's links, addresses, routes and rules. Use it after a crash;
'lab up' and 'lab run' delete their lab themselves.`,
		Example: `  sudo bulkhead lab down --prefix shop-`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDown(cmd.Context(), streams, log, f)
		},
	}
	cmd.Flags().StringVar(&f.prefix, "prefix", labnet.DefaultPrefix, "prefix of the lab's network namespace names")
	return cmd
}

// layoutFlags checks the flags that shape the lab and returns the ports,
// before anything needs root.
func (f *flagpole) layoutFlags() ([]labrun.Port, error) {
	if err := labnet.ValidatePrefix(f.prefix); err != nil {
		return nil, cmdutil.Invalidf("--prefix: %v", err)
	}
	if f.nodes < 1 || f.nodes > labnet.MaxNodes {
		return nil, cmdutil.Invalidf("--nodes %d: want 1 to %d", f.nodes, labnet.MaxNodes)
	}
	if f.concurrency < 0 {
		return nil, cmdutil.Invalidf("--concurrency %d: want 1 or more", f.concurrency)
	}
	var ports []labrun.Port
	for _, v := range f.ports {
		proto, port, err := cmdutil.ParsePortFlag(v)
		if err != nil {
			return nil, cmdutil.Invalid(err)
		}
		ports = append(ports, labrun.Port{Protocol: proto, Port: port})
	}
	return ports, nil
}

// setup loads the input and lays out the lab.
func setup(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) (*labrun.Setup, error) {
	ports, err := f.layoutFlags()
	if err != nil {
		return nil, err
	}
	in, err := f.input.Load(ctx, streams, log, args)
	if err != nil {
		return nil, err
	}
	s, err := labrun.Build(in.Snapshot, labrun.Options{
		Prefix:      f.prefix,
		Nodes:       f.nodes,
		Ports:       ports,
		Eval:        in.Engine.Options(),
		Avoid:       hostPrefixes(),
		Concurrency: f.concurrency,
	})
	if err != nil {
		return nil, cmdutil.Invalid(err)
	}
	return s, nil
}

// hostPrefixes returns the subnets of this machine's interfaces, which
// external hosts avoid so that no report names an address the machine
// uses. Failing to list them only loses that nicety.
func hostPrefixes() []netip.Prefix {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if p, err := netip.ParsePrefix(n.String()); err == nil {
				out = append(out, p.Masked())
			}
		}
	}
	return out
}

// writeReport prints the wire's truth table and the comparison: the
// table on Out; the mismatches on Out with txt and on ErrOut with json,
// so that Out holds exactly the table. Mismatches give exit status 1;
// probes that could not be made, or a host that cannot reach itself,
// give an error.
func writeReport(streams cmdutil.IOStreams, format render.Format, s *labrun.Setup, r *labrun.Report) error {
	if err := render.WriteMatrix(streams.Out, format, r.Matrix, render.Style{Color: streams.OutIsTerminal}); err != nil {
		return err
	}
	details := streams.ErrOut
	if format == render.Text {
		fmt.Fprintln(streams.Out)
		details = streams.Out
	}
	if err := r.WriteText(details, s); err != nil {
		return err
	}
	switch {
	case len(r.Errors) > 0 || len(r.SelfFailures) > 0:
		return fmt.Errorf("%d probes could not be made or a host could not reach itself: the lab is not what these inputs describe, or is broken", len(r.Errors)+len(r.SelfFailures))
	case len(r.Mismatches) > 0:
		return &cmdutil.ExitError{Code: cmdutil.ExitFindings, Err: fmt.Errorf("%d mismatches between the engine and the wire", len(r.Mismatches))}
	}
	return nil
}

func parseOutput(s string) (render.Format, error) {
	format, err := render.ParseFormat(s, render.Text, render.JSON)
	if err != nil {
		return "", cmdutil.Invalid(err)
	}
	return format, nil
}
