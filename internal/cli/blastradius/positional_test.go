package blastradius_test

import (
	"testing"

	"github.com/bulkhead/bulkhead/internal/cli/clitest"
)

// TestPositionalTarget checks that `blast-radius ns/name PATH...` (the
// issue's spelling) and `--from` agree.
func TestPositionalTarget(t *testing.T) {
	const shop = "../../../examples/shop"
	a, errA, codeA := clitest.Run(t, "", "blast-radius", "shop-frontend/storefront", shop, "-o", "json")
	b, _, codeB := clitest.Run(t, "", "blast-radius", shop, "--from", "shop-frontend/storefront", "-o", "json")
	if codeA != 0 || codeB != 0 {
		t.Fatalf("exit %d / %d: %s", codeA, codeB, errA)
	}
	if a != b {
		t.Errorf("positional target and --from differ:\n%s\nvs\n%s", a, b)
	}
	if _, _, code := clitest.Run(t, "", "blast-radius"); code != 2 {
		t.Errorf("no target: exit %d, want 2", code)
	}
}
