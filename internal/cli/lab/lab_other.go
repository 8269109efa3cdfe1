//go:build !linux

package lab

import (
	"context"
	"log/slog"

	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
)

func errNotLinux() error {
	return cmdutil.Invalidf("bulkhead lab builds network namespaces and runs on Linux only")
}

func runRun(context.Context, cmdutil.IOStreams, *slog.Logger, *flagpole, []string) error {
	return errNotLinux()
}

func runUp(context.Context, cmdutil.IOStreams, *slog.Logger, *flagpole, []string) error {
	return errNotLinux()
}

func runProbe(context.Context, cmdutil.IOStreams, *slog.Logger, *flagpole, []string) error {
	return errNotLinux()
}

func runDown(context.Context, cmdutil.IOStreams, *slog.Logger, *flagpole) error {
	return errNotLinux()
}
