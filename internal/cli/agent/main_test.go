package agent_test

import (
	"context"
	"log/slog"
	"os"
	"testing"

	cliagent "github.com/bulkhead/bulkhead/internal/cli/agent"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/internal/kubetest"
)

// helperEnv, when set to 1, makes the test binary run `bulkhead` with
// the arguments after "--" instead of the tests: the privileged tests run
// the agent as a real process that they can kill.
const helperEnv = "BULKHEAD_AGENT_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Exit(runCLI(os.Args[i+1:]))
			}
		}
		os.Exit(2)
	}
	kubetest.Main(m)
}

// runCLI runs the agent command as `bulkhead agent ARGS...` would.
func runCLI(args []string) int {
	streams := cmdutil.StdStreams()
	cmd := cliagent.NewCommand(streams, slog.New(slog.DiscardHandler))
	if len(args) > 0 && args[0] == "agent" {
		args = args[1:]
	}
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmdutil.ExitCode(cmd.ExecuteContext(context.Background()), streams.ErrOut)
}
