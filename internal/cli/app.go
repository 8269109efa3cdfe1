// Package cli is bulkhead's command tree. Main runs it for the binary;
// Run lets tests run commands in-process and compare their output.
package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
)

// Main runs bulkhead with args and returns the process exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	streams := cmdutil.StdStreams()
	return cmdutil.ExitCode(Run(ctx, args, streams), streams.ErrOut)
}

// Run runs one bulkhead command line with the given streams.
func Run(ctx context.Context, args []string, streams cmdutil.IOStreams) error {
	root := NewRootCommand(streams)
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	return root.ExecuteContext(ctx)
}
