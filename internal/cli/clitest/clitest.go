// Package clitest runs bulkhead command lines in-process for tests.
package clitest

import (
	"bytes"
	"context"
	"os"
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

// RunIn runs one command line as Run does, without stdin, from directory
// dir (relative to the test's working directory), so that paths in the
// output read as a user's would; the working directory is restored
// before it returns. Tests that use it cannot run in parallel.
func RunIn(t testing.TB, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	defer t.Chdir(wd)
	return Run(t, "", args...)
}
