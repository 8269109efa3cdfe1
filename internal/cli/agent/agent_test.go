package agent_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	cliagent "github.com/bulkhead/bulkhead/internal/cli/agent"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
)

// runAgent runs the agent command in-process and returns its exit code
// and standard error.
func runAgent(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd := cliagent.NewCommand(streams, slog.New(slog.DiscardHandler))
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	code := cmdutil.ExitCode(cmd.ExecuteContext(context.Background()), &errOut)
	return code, errOut.String()
}

func TestAgentUsageErrors(t *testing.T) {
	t.Setenv("NODE_NAME", "")
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no node name", []string{dir}, "--node-name is required"},
		{"bad log level", []string{"--node-name", "n", "--log-level", "loud", dir}, `--log-level "loud"`},
		{"bad log format", []string{"--node-name", "n", "--log-format", "xml", dir}, `--log-format "xml"`},
		{"bad cluster CIDR", []string{"--node-name", "n", "--cluster-cidr", "10.0.0.0/33", dir}, `--cluster-cidr "10.0.0.0/33"`},
		{"missing path", []string{"--node-name", "n", dir + "/nope"}, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := runAgent(t, tt.args...)
			if code != cmdutil.ExitInvalid || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, cmdutil.ExitInvalid, tt.want)
			}
		})
	}
}
