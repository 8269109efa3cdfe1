//go:build linux

package lab

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	labnet "github.com/bulkhead/bulkhead/lab"
	"github.com/bulkhead/bulkhead/labrun"
)

// prepare checks the flags, then that this runs as root, then loads the
// input and lays out the lab.
func prepare(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) (*labrun.Setup, error) {
	if _, err := f.layoutFlags(); err != nil {
		return nil, err
	}
	if err := requireRoot(); err != nil {
		return nil, err
	}
	return setup(ctx, streams, log, f, args)
}

func requireRoot() error {
	if os.Geteuid() != 0 {
		return cmdutil.Invalidf("bulkhead lab creates network namespaces and needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN): run it with sudo")
	}
	return nil
}

func runRun(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) error {
	format, err := parseOutput(f.output)
	if err != nil {
		return err
	}
	s, err := prepare(ctx, streams, log, f, args)
	if err != nil {
		return err
	}
	c, note := compiler(f.noRules)
	log.Info("lab run", "prefix", s.Topology.Prefix, "rules", note)
	r, err := labrun.Run(ctx, s, c, log)
	if err != nil {
		return err
	}
	return writeReport(streams, format, s, r)
}

func runUp(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) error {
	s, err := prepare(ctx, streams, log, f, args)
	if err != nil {
		return err
	}
	c, note := compiler(f.noRules)
	l, err := labrun.Up(ctx, s, c, log)
	if err != nil {
		return err
	}
	if err := s.WriteLayout(streams.Out); err != nil {
		return err
	}
	fmt.Fprintf(streams.Out, "  rules     %s\n", note)
	fmt.Fprintf(streams.ErrOut, "lab %s is up; probe it with 'bulkhead lab probe' and the same arguments and flags; Ctrl-C (or SIGTERM) deletes it\n", s.Topology.Prefix)
	<-ctx.Done()
	if err := l.Down(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("deleting the lab: %w (run 'bulkhead lab down --prefix %s')", err, s.Topology.Prefix)
	}
	fmt.Fprintf(streams.ErrOut, "lab %s deleted\n", s.Topology.Prefix)
	return nil
}

func runProbe(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) error {
	format, err := parseOutput(f.output)
	if err != nil {
		return err
	}
	s, err := prepare(ctx, streams, log, f, args)
	if err != nil {
		return err
	}
	l, err := labrun.Attach(s, log)
	if err != nil {
		return err
	}
	defer l.Close()
	r := labrun.Probe(ctx, l, s)
	if err := ctx.Err(); err != nil {
		return err
	}
	return writeReport(streams, format, s, r)
}

func runDown(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole) error {
	if err := labnet.ValidatePrefix(f.prefix); err != nil {
		return cmdutil.Invalidf("--prefix: %v", err)
	}
	if err := requireRoot(); err != nil {
		return err
	}
	deleted, err := labnet.Cleanup(f.prefix)
	for _, name := range deleted {
		fmt.Fprintf(streams.Out, "deleted netns %s\n", name)
	}
	if err != nil {
		return err
	}
	if len(deleted) == 0 {
		fmt.Fprintf(streams.ErrOut, "no network namespace starts with %q\n", f.prefix)
	}
	return nil
}
