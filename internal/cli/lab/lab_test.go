package lab_test

import (
	"strings"
	"testing"

	"github.com/bulkhead/bulkhead/internal/cli/clitest"
)

// TestLabUsageErrors: bad flags fail with exit status 2 and a message
// naming the flag, before anything needs root.
func TestLabUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad output", []string{"lab", "run", "x", "-o", "csv"}, "csv"},
		{"bad port", []string{"lab", "run", "x", "--port", "80/ICMP"}, "--port"},
		{"port zero", []string{"lab", "probe", "x", "--port", "0/TCP"}, "--port"},
		{"bad prefix", []string{"lab", "up", "x", "--prefix", "a/b"}, "--prefix"},
		{"no nodes", []string{"lab", "run", "x", "--nodes", "0"}, "--nodes 0"},
		{"negative concurrency", []string{"lab", "probe", "x", "--concurrency", "-1"}, "--concurrency -1"},
		{"no paths", []string{"lab", "run"}, "requires at least 1 arg"},
		{"down takes no paths", []string{"lab", "down", "x"}, "unknown command"},
		{"down bad prefix", []string{"lab", "down", "--prefix", ""}, "--prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := clitest.Run(t, "", tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}
