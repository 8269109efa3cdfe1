// Package clitest runs bulkhead command lines in-process for tests.
package clitest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/cli"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
)

// Run runs one command line with stdin and returns stdout, stderr and the
// exit code the binary would return.
func Run(t testing.TB, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := cmdutil.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	err := cli.Run(context.Background(), args, streams)
	code = cmdutil.ExitCode(err, &errOut)
	return out.String(), errOut.String(), code
}
