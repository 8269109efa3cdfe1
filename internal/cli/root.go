package cli

import (
	"context"
	"log/slog"

	cliagent "github.com/bulkhead/bulkhead/internal/cli/agent"
	"github.com/bulkhead/bulkhead/internal/cli/analyze"
	cliaudit "github.com/bulkhead/bulkhead/internal/cli/audit"
	"github.com/bulkhead/bulkhead/internal/cli/blastradius"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	clidiff "github.com/bulkhead/bulkhead/internal/cli/diff"
	"github.com/bulkhead/bulkhead/internal/cli/explain"
	"github.com/bulkhead/bulkhead/internal/cli/exposure"
	clilab "github.com/bulkhead/bulkhead/internal/cli/lab"
	clilint "github.com/bulkhead/bulkhead/internal/cli/lint"
	"github.com/bulkhead/bulkhead/internal/cli/matrix"
	clireport "github.com/bulkhead/bulkhead/internal/cli/report"
	clitest "github.com/bulkhead/bulkhead/internal/cli/test"
	"github.com/bulkhead/bulkhead/internal/cli/watch"
	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// NewRootCommand builds the command tree.
func NewRootCommand(streams cmdutil.IOStreams) *cobra.Command {
	var verbose bool
	log := slog.New(&lazyHandler{get: func() slog.Handler { return cmdutil.NewLogger(streams.ErrOut, verbose).Handler() }})
	root := &cobra.Command{
		Use:   "bulkhead",
		Short: "Provable Kubernetes network segmentation",
		Long: `bulkhead computes who can reach whom in a Kubernetes cluster, and why, with the
exact semantics of NetworkPolicy and the cluster-wide policy tiers
(AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy).`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "log progress and skipped objects to stderr")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return cmdutil.Invalidf("%v (see '%s --help')", err, cmd.CommandPath())
	})
	root.AddCommand(
		cliagent.NewCommand(streams, log),
		analyze.NewCommand(streams, log),
		explain.NewCommand(streams, log),
		matrix.NewCommand(streams, log),
		clidiff.NewCommand(streams, log),
		clitest.NewCommand(streams, log),
		exposure.NewCommand(streams, log),
		blastradius.NewCommand(streams, log),
		clilab.NewCommand(streams, log),
		cliaudit.NewCommand(streams, log),
		clilint.NewCommand(streams, log),
		clireport.NewCommand(streams, log),
		watch.NewCommand(streams, log),
	)
	wrapArgs(root)
	return root
}

// wrapArgs makes argument errors usage errors (exit status 2) on every
// command.
func wrapArgs(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		if args := c.Args; args != nil {
			c.Args = func(cmd *cobra.Command, a []string) error {
				if err := args(cmd, a); err != nil {
					return cmdutil.Invalidf("%v (see '%s --help')", err, cmd.CommandPath())
				}
				return nil
			}
		}
		wrapArgs(c)
	}
}

// lazyHandler builds the real handler once flags are parsed.
type lazyHandler struct {
	get func() slog.Handler
	h   slog.Handler
}

func (l *lazyHandler) handler() slog.Handler {
	if l.h == nil {
		l.h = l.get()
	}
	return l.h
}

func (l *lazyHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	return l.handler().Enabled(ctx, lv)
}
func (l *lazyHandler) Handle(ctx context.Context, r slog.Record) error {
	return l.handler().Handle(ctx, r)
}
func (l *lazyHandler) WithAttrs(as []slog.Attr) slog.Handler { return l.handler().WithAttrs(as) }
func (l *lazyHandler) WithGroup(n string) slog.Handler       { return l.handler().WithGroup(n) }
